"""Regularized evolution with random scalarizations: a multi-objective variant of Real et al.
2019's aging evolution (the scalarizations of ParEGO, Knowles 2006; Paria et al. 2019)."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from naslab.errors import ConfigError, check_float, check_int
from naslab.estimators.base import Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture
from naslab.strategies._multi import MAX_DRAWS, Unseen, min_vector
from naslab.strategies.base import Strategy


@register("strategy", "mo_re", aliases=("more", "mo-re", "re_scalarized", "parego_re"))
class ScalarizedEvolution(Strategy):
    """Aging evolution whose every tournament optimises a freshly drawn scalarization.

    The first ``population_size`` proposals are random. Afterwards each proposal draws a
    weight vector ``w`` uniformly from the simplex and ``sample_size`` population members
    uniformly with replacement, and mutates the member with the lowest augmented Chebyshev
    value ``max_i w_i d_i + rho * sum_i w_i d_i``, where ``d_i`` in [0, 1] is the member's
    distance to the best value of objective ``i``, normalised by the range of values told so
    far (ideal and nadir of every evaluation seen). Members that violate the constraints rank
    after every feasible one, by violation. Every result joins the population and the oldest
    member leaves (aging). With one objective this is regularized evolution.

    Differences from the single-objective ``re``: the tournament criterion changes from
    proposal to proposal, so the population spreads along the front instead of converging to
    one corner; and, as NSGA-II here, it never proposes an architecture twice (a mutation that
    gives a proposed architecture is redrawn up to 50 times, then an unseen random
    architecture is proposed). Defaults P = 50, S = 25, rho = 0.05 (ParEGO's), chosen on NB201
    (docs/benchmarks.md); the single-objective ``re`` keeps NB201's P = 10, S = 3.
    """

    def __init__(self, population_size: int = 50, sample_size: int = 25, rho: float = 0.05) -> None:
        self.population_size = population_size
        self.sample_size = sample_size
        self.rho = rho

    def _setup(self) -> None:
        self.population_size = check_int("population_size", self.population_size, minimum=1)
        self.sample_size = check_int("sample_size", self.sample_size, minimum=1)
        self.rho = check_float("rho", self.rho, minimum=0.0)
        self._pop: deque[tuple[Architecture, list[float], float]] = deque()
        self._seen = Unseen(self.space)
        self._n_asked = 0
        k = len(self.objective)
        self._lo = [math.inf] * k  # ideal and nadir of the told (min-form) objective values
        self._hi = [-math.inf] * k

    def ask(self, n: int = 1) -> list[Architecture]:
        out = []
        for _ in range(n):
            if self._n_asked < self.population_size:
                arch = self._seen.random(self.rng)
            elif self._pop:
                arch = self._child()
            else:
                break
            self._seen.add(arch)
            self._n_asked += 1
            out.append(arch)
        return out

    def _child(self) -> Architecture:
        for _ in range(MAX_DRAWS):
            child = self.space.mutate(self._parent(), self.rng)
            if child not in self._seen:
                return child
        return self._seen.random(self.rng)

    def _parent(self) -> Architecture:
        pop, rng, rho = self._pop, self.rng, self.rho
        e = rng.standard_exponential(len(self._lo)).tolist()  # normalised: uniform on the simplex
        w = [x / sum(e) for x in e]
        lo, hi = self._lo, self._hi
        span = [h - l if h > l else 1.0 for l, h in zip(lo, hi)]
        best, best_key = None, (math.inf, math.inf)
        n = len(pop)
        for u in rng.random(self.sample_size).tolist():  # uniform members, with replacement
            arch, f, cv = pop[min(int(u * n), n - 1)]
            wd = [wi * (v - l) / s for wi, v, l, s in zip(w, f, lo, span)]
            key = (cv, max(wd) + rho * sum(wd))
            if key < best_key:
                best, best_key = arch, key
        assert best is not None
        return best

    def tell(self, arch: Architecture, evaluation: Evaluation) -> None:
        f, cv = min_vector(self.objective, evaluation)
        if not all(math.isfinite(v) for v in f):
            return
        for i, v in enumerate(f):
            self._lo[i] = min(self._lo[i], v)
            self._hi[i] = max(self._hi[i], v)
        self._pop.append((arch, f, cv))
        if len(self._pop) > self.population_size:
            self._pop.popleft()

    def _state(self) -> dict[str, Any]:
        return {"n_asked": self._n_asked, "lo": self._lo, "hi": self._hi,
                "population": [[self._arch_json(a), f, cv] for a, f, cv in self._pop],
                "seen": self._seen.state(self._arch_json)}

    def _load_state(self, state: dict[str, Any]) -> None:
        try:
            self._n_asked = int(state["n_asked"])
            self._lo = [float(x) for x in state["lo"]]
            self._hi = [float(x) for x in state["hi"]]
            self._pop = deque((self._arch_from(a), [float(v) for v in f], float(cv))
                              for a, f, cv in state["population"])
            self._seen.load(state["seen"], self._arch_from)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"mo_re state is not one this version wrote: {exc!r}") from None
