"""Regularized (aging) evolution, Real et al. 2019."""

from __future__ import annotations

from collections import deque
from typing import Any

from naslab.errors import check_int
from naslab.estimators.base import Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture
from naslab.strategies.base import Strategy


@register("strategy", "re", aliases=("regularized_evolution", "evolution", "rea"))
class RegularizedEvolution(Strategy):
    """Aging evolution with tournament selection.

    The first ``population_size`` proposals are random. Afterwards each proposal draws
    ``sample_size`` members of the population uniformly *with replacement* (as NB201's R-EA
    code does), mutates the best of them, and every result joins the population while the
    oldest member leaves (aging). Defaults P=10, S=3 are the NB201 paper's.

    With several pending proposals (parallel executors) the tournament runs over whatever
    population has been told so far; it waits (``ask`` returns ``[]``) only while the
    population is empty and the random initial proposals are all out.
    """

    def __init__(self, population_size: int = 10, sample_size: int = 3) -> None:
        self.population_size = population_size
        self.sample_size = sample_size

    def _setup(self) -> None:
        self.population_size = check_int("population_size", self.population_size, minimum=1)
        self.sample_size = check_int("sample_size", self.sample_size, minimum=1)
        self._pop: deque[tuple[Architecture, float]] = deque()
        self._n_asked = 0

    def ask(self, n: int = 1) -> list[Architecture]:
        out = []
        space, rng = self.space, self.rng
        for _ in range(n):
            if self._n_asked < self.population_size:
                arch = space.sample(rng)
            elif self._pop:
                pop = self._pop
                idx = rng.integers(0, len(pop), self.sample_size)
                parent = max((pop[int(i)] for i in idx), key=lambda m: m[1])[0]
                arch = space.mutate(parent, rng)
            else:
                break
            self._n_asked += 1
            out.append(arch)
        return out

    def tell(self, arch: Architecture, evaluation: Evaluation) -> None:
        self._pop.append((arch, self.objective.score(evaluation)))
        if len(self._pop) > self.population_size:
            self._pop.popleft()

    def _state(self) -> dict[str, Any]:
        return {"n_asked": self._n_asked,
                "population": [[self._arch_json(a), s] for a, s in self._pop]}

    def _load_state(self, state: dict[str, Any]) -> None:
        self._n_asked = int(state["n_asked"])
        self._pop = deque((self._arch_from(a), float(s)) for a, s in state["population"])
