"""Fitness-landscape statistics of a full-grid space under the one-choice mutation.

The neighbourhood is naslab's ``mutate``/``neighbors`` move: change one choice (edge) to a
different option. Distances are Hamming distances between choice vectors (the number of such
moves between two archs).

* **Fitness-distance correlation** (Jones & Forrest 1995): Pearson correlation between an
  arch's value and its distance to the global optimum, over the whole space. For maximisation a
  strongly negative FDC means "closer to the optimum is better": local moves lead there.
* **Random-walk autocorrelation** (Weinberger 1990): the correlation of f(X_0) and f(X_k) along
  a random walk that starts uniformly and makes one uniform mutation per step. On a complete
  grid it is exact from the ANOVA: each component f_S is an eigenfunction of the walk with
  eigenvalue 1 - (1/D) sum_{d in S} q_d / (q_d - 1), so rho(k) = sum_S (V_S / V) lambda_S^k.
  ``simulate_walks`` measures it by sampling, as a check. The correlation length is
  -1 / ln rho(1).
* **Local optima**: archs that no single mutation strictly improves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from naslab.analysis.fanova import Anova
from naslab.errors import ConfigError


@dataclass
class FDC:
    fdc: float                     # Pearson correlation of value and distance to the optimum
    optima: list[tuple[int, ...]]  # choices of every arch with the maximum value
    distance: np.ndarray           # per grid cell (flattened, C order)
    by_distance: list[dict[str, float]]  # per distance: n, mean, min, max, quartiles


def hamming_to(table_shape: tuple[int, ...], targets: np.ndarray) -> np.ndarray:
    """Per grid cell (flattened), the smallest Hamming distance to any of ``targets`` (rows of
    choice vectors)."""
    grid = np.indices(table_shape).reshape(len(table_shape), -1).T  # (cells, D)
    t = np.atleast_2d(np.asarray(targets, dtype=np.int64))
    best = np.full(grid.shape[0], len(table_shape), dtype=np.int64)
    for row in t:
        best = np.minimum(best, (grid != row[None, :]).sum(axis=1))
    return best


def fitness_distance(table: np.ndarray, *, targets: np.ndarray | None = None) -> FDC:
    """FDC of ``table`` (one axis per choice): distance to the nearest arch with the maximum
    value (several archs can tie), or to the nearest of ``targets`` (e.g. every member of the
    optima's isomorphism classes)."""
    y = np.asarray(table, dtype=np.float64)
    flat = y.ravel()
    optima = np.argwhere(y == flat.max())
    tg = optima if targets is None else np.asarray(targets)
    d = hamming_to(y.shape, tg)
    if d.std() == 0:
        raise ConfigError("every arch is at the same distance from the targets; FDC is undefined")
    r = float(np.corrcoef(flat, d)[0, 1])
    prof = []
    for k in range(y.ndim + 1):
        sel = flat[d == k]
        if sel.size:
            q25, q50, q75 = np.quantile(sel, [0.25, 0.5, 0.75])
            prof.append({"distance": k, "n": int(sel.size), "mean": float(sel.mean()),
                         "max": float(sel.max()), "min": float(sel.min()), "q25": float(q25),
                         "median": float(q50), "q75": float(q75)})
    return FDC(r, [tuple(int(i) for i in o) for o in optima], d, prof)


def walk_eigenvalue(subset: tuple[int, ...], sizes: tuple[int, ...]) -> float:
    """Eigenvalue of the one-mutation random walk on ANOVA component ``subset``."""
    D = len(sizes)
    return 1.0 - sum(sizes[d] / (sizes[d] - 1.0) for d in subset) / D


def autocorrelation_exact(an: Anova, sizes: tuple[int, ...], max_lag: int) -> np.ndarray:
    """rho(k), k = 0..max_lag, of the one-mutation random walk, from the full ANOVA."""
    if len(an.components) != 2 ** len(sizes) - 1:
        raise ConfigError("the exact autocorrelation needs every ANOVA component "
                          "(compute the ANOVA with max_order=None)")
    k = np.arange(max_lag + 1)
    rho = np.zeros(max_lag + 1)
    for S, frac in an.components.items():
        rho += frac * walk_eigenvalue(S, sizes) ** k
    return rho


def simulate_walks(table: np.ndarray, *, walks: int, steps: int, max_lag: int,
                   seed: int) -> np.ndarray:
    """Estimated rho(k), k = 0..max_lag, from ``walks`` random walks of ``steps`` mutations,
    each starting at a uniform arch (the walk's stationary law), pooled over walks."""
    y = np.asarray(table, dtype=np.float64)
    sizes = np.asarray(y.shape)
    D = y.ndim
    if max_lag >= steps:
        raise ConfigError(f"max_lag must be smaller than steps ({steps}), got {max_lag}")
    rng = np.random.default_rng(seed)
    x = np.stack([rng.integers(0, s, size=walks) for s in sizes], axis=1)
    vals = np.empty((walks, steps + 1))
    vals[:, 0] = y[tuple(x.T)]
    rows = np.arange(walks)
    for t in range(1, steps + 1):
        d = rng.integers(0, D, size=walks)
        # a uniformly chosen *different* option, as SearchSpace.mutate does
        x[rows, d] = (x[rows, d] + 1 + rng.integers(0, sizes[d] - 1)) % sizes[d]
        vals[:, t] = y[tuple(x.T)]
    mu, var = vals.mean(), vals.var()
    rho = np.empty(max_lag + 1)
    for k in range(max_lag + 1):
        a, b = vals[:, : steps + 1 - k], vals[:, k:]
        rho[k] = float(((a - mu) * (b - mu)).mean() / var)
    return rho


def correlation_length(rho1: float) -> float:
    """-1 / ln rho(1): how many mutations until values decorrelate by 1/e."""
    if not (0.0 < rho1 < 1.0):
        return float("inf") if rho1 >= 1.0 else 0.0
    return float(-1.0 / np.log(rho1))


def local_optima(table: np.ndarray) -> np.ndarray:
    """Boolean grid: True where no single-choice change gives a strictly higher value."""
    y = np.asarray(table, dtype=np.float64)
    best_nb = np.full(y.shape, -np.inf)
    for d, q in enumerate(y.shape):
        for shift in range(1, q):
            best_nb = np.maximum(best_nb, np.roll(y, shift, axis=d))
    return y >= best_nb
