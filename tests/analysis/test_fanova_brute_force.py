"""The exact functional ANOVA against a brute-force computation over all 15,625 NB201 archs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from naslab.analysis.fanova import anova, grid_table
from naslab.errors import ConfigError


def _table(bench, metric="test_acc"):  # type: ignore[no-untyped-def]
    choices = np.array([a.choices for a in bench.space.enumerate()])
    return choices, bench.column(metric), grid_table(bench.column(metric), choices, (5,) * 6)


@pytest.mark.parametrize("metric", ["test_acc", "val_acc"])
def test_main_effects_and_pairs_equal_brute_force(nb201_c10, metric) -> None:  # type: ignore[no-untyped-def]
    choices, y, table = _table(nb201_c10, metric)
    an = anova(table)
    # brute force: one pass over the archs, summing by (edge, op) and by (edge pair, op pair)
    n = len(y)
    mu = sum(y) / n
    var = sum((v - mu) ** 2 for v in y) / n
    s1 = np.zeros((6, 5))
    s2 = np.zeros((6, 6, 5, 5))
    for ch, v in zip(choices.tolist(), y.tolist()):
        for e in range(6):
            s1[e, ch[e]] += v
        for e, f in itertools.combinations(range(6), 2):
            s2[e, f, ch[e], ch[f]] += v
    m1 = s1 / (n / 5)
    for e in range(6):
        np.testing.assert_allclose(an.marginal_means[e], m1[e], rtol=0, atol=1e-9)
        v_e = float(((m1[e] - mu) ** 2).mean())
        assert an.main_fraction[e] == pytest.approx(v_e / var, abs=1e-12)
    for e, f in itertools.combinations(range(6), 2):
        m2 = s2[e, f] / (n / 25)
        inter = m2 - m1[e][:, None] - m1[f][None, :] + mu
        assert an.pair_fraction[e, f] == pytest.approx(float((inter**2).mean()) / var, abs=1e-12)
    # all components together explain the whole variance
    assert sum(an.components.values()) == pytest.approx(1.0, abs=1e-10)
    assert an.order_fraction.sum() == pytest.approx(1.0, abs=1e-10)
    assert an.variance == pytest.approx(var)


def test_table_layout_follows_the_choices(nb201_c10) -> None:  # type: ignore[no-untyped-def]
    choices, y, table = _table(nb201_c10)
    for i in (0, 6111, 15624):
        assert table[tuple(choices[i])] == y[i]


def test_additive_function_has_no_interactions() -> None:
    rng = np.random.default_rng(0)
    parts = [rng.normal(size=q) for q in (3, 4, 2)]
    grid = parts[0][:, None, None] + parts[1][None, :, None] + parts[2][None, None, :]
    an = anova(grid)
    assert an.main_fraction.sum() == pytest.approx(1.0)
    assert np.abs(an.pair_fraction).max() < 1e-12
    want = np.array([p.var() for p in parts]) / sum(p.var() for p in parts)
    np.testing.assert_allclose(an.main_fraction, want, atol=1e-12)


def test_incomplete_grid_is_refused() -> None:
    choices = np.array([[0, 0], [0, 1], [1, 0]])
    with pytest.raises(ConfigError, match="every one of the 4 grid cells exactly once"):
        grid_table([1.0, 2.0, 3.0], choices, (2, 2))
    with pytest.raises(ConfigError, match="table is constant"):
        anova(np.ones((2, 3)))
