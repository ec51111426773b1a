"""Statistics for comparing runs: confidence bands, rank tests, ranks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from naslab.errors import ConfigError


def mean_ci(x: object, *, conf: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean, half-width of the ``conf`` confidence interval of the mean
    (t-quantile x standard error) and the number of non-NaN values, for a (runs, points) array.

    The half-width is NaN where fewer than two values are present.
    """
    from scipy import stats

    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ConfigError(f"expected a (runs, points) array, got shape {a.shape}")
    if not 0 < conf < 1:
        raise ConfigError(f"conf must be in (0, 1), got {conf!r}")
    n = (~np.isnan(a)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.nansum(a, axis=0)
        mean = np.where(n > 0, s / np.maximum(n, 1), np.nan)
        dev = np.where(np.isnan(a), 0.0, a - mean[None, :])
        sd = np.sqrt((dev**2).sum(axis=0) / np.maximum(n - 1, 1))
        tq = stats.t.ppf(0.5 + conf / 2, np.maximum(n - 1, 1))
        half = np.where(n >= 2, tq * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return mean, half, n


@dataclass
class MannWhitney:
    u: float                 # U statistic of the first sample
    p: float                 # two-sided p-value
    cles: float              # P(a > b) + P(a = b) / 2: common-language effect size
    rank_biserial: float     # 2 * cles - 1, in [-1, 1]; > 0: the first sample tends higher
    n_a: int
    n_b: int


def mann_whitney(a: object, b: object) -> MannWhitney:
    """Two-sided Mann-Whitney U test of ``a`` against ``b`` (scipy), with effect sizes."""
    from scipy import stats

    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if x.size == 0 or y.size == 0:
        raise ConfigError(f"Mann-Whitney needs values in both samples, got {x.size} and {y.size}")
    res = stats.mannwhitneyu(x, y, alternative="two-sided")
    cles = float(res.statistic) / (x.size * y.size)
    return MannWhitney(float(res.statistic), float(res.pvalue), cles, 2 * cles - 1,
                       int(x.size), int(y.size))


def ranks_desc(values: object) -> np.ndarray:
    """Rank 1 = highest; ties get the average rank; NaN ranks last."""
    from scipy import stats

    v = np.asarray(values, dtype=np.float64)
    filled = np.where(np.isnan(v), -np.inf, v)
    return stats.rankdata(-filled, method="average")
