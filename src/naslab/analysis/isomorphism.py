"""Isomorphism statistics: how many archs compute the same function, and what that costs.

``class_ids[i]`` names the isomorphism class of arch i: :func:`class_ids` takes the official index
of its canonical form (``SearchSpace.canonical``; NB201: the published 6,466 classes; a space
without a real canonical form has one class per arch). Isomorphic archs were trained separately in the benchmarks, so their
recorded accuracies differ by training noise only; the within-class share of the variance says
how large that noise is next to the differences between classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from naslab.errors import ConfigError, check_int
from naslab.spaces.base import SearchSpace


@dataclass
class IsoStats:
    n_archs: int
    n_classes: int
    size_counts: dict[int, int]       # class size -> number of classes of that size
    largest: list[tuple[int, int]]    # (representative, size) of the largest classes
    singletons: int                   # archs alone in their class
    within_class_var_fraction: float  # pooled within-class variance / total variance
    within_class_sd: float            # sqrt of the pooled within-class variance (classes > 1)


def class_ids(space: SearchSpace) -> np.ndarray:
    """For each official index of the finite ``space``, the official index of the canonical
    form of that arch (its isomorphism class); ``arange(len(space))`` where the space has no
    canonical form (``has_canonical`` false)."""
    n = len(space)
    if not space.has_canonical:
        return np.arange(n, dtype=np.int64)
    return np.fromiter((space.index(space.canonical(a)) for a in space.enumerate()),
                       dtype=np.int64, count=n)


def class_stats(class_ids: object, values: object, *, top: int = 5) -> IsoStats:
    c = np.asarray(class_ids, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    if c.shape != v.shape or c.ndim != 1:
        raise ConfigError(f"class_ids and values must be 1-D of equal length, got {c.shape} and {v.shape}")
    uniq, inv, sizes = np.unique(c, return_inverse=True, return_counts=True)
    sc = np.unique(sizes, return_counts=True)
    means = np.bincount(inv, weights=v) / sizes
    within = float(((v - means[inv]) ** 2).sum())
    total = float(((v - v.mean()) ** 2).sum())
    dof = int((sizes - 1).sum())
    order = np.argsort(-sizes, kind="stable")[:top]
    return IsoStats(
        n_archs=int(c.size), n_classes=int(uniq.size),
        size_counts={int(k): int(n) for k, n in zip(*sc)},
        largest=[(int(uniq[i]), int(sizes[i])) for i in order],
        singletons=int((sizes == 1).sum()),
        within_class_var_fraction=within / total if total > 0 else 0.0,
        within_class_sd=float(np.sqrt(within / dof)) if dof else 0.0,
    )


def expected_distinct_classes(class_ids: object, n_max: int) -> np.ndarray:
    """E[number of distinct classes among N archs drawn uniformly without replacement],
    N = 1..n_max (exact): sum over classes of 1 - C(M - m_c, N) / C(M, N)."""
    c = np.asarray(class_ids, dtype=np.int64)
    _, sizes = np.unique(c, return_counts=True)
    m = c.size
    n_max = check_int("n_max", n_max, minimum=1, maximum=m)
    size_vals, size_n = np.unique(sizes, return_counts=True)
    lf = gammaln(np.arange(m + 1, dtype=np.float64) + 1.0)
    out = np.empty(int(n_max))
    for N in range(1, int(n_max) + 1):
        log_all = lf[m] - lf[N] - lf[m - N]
        ok = m - size_vals >= N
        miss = np.zeros(size_vals.size)
        r = m - size_vals[ok]
        miss[ok] = np.exp(lf[r] - lf[N] - lf[r - N] - log_all)
        out[N - 1] = float((size_n * (1.0 - miss)).sum())
    return out
