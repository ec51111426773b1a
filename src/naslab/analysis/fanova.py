"""Functional ANOVA of a table over a complete grid of categorical choices (exact, no model).

A finite space whose architectures are every combination of its D declared categorical decisions
(``SearchSpace.decisions``; NB201: 6 edges x 5 operations = 15,625 archs) gives a full factorial
table f(x_1..x_D); :func:`space_grid` checks that a space is one and returns its layout. Under
the uniform measure on the grid, f splits uniquely into orthogonal components

    f = f_0 + sum_d f_d(x_d) + sum_{d<e} f_de(x_d, x_e) + ...,

each with zero mean over any one of its own arguments (Hooker 2007; fANOVA of Hutter et al.
2014 does the same on a random-forest surrogate - here the table is the function itself, so the
decomposition is exact). The variance of f is the sum of the component variances V_S, and
``V_S / V`` is the fraction of the variance that the choices in S explain together beyond their
parts. ``f_0 + f_d(x)`` is the **marginal mean** of option x at choice d: the mean over all
archs that take x there.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from naslab.errors import ConfigError
from naslab.spaces.base import SearchSpace


@dataclass
class Anova:
    """Exact functional ANOVA of a full-grid table."""

    mean: float
    variance: float                               # total variance (population, ddof=0)
    marginal_means: list[np.ndarray]              # per choice: mean over archs with option x
    main_fraction: np.ndarray                     # V_d / V per choice
    pair_fraction: np.ndarray                     # (D, D) symmetric: V_de / V, zero diagonal
    order_fraction: np.ndarray                    # sum of V_S / V over |S| = 1..D
    components: dict[tuple[int, ...], float]      # V_S / V for every non-empty S (if computed)


def space_grid(space: SearchSpace) -> tuple[np.ndarray, tuple[int, ...]]:
    """The decision indices of every arch of ``space`` (rows in official index order) and the
    decision sizes, for :func:`grid_table`.

    ConfigError unless the space is finite, declares its decisions and holds every combination
    of them exactly once (a full factorial grid, what the exact ANOVA and landscape statistics
    need).
    """
    if not space.decisions:
        raise ConfigError(f"space {space.name!r} declares no decisions; the exact analysis needs "
                          f"a finite space whose decisions form a full factorial grid")
    sizes = tuple(d.size for d in space.decisions)
    try:
        n = len(space)
    except TypeError:
        raise ConfigError(f"space {space.name!r} is not finite; the exact analysis needs a finite "
                          f"space whose decisions form a full factorial grid") from None
    n_cells = math.prod(sizes)
    if n != n_cells:   # checked before enumerating: a large space is refused at once
        raise ConfigError(f"space {space.name!r} has {n} archs, not the {n_cells} combinations of "
                          f"its decisions (sizes {sizes}); the exact analysis needs a full "
                          f"factorial grid")
    archs = list(space.enumerate())
    choices = np.array([space.decision_indices(a) for a in archs], dtype=np.int64)
    if choices.shape != (n_cells, len(sizes)):
        raise ConfigError(f"space {space.name!r} has {n} archs, not the {n_cells} combinations of "
                          f"its decisions (sizes {sizes}); the exact analysis needs a full "
                          f"factorial grid")
    flat = np.ravel_multi_index(tuple(choices.T), sizes)
    if np.bincount(flat, minlength=n_cells).max() != 1:
        raise ConfigError(f"space {space.name!r}: some combinations of its decisions occur twice; "
                          f"the exact analysis needs a full factorial grid")
    return choices, sizes


def grid_table(values: object, choices: object, sizes: tuple[int, ...] | list[int]) -> np.ndarray:
    """Arrange ``values[i]`` (one per arch) into an array indexed by the arch's ``choices[i]``.

    Every cell of the grid must be filled exactly once (a complete factorial space).
    """
    v = np.asarray(values, dtype=np.float64)
    c = np.asarray(choices, dtype=np.int64)
    sizes = tuple(int(s) for s in sizes)
    if c.ndim != 2 or c.shape[1] != len(sizes):
        raise ConfigError(f"choices must be an (archs, {len(sizes)}) integer array, got shape {c.shape}")
    if v.shape != (c.shape[0],):
        raise ConfigError(f"values must have one entry per arch ({c.shape[0]}), got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ConfigError("values must be finite (an arch without a value cannot enter the ANOVA)")
    if ((c < 0) | (c >= np.asarray(sizes))).any():
        raise ConfigError(f"choices must lie in 0..size-1 per choice (sizes {sizes})")
    flat = np.ravel_multi_index(tuple(c.T), sizes)
    n_cells = int(np.prod(sizes))
    hits = np.bincount(flat, minlength=n_cells)
    if c.shape[0] != n_cells or (hits != 1).any():
        raise ConfigError(f"the table must hold every one of the {n_cells} grid cells exactly once "
                          f"(got {c.shape[0]} rows, {int((hits == 0).sum())} cells missing); the "
                          f"exact ANOVA needs a complete factorial space")
    out = np.empty(n_cells)
    out[flat] = v
    return out.reshape(sizes)


def anova(table: np.ndarray, *, max_order: int | None = None) -> Anova:
    """Exact functional ANOVA of ``table`` (one axis per choice) under the uniform measure.

    Components up to ``max_order`` are computed by inclusion-exclusion of marginal means
    (default: all orders; 2**D subsets, cheap for D <= 10).
    """
    y = np.asarray(table, dtype=np.float64)
    D = y.ndim
    if D == 0 or y.size < 2:
        raise ConfigError(f"table must have at least one axis and two cells, got shape {y.shape}")
    if max_order is None:
        max_order = D
    if not (1 <= max_order <= D):
        raise ConfigError(f"max_order must be in 1..{D}, got {max_order}")
    mu = float(y.mean())
    var = float(((y - mu) ** 2).mean())
    if var <= 0:
        raise ConfigError("table is constant: its variance is zero, nothing to decompose")
    axes = tuple(range(D))
    # component f_S as an array over the axes in S (others averaged out), built by
    # f_S = m_S - sum_{T strict subset of S} f_T
    comp: dict[tuple[int, ...], np.ndarray] = {(): np.asarray(mu)}
    fracs: dict[tuple[int, ...], float] = {}
    for order in range(1, max_order + 1):
        for S in itertools.combinations(axes, order):
            m = y.mean(axis=tuple(a for a in axes if a not in S))  # marginal mean over S
            f = m.copy()
            for k in range(order):
                for T in itertools.combinations(S, k):
                    # broadcast f_T (axes T) into the axes of S
                    shape = [y.shape[a] if a in T else 1 for a in S]
                    f = f - comp[T].reshape(shape)
            comp[S] = f
            fracs[S] = float((f**2).mean()) / var
    main = np.array([fracs[(d,)] for d in axes])
    pair = np.zeros((D, D))
    if max_order >= 2:
        for d, e in itertools.combinations(axes, 2):
            pair[d, e] = pair[e, d] = fracs[(d, e)]
    by_order = np.zeros(D)
    for S, fr in fracs.items():
        by_order[len(S) - 1] += fr
    margins = [mu + comp[(d,)] for d in axes]
    return Anova(mu, var, margins, main, pair, by_order, fracs)
