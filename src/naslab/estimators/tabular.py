"""Tabular estimator: answers from a benchmark's recorded training runs."""

from __future__ import annotations

import time
from typing import Any

from naslab.benchmarks import DEFAULT_BENCHMARK, TabularBenchmark, load_benchmark
from naslab.errors import ConfigError
from naslab.estimators.base import Cost, Estimator, Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture, SearchSpace


@register("estimator", "tabular", aliases=("benchmark",))
class TabularEstimator(Estimator):
    """Look architectures up in a tabular benchmark of recorded training results.

    Any :class:`~naslab.benchmarks.TabularBenchmark` works: the estimator uses only its interface.
    The simulated cost of a query is the benchmark's cost of that query (the recorded training
    time at the queried fidelity), so a search's simulated cost is what it would have cost to
    train every queried architecture. Fidelities are the benchmark's.

    Parameters
    ----------
    benchmark: ``"<name>/<dataset>"`` (default :data:`naslab.benchmarks.DEFAULT_BENCHMARK`), or
        a loaded :class:`~naslab.benchmarks.TabularBenchmark`.
    data_dir: the benchmark data directory (default ``$NASLAB_DATA`` or the per-user default).
    val: for benchmarks with several recorded runs: ``"run"`` (one recorded run, chosen by the
        query seed) or ``"mean"`` over runs; None = the benchmark's default (``"run"``).
    devices: extra ``latency_ms@<device>`` metrics to report (device names of the benchmark).
    """

    def __init__(self, benchmark: str | TabularBenchmark = DEFAULT_BENCHMARK, *,
                 data_dir: str | None = None, val: str | None = None,
                 devices: tuple[str, ...] | list[str] = ()) -> None:
        if isinstance(benchmark, TabularBenchmark):
            if data_dir is not None or val is not None:
                raise ConfigError("data_dir and val are options of a benchmark to load; the "
                                  f"benchmark {benchmark.name!r} is already loaded")
            self.bench = benchmark
            self.benchmark_name = benchmark.name
        else:
            params = {} if val is None else {"val": val}
            self.bench = load_benchmark(benchmark, data_dir=data_dir, **params)
            self.benchmark_name = benchmark
        self.devices = tuple(self.bench.check_device(d) for d in devices)
        self.fidelities: tuple[float, ...] = tuple(self.bench.fidelities)
        self.max_fidelity: float = float(self.bench.max_fidelity)

    @property
    def space_name(self) -> str:
        return self.bench.space_name

    def check_space(self, space: SearchSpace) -> None:
        if space.name != self.bench.space_name:
            raise ConfigError(
                f"benchmark {self.bench.name!r} scores space {self.bench.space_name!r}, "
                f"but the search space is {space.name!r}"
            )

    def search_space(self, space: SearchSpace) -> SearchSpace:
        """The benchmark's part of ``space`` (:meth:`TabularBenchmark.restrict`)."""
        return self.bench.restrict(space)

    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        t0 = time.perf_counter()
        metrics, sim = self.bench.evaluate(arch, fidelity=fidelity, seed=seed, devices=self.devices)
        # the benchmark validated the fidelity: it is one of self.fidelities
        fid = self.max_fidelity if fidelity is None else float(fidelity)
        return Evaluation(metrics, Cost(time.perf_counter() - t0, sim), fid)

    def optimum(self, metric: str = "test_acc") -> float | None:
        return self.bench.optimum(metric)

    @property
    def has_test(self) -> bool:
        return self.bench.has_test

    @property
    def test_unavailable_reason(self) -> str:
        return self.bench.test_unavailable_reason

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"estimator": "tabular", "devices": list(self.devices)}
        d.update(self.bench.describe())
        return d

    def __repr__(self) -> str:
        return f"TabularEstimator({self.benchmark_name!r}, val={getattr(self.bench, 'val', None)!r})"
