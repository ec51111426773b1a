"""LocalBenchmark (a `naslab bench build` file as a tabular benchmark) and its subset space, on
a hand-written file whose every number is known."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from naslab.benchmarks import load_benchmark
from naslab.benchmarks.local import LocalBenchmark
from naslab.errors import ConfigError, DataError, InvalidArchitectureError
from naslab.runner.bench_build import select_archs
from naslab.seeding import run_for_seed

from local_bench_files import N, SEEDS, SPACE, val_of, write_doc


@pytest.fixture()
def bench(tmp_path: Path) -> LocalBenchmark:
    return LocalBenchmark(str(write_doc(tmp_path / "b.json")))


def test_loads_through_load_benchmark_and_restricts_the_space(bench: LocalBenchmark,
                                                              tmp_path: Path) -> None:
    b = load_benchmark(f"local:{tmp_path / 'b.json'}", val="mean")
    assert isinstance(b, LocalBenchmark) and b.val == "mean"
    assert b.name == f"local:{(tmp_path / 'b.json').resolve()}"
    sp = bench.space
    assert len(sp) == N and sp.name == SPACE.name
    assert bench.restrict(SPACE) is sp
    assert bench.fidelities == (1.0, 2.0, 3.0) and bench.max_fidelity == 3.0
    members = list(sp.enumerate())
    assert members == select_archs(SPACE, N, 0)
    from toy_spaces import ToyGrid

    with pytest.raises(ConfigError, match="scores space"):
        bench.restrict(ToyGrid())


def test_queries_run_mean_fidelity_and_cost(bench: LocalBenchmark, tmp_path: Path) -> None:
    for i in range(N):
        a = bench.space.from_index(i)
        runs = [val_of(i, s) for s in SEEDS]
        assert bench.runs(a) == runs
        for seed in range(5):
            assert bench.query(a, "val_acc", seed=seed) == runs[run_for_seed(seed, i) % 3]
        assert bench.query(a, "test_acc", seed=7) == pytest.approx(40 + 2 * i + 1)  # mean
        assert bench.query(a, "val_acc", fidelity=1) in [val_of(i, s, 1) for s in SEEDS]
        assert bench.query(a, "train_time_s", fidelity=2) == pytest.approx(2.0 + i)
        assert bench.cost(a) == pytest.approx(3.0 + i + 0.1)
        assert bench.query(a, "params_m", fidelity=1) == pytest.approx(0.1 * (i + 1))
    mean = LocalBenchmark(str(tmp_path / "b.json"), val="mean")
    a0 = bench.space.from_index(0)
    assert mean.query(a0, "val_acc", seed=3) == pytest.approx(np.mean([val_of(0, s) for s in SEEDS]))
    assert bench.column("val_acc").shape == (N,)
    assert bench.run_table("test_acc").shape == (N, 3)
    assert bench.optimum("test_acc") == pytest.approx(40 + 2 * (N - 1) + 1)
    m, cost = bench.evaluate(a0, seed=1)
    assert set(m) == set(bench.metrics) and cost == bench.cost(a0)
    m1, _ = bench.evaluate(a0, fidelity=1)
    assert "test_acc" not in m1 and "val_acc" in m1  # test recorded at the last epoch only
    with pytest.raises(DataError, match="last epoch"):
        bench.query(a0, "test_acc", fidelity=2)
    with pytest.raises(ConfigError, match="fidelity"):
        bench.query(a0, fidelity=4)
    with pytest.raises(ConfigError, match="metric must be one of"):
        bench.query(a0, "latency_ms")
    assert "noise_ceiling" in bench.metadata()


def test_isomorphic_queries_and_non_members(bench: LocalBenchmark) -> None:
    a = bench.space.from_index(2)
    # any member of a's isomorphism class answers as a
    twins = [b for b in SPACE.enumerate() if SPACE.canonical(b) == a and b != a]
    for t in twins[:3]:
        assert bench.index(t) == 2
    outside = next(b for b in SPACE.enumerate()
                   if bench.space.position(b) is None)
    with pytest.raises(InvalidArchitectureError, match="is not among the 8 architectures"):
        bench.query(outside)
    with pytest.raises(InvalidArchitectureError):
        bench.space.validate(outside)


def test_subset_space_moves_stay_in_the_subset(bench: LocalBenchmark) -> None:
    sp = bench.space
    rng = np.random.default_rng(0)
    members = set(sp.enumerate())
    for _ in range(30):
        a = sp.sample(rng)
        assert a in members
        b = sp.mutate(a, rng)
        assert b in members and b != a
        nb = list(sp.neighbors(a))
        assert nb and a not in nb and set(nb) <= members
        d = [(np.array(SPACE.decision_indices(x)) != np.array(SPACE.decision_indices(a))).sum()
             for x in nb]
        others = [(np.array(SPACE.decision_indices(x)) != np.array(SPACE.decision_indices(a))).sum()
                  for x in members if x != a]
        assert set(d) == {min(others)}
    assert sp.encode(sp.from_index(0)).shape == SPACE.encode(sp.from_index(0)).shape
    assert sp.index(sp.from_index(5)) == 5


def test_unfinished_files_and_bad_files(tmp_path: Path) -> None:
    p = write_doc(tmp_path / "p.json", complete=False, drop=7)
    with pytest.raises(DataError, match="unfinished benchmark"):
        LocalBenchmark(str(p))
    part = LocalBenchmark(str(p), partial=True)
    assert len(part.space) == N - 2  # the last two archs have no finished run
    assert part.runs(part.space.from_index(N - 3)) == [val_of(N - 3, 0), val_of(N - 3, 1)]
    with pytest.raises(DataError, match="does not exist"):
        LocalBenchmark(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(DataError, match="invalid JSON"):
        LocalBenchmark(str(tmp_path / "bad.json"))
    (tmp_path / "other.json").write_text(json.dumps({"format": "x"}))
    with pytest.raises(DataError, match="not a naslab local benchmark"):
        LocalBenchmark(str(tmp_path / "other.json"))
    write_doc(tmp_path / "new.json", version=99)
    doc = json.loads((tmp_path / "new.json").read_text())
    doc["version"] = 99
    (tmp_path / "new.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match="version 99"):
        LocalBenchmark(str(tmp_path / "new.json"))
    with pytest.raises(ConfigError, match="val must be"):
        LocalBenchmark(str(p), val="median")
    with pytest.raises(ConfigError, match="give the file"):
        load_benchmark("local:")


def test_pickles_for_workers(bench: LocalBenchmark) -> None:
    back = pickle.loads(pickle.dumps(bench))
    a = bench.space.from_index(3)
    assert back.query(a, seed=4) == bench.query(a, seed=4)


def test_search_on_a_local_benchmark_explores_its_architectures(tmp_path: Path) -> None:
    from naslab import registry
    from naslab.estimators.tabular import TabularEstimator
    from naslab.runner import Experiment, MaxTrials

    est = TabularEstimator(f"local:{write_doc(tmp_path / 'b.json')}")
    members = set(est.bench.space.enumerate())
    for name in ("rs", "re", "ls"):
        exp = Experiment(SPACE, registry.create("strategy", name), est,
                         termination=MaxTrials(12), seed=1)
        res = exp.run()
        assert all(t.arch in members for t in res.trials)
        assert all("test_acc" in t.metrics for t in res.trials if t.status == "complete")
        assert res.best_arch == est.bench.space.from_index(N - 1)  # highest val_acc
