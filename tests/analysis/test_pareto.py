"""Pareto fronts, hypervolume and IGD (pymoo) against brute-force computations, and the exact
NB201 front against an independent sweep."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from naslab.analysis.pareto import (
    exact_front,
    front_quality,
    hypervolume,
    igd,
    non_dominated,
    nondominated_sort,
    parse_metric_modes,
)
from naslab.errors import ConfigError
from naslab.estimators.base import Objective, Objectives
from naslab.runner.front import ParetoFront


def brute_nd(v: np.ndarray, modes: list[str]) -> list[int]:
    """Rows no other row dominates (maximisation after flipping), by a double loop."""
    s = v * np.array([1.0 if m == "max" else -1.0 for m in modes])
    out = []
    for i in range(len(s)):
        if not any(np.all(s[j] >= s[i]) and np.any(s[j] > s[i]) for j in range(len(s)) if j != i):
            out.append(i)
    return out


def brute_hv(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume (maximisation) by inclusion-exclusion over every subset of boxes [ref, p]."""
    pts = [p for p in points if np.all(p > ref)]
    total = 0.0
    for k in range(1, len(pts) + 1):
        for sub in itertools.combinations(pts, k):
            corner = np.min(np.array(sub), axis=0)
            total += (-1) ** (k + 1) * float(np.prod(corner - ref))
    return total


def random_sets(seed: int, n: int = 60):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    for t in range(n):
        d = int(rng.integers(1, 4))
        k = int(rng.integers(1, 11))
        v = rng.random((k, d))
        if t % 3 == 0:
            v = np.round(v * 4) / 4  # ties and repeated vectors
        modes = [str(m) for m in rng.choice(["max", "min"], d)]
        yield v, modes, rng


def test_non_dominated_and_sorting_equal_brute_force() -> None:
    for v, modes, _ in random_sets(0, 120):
        nd = non_dominated(v, modes)
        assert nd.tolist() == brute_nd(v, modes)
        fronts = nondominated_sort(v, modes)
        assert sorted(np.concatenate(fronts).tolist()) == list(range(len(v)))
        assert sorted(fronts[0].tolist()) == nd.tolist()
        rest = np.setdiff1d(np.arange(len(v)), fronts[0])
        if rest.size:  # the second front is the first front of what is left
            assert sorted(fronts[1].tolist()) == sorted(rest[brute_nd(v[rest], modes)].tolist())
    assert non_dominated(np.array([[1.0, np.nan], [0.5, 0.5]]), ["max", "max"]).tolist() == [1]


def test_hypervolume_equals_inclusion_exclusion() -> None:
    for v, modes, rng in random_sets(1, 80):
        signs = np.array([1.0 if m == "max" else -1.0 for m in modes])
        ref_max = np.full(v.shape[1], -0.1) + rng.random(v.shape[1]) * 0.3
        ref_raw = ref_max * signs
        want = brute_hv(v * signs, ref_max)
        assert hypervolume(v, ref_raw, modes) == pytest.approx(want, abs=1e-12)
    # the runner's front (all maximised after its own sign flip) agrees
    o = Objectives((Objective("a"), Objective("b", "min"), Objective("c")), reference=(0.0, 1.0, 0.0))
    f = ParetoFront(o)
    rng = np.random.default_rng(5)
    pts = rng.random((12, 3))
    for i, p in enumerate(pts):
        f.add(i, p)
        nd = brute_nd(pts[: i + 1], ["max", "min", "max"])
        assert f.numbers() == nd
        assert f.hypervolume() == pytest.approx(
            brute_hv(pts[: i + 1] * np.array([1, -1, 1]), np.array([0.0, -1.0, 0.0])), abs=1e-12)
    assert hypervolume([], [0.0, 0.0]) == 0.0
    assert hypervolume([[1.0, -1.0]], [0.0, 0.0]) == 0.0  # does not dominate the reference


def test_igd_equals_brute_force() -> None:
    for v, modes, rng in random_sets(2, 40):
        pf = rng.random((int(rng.integers(1, 8)), v.shape[1]))
        want = np.mean([np.min(np.linalg.norm(v - q, axis=1)) for q in pf])
        assert igd(v, pf, modes) == pytest.approx(want)


def sweep_front_2d(a: np.ndarray, b: np.ndarray) -> list[int]:
    """Exact 2-D front (a max, b min) by one sort and a running minimum: an algorithm
    independent of pymoo's non-dominated sort."""
    order = sorted(range(a.size), key=lambda i: (-a[i], b[i]))
    out, best_b, k = [], np.inf, 0
    while k < len(order):  # group equal accuracies: inside a group only the lowest b survives
        j = k
        while j < len(order) and a[order[j]] == a[order[k]]:
            j += 1
        grp = order[k:j]
        gmin = min(b[i] for i in grp)
        if gmin < best_b:
            out += [i for i in grp if b[i] == gmin]
        best_b = min(best_b, gmin)
        k = j
    return sorted(out)


@pytest.mark.parametrize("device", ["1080ti_1", "gold_6226", "pixel3", "pixel2"])
def test_exact_nb201_front_equals_an_independent_sweep(tabular_c10, device: str) -> None:  # type: ignore[no-untyped-def]
    b = tabular_c10.bench
    test, lat = b.column("test_acc"), b.column("latency_ms", device=device)
    ef = exact_front({"test_acc": test, "lat": lat}, [("test_acc", "max"), ("lat", "min")])
    assert ef.indices.tolist() == sweep_front_2d(test, lat)
    assert ef.n_points == 15625 and ef.hypervolume > 0
    assert ef.hv_ratio(ef.values) == pytest.approx(1.0)
    assert ef.igd(ef.values) == pytest.approx(0.0, abs=1e-12) and ef.recall(ef.indices) == 1.0
    # any subset of the space, scored on the same columns, stays below the exact front
    rng = np.random.default_rng(0)
    sub = rng.choice(15625, 500, replace=False)
    r = ef.hv_ratio(np.stack([test[sub], lat[sub]], axis=1))
    assert 0.5 < r < 1.0
    q = front_quality(ef, {"test_acc": test, "lat": lat}, sub[non_dominated(
        np.stack([test[sub], lat[sub]], axis=1), ["max", "min"])], sub)
    assert q["hv_ratio"] == pytest.approx(r) and q["recall"] <= q["recall_evaluated"]
    assert q["recall_evaluated"] == pytest.approx(np.isin(ef.indices, sub).mean())


def test_exact_triple_front_equals_brute_force_on_a_subset(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    b = tabular_c10.bench
    rng = np.random.default_rng(1)
    sub = rng.choice(15625, 400, replace=False)
    cols = {"test_acc": b.column("test_acc")[sub], "params_m": b.column("params_m")[sub],
            "latency_ms@pixel3": b.column("latency_ms", device="pixel3")[sub]}
    objs = [("test_acc", "max"), ("params_m", "min"), ("latency_ms@pixel3", "min")]
    ef = exact_front(cols, objs)
    v = np.stack([cols[m] for m, _ in objs], axis=1)
    assert ef.indices.tolist() == brute_nd(v, ["max", "min", "min"])


@pytest.mark.parametrize("text, fragment", [
    ("test_acc:max", "needs 2 or 3 metrics"),
    ("test_acc:max,latency_ms:fast", "mode 'fast' must be 'max' or 'min'"),
    ("test_acc,,latency_ms", "an empty item"),
    ("test_acc,test_acc:min", "given more than once"),
    ("a,b,c,d", "needs 2 or 3 metrics"),
])
def test_bad_objective_lists_name_the_bad_item(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_metric_modes(text, lambda m: "max")
    assert parse_metric_modes("test_acc, latency_ms@pixel3", lambda m: "min" if "lat" in m else "max") \
        == [("test_acc", "max"), ("latency_ms@pixel3", "min")]


@given(hst.lists(hst.tuples(hst.integers(0, 6), hst.integers(0, 6)), max_size=60),
       hst.sampled_from([("max", "max"), ("max", "min"), ("min", "min")]))
@settings(max_examples=300, deadline=None)
def test_the_two_objective_front_update_equals_the_general_one(pts, modes) -> None:  # type: ignore[no-untyped-def]
    """ParetoFront's O(log n) update for two objectives (bisect on the sorted members) keeps
    the members the general O(n) update keeps, after every point, repeats and ties included
    (small integers make both frequent)."""
    o2 = Objectives((Objective("a", modes[0]), Objective("b", modes[1])), reference=(0.0, 0.0))
    fast = ParetoFront(o2)
    slow = ParetoFront(o2)
    slow._two = False  # the general path
    for i, p in enumerate(pts):
        assert fast.add(i, p) == slow.add(i, p)
        assert fast.numbers() == slow.numbers()
    assert fast.hypervolume() == slow.hypervolume()
