"""Tabular estimator: answers from a benchmark's recorded training runs."""

from __future__ import annotations

import time
from typing import Any

from naslab.benchmarks.nb201 import load_benchmark
from naslab.errors import ConfigError
from naslab.estimators.base import Cost, Estimator, Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture, SearchSpace


@register("estimator", "tabular", aliases=("benchmark",))
class TabularEstimator(Estimator):
    """Look architectures up in a tabular benchmark such as ``nb201/cifar10``.

    The simulated cost of a query is the recorded training time at the queried fidelity, so a
    search's simulated cost is what it would have cost to train every queried architecture.

    Parameters
    ----------
    benchmark: ``"<name>/<dataset>"``, e.g. ``nb201/cifar10``.
    data_dir: the benchmark data directory (default ``$NASLAB_DATA`` or the per-user default).
    val: ``"run"`` (one recorded run, chosen by the query seed) or ``"mean"`` over runs.
    devices: extra ``latency_ms@<device>`` metrics to report (device names of the benchmark).
    """

    def __init__(self, benchmark: str = "nb201/cifar10", *, data_dir: str | None = None,
                 val: str = "run", devices: tuple[str, ...] | list[str] = ()) -> None:
        self.benchmark_name = benchmark
        self.bench = load_benchmark(benchmark, data_dir=data_dir, val=val)
        self.devices = tuple(devices)
        for d in self.devices:
            self.bench._device_col(d)  # validates the name
        self.fidelities = (12.0, 200.0)
        self.max_fidelity = 200.0

    @property
    def space_name(self) -> str:
        return str(self.bench.space_name)

    def check_space(self, space: SearchSpace) -> None:
        if space.name != self.bench.space_name:
            raise ConfigError(
                f"benchmark {self.bench.name!r} scores space {self.bench.space_name!r}, "
                f"but the search space is {space.name!r}"
            )

    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        t0 = time.perf_counter()
        b = self.bench
        i = b.index(arch)
        if fidelity is None or fidelity == 200.0:
            fid = 200.0
            m: dict[str, float] = {"val_acc": b.val_acc(i, seed)}
            if b._test is not None:
                m["test_acc"] = b._test[i]
            sim = b._time[i]
        else:
            fid = b._check_fidelity(fidelity)
            m = {"val_acc": float(b._hp12("val_acc")[i])}
            if b.tables.has(f"{b.dataset}/hp12_test_acc"):
                m["test_acc"] = float(b._hp12("test_acc")[i])
            sim = b._time[i] * fid / 200.0
        m["params_m"] = b._params[i]
        m["latency_ms"] = b._lat[i]
        m["train_time_s"] = sim
        for d in self.devices:
            m["latency_ms@" + d] = b.query(i, "latency_ms", device=d)
        return Evaluation(m, Cost(time.perf_counter() - t0, sim), fid)

    def optimum(self, metric: str = "test_acc") -> float | None:
        return self.bench.optimum(metric)  # type: ignore[no-any-return]

    @property
    def has_test(self) -> bool:
        return bool(self.bench.has_test)

    def describe(self) -> dict[str, Any]:
        d = {"estimator": "tabular", "devices": list(self.devices)}
        d.update(self.bench.describe())
        return d

    def __repr__(self) -> str:
        return f"TabularEstimator({self.benchmark_name!r}, val={self.bench.val!r})"
