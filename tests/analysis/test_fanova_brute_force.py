"""The exact functional ANOVA against a brute-force computation over all 15,625 NB201 archs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from naslab.analysis.fanova import anova, grid_table
from naslab.errors import ConfigError
from naslab.testing.reference import brute_force_anova


def _table(bench, metric="test_acc"):  # type: ignore[no-untyped-def]
    choices = np.array([a.choices for a in bench.space.enumerate()])
    return choices, bench.column(metric), grid_table(bench.column(metric), choices, (5,) * 6)


@pytest.mark.parametrize("metric", ["test_acc", "val_acc"])
def test_main_effects_and_pairs_equal_brute_force(nb201_c10, metric) -> None:  # type: ignore[no-untyped-def]
    choices, y, table = _table(nb201_c10, metric)
    an = anova(table)
    m1, main, pair = brute_force_anova(choices, y, n_ops=5)
    np.testing.assert_allclose(np.array(an.marginal_means), m1, rtol=0, atol=1e-9)
    np.testing.assert_allclose(an.main_fraction, main, rtol=0, atol=1e-12)
    for e, f in itertools.combinations(range(6), 2):
        assert an.pair_fraction[e, f] == pytest.approx(pair[e, f], abs=1e-12)
    var = float(np.var(y))
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
