"""Hardware estimator: an architecture's inference latency (``latency_ms``), from one of three
sources (registered as estimator ``hardware``, alias ``latency``; no torch at import):

``lut``
    a latency lookup table built on this machine (:mod:`naslab.nn.lut`): the sum of the arch's
    kernels + the skeleton's fixed part. Torch-free and microseconds per query. A LUT from
    another device or naslab version is refused unless ``force=True``.
``measure``
    a direct measurement of the arch's network on this machine
    (:func:`naslab.nn.latency.measure_latency`): also reports the confidence interval and the
    noise. Costs the measurement's wall time; not reproducible bit for bit (it is a measurement).
``device``
    a tabular benchmark's recorded latency on a named device (for NB201, the 27 HELP device
    settings: ``device="pixel3"`` answers the benchmark's ``latency_ms@pixel3``).

Compose it with any accuracy estimator (:class:`~naslab.estimators.composite.CompositeEstimator`;
:func:`with_latency` does it), e.g. tabular validation / test accuracy + LUT latency::

    acc_lat = with_latency(TabularEstimator(), lut="lut.json")
    # = CompositeEstimator(TabularEstimator(), Part(HardwareEstimator(lut="lut.json"),
    #                                              metrics=("latency_ms",)))

From the command line the same composite is
``naslab search --estimator composite -e primary=tabular
-e 'parts=[{estimator: hardware, params: {lut: lut.json}, metrics: [latency_ms]}]'``.

Costs: ``lut`` -> wall = simulated = the lookup time; ``measure`` -> wall = simulated = the
measurement time; ``device`` -> wall = the lookup, simulated 0 (the data record no
measurement cost).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from naslab.benchmarks import DEFAULT_BENCHMARK, TabularBenchmark, load_benchmark
from naslab.errors import ConfigError, check_float, check_int, did_you_mean
from naslab.estimators.base import Cost, Estimator, Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture, SearchSpace

if TYPE_CHECKING:
    from naslab.estimators.composite import CompositeEstimator
    from naslab.nn.lut import LatencyLUT

__all__ = ["HardwareEstimator", "SOURCES", "with_latency"]

SOURCES = ("lut", "measure", "device")


@register("estimator", "hardware", aliases=("latency",))
class HardwareEstimator(Estimator):
    """Inference latency (``latency_ms``) from a LUT, a direct measurement or a device column.

    Parameters
    ----------
    source: ``lut`` | ``measure`` | ``device``; default: ``lut`` when ``lut`` is given,
        ``device`` when ``device`` is given, else ``measure``.
    lut: path of a LUT file (or a loaded :class:`~naslab.nn.lut.LatencyLUT`).
    force: accept a LUT built on another device / naslab version.
    device: a device of ``benchmark`` (its ``devices``), e.g. ``pixel3``.
    benchmark, data_dir: the tabular benchmark of ``device`` (default
        :data:`naslab.benchmarks.DEFAULT_BENCHMARK`).
    batch, threads, backend, clock, statistic, repeats, max_time_s: the direct measurement's
        protocol (``measure``): batch size, torch threads, ``torch`` | ``onnxruntime``, ``wall``
        | ``cpu``, ``median`` | ``p10`` | ``min`` | ``mean``, at least ``repeats`` samples,
        at most ``max_time_s`` seconds of sampling once they are in.
    network: the network protocol of ``measure`` (the space's latency-model options, e.g.
        ``{"C": 16, "N": 5, "image_size": 32}``).
    metric: the name of the answered metric (default ``latency_ms``).
    """

    def __init__(self, source: str | None = None, *, lut: str | LatencyLUT | None = None,
                 force: bool = False, device: str | None = None,
                 benchmark: str | TabularBenchmark = DEFAULT_BENCHMARK,
                 data_dir: str | None = None, batch: int = 1, threads: int = 1,
                 backend: str = "torch", clock: str = "wall", statistic: str = "median",
                 repeats: int = 30, max_time_s: float = 1.0,
                 network: Mapping[str, Any] | None = None, metric: str = "latency_ms") -> None:
        if source is None:
            source = "lut" if lut is not None else "device" if device is not None else "measure"
        if source not in SOURCES:
            raise ConfigError(f"hardware estimator source must be one of {', '.join(SOURCES)}, "
                              f"got {source!r}{did_you_mean(str(source), SOURCES)}")
        if not isinstance(metric, str) or not metric:
            raise ConfigError(f"hardware estimator metric must be a metric name, got {metric!r}")
        self.source = source
        self.metric = metric
        self.lut: LatencyLUT | None = None
        self.bench: TabularBenchmark | None = None
        self.device: str | None = None
        if source != "lut" and (lut is not None or force):
            raise ConfigError(f"hardware estimator: lut/force are options of source 'lut', "
                              f"not of source {source!r}")
        if source != "device" and device is not None:
            raise ConfigError(f"hardware estimator: device={device!r} is an option of source "
                              f"'device', not of source {source!r}")
        if source == "lut":
            if lut is None:
                raise ConfigError("hardware estimator source 'lut' needs lut=PATH (a file "
                                  "written by `naslab latency build-lut`)")
            from naslab.nn.lut import LatencyLUT

            self.lut = lut if isinstance(lut, LatencyLUT) else LatencyLUT.load(lut, force=force)
        elif source == "device":
            if device is None:
                raise ConfigError("hardware estimator source 'device' needs device=NAME (one of "
                                  "the benchmark's devices)")
            self.bench = (benchmark if isinstance(benchmark, TabularBenchmark)
                          else load_benchmark(benchmark, data_dir=data_dir))
            self.device = self.bench.check_device(device)
        self.batch = check_int("batch", batch, minimum=1)
        self.threads = check_int("threads", threads, minimum=1)
        self.backend, self.clock, self.statistic = backend, clock, statistic
        self.repeats = check_int("repeats", repeats, minimum=3)
        self.max_time_s = check_float("max_time_s", max_time_s, minimum=0.0)
        self.network = dict(network or {})
        if source == "measure":
            self._check_measure_options()

    def _check_measure_options(self) -> None:
        # torch-free checks of the names (the measurement itself imports torch)
        from naslab.nn.lut import STAT_FIELD

        if self.backend not in ("torch", "onnxruntime"):
            raise ConfigError(f"hardware estimator backend must be 'torch' or 'onnxruntime', "
                              f"got {self.backend!r}")
        if self.clock not in ("wall", "cpu"):
            raise ConfigError(f"hardware estimator clock must be 'wall' or 'cpu', got {self.clock!r}")
        if self.statistic not in STAT_FIELD:
            raise ConfigError(f"hardware estimator statistic must be one of "
                              f"{', '.join(STAT_FIELD)}, got {self.statistic!r}"
                              f"{did_you_mean(str(self.statistic), STAT_FIELD)}")

    def check_space(self, space: SearchSpace) -> None:
        if self.lut is not None and space.name != self.lut.space:
            raise ConfigError(f"the latency LUT {self.lut.path or ''} is for space "
                              f"{self.lut.space!r}, but the search space is {space.name!r}")
        if self.bench is not None and space.name != self.bench.space_name:
            raise ConfigError(f"benchmark {self.bench.name!r} (device latencies) scores space "
                              f"{self.bench.space_name!r}, but the search space is {space.name!r}")
        if self.source == "measure":
            from naslab.nn.latency_parts import latency_model
            from naslab.nn.networks import check_network_space

            check_network_space(space.name, user="the hardware estimator (source 'measure')")
            latency_model(space.name, **self.network)   # the input shape and the options

    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        t0 = time.perf_counter()
        if self.lut is not None:
            ms = self.lut.predict(arch)
            wall = time.perf_counter() - t0
            return Evaluation({self.metric: ms}, Cost(wall, wall))
        if self.bench is not None:
            ms = self.bench.query(arch, "latency_ms", device=self.device)
            return Evaluation({self.metric: ms}, Cost(time.perf_counter() - t0, 0.0))
        return self._measure(arch, seed, t0)

    def _measure(self, arch: Architecture, seed: int, t0: float) -> Evaluation:
        import torch

        from naslab.nn.latency import measure_latency
        from naslab.nn.latency_parts import latency_model
        from naslab.nn.networks import build_network
        from naslab.seeding import derive_seed

        model = latency_model(arch.space, **self.network)
        g = torch.Generator().manual_seed(derive_seed(seed, 0x1A7))
        net = build_network(arch, generator=g, **model.network_protocol())
        r = measure_latency(net, model.input_shape(), batch=self.batch, threads=self.threads,
                            backend=self.backend, clock=self.clock, min_repeats=self.repeats,
                            max_repeats=max(self.repeats, 10 * self.repeats),
                            max_time_s=self.max_time_s, seed=seed, fingerprint=False)
        lo, hi = r.ci(self.statistic)
        wall = time.perf_counter() - t0
        m = {self.metric: r.value(self.statistic), f"{self.metric}_ci_low": lo,
             f"{self.metric}_ci_high": hi, f"{self.metric}_iqr_rel": r.iqr_rel}
        return Evaluation(m, Cost(wall, wall), info={"latency": {
            "n": r.n, "number": r.number, "statistic": self.statistic, "clock": self.clock,
            "median_ms": r.median_ms, "cv": r.cv}})

    def optimum(self, metric: str = "test_acc") -> float | None:
        if self.bench is not None and metric == self.metric:
            return self.bench.optimum("latency_ms", device=self.device)
        return None

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"estimator": "hardware", "source": self.source, "metric": self.metric}
        if self.lut is not None:
            from naslab.nn.lut import DEVICE_KEYS

            lut = self.lut
            d["lut"] = {"path": lut.path, "digest": lut.digest(), "space": lut.space,
                        "protocol": lut.protocol, "batch": lut.batch, "threads": lut.threads,
                        "backend": lut.backend, "statistic": lut.statistic, "clock": lut.clock,
                        "device": {k: lut.fingerprint.get(k) for k in DEVICE_KEYS},
                        "forced": list(lut.forced)}
        elif self.bench is not None:
            d["device"] = self.device
            d.update(self.bench.describe())
        else:
            d["measure"] = {"batch": self.batch, "threads": self.threads, "backend": self.backend,
                            "clock": self.clock, "statistic": self.statistic,
                            "repeats": self.repeats, "max_time_s": self.max_time_s,
                            "network": self.network}
            from naslab.nn.latency import DEVICE_KEYS, device_fingerprint

            fp = device_fingerprint(threads=self.threads, backend=self.backend)
            d["measure"]["device"] = {k: fp.get(k) for k in DEVICE_KEYS}
        return d

    def __repr__(self) -> str:
        what = {"lut": lambda: f"lut={getattr(self.lut, 'path', None)!r}",
                "device": lambda: f"device={self.device!r}",
                "measure": lambda: f"batch={self.batch}, threads={self.threads}"}[self.source]()
        return f"HardwareEstimator({self.source!r}, {what})"


def with_latency(estimator: Estimator | str | Mapping[str, Any], *, lut: str | None = None,
                 device: str | None = None, measure: bool = False,
                 metrics: Sequence[str] = ("latency_ms",), **params: Any) -> CompositeEstimator:
    """``estimator`` (accuracy, ...) composed with a :class:`HardwareEstimator` whose
    ``latency_ms`` replaces any latency the first one reports. Exactly one of ``lut=PATH``,
    ``device=NAME`` or ``measure=True``; ``params`` go to the hardware estimator."""
    from naslab.estimators.composite import CompositeEstimator, Part

    chosen = [n for n, v in (("lut", lut), ("device", device), ("measure", measure or None))
              if v is not None]
    if len(chosen) != 1:
        raise ConfigError(f"with_latency needs exactly one latency source (lut=PATH, "
                          f"device=NAME or measure=True), got {', '.join(chosen) or 'none'}")
    hw = HardwareEstimator(chosen[0], lut=lut, device=device, **params)
    if tuple(metrics) == ("latency_ms",) and hw.metric != "latency_ms":
        metrics = (hw.metric,)
    return CompositeEstimator(estimator, Part(hw, metrics=tuple(metrics)))
