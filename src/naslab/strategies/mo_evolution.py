"""Regularized evolution with random scalarizations: a multi-objective variant of Real et al.
2019's aging evolution (the scalarizations of ParEGO, Knowles 2006; Paria et al. 2019)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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
    one corner; and, as NSGA-II here, it never proposes an architecture twice (a child that
    was proposed before is mutated once more, up to 50 times, then an unseen random
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
        self._seen = Unseen(self.space)
        self._n_asked = 0
        k, p = len(self.objective), self.population_size
        self._lo = [math.inf] * k  # ideal and nadir of the told (min-form) objective values
        self._hi = [-math.inf] * k
        # the population as a ring buffer: slot `_next` is overwritten next (the oldest once full)
        self._archs: list[Architecture | None] = [None] * p
        self._F = np.zeros((p, k))
        self._cv = np.zeros(p)
        #: each slot's checkpoint form, made once when the slot is filled
        self._json: list[list[Any] | None] = [None] * p
        self._count = 0
        self._next = 0

    def ask(self, n: int = 1) -> list[Architecture]:
        out = []
        for _ in range(n):
            if self._n_asked < self.population_size:
                arch = self._seen.random(self.rng)
            elif self._count:
                arch = self._child()
            else:
                break
            self._seen.add(arch)
            self._n_asked += 1
            out.append(arch)
        return out

    def _child(self) -> Architecture:
        child = self._parent()
        for _ in range(MAX_DRAWS):  # a proposed child is mutated once more, as in nsga2
            child = self.space.mutate(child, self.rng)
            if child not in self._seen:
                return child
        return self._seen.random(self.rng)

    def _age_order(self) -> list[int]:
        """Ring-buffer slots of the members, oldest first."""
        p, c = self.population_size, self._count
        start = 0 if c < p else self._next
        return [(start + i) % p for i in range(c)]

    def _parent(self) -> Architecture:
        rng, n, p = self.rng, self._count, self.population_size
        e = rng.standard_exponential(len(self._lo))  # normalised: uniform on the simplex
        w = e / e.sum()
        start = 0 if n < p else self._next
        i = np.minimum((rng.random(self.sample_size) * n).astype(np.int64), n - 1)
        slots = (start + i) % p  # uniform members (by age), with replacement
        lo, hi = np.array(self._lo), np.array(self._hi)
        span = np.where(hi > lo, hi - lo, 1.0)
        wd = w * (self._F[slots] - lo) / span
        g = wd.max(axis=1) + self.rho * wd.sum(axis=1)
        best = int(slots[np.lexsort((g, self._cv[slots]))[0]])  # feasible first, then g
        arch = self._archs[best]
        assert arch is not None
        return arch

    def tell(self, arch: Architecture, evaluation: Evaluation) -> None:
        f, cv = min_vector(self.objective, evaluation)
        if not all(math.isfinite(v) for v in f):
            return
        for i, v in enumerate(f):
            self._lo[i] = min(self._lo[i], v)
            self._hi[i] = max(self._hi[i], v)
        slot = self._next
        self._archs[slot], self._F[slot], self._cv[slot] = arch, f, cv
        self._json[slot] = [self._arch_json(arch), self._F[slot].tolist(), float(self._cv[slot])]
        self._next = (slot + 1) % self.population_size
        self._count = min(self._count + 1, self.population_size)

    def _state(self) -> dict[str, Any]:
        pop = [self._json[slot] for slot in self._age_order()]
        return {"n_asked": self._n_asked,
                "lo": [None if math.isinf(x) else x for x in self._lo],
                "hi": [None if math.isinf(x) else x for x in self._hi],
                "population": pop, "seen": self._seen.state(self._arch_json)}

    def _load_state(self, state: dict[str, Any]) -> None:
        try:
            self._n_asked = int(state["n_asked"])
            self._lo = [math.inf if x is None else float(x) for x in state["lo"]]
            self._hi = [-math.inf if x is None else float(x) for x in state["hi"]]
            p = self.population_size
            self._archs = [None] * p
            self._F = np.zeros((p, len(self._lo)))
            self._cv = np.zeros(p)
            self._json = [None] * p
            self._count = self._next = 0
            for a, f, cv in state["population"]:  # oldest first, as the ring buffer fills
                slot = self._next
                self._archs[slot] = self._arch_from(a)
                self._F[slot] = [float(v) for v in f]
                self._cv[slot] = float(cv)
                self._json[slot] = [a, self._F[slot].tolist(), float(cv)]
                self._next = (slot + 1) % p
                self._count = min(self._count + 1, p)
            self._seen.load(state["seen"], self._arch_from)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"mo_re state is not one this version wrote: {exc!r}") from None
