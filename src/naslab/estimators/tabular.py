"""Tabular estimator: answers from a benchmark's recorded training runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from naslab.benchmarks import DEFAULT_BENCHMARK, TabularBenchmark, load_benchmark
from naslab.errors import ConfigError, check_float
from naslab.estimators.base import TEST_PREFIX, Cost, Estimator, Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture, SearchSpace

#: a tabular query has no extras (immutable: shared by every answer)
_NO_INFO: Mapping[str, Any] = MappingProxyType({})


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
    fidelity: a fixed search fidelity below the benchmark's highest (NB201: ``12`` epochs, the
        NB201 / NATS-Bench papers' search protocol): every query is answered by that training
        (validation metrics and cost), while the test metrics that reports read stay those of
        the highest fidelity (the found architecture's 200-epoch test accuracy). The estimator
        then offers that one fidelity (``max_fidelity = fidelity``); None or the highest =
        today's behaviour.
    nominal_max_fidelity: with ``fidelity``: accept any budget up to this value and answer each
        with the ``fidelity`` training, charged at its cost every time. This reproduces NB201's
        ``BOHB.py``, whose Hyperband budgets (12..200) its worker ignores; not for new work.
    """

    instant = True

    def __init__(self, benchmark: str | TabularBenchmark = DEFAULT_BENCHMARK, *,
                 data_dir: str | None = None, val: str | None = None,
                 devices: tuple[str, ...] | list[str] = (), fidelity: float | None = None,
                 nominal_max_fidelity: float | None = None) -> None:
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
        self.fidelities: tuple[float, ...] | None = tuple(self.bench.fidelities)
        self.max_fidelity: float = float(self.bench.max_fidelity)
        #: the fixed search fidelity (None: queries at the fidelity asked, as always)
        self.fidelity: float | None = None
        self.nominal_max_fidelity: float | None = None
        if fidelity is not None:
            fid = self.bench.check_fidelity(fidelity)
            if fid != self.max_fidelity:
                self.fidelity = fid
        if nominal_max_fidelity is not None:
            if self.fidelity is None:
                raise ConfigError("nominal_max_fidelity needs a fixed search fidelity below the "
                                  f"benchmark's highest ({self.max_fidelity:g}); give fidelity=")
            self.nominal_max_fidelity = check_float("nominal_max_fidelity", nominal_max_fidelity,
                                                    minimum=self.fidelity, finite=True)
        if self.fidelity is not None:
            self._test_metrics = tuple(m for m in self.bench.metrics
                                       if m.startswith(TEST_PREFIX)) if self.bench.has_test else ()
            if self.nominal_max_fidelity is None:
                self.fidelities, self.max_fidelity = (self.fidelity,), self.fidelity
            else:
                self.fidelities, self.max_fidelity = None, self.nominal_max_fidelity

    @property
    def space_name(self) -> str:
        return self.bench.space_name

    @property
    def float_metrics(self) -> bool:  # type: ignore[override]
        """True when the benchmark's ``evaluate`` promises a new dict of Python floats, no
        fixed search fidelity adds ``query`` results to it, and ``evaluate`` is this class's
        (an override may answer otherwise)."""
        return (self.fidelity is None and getattr(self.bench, "float_metrics", False) is True
                and self._own_evaluate())

    def _own_evaluate(self) -> bool:
        """Whether ``evaluate`` is this class's (not a subclass's override or a patch)."""
        return type(self).evaluate is _OWN_EVALUATE and "evaluate" not in self.__dict__

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
        if self.fidelity is not None:
            return self._evaluate_fixed(arch, fidelity, seed, t0)
        metrics, sim = self.bench.evaluate(arch, fidelity=fidelity, seed=seed, devices=self.devices)
        # the benchmark validated the fidelity: it is one of self.fidelities
        fid = self.max_fidelity if fidelity is None else float(fidelity)
        return Evaluation(metrics, Cost(time.perf_counter() - t0, sim), fid)

    def parts_evaluator(self) -> Callable[..., tuple[Mapping[str, float], Cost, float | None,
                                                      Mapping[str, Any]]]:
        """The fast :meth:`evaluate_parts` (no Evaluation built) unless a fixed search fidelity
        applies or ``evaluate`` was overridden (a subclass, a patched method): then the
        generic one, so that the override is what answers."""
        if self.fidelity is not None or not self._own_evaluate():
            return self.evaluate_parts
        bench_evaluate, devices, max_fid, perf = (self.bench.evaluate, self.devices,
                                                  self.max_fidelity, time.perf_counter)

        def parts(arch: Architecture, *, fidelity: float | None = None, seed: int = 0
                  ) -> tuple[Mapping[str, float], Cost, float | None, Mapping[str, Any]]:
            t0 = perf()
            metrics, sim = bench_evaluate(arch, fidelity=fidelity, seed=seed, devices=devices)
            return (metrics, Cost(perf() - t0, sim),
                    max_fid if fidelity is None else float(fidelity), _NO_INFO)

        return parts

    def _evaluate_fixed(self, arch: Architecture, fidelity: float | None, seed: int,
                        t0: float) -> Evaluation:
        """A query under a fixed search fidelity: validation metrics and cost of that training,
        test metrics of the benchmark's highest fidelity (what the report reads)."""
        assert self.fidelity is not None
        fid = self.max_fidelity if fidelity is None else float(fidelity)
        if self.nominal_max_fidelity is None:
            if fid != self.fidelity:
                raise ConfigError(
                    f"{self.benchmark_name} with a fixed search fidelity of {self.fidelity:g} "
                    f"answers queries at that fidelity only, got fidelity {fidelity!r}")
        elif not 0 < fid <= self.nominal_max_fidelity:
            raise ConfigError(f"fidelity must be in (0, {self.nominal_max_fidelity:g}] (the "
                              f"nominal budgets), got {fidelity!r}")
        metrics, sim = self.bench.evaluate(arch, fidelity=self.fidelity, seed=seed,
                                           devices=self.devices)
        for m in self._test_metrics:
            metrics[m] = self.bench.query(arch, m, seed=seed)
        return Evaluation(metrics, Cost(time.perf_counter() - t0, sim), fid)

    def run_card_notes(self) -> dict[str, str]:
        """What a query returns and costs, in words (recorded with each run for its run card)."""
        notes = dict(self.bench.query_notes(self.fidelity))
        if self.fidelity is not None:
            notes["test metrics"] = (f"at {float(self.bench.max_fidelity):g} "
                                     f"{self.bench.fidelity_unit} (the full training of the "
                                     f"architecture found)")
            if self.nominal_max_fidelity is not None:
                notes["budgets"] = (f"nominal: every budget up to {self.nominal_max_fidelity:g} "
                                    f"is answered by the {self.fidelity:g} {self.bench.fidelity_unit} "
                                    f"training and charged again")
        return notes

    def optimum(self, metric: str = "test_acc") -> float | None:
        return self.bench.optimum(metric)

    def metric_range(self, metric: str) -> tuple[float, float] | None:
        """Lowest and highest value of ``metric`` over the benchmark's table (for metrics with
        several recorded runs, of the mean over runs); None for a metric it does not have."""
        from naslab.errors import NaslabError

        try:
            col = self.bench.column(metric)
        except NaslabError:
            return None
        return (float(col.min()), float(col.max()))

    @property
    def has_test(self) -> bool:
        return self.bench.has_test

    @property
    def test_unavailable_reason(self) -> str:
        return self.bench.test_unavailable_reason

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"estimator": "tabular", "devices": list(self.devices)}
        d.update(self.bench.describe())
        if self.fidelity is not None:  # only then: today's experiment ids are unchanged
            d["fidelity"] = self.fidelity
            if self.nominal_max_fidelity is not None:
                d["nominal_max_fidelity"] = self.nominal_max_fidelity
        return d

    def __repr__(self) -> str:
        fid = "" if self.fidelity is None else f", fidelity={self.fidelity:g}"
        return (f"TabularEstimator({self.benchmark_name!r}, val={getattr(self.bench, 'val', None)!r}"
                f"{fid})")


#: TabularEstimator.evaluate as defined here (parts_evaluator's fast path answers the same)
_OWN_EVALUATE = TabularEstimator.evaluate
