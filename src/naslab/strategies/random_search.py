"""Random search: the baseline of every comparison."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from naslab.errors import ConfigError
from naslab.estimators.base import Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture
from naslab.strategies.base import Strategy, Told


@register("strategy", "rs", aliases=("random", "random_search", "mo_rs", "mors"))
class RandomSearch(Strategy):
    """Uniform random sampling; also multi-objective random search (``mo_rs``), the baseline
    of every multi-objective comparison: its proposals ignore the objectives, and the runner
    keeps the front of whatever it evaluated.

    ``dedup=True`` (default) never proposes an architecture twice while unseen ones remain,
    i.e. sampling without replacement on finite spaces, as a real search would not retrain a
    network it already has.
    """

    def __init__(self, dedup: bool = True) -> None:
        self.dedup = dedup

    def _setup(self) -> None:
        self._seen: set[tuple[Any, ...]] = set()  # asked in the current pass
        try:
            self._size: int | None = len(self.space)
        except TypeError:
            self._size = None
        # what history_state needs to rebuild the seen set from the run's record:
        self._told: int | None = 0  # results told (None: unknown, after an old checkpoint)
        self._pass_start = 0  # results told when the current pass began
        self._pending: dict[tuple[Any, ...], int] = {}  # asked in this pass, not yet told
        self._excluded: list[int] = []  # results told in this pass of archs asked before it

    def ask(self, n: int = 1) -> list[Architecture]:
        sample, rng = self.space.sample, self.rng
        if not self.dedup:
            return [sample(rng) for _ in range(n)]
        if n == 1:  # what the serial runner asks for, trial after trial
            return [self._draw(sample, rng)]
        return [self._draw(sample, rng) for _ in range(n)]

    def _draw(self, sample: Any, rng: Any) -> Architecture:
        """One architecture not asked in this pass (a new pass once every one was)."""
        seen, size = self._seen, self._size
        arch = sample(rng)
        if size is not None and len(seen) >= size:
            self._new_pass()  # every arch seen: start a new pass
            seen = self._seen
        c = arch.choices
        while c in seen:
            arch = sample(rng)
            c = arch.choices
        seen.add(c)
        pending = self._pending
        pending[c] = pending.get(c, 0) + 1
        return arch

    def _new_pass(self) -> None:
        self._seen.clear()
        self._pending = {}
        self._excluded = []
        self._pass_start = self._told if self._told is not None else 0

    def tell(self, arch: Architecture, evaluation: Evaluation | None = None) -> None:
        """Count the result (random search ignores its metrics): what checkpoints rebuild the
        seen set from. The body of ``tell_failed`` too (the per-trial hot path of every
        random search: one call)."""
        told = self._told
        if told is None:
            return
        self._told = told + 1
        if self.dedup:
            c = arch.choices
            pending = self._pending
            k = pending.get(c)
            if k is None:  # not asked in this pass: an arch asked before it began?
                if c not in self._seen:
                    self._excluded.append(told)
            elif k > 1:  # (what is pending was asked in this pass: it is in the seen set)
                pending[c] = k - 1
            else:
                del pending[c]

    def tell_failed(self, arch: Architecture, error: str) -> None:
        RandomSearch.tell(self, arch)

    def _state(self) -> dict[str, Any]:
        if not self.dedup:
            return {}
        out: dict[str, Any] = {"seen": [list(c) for c in self._seen]}
        if self._told is not None:
            out.update(self._history_state() or {})
        return out

    def _load_state(self, state: dict[str, Any]) -> None:
        if self.dedup:
            self._seen = {self._arch_from(c).choices for c in state["seen"]}
            if "told" in state:
                self._load_counts(state)
            else:  # a checkpoint of an older naslab: no counts, so full checkpoints from now on
                self._told = None

    # checkpoints that stay small: the seen set is rebuilt from the run's record ------------
    def _history_state(self) -> dict[str, Any] | None:
        if self._told is None:
            return None
        if not self.dedup:
            return {}
        return {"told": self._told, "pass_start": self._pass_start,
                "excluded": list(self._excluded),
                "pending": [[self._arch_json(Architecture(self.space.name, c)), k]
                            for c, k in self._pending.items()]}

    def _load_counts(self, state: dict[str, Any]) -> None:
        self._told = int(state["told"])
        self._pass_start = int(state["pass_start"])
        self._excluded = [int(i) for i in state["excluded"]]
        self._pending = {self._arch_from(c).choices: int(k) for c, k in state["pending"]}

    def _load_history(self, state: dict[str, Any], history: Sequence[Told]) -> None:
        if not self.dedup:
            self._told = len(history)
            return
        self._load_counts(state)
        if self._told != len(history):
            raise ConfigError(f"random search checkpoint is for {self._told} told results, but the "
                              f"run's record holds {len(history)}")
        skip = set(self._excluded)
        self._seen = {history[i].arch.choices for i in range(self._pass_start, self._told)
                      if i not in skip}
        self._seen.update(self._pending)
