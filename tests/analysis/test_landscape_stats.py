"""Fitness-distance correlation, random-walk autocorrelation, local optima, isomorphism."""

from __future__ import annotations

import numpy as np
import pytest

from naslab.analysis.fanova import anova, grid_table
from naslab.analysis.isomorphism import class_stats, expected_distinct_classes
from naslab.analysis.landscape import (
    autocorrelation_exact,
    fitness_distance,
    local_optima,
    simulate_walks,
)


@pytest.fixture(scope="module")
def c10(nb201_c10):  # type: ignore[no-untyped-def]
    choices = np.array([a.choices for a in nb201_c10.space.enumerate()])
    y = nb201_c10.column("test_acc")
    return choices, y, grid_table(y, choices, (5,) * 6)


def test_exact_autocorrelation_matches_random_walks(c10) -> None:  # type: ignore[no-untyped-def]
    _, _, table = c10
    rho = autocorrelation_exact(anova(table), table.shape, 6)
    sim = simulate_walks(table, walks=40000, steps=12, max_lag=6, seed=2)
    assert rho[0] == pytest.approx(1.0)
    np.testing.assert_allclose(sim, rho, atol=0.012)
    assert np.all(np.diff(rho) < 0)


def test_autocorrelation_of_an_additive_function() -> None:
    rng = np.random.default_rng(1)
    g = sum(rng.normal(size=5).reshape([5 if i == d else 1 for i in range(6)]) for d in range(6))
    grid = np.broadcast_to(g, (5,) * 6).copy()
    rho = autocorrelation_exact(anova(grid), grid.shape, 4)
    np.testing.assert_allclose(rho, (1 - 5 / 24) ** np.arange(5), atol=1e-12)


def test_walks_are_seeded(c10) -> None:  # type: ignore[no-untyped-def]
    _, _, table = c10
    a = simulate_walks(table, walks=200, steps=8, max_lag=3, seed=4)
    assert np.array_equal(a, simulate_walks(table, walks=200, steps=8, max_lag=3, seed=4))
    assert not np.array_equal(a, simulate_walks(table, walks=200, steps=8, max_lag=3, seed=5))


def test_fdc_by_hand(c10) -> None:  # type: ignore[no-untyped-def]
    choices, y, table = c10
    fd = fitness_distance(table)
    opts = choices[y == y.max()]  # on cifar10 two archs tie at the top (94.37)
    assert len(opts) == 2
    d = np.min([(choices != o).sum(axis=1) for o in opts], axis=0)
    assert sorted(fd.optima) == sorted(tuple(o) for o in opts.tolist())
    assert fd.fdc == pytest.approx(float(np.corrcoef(y, d)[0, 1]), abs=1e-12)
    assert sum(p["n"] for p in fd.by_distance) == y.size
    assert fd.by_distance[0]["n"] == 2
    assert fd.fdc < 0  # closer to the best is better on average


def test_local_optima_by_neighbours(nb201_c10, c10) -> None:  # type: ignore[no-untyped-def]
    choices, y, table = c10
    lo = local_optima(table)
    space = nb201_c10.space
    idx = {tuple(c): i for i, c in enumerate(choices.tolist())}
    brute = [i for i, a in enumerate(space.enumerate())
             if all(y[idx[n.choices]] <= y[i] for n in space.neighbors(a))]
    got = sorted(idx[tuple(c)] for c in np.argwhere(lo).tolist())
    assert got == brute
    assert int(np.argmax(y)) in brute


def test_isomorphism_statistics(nb201_c10) -> None:  # type: ignore[no-untyped-def]
    cls = nb201_c10.space.class_ids()
    st = class_stats(cls, nb201_c10.column("test_acc"))
    assert st.n_classes == 6466 and st.n_archs == 15625
    assert sum(k * n for k, n in st.size_counts.items()) == 15625
    assert 0 < st.within_class_var_fraction < 0.01
    ex = expected_distinct_classes(cls, 50)
    assert ex[0] == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    sims = [len(set(cls[rng.choice(15625, 50, replace=False)])) for _ in range(4000)]
    assert ex[-1] == pytest.approx(np.mean(sims), abs=4 * np.std(sims) / np.sqrt(4000))


def test_zero_output_archs_are_exactly_the_chance_level_ones(nb201_c10, c10) -> None:  # type: ignore[no-untyped-def]
    from naslab.analysis.space import zero_output

    choices, y, _ = c10
    z = zero_output(choices)
    assert z.sum() == 341
    # on cifar10 (10 classes) they, and only they, score chance level
    assert np.all(y[z] == pytest.approx(10.0)) and np.all(y[~z] > 10.0 + 1e-6)
    assert z[nb201_c10.space.index(nb201_c10.space.parse(
        "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|"))]
