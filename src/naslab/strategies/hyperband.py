"""Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar, JMLR 2018)."""

from __future__ import annotations

import math

from naslab.registry import register
from naslab.strategies.successive_halving import _MultiFidelity


@register("strategy", "hyperband", aliases=("hb",))
class Hyperband(_MultiFidelity):
    """Hyperband (Li et al. 2018): successive-halving brackets of varying aggressiveness.

    The brackets trade many cheap evaluations for few long ones, cycled from the most
    aggressive (``s = s_max``) to plain full-fidelity random search (``s = 0``), then repeated.

    Bracket ``s`` starts ``n = ceil((s_max + 1) / (s + 1) * eta**s)`` fresh architectures at the
    fidelity ``max * eta**-s`` and keeps ``floor(n * eta**-i)`` of them at rung ``i`` (Li et
    al., Algorithm 1). The fidelity ladder is successive halving's (see
    :mod:`naslab.strategies.successive_halving`): with the NB201 tabular benchmark's 12 and 200
    epochs, ``s_max = 1``.

    Parameters
    ----------
    min_fidelity, max_fidelity: fidelity range (default: the estimator's). For an estimator
        without a fixed set of fidelities the default minimum is ``max / eta**2``.
    eta: promotion ratio, > 1.
    fidelities: explicit ascending rung fidelities instead of min/max.
    """

    def __init__(self, min_fidelity: float | None = None, max_fidelity: float | None = None,
                 eta: float = 3, fidelities: list[float] | None = None) -> None:
        self.min_fidelity = min_fidelity
        self.max_fidelity = max_fidelity
        self.eta = eta
        self.fidelities = fidelities

    def _bracket_shape(self, number: int) -> tuple[list[float], list[int]]:
        s_max = len(self.ladder_) - 1
        s = s_max - number % (s_max + 1)
        eta = self._eta
        n = math.ceil((s_max + 1) / (s + 1) * eta ** s - 1e-9)
        rungs = list(self.ladder_[s_max - s:])
        sizes = [max(1, int(math.floor(n * eta ** -i + 1e-9))) for i in range(s + 1)]
        return rungs, sizes

    @property
    def brackets(self) -> list[tuple[list[float], list[int]]]:
        return [self._bracket_shape(b) for b in range(len(self.ladder_))]
