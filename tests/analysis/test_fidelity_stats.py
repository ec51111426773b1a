"""Rank fidelity statistics on synthetic cases whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from naslab.analysis.fidelity import (fidelity_figure, fidelity_stats, precision_at_top,
                                      seed_ceiling)
from naslab.errors import ConfigError


def _swapped(n: int, k: int) -> np.ndarray:
    """0..n-1 with k disjoint adjacent pairs swapped: exactly k discordant pairs."""
    x = np.arange(n, dtype=float)
    for j in range(k):
        i = 4 * j
        x[i], x[i + 1] = x[i + 1], x[i]
    return x


def test_known_kendall_and_spearman_from_disjoint_swaps() -> None:
    n, k = 100, 12
    ref = np.arange(n, dtype=float)
    pred = _swapped(n, k)
    st = fidelity_stats(pred, ref, n_boot=200, seed=0)
    tau = 1 - 4 * k / (n * (n - 1))  # (concordant - discordant) / pairs
    rho = 1 - 6 * (2 * k) / (n * (n * n - 1))  # each swap adds 1 + 1 to sum d^2
    assert st.kendall.value == pytest.approx(tau, abs=1e-12)
    assert st.spearman.value == pytest.approx(rho, abs=1e-12)
    assert st.kendall.lo <= tau <= st.kendall.hi
    assert st.kendall.p_value is not None and st.kendall.p_value < 1e-10
    assert st.n == n and st.k == 10


def test_bootstrap_interval_covers_the_population_tau_of_a_gaussian_pair() -> None:
    r = 0.6
    rng = np.random.default_rng(3)
    z = rng.multivariate_normal([0, 0], [[1, r], [r, 1]], size=250)
    st = fidelity_stats(z[:, 0], z[:, 1], n_boot=200, seed=1)
    tau_pop = 2 / math.pi * math.asin(r)  # Greiner's relation for the bivariate normal
    assert st.kendall.lo < tau_pop < st.kendall.hi
    assert 0.02 < st.kendall.hi - st.kendall.lo < 0.2
    # same seed, same intervals
    again = fidelity_stats(z[:, 0], z[:, 1], n_boot=200, seed=1)
    assert again.kendall == st.kendall and again.precision == st.precision
    # no signal: tau near 0 and not significant
    null = fidelity_stats(z[:, 0], rng.permutation(z[:, 1]), n_boot=100, seed=1)
    assert null.kendall.lo < 0 < null.kendall.hi


def test_precision_at_top() -> None:
    ref = np.arange(50, dtype=float)  # top 10 % (k=5): indices 45..49
    pred = ref.copy()
    pred[[45, 46]] = -1.0  # two of the true top five fall out of the proxy's top five
    assert precision_at_top(pred, ref, 0.1) == pytest.approx(3 / 5)
    assert precision_at_top(ref, ref, 0.1) == 1.0
    assert precision_at_top(-ref, ref, 0.1) == 0.0
    assert precision_at_top(ref, ref, 0.01) == 1.0  # k = ceil(0.5) = 1
    with pytest.raises(ConfigError):
        precision_at_top(ref, ref, 0.0)


def test_seed_ceiling_is_the_mean_pairwise_tau() -> None:
    n = 60
    a = np.arange(n, dtype=float)
    runs = np.stack([a, _swapped(n, 5), a], axis=1)
    t5 = 1 - 4 * 5 / (n * (n - 1))
    c = seed_ceiling(runs, n_boot=200, seed=0)
    assert [p["kendall"] for p in c["pairs"]] == pytest.approx([t5, 1.0, t5])
    assert c["kendall"]["value"] == pytest.approx((2 * t5 + 1) / 3)
    assert c["kendall"]["lo"] <= c["kendall"]["value"] <= c["kendall"]["hi"]
    # missing runs (NaN) are left out pairwise
    runs[:10, 2] = np.nan
    c2 = seed_ceiling(runs, n_boot=50)
    assert c2["pairs"][1]["n"] == n - 10
    # a single run: no ceiling
    assert seed_ceiling(runs[:, :1], n_boot=50)["kendall"] is None


def test_stats_with_a_ceiling_and_figure(tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    truth = rng.normal(size=80)
    runs = truth[:, None] + 0.3 * rng.normal(size=(80, 3))
    pred = truth + rng.normal(size=80)
    st = fidelity_stats(pred, runs.mean(1), ref_runs=runs, n_boot=100)
    assert st.ceiling is not None and st.ceiling["kendall"]["value"] > st.kendall.value
    d = st.to_json()
    assert set(d) >= {"kendall", "spearman", "precision_at_top", "ceiling", "n", "k"}
    out = fidelity_figure(pred, runs.mean(1), tmp_path / "f.png", stats=st, title="t")
    assert out.is_file() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input() -> None:
    with pytest.raises(ConfigError, match="equal length"):
        fidelity_stats([1, 2, 3], [1, 2])
    with pytest.raises(ConfigError, match="at least 3"):
        fidelity_stats([1, 2], [1, 2])
    with pytest.raises(ConfigError, match="finite"):
        fidelity_stats([1, np.nan, 3], [1, 2, 3])
    with pytest.raises(ConfigError, match="n_boot"):
        fidelity_stats([1, 2, 3], [1, 2, 3], n_boot=1)
    with pytest.raises(ConfigError, match="ref_runs"):
        fidelity_stats([1, 2, 3], [1, 2, 3], ref_runs=np.ones((2, 2)))


def test_vectorised_bootstrap_statistics_equal_scipy() -> None:
    from scipy import stats

    from naslab.analysis.fidelity import kendall_rows, precision_rows, spearman_rows

    rng = np.random.default_rng(5)
    p = np.round(rng.normal(size=40), 1)  # ties included
    r = p + rng.normal(size=40)
    idx = rng.integers(0, 40, (6, 40))  # bootstrap resamples: repeated rows tie
    kt, sr, pr = kendall_rows(p[idx], r[idx]), spearman_rows(p[idx], r[idx]), \
        precision_rows(p[idx], r[idx], 0.1)
    for b in range(6):
        assert kt[b] == pytest.approx(stats.kendalltau(p[idx[b]], r[idx[b]]).statistic)
        assert sr[b] == pytest.approx(stats.spearmanr(p[idx[b]], r[idx[b]]).statistic)
        assert pr[b] == precision_at_top(p[idx[b]], r[idx[b]], 0.1)
    assert np.isnan(kendall_rows(np.ones((1, 5)), np.arange(5.0)[None]))[0]
