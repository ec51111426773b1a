"""NSGA-II (Deb et al. 2002) in ask/tell form, with NSGA-Net's operators (Lu et al. 2019)."""

from __future__ import annotations

import math
from typing import Any

from naslab.errors import ConfigError, check_float, check_int
from naslab.estimators.base import Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture
from naslab.strategies._multi import MAX_DRAWS, Unseen, crossover, min_vector, rank_and_crowding
from naslab.strategies.base import Strategy

class _Member:
    """A told architecture: min-form objectives, violation, and after survival its rank and
    crowding distance (None for an infeasible survivor, which ranks by violation)."""

    __slots__ = ("arch", "f", "cv", "rank", "crowd", "json", "_key")

    def __init__(self, arch: Architecture, f: list[float], cv: float, rank: int | None = None,
                 crowd: float | None = None) -> None:
        self.arch, self.f, self.cv, self.rank, self.crowd = arch, f, cv, rank, crowd
        #: the member's checkpoint form, made once (a member never changes)
        self.json: list[Any] | None = None
        self._key = (cv, math.inf if rank is None else rank, -(0.0 if crowd is None else crowd))

    def key(self) -> tuple[float, float, float]:
        """Smaller is better: violation, rank, minus crowding distance."""
        return self._key


@register("strategy", "nsga2", aliases=("nsga-ii", "nsga_ii", "nsganet", "nsga-net"))
class NSGA2(Strategy):
    """Non-dominated sorting genetic algorithm II, generational, on any space with ``mutate``.

    Generation 0 is ``population_size`` random architectures. Each generation then proposes
    ``population_size`` offspring: two parents by binary tournament (Deb's crowded comparison:
    a feasible member beats an infeasible one, two infeasible ones compare by constraint
    violation, feasible ones by non-domination rank and then by crowding distance), NSGA-Net's
    crossover with probability ``crossover_prob`` (decisions the parents share are kept, the
    others taken from either parent; over ``space.decisions``), then one ``space.mutate`` move
    with probability ``mutation_prob`` (always when the child equals a parent). When all
    offspring are told, parents and offspring are merged and NSGA-II's rank-and-crowding
    survival keeps ``population_size`` of them: pymoo's fast non-dominated sort and crowding
    distance on the split front, feasible before infeasible by violation, exactly as pymoo's
    ``RankAndCrowding`` (:func:`naslab.strategies._multi.rank_and_crowding`).

    Never proposes an architecture twice (a child already proposed is mutated once more, up
    to 50 times, then replaced by an unseen random architecture): a real search would not
    retrain a network it has. Defaults: population 20 (NSGA-Net used 40; on NB201 with 100 to
    1,000 queries 20 did better, docs/benchmarks.md), crossover 0.9, mutation 1.0. Generations are synchronous: with parallel workers ``ask`` returns ``[]``
    while the generation's last offspring are pending. Failed evaluations leave the
    generation. With a single objective it is a (mu + lambda) genetic algorithm.
    """

    def __init__(self, population_size: int = 20, crossover_prob: float = 0.9,
                 mutation_prob: float = 1.0) -> None:
        self.population_size = population_size
        self.crossover_prob = crossover_prob
        self.mutation_prob = mutation_prob

    def _setup(self) -> None:
        self.population_size = check_int("population_size", self.population_size, minimum=2)
        self.crossover_prob = check_float("crossover_prob", self.crossover_prob, minimum=0.0,
                                          maximum=1.0)
        self.mutation_prob = check_float("mutation_prob", self.mutation_prob, minimum=0.0,
                                         maximum=1.0)
        from naslab.analysis.pareto import require_pymoo

        require_pymoo("strategy nsga2 (its survival and sorting are pymoo's)")
        self._seen = Unseen(self.space)
        self._pop: list[_Member] = []
        self._results: list[_Member] = []
        self._queue: list[Architecture] = []
        self._queue_json: list[Any] = []  # the generation's proposals' checkpoint form
        self._pending = 0
        self._generation = -1  # -1: generation 0 not proposed yet

    # ask/tell ------------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Architecture]:
        out: list[Architecture] = []
        while len(out) < n:
            if not self._queue:
                if self._pending:
                    break  # the generation's last offspring are out: wait for them
                self._next_generation()
            out.append(self._queue.pop(0))
            self._pending += 1
        return out

    def tell(self, arch: Architecture, evaluation: Evaluation) -> None:
        f, cv = min_vector(self.objective, evaluation)
        self._pending = max(0, self._pending - 1)
        if all(map(math.isfinite, f)):
            self._results.append(_Member(arch, f, cv))

    def tell_failed(self, arch: Architecture, error: str) -> None:
        self._pending = max(0, self._pending - 1)

    # generations ---------------------------------------------------------------------------
    def _next_generation(self) -> None:
        """Survival of parents + told offspring, then the next generation's proposals."""
        if self._results or self._generation < 0:
            self._pop = self._survive(self._pop + self._results)
            self._results = []
            self._generation += 1
        if not self._pop:  # generation 0, or every evaluation so far failed
            self._queue = [self._fresh() for _ in range(self.population_size)]
        else:
            self._queue = self._offspring(self.population_size)
        self._queue_json = [self._arch_json(a) for a in self._queue]

    def _survive(self, members: list[_Member]) -> list[_Member]:
        if not members:
            return []
        import numpy as np

        F = np.array([m.f for m in members], dtype=np.float64)
        cv = np.array([m.cv for m in members]) if self.objective.constraints else None
        keep, ranks, crowd = rank_and_crowding(F, cv, self.population_size, self.rng)
        return [_Member(members[i].arch, members[i].f, members[i].cv, r, c)
                for i, r, c in zip(keep, ranks, crowd)]

    def _tournament(self) -> Architecture:
        """Binary tournament by Deb's crowded comparison with constraint domination (a tie
        is decided by a coin)."""
        pop = self._pop
        n = len(pop)
        u, v = self.rng.random(2).tolist()
        i, j = min(int(u * n), n - 1), min(int(v * n), n - 1)
        ki, kj = pop[i]._key, pop[j]._key
        if ki == kj:
            return pop[i].arch if self.rng.random() < 0.5 else pop[j].arch
        return pop[i].arch if ki < kj else pop[j].arch

    def _fresh(self) -> Architecture:
        arch = self._seen.random(self.rng)
        self._seen.add(arch)
        return arch

    def _offspring(self, k: int) -> list[Architecture]:
        space, rng = self.space, self.rng
        kids: list[Architecture] = []
        for _ in range(k):
            child = None
            for _attempt in range(MAX_DRAWS):
                if child is not None:  # already proposed: one more mutation step away
                    child = space.mutate(child, rng)
                else:
                    a, b = self._tournament(), self._tournament()
                    child = crossover(space, a, b, rng) if rng.random() < self.crossover_prob else a
                    if rng.random() < self.mutation_prob or child == a or child == b:
                        child = space.mutate(child, rng)
                if child not in self._seen:
                    break
            else:
                child = self._seen.random(rng)
            self._seen.add(child)
            kids.append(child)
        return kids

    # state -------------------------------------------------------------------------------
    def _member_json(self, m: _Member) -> list[Any]:
        if m.json is None:
            crowd: float | str | None = m.crowd
            if m.crowd is not None and not math.isfinite(m.crowd):
                crowd = "inf"  # boundary points: strict JSON has no infinity
            m.json = [self._arch_json(m.arch), m.f, m.cv, m.rank, crowd]
        return m.json

    def _member_from(self, x: list[Any]) -> _Member:
        arch, f, cv, rank, crowd = x
        return _Member(self._arch_from(arch), [float(v) for v in f], float(cv),
                       None if rank is None else int(rank),
                       None if crowd is None else float(crowd))

    def _state(self) -> dict[str, Any]:
        return {"generation": self._generation, "pending": self._pending,
                "population": [self._member_json(m) for m in self._pop],
                "results": [self._member_json(m) for m in self._results],
                # the proposals not handed out yet: the last ones of the generation's list
                "queue": self._queue_json[len(self._queue_json) - len(self._queue):],
                "seen": self._seen.state(self._arch_json)}

    def _load_state(self, state: dict[str, Any]) -> None:
        try:
            self._generation = int(state["generation"])
            self._pending = int(state["pending"])
            self._pop = [self._member_from(m) for m in state["population"]]
            self._results = [self._member_from(m) for m in state["results"]]
            self._queue = [self._arch_from(a) for a in state["queue"]]
            self._queue_json = list(state["queue"])
            self._seen.load(state["seen"], self._arch_from)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"nsga2 state is not one this version wrote: {exc!r}") from None
