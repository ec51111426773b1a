"""The TabularBenchmark interface: directions, optima, cost per fidelity, the evaluate fast
path against single queries, and a toy benchmark that relies on the interface's defaults."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from naslab import Experiment, MaxTrials, create
from naslab.benchmarks import DEFAULT_BENCHMARK, TabularBenchmark, load_benchmark
from naslab.benchmarks.nb201 import NB201Benchmark
from naslab.errors import ConfigError, DataError, UnknownComponentError
from naslab.estimators.tabular import TabularEstimator
from naslab.spaces import Architecture, get_space

SPACE = get_space("nb201")
ARCHS = [SPACE.from_index(i) for i in (0, 11, 284, 6111, 9930, 15624)]


def test_load_benchmark_and_default(data_dir: Path) -> None:
    b = load_benchmark(DEFAULT_BENCHMARK, data_dir=data_dir)
    assert isinstance(b, TabularBenchmark) and b.name == DEFAULT_BENCHMARK
    assert b.space_name == "nb201" and b.space.name == "nb201"
    assert b.fidelities == (12.0, 200.0) and b.max_fidelity == 200.0
    with pytest.raises(UnknownComponentError, match="did you mean 'nb201'"):
        load_benchmark("nb2001/cifar10")
    with pytest.raises(ConfigError, match="no parameter 'vall'"):
        load_benchmark("nb201/cifar10", vall="run")
    # the compatibility re-exports of wave 1
    from naslab.benchmarks import nb201
    from naslab.seeding import run_for_seed

    assert nb201.load_benchmark is load_benchmark and nb201.run_for_seed is run_for_seed
    assert callable(nb201.load_tables) and callable(nb201.NB201Benchmark)


def test_metric_mode(nb201_c10: NB201Benchmark) -> None:
    b = nb201_c10
    assert [b.metric_mode(m) for m in b.metrics] == ["max", "max", "min", "min", "min"]
    assert b.metric_mode("latency_ms@pixel3") == "min"
    with pytest.raises(ConfigError, match="did you mean 'val_acc'"):
        b.metric_mode("val_accc")


def test_optimum_per_metric_and_direction(nb201_c10: NB201Benchmark) -> None:
    b = nb201_c10
    assert b.optimum() == b.optimum("test_acc") == pytest.approx(94.37, abs=0.01)
    lat = b.column("latency_ms")
    assert b.optimum("latency_ms") == lat.min() < lat.max() == b.optimum("latency_ms", "max")
    assert b.optimum("params_m") == b.column("params_m").min()
    assert b.optimum("train_time_s") == b.column("train_time_s").min()
    assert b.optimum("val_acc") == b.column("val_acc").max()
    assert b.optimum("test_acc", "min") == b.column("test_acc").min()
    assert b.optimum("val_acc", fidelity=12) == b.column("val_acc", fidelity=12).max()
    dev = b.column("latency_ms", device="pixel3")
    assert b.optimum("latency_ms", device="pixel3") == dev.min()
    assert b.optimum("latency_ms@pixel3") == dev.min()
    with pytest.raises(ConfigError, match="mode"):
        b.optimum("val_acc", "maximum")


def test_cost_per_fidelity(nb201_c10: NB201Benchmark, tabular_c10: TabularEstimator) -> None:
    b = nb201_c10
    for a in ARCHS:
        full = b.query(a, "train_time_s")
        assert b.cost(a) == b.cost(a, fidelity=200) == full
        assert b.cost(a, fidelity=12) == full * 12 / 200
        assert b.cost(a, fidelity=12) == pytest.approx(b.query(a, "train_time_s", fidelity=12), rel=1e-15)
        assert tabular_c10.evaluate(a).cost.simulated_s == b.cost(a)
        assert tabular_c10.evaluate(a, fidelity=12).cost.simulated_s == b.cost(a, fidelity=12)
    with pytest.raises(ConfigError, match="fidelity"):
        b.cost(ARCHS[0], fidelity=50)


def _queried(b: TabularBenchmark, a: Architecture, *, seed: int, fidelity: float | None,
             devices: tuple[str, ...]) -> dict[str, float]:
    out = {m: b.query(a, m, seed=seed, fidelity=fidelity) for m in b.metrics}
    out.update({f"latency_ms@{d}": b.query(a, "latency_ms", device=d) for d in devices})
    return out


@pytest.mark.parametrize("val", ["run", "mean"])
def test_evaluate_equals_single_queries(data_dir: Path, val: str) -> None:
    b = NB201Benchmark("cifar10", data_dir=str(data_dir), val=val)
    devs = ("pixel3", "eyeriss")
    for a in ARCHS:
        for seed in range(4):
            m, cost = b.evaluate(a, seed=seed, devices=devs)
            assert m == _queried(b, a, seed=seed, fidelity=None, devices=devs)
            assert list(m) == [*b.metrics, "latency_ms@pixel3", "latency_ms@eyeriss"]
            assert cost == b.cost(a) == m["train_time_s"]
            # the interface's generic default gives the same answer as NB201's fast path
            assert TabularBenchmark.evaluate(b, a, seed=seed, devices=devs) == (m, cost)
        m12, cost12 = b.evaluate(a, fidelity=12, seed=1)
        q12 = _queried(b, a, seed=1, fidelity=12, devices=())
        # training time at 12 epochs: the estimator has always computed t * 12 / 200 (its
        # recorded trajectories keep that), query() t * (12 / 200): equal up to one rounding
        assert m12.pop("train_time_s") == pytest.approx(q12.pop("train_time_s"), rel=1e-15)
        assert m12 == q12
        assert cost12 == b.cost(a, fidelity=12)


def test_evaluate_without_test_file_leaves_test_out(data_dir: Path, tmp_path: Path) -> None:
    import shutil

    (tmp_path / "nb201").mkdir()
    for f in ("nb201_val_200ep.csv", "nb201_hp12.csv"):
        shutil.copy(data_dir / "nb201" / f, tmp_path / "nb201" / f)
    b = NB201Benchmark("cifar10", data_dir=str(tmp_path))
    m, _ = b.evaluate(ARCHS[1])
    assert "test_acc" not in m and not b.has_test and b.optimum() is None
    assert TabularBenchmark.evaluate(b, ARCHS[1]) == b.evaluate(ARCHS[1])
    assert "test_acc" in b.evaluate(ARCHS[1], fidelity=12)[0]  # the 12-epoch table has test


def test_devices_runs_and_validation(nb201_c10: NB201Benchmark) -> None:
    b = nb201_c10
    assert b.check_device("pixel3") == "pixel3"
    with pytest.raises(ConfigError, match="did you mean 'pixel3'"):
        b.check_device("pixel33")
    with pytest.raises(ConfigError, match="did you mean 'pixel3'"):
        TabularEstimator(b, devices=("pixel33",))
    assert b.query(11, "latency_ms@pixel3") == b.query(11, "latency_ms", device="pixel3")
    assert b.check_fidelity(None) == 200.0 and b.check_fidelity(12) == 12.0
    assert b.check_metric("latency_ms@pixel3") == "latency_ms@pixel3"
    with pytest.raises(ConfigError, match="did you mean 'params_m'"):
        b.check_metric("param_m")
    runs = b.runs(11)
    assert len(runs) == 3 and set(runs) == {b.query(11, "val_acc", seed=s) for s in range(100)}
    assert b.runs(11, "test_acc") == [b.query(11, "test_acc")]
    table = b.run_table()
    assert table.shape == (15625, 3)
    assert np.array_equal(np.nanmean(table, axis=1), b.column("val_acc"))
    assert b.run_table("test_acc").shape == (15625, 1)
    two = int(np.argmax(np.isnan(table[:, 2])))
    assert b.runs(two) == table[two, :2].tolist()


def test_describe_and_metadata(nb201_c10: NB201Benchmark) -> None:
    d = nb201_c10.describe()
    assert set(d) == {"benchmark", "val", "sources"}  # part of experiment ids: unchanged
    md = json.loads(json.dumps(nb201_c10.metadata()))
    assert md["name"] == "nb201/cifar10" and md["n_archs"] == 15625
    assert md["metric_modes"]["latency_ms"] == "min" and md["fidelities"] == [12.0, 200.0]
    assert md["cost_metric"] == "train_time_s" and len(md["devices"]) == 27
    assert md["describe"] == d


# --- a toy benchmark: only the abstract methods, everything else the interface's defaults ----

class ToyBenchmark(TabularBenchmark):
    """Synthetic table over the NB201 space with two fidelities (1 and 4)."""

    space_name = "nb201"
    metrics = ("val_acc", "test_acc", "latency_ms", "train_time_s")
    fidelities = (1.0, 4.0)
    max_fidelity = 4.0

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        n = 15625
        self.seed = seed
        self.cols = {"val_acc": rng.uniform(50, 90, n), "test_acc": rng.uniform(50, 90, n),
                     "latency_ms": rng.uniform(1, 10, n), "train_time_s": rng.uniform(100, 200, n)}

    @property
    def name(self) -> str:
        return f"toy/{self.seed}"

    def index(self, arch: Architecture | int | str) -> int:
        return arch if isinstance(arch, int) else self.space.index(
            self.space.parse(arch) if isinstance(arch, str) else arch)

    def query(self, arch: Architecture | int | str, metric: str = "val_acc", *, seed: int = 0,
              fidelity: float | None = None, device: str | None = None) -> float:
        self.check_metric(metric)
        return float(self.column(metric, fidelity=fidelity)[self.index(arch)])

    def column(self, metric: str, *, fidelity: float | None = None,
               device: str | None = None) -> np.ndarray:
        f = self.check_fidelity(fidelity)
        col = self.cols[self.check_metric(metric)]
        return col * (f / 4.0) if metric in ("val_acc", "train_time_s") else col.copy()

    def describe(self) -> dict[str, Any]:
        return {"benchmark": self.name}


def test_toy_benchmark_with_interface_defaults() -> None:
    b = ToyBenchmark()
    a = ARCHS[2]
    m, cost = b.evaluate(a, fidelity=1)
    assert m == {k: b.query(a, k, fidelity=1) for k in b.metrics}
    assert cost == b.cost(a, fidelity=1) == m["train_time_s"] == b.query(a, "train_time_s") / 4
    assert b.optimum("latency_ms") == b.cols["latency_ms"].min()
    assert b.optimum() == b.cols["test_acc"].max()
    assert b.runs(a) == [b.query(a)] and b.run_table().shape == (15625, 1)
    with pytest.raises(ConfigError, match=r"toy/0 fidelity \(budget\) must be 1 or 4"):
        b.query(a, fidelity=2)
    with pytest.raises(DataError, match="no per-device"):
        b.check_device("pixel3")
    assert b.metadata()["metric_modes"] == {"val_acc": "max", "test_acc": "max",
                                            "latency_ms": "min", "train_time_s": "min"}
    # the tabular estimator needs nothing but the interface
    est = TabularEstimator(b)
    assert est.fidelities == (1.0, 4.0) and est.max_fidelity == 4.0
    ev = est.evaluate(a, fidelity=1)
    assert dict(ev.metrics) == m and ev.cost.simulated_s == cost and ev.fidelity == 1.0
    assert est.evaluate(a).fidelity == 4.0 and est.optimum() == b.optimum()
    assert est.describe() == {"estimator": "tabular", "devices": [], "benchmark": "toy/0"}
    clone = pickle.loads(pickle.dumps(est))
    assert clone.evaluate(a).metrics == est.evaluate(a).metrics
    r = Experiment(SPACE, create("strategy", "re"), est, termination=MaxTrials(30), seed=1).run()
    assert r.trials[-1].incumbent_test is not None
    with pytest.raises(ConfigError, match="already loaded"):
        TabularEstimator(b, val="mean")


def test_tabular_estimator_reads_no_private_benchmark_fields() -> None:
    import re

    import naslab.estimators.tabular as mod

    src = Path(mod.__file__).read_text()
    assert not re.search(r"bench\._", src) and "_hp12" not in src and "_device_col" not in src
