"""Local search (hill climbing with restarts), White et al. 2020."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from naslab.errors import ConfigError, check_int
from naslab.estimators.base import Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture
from naslab.strategies.base import Strategy, Told


@register("strategy", "ls", aliases=("local_search", "local"))
class LocalSearch(Strategy):
    """Best-improvement hill climbing over the full neighbourhood, restarting at local optima.

    Start from the best of ``num_init`` random architectures. Evaluate every neighbour of the
    current architecture (in random order); when all are known, move to the best neighbour if it
    beats the current one, else the current one is a local optimum and the search restarts from
    a random unseen architecture. Architectures already evaluated are never asked again: their
    known score is reused. ``first_improvement=True`` moves as soon as a better neighbour is seen.
    """

    def __init__(self, num_init: int = 1, first_improvement: bool = False) -> None:
        self.num_init = num_init
        self.first_improvement = first_improvement

    def _setup(self) -> None:
        self.num_init = check_int("num_init", self.num_init, minimum=1)
        self._known: dict[tuple[Any, ...], float] = {}
        self._pending: set[tuple[Any, ...]] = set()
        self._queue: list[Architecture] = []      # neighbours still to ask
        self._init_left = self.num_init            # random starts still to ask
        self._current: Architecture | None = None
        self._init_archs: list[Architecture] = []
        self.local_optima: list[tuple[Architecture, float]] = []
        # for checkpoints that stay small (history_state): results told, the told index of
        # each known arch, the local optima as (told index, score), the queue's JSON
        self._told = 0
        self._known_at: dict[tuple[Any, ...], int] = {}
        self._optima_at: tuple[tuple[int, float], ...] = ()
        self._queue_json: tuple[Any, ...] = ()

    # the neighbourhood walk ----------------------------------------------------------------
    def _random_unseen(self) -> Architecture:
        for _ in range(1000):
            a = self.space.sample(self.rng)
            if a.choices not in self._known and a.choices not in self._pending:
                return a
        return self.space.sample(self.rng)

    def _best_known(self, archs: list[Architecture]) -> Architecture | None:
        best, best_s = None, float("-inf")
        for a in archs:
            s = self._known.get(a.choices)
            if s is not None and s > best_s:
                best, best_s = a, s
        return best

    def _start_neighbourhood(self, center: Architecture) -> None:
        self._current = center
        nbrs = list(self.space.neighbors(center))
        order = self.rng.permutation(len(nbrs))
        self._queue = [nbrs[int(i)] for i in order if nbrs[int(i)].choices not in self._known]
        self._queue_json = tuple(self._arch_json(a) for a in self._queue)

    def _advance(self) -> None:
        """Decide the next centre when the neighbourhood of the current one is exhausted."""
        while not self._queue and not self._pending:
            if self._current is None:
                if self._init_left > 0:
                    return
                # all random starts told: begin from the best of them
                starts = [a for a in self._init_archs if a.choices in self._known]
                start = self._best_known(starts)
                if start is None:  # every start failed
                    self._init_left = 1
                    return
                self._start_neighbourhood(start)
                continue
            cur_s = self._known.get(self._current.choices, float("-inf"))
            nbrs = list(self.space.neighbors(self._current))
            best = self._best_known(nbrs)
            if best is not None and self._known[best.choices] > cur_s:
                self._start_neighbourhood(best)
            else:
                self.local_optima.append((self._current, cur_s))
                at = self._known_at.get(self._current.choices, -1)
                self._optima_at = (*self._optima_at, (at, cur_s))
                self._current = None
                self._init_left = 1
                self._init_archs = []
                return

    def ask(self, n: int = 1) -> list[Architecture]:
        out: list[Architecture] = []
        while len(out) < n:
            if self._current is None and self._init_left > 0:
                a = self._random_unseen()
                self._init_left -= 1
                self._init_archs.append(a)
            elif self._queue:
                a = self._queue.pop()
                if a.choices in self._known or a.choices in self._pending:
                    continue
            else:
                self._advance()
                if self._queue or (self._current is None and self._init_left > 0):
                    continue
                break  # waiting for pending results
            self._pending.add(a.choices)
            out.append(a)
        return out

    def tell(self, arch: Architecture, evaluation: Evaluation) -> None:
        self._record(arch, self.objective.score(evaluation))

    def tell_failed(self, arch: Architecture, error: str) -> None:
        self._record(arch, float("-inf"))

    def _record(self, arch: Architecture, score: float) -> None:
        self._pending.discard(arch.choices)
        self._known[arch.choices] = score
        self._known_at[arch.choices] = self._told
        self._told += 1
        if (self.first_improvement and self._current is not None
                and score > self._known.get(self._current.choices, float("-inf"))
                and arch in set(self.space.neighbors(self._current))):
            self._queue = []
            if not self._pending:
                self._start_neighbourhood(arch)

    # persistence ---------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        j = self._arch_json
        return {
            "known": [[list(k), s] for k, s in self._known.items()],
            "pending": [list(k) for k in self._pending],
            "queue": [j(a) for a in self._queue],
            "init_left": self._init_left,
            "init_archs": [j(a) for a in self._init_archs],
            "current": None if self._current is None else j(self._current),
            "local_optima": [[j(a), s] for a, s in self.local_optima],
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        f = self._arch_from
        self._known = {f(k).choices: float(s) for k, s in state["known"]}
        self._pending = {f(k).choices for k in state["pending"]}
        self._queue = [f(a) for a in state["queue"]]
        self._queue_json = tuple(state["queue"])
        self._init_left = int(state["init_left"])
        self._init_archs = [f(a) for a in state["init_archs"]]
        self._current = None if state["current"] is None else f(state["current"])
        self.local_optima = [(f(a), float(s)) for a, s in state["local_optima"]]
        # a full checkpoint does not hold the told indices: small checkpoints resume once
        # they are known again (never, for a run resumed from an older naslab's checkpoint)
        self._told = int(state.get("told", -1))
        at = state.get("known_at")
        self._known_at = {} if at is None else {f(k).choices: int(i) for k, i in at}
        self._optima_at = tuple((int(i), float(s)) for i, s in state.get("optima_at", ()))

    def state_dict(self) -> dict[str, Any]:
        d = super().state_dict()
        if self._told >= 0:
            d["told"] = self._told
            d["known_at"] = [[list(k), i] for k, i in self._known_at.items()]
            d["optima_at"] = [list(o) for o in self._optima_at]
        return d

    # checkpoints that stay small: the known scores come from the run's record ------------
    def _history_state(self) -> dict[str, Any] | None:
        if self._told < 0:
            return None
        j = self._arch_json
        return {
            "told": self._told,
            "pending": [j(Architecture(self.space.name, k)) for k in self._pending],
            "queue": self._queue_json[:len(self._queue)],
            "init_left": self._init_left,
            "init_archs": [j(a) for a in self._init_archs],
            "current": None if self._current is None else j(self._current),
            "optima_at": self._optima_at,
        }

    def _load_history(self, state: dict[str, Any], history: Sequence[Told]) -> None:
        f = self._arch_from
        if int(state["told"]) != len(history):
            raise ConfigError(f"local search checkpoint is for {state['told']} told results, "
                              f"but the run's record holds {len(history)}")
        self._known, self._known_at = {}, {}
        for i, h in enumerate(history):
            c = h.arch.choices
            self._known[c] = (float("-inf") if h.evaluation is None
                              else self.objective.score(h.evaluation))
            self._known_at[c] = i
        self._told = len(history)
        self._pending = {f(k).choices for k in state["pending"]}
        self._queue = [f(a) for a in state["queue"]]
        self._queue_json = tuple(state["queue"])
        self._init_left = int(state["init_left"])
        self._init_archs = [f(a) for a in state["init_archs"]]
        self._current = None if state["current"] is None else f(state["current"])
        self._optima_at = tuple((int(i), float(s)) for i, s in state["optima_at"])
        self.local_optima = [(history[i].arch, s) for i, s in self._optima_at]
