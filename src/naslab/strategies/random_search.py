"""Random search: the baseline of every comparison."""

from __future__ import annotations

from typing import Any

from naslab.estimators.base import Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture
from naslab.strategies.base import Strategy


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
        self._seen: set[tuple[Any, ...]] = set()
        try:
            self._size: int | None = len(self.space)
        except TypeError:
            self._size = None

    def ask(self, n: int = 1) -> list[Architecture]:
        out = []
        for _ in range(n):
            arch = self.space.sample(self.rng)
            if self.dedup:
                if self._size is not None and len(self._seen) >= self._size:
                    self._seen.clear()  # every arch seen: start a new pass
                while arch.choices in self._seen:
                    arch = self.space.sample(self.rng)
                self._seen.add(arch.choices)
            out.append(arch)
        return out

    def tell(self, arch: Architecture, evaluation: Evaluation) -> None:
        pass

    def _state(self) -> dict[str, Any]:
        return {"seen": [list(c) for c in self._seen]} if self.dedup else {}

    def _load_state(self, state: dict[str, Any]) -> None:
        if self.dedup:
            self._seen = {self._arch_from(c).choices for c in state["seen"]}
