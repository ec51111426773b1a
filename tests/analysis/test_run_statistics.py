"""Confidence bands, Mann-Whitney U and ranks used by the reports."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from naslab.analysis.stats import mann_whitney, mean_ci, ranks_desc
from naslab.errors import ConfigError


def test_mean_ci_is_the_t_interval_with_missing_values() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(8, 3))
    a[5:, 2] = np.nan
    m, h, n = mean_ci(a)
    assert list(n) == [8, 8, 5]
    for j, k in enumerate(n):
        col = a[:k, j]
        lo, hi = stats.t.interval(0.95, k - 1, loc=col.mean(), scale=stats.sem(col))
        assert m[j] == pytest.approx(col.mean())
        assert h[j] == pytest.approx((hi - lo) / 2)
    m1, h1, _ = mean_ci(np.array([[1.0], [np.nan]]))
    assert m1[0] == 1.0 and np.isnan(h1[0])
    with pytest.raises(ConfigError, match="conf must be in"):
        mean_ci(a, conf=1.5)


def test_mann_whitney_effect_sizes() -> None:
    a, b = np.array([3.0, 4.0, 5.0, 6.0]), np.array([1.0, 2.0, 3.0])
    mw = mann_whitney(a, b)
    ref = stats.mannwhitneyu(a, b, alternative="two-sided")
    assert mw.u == ref.statistic and mw.p == ref.pvalue
    # 11 of 12 pairs won, one tie counts half
    assert mw.cles == pytest.approx(11.5 / 12)
    assert mw.rank_biserial == pytest.approx(2 * 11.5 / 12 - 1)
    with pytest.raises(ConfigError, match="needs values in both samples"):
        mann_whitney([], b)


def test_ranks() -> None:
    assert list(ranks_desc([1.0, 3.0, 3.0, np.nan])) == [3.0, 1.5, 1.5, 4.0]
