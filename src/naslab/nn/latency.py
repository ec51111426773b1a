"""Inference latency of a module on this machine (imports torch).

What one measurement does (:func:`measure_latency`):

* the module is put in eval mode and run under ``torch.inference_mode`` on a fixed random input
  of ``(batch, *input_shape)`` drawn from a seeded ``torch.Generator``;
* torch's intra-op thread count is set to ``threads`` for the measurement and restored after;
* warm-up: calls until ``warmup_s`` has passed (at least ``warmup_calls``);
* a *sample* times ``number`` consecutive calls with ``time.perf_counter_ns`` and divides by
  ``number``; ``number`` is chosen once so that a sample lasts at least ``min_sample_s``
  (timer resolution and the loop's own overhead vanish for micro-second kernels; 1 for a
  whole network);
* samples are taken until ``max_repeats`` or, once ``min_repeats`` are in, until ``max_time_s``;
* the answer is the **median** with a distribution-free confidence interval of the median
  (order statistics: ranks from the Binomial(n, 1/2) quantiles), plus the noise: IQR / median
  and the coefficient of variation (std / mean).

:func:`measure_interleaved` measures many modules together: ``rounds`` rounds, each visiting
every module once in a new seeded random order and taking ``samples_per_round`` samples after
``visit_warmup`` calls; a module's result pools its samples over the rounds. A change of load on
a shared machine then affects every module alike instead of the ones measured during it.

Backends: ``torch`` (eager) and ``onnxruntime`` (the module exported with torch's TorchScript
ONNX exporter and run by an ``InferenceSession`` with ``intra_op_num_threads=threads``; needs
``pip install 'naslab[onnx]'``). :func:`device_fingerprint` describes the machine; LUT files
(:mod:`naslab.nn.lut`) compare its :data:`DEVICE_KEYS`.
"""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from naslab.errors import ConfigError, check_float, check_int, did_you_mean

__all__ = ["BACKENDS", "DEVICE_KEYS", "LatencyResult", "measure_latency", "measure_interleaved",
           "summarize", "median_ci", "quantile_ci", "STATISTICS", "check_statistic", "device_fingerprint", "fingerprint_mismatch",
           "torch_threads", "make_runner", "check_backend", "AddKernel"]

BACKENDS = ("torch", "onnxruntime")

#: fingerprint fields that must agree for a LUT to describe this device
DEVICE_KEYS = ("cpu_model", "machine", "system", "cpu_count", "torch", "backend",
               "backend_version")

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LatencyResult:
    """One latency measurement (milliseconds per inference of one batch)."""

    median_ms: float
    ci_ms: tuple[float, float]     # confidence interval of the median (order statistics)
    confidence: float
    n: int                         # samples
    number: int                    # calls per sample
    mean_ms: float
    std_ms: float
    min_ms: float
    p10_ms: float                  # lower decile: robust to a shared machine's contention
    q1_ms: float
    q3_ms: float
    iqr_rel: float                 # (q3 - q1) / median
    cv: float                      # std / mean
    batch: int
    threads: int
    backend: str
    clock: str                     # wall | cpu (see CLOCKS)
    wall_s: float                  # time the measurement took (warm-up included)
    fingerprint: Mapping[str, Any] = field(default_factory=dict)
    samples_ms: tuple[float, ...] = field(default=(), repr=False)

    def value(self, statistic: str = "median") -> float:
        """The latency under ``statistic`` (one of :data:`STATISTICS`)."""
        return float(getattr(self, STATISTICS[check_statistic(statistic)]))

    def ci(self, statistic: str = "median") -> tuple[float, float]:
        """Confidence interval of ``statistic`` (order statistics; ``min`` has none: (min, min))."""
        q = _QUANTILE[check_statistic(statistic)]
        if q is None or not self.samples_ms:
            return (self.min_ms, self.min_ms) if q is None else self.ci_ms
        return quantile_ci(self.samples_ms, q, self.confidence)

    def to_json(self, *, samples: bool = False) -> dict[str, Any]:
        d = asdict(self)
        d["ci_ms"] = list(self.ci_ms)
        d["fingerprint"] = dict(self.fingerprint)
        if samples:
            d["samples_ms"] = list(self.samples_ms)
        else:
            del d["samples_ms"]
        return d


#: latency statistics: name -> LatencyResult field
STATISTICS = {"median": "median_ms", "p10": "p10_ms", "min": "min_ms", "mean": "mean_ms"}
_QUANTILE: dict[str, float | None] = {"median": 0.5, "p10": 0.1, "min": None, "mean": 0.5}


def check_statistic(statistic: str) -> str:
    if statistic not in STATISTICS:
        raise ConfigError(f"latency statistic must be one of {', '.join(STATISTICS)}, got "
                          f"{statistic!r}{did_you_mean(str(statistic), STATISTICS)}")
    return statistic


def quantile_ci(samples: Sequence[float] | np.ndarray, q: float = 0.5,
                confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the ``q``-quantile: the order statistics
    ``x_(l) <= x_(u)`` with ``l, u`` the ``(1 -/+ confidence)/2`` quantiles of Binomial(n, q)
    (P(x_(l) <= quantile < x_(u+1)) >= confidence)."""
    from scipy import stats

    x = np.sort(np.asarray(samples, dtype=float))
    n = x.size
    if n == 0:
        raise ConfigError("a confidence interval needs at least one sample")
    a = (1.0 - confidence) / 2.0
    lo = int(stats.binom.ppf(a, n, q)) - 1          # 0-based: x_(k) with k = ppf (1-based)
    hi = int(stats.binom.ppf(1.0 - a, n, q))        # 0-based index of x_(ppf + 1)
    lo = max(0, min(lo, n - 1))
    hi = max(lo, min(hi, n - 1))
    return float(x[lo]), float(x[hi])


def median_ci(samples: Sequence[float] | np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median (:func:`quantile_ci` at 1/2)."""
    return quantile_ci(samples, 0.5, confidence)


def summarize(samples_ms: Sequence[float] | np.ndarray, *, confidence: float = 0.95) -> dict[str, Any]:
    """Median, its confidence interval and the noise of a list of per-call times (ms)."""
    x = np.asarray(samples_ms, dtype=float)
    med = float(np.median(x))
    q1, q3 = (float(v) for v in np.percentile(x, [25, 75]))
    mean = float(x.mean())
    std = float(x.std(ddof=1)) if x.size > 1 else 0.0
    return {"median_ms": med, "ci_ms": median_ci(x, confidence), "confidence": confidence,
            "n": int(x.size), "mean_ms": mean, "std_ms": std, "min_ms": float(x.min()),
            "p10_ms": float(np.percentile(x, 10)), "q1_ms": q1, "q3_ms": q3, "iqr_rel": (q3 - q1) / med if med > 0 else math.inf,
            "cv": std / mean if mean > 0 else math.inf}


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """torch's intra-op thread count set to ``n`` inside the block, restored after."""
    n = check_int("threads", n, minimum=1)
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check_backend(backend: str) -> str:
    """``backend`` if it is one of :data:`BACKENDS` and usable here, else ConfigError."""
    if backend not in BACKENDS:
        raise ConfigError(f"latency backend must be one of {', '.join(BACKENDS)}, got "
                          f"{backend!r}{did_you_mean(str(backend), BACKENDS)}")
    if backend == "onnxruntime":
        _import_ort()
    return backend


def _import_ort() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise ConfigError("latency backend 'onnxruntime' needs the onnxruntime and onnx packages: "
                          "pip install 'naslab[onnx]' (or use backend 'torch')") from None
    return onnxruntime


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _cpu_flags_hash() -> str | None:
    import hashlib

    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = " ".join(sorted(line.split(":", 1)[1].split()))
                    return hashlib.blake2b(flags.encode(), digest_size=6).hexdigest()
    except OSError:
        pass
    return None


def device_fingerprint(*, threads: int | None = None, backend: str = "torch") -> dict[str, Any]:
    """What this machine is, for latency records: CPU model, core count (and the cores this
    process may use), threads, torch / backend / naslab / Python versions, machine and OS.
    The fields of :data:`DEVICE_KEYS` decide whether a LUT applies here."""
    import naslab

    backend_version = str(torch.__version__)
    if backend == "onnxruntime":
        backend_version = str(_import_ort().__version__)
    try:
        affinity: int | None = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        affinity = None
    return {"cpu_model": _cpu_model(), "cpu_flags": _cpu_flags_hash(),
            "machine": platform.machine(), "system": platform.system(),
            "cpu_count": os.cpu_count(), "cpus_allowed": affinity,
            "threads": torch.get_num_threads() if threads is None else int(threads),
            "torch": torch.__version__, "backend": backend, "backend_version": backend_version,
            "naslab": naslab.__version__, "python": platform.python_version()}


def fingerprint_mismatch(recorded: Mapping[str, Any], here: Mapping[str, Any]) -> list[str]:
    """``"field: recorded vs here"`` for each :data:`DEVICE_KEYS` field that differs."""
    return [f"{k}: {recorded.get(k)!r} vs {here.get(k)!r}" for k in DEVICE_KEYS
            if recorded.get(k) != here.get(k)]


def _inputs(shapes: Sequence[Shape], batch: int, seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn((batch, *s), generator=g) for s in shapes]


def _norm_shapes(input_shape: Shape | Sequence[Shape]) -> list[Shape]:
    if not input_shape:
        raise ConfigError("input_shape must be a per-sample shape such as (3, 32, 32), got ()")
    items: list[Any] = list(input_shape)
    if all(isinstance(v, (int, np.integer)) for v in items):
        return [tuple(int(v) for v in items)]
    try:
        out = [tuple(int(v) for v in s) for s in items]
    except TypeError:
        out = []
    if not out or not all(out):
        raise ConfigError(f"input_shape must be one per-sample shape or a list of them, "
                          f"got {input_shape!r}")
    return out


def make_runner(module: nn.Module, input_shape: Shape | Sequence[Shape], *, batch: int = 1,
                backend: str = "torch", threads: int = 1, seed: int = 0) -> Callable[[], None]:
    """A no-argument callable that runs one inference of ``module`` on a fixed input.

    torch: eval mode, ``inference_mode``; the caller sets the threads (:func:`torch_threads`).
    onnxruntime: the module exported to ONNX once, an ``InferenceSession`` with
    ``intra_op_num_threads=threads`` (sequential execution, all graph optimisations)."""
    check_backend(backend)
    batch = check_int("batch", batch, minimum=1)
    shapes = _norm_shapes(input_shape)
    xs = _inputs(shapes, batch, seed)
    module.eval()
    if backend == "torch":
        def run() -> None:
            with torch.inference_mode():
                module(*xs)
        return run
    return _ort_runner(module, xs, threads)


def _ort_runner(module: nn.Module, xs: list[torch.Tensor], threads: int) -> Callable[[], None]:
    import tempfile
    import warnings

    ort = _import_ort()
    names = [f"x{i}" for i in range(len(xs))]
    with warnings.catch_warnings(), torch.no_grad(), tempfile.TemporaryDirectory() as tmp:
        warnings.simplefilter("ignore")
        path = os.path.join(tmp, "module.onnx")
        try:
            torch.onnx.export(module, tuple(xs), path, dynamo=False, input_names=names,
                              output_names=["y"])
        except ImportError as exc:
            raise ConfigError(f"the onnxruntime backend exports the module with torch.onnx, which "
                              f"needs the onnx package ({exc}): pip install 'naslab[onnx]'") from None
        with open(path, "rb") as f:
            model_bytes = f.read()
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
    used = {i.name for i in sess.get_inputs()}
    feeds = {n: x.numpy() for n, x in zip(names, xs) if n in used}

    def run() -> None:
        sess.run(None, feeds)
    return run


def _calibrate_number(run: Callable[[], None], min_sample_s: float) -> int:
    """Calls per sample so that one sample lasts >= ``min_sample_s`` (at least 1)."""
    if min_sample_s <= 0:
        return 1
    number = 1
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(number):
            run()
        dt = (time.perf_counter_ns() - t0) * 1e-9
        if dt >= min_sample_s or number >= 1 << 16:
            return number
        number = min(1 << 16, max(number * 2, int(math.ceil(number * min_sample_s / max(dt, 1e-9)))))


#: clocks: ``wall`` (perf_counter: the latency a user waits) and ``cpu`` (the calling thread's
#: CPU time: excludes the time other processes hold the core; meaningful with one thread only)
CLOCKS: dict[str, Callable[[], int]] = {"wall": time.perf_counter_ns, "cpu": time.thread_time_ns}


def check_clock(clock: str, threads: int) -> Callable[[], int]:
    if clock not in CLOCKS:
        raise ConfigError(f"latency clock must be one of {', '.join(CLOCKS)}, got "
                          f"{clock!r}{did_you_mean(str(clock), CLOCKS)}")
    if clock == "cpu" and threads != 1:
        raise ConfigError(f"clock 'cpu' counts the calling thread's CPU time, which is the "
                          f"latency only with threads=1; got threads={threads} (use clock 'wall')")
    return CLOCKS[clock]


def _sample(run: Callable[[], None], number: int,
            clock: Callable[[], int] = time.perf_counter_ns) -> float:
    t0 = clock()
    for _ in range(number):
        run()
    return (clock() - t0) * 1e-6 / number


def _result(samples: list[float], *, number: int, batch: int, threads: int, backend: str,
            clock: str, wall_s: float, confidence: float,
            fingerprint: Mapping[str, Any]) -> LatencyResult:
    s = summarize(samples, confidence=confidence)
    return LatencyResult(number=number, batch=batch, threads=threads, backend=backend, clock=clock,
                         wall_s=wall_s, fingerprint=dict(fingerprint),
                         samples_ms=tuple(samples), **s)


def _check_common(batch: int, threads: int, backend: str, confidence: float) -> tuple[int, int]:
    check_backend(backend)
    check_float("confidence", confidence, minimum=0.5, maximum=0.999)
    return check_int("batch", batch, minimum=1), check_int("threads", threads, minimum=1)


def measure_latency(module: nn.Module, input_shape: Shape | Sequence[Shape], *, batch: int = 1,
                    threads: int = 1, backend: str = "torch", warmup_s: float = 0.2,
                    warmup_calls: int = 3, min_repeats: int = 30, max_repeats: int = 1000,
                    max_time_s: float = 3.0, min_sample_s: float = 2e-4,
                    confidence: float = 0.95, seed: int = 0, clock: str = "wall",
                    fingerprint: bool = True) -> LatencyResult:
    """Median inference latency (ms per batch) of ``module`` on this machine, with its
    confidence interval and noise (see the module docstring for the procedure).

    ``input_shape``: the per-sample input shape, e.g. ``(3, 32, 32)`` (or a list of shapes for
    a module with several inputs). Sampling stops at ``max_repeats`` samples, or after
    ``max_time_s`` seconds once ``min_repeats`` samples are in. ``clock``: ``wall`` or ``cpu``
    (see :data:`CLOCKS`).
    """
    batch, threads = _check_common(batch, threads, backend, confidence)
    tick = check_clock(clock, threads)
    min_repeats = check_int("min_repeats", min_repeats, minimum=3)
    max_repeats = check_int("max_repeats", max_repeats, minimum=min_repeats)
    max_time_s = check_float("max_time_s", max_time_s, minimum=0.0)
    warmup_s = check_float("warmup_s", warmup_s, minimum=0.0)
    warmup_calls = check_int("warmup_calls", warmup_calls, minimum=0)
    min_sample_s = check_float("min_sample_s", min_sample_s, minimum=0.0)
    t_start = time.perf_counter()
    with torch_threads(threads):
        run = make_runner(module, input_shape, batch=batch, backend=backend, threads=threads,
                          seed=seed)
        n_warm = 0
        while n_warm < warmup_calls or time.perf_counter() - t_start < warmup_s:
            run()
            n_warm += 1
        number = _calibrate_number(run, min_sample_s)
        samples: list[float] = []
        t0 = time.perf_counter()
        while len(samples) < max_repeats:
            samples.append(_sample(run, number, tick))
            if len(samples) >= min_repeats and time.perf_counter() - t0 >= max_time_s:
                break
        fp = device_fingerprint(threads=threads, backend=backend) if fingerprint else {}
    return _result(samples, number=number, batch=batch, threads=threads, backend=backend,
                   clock=clock, wall_s=time.perf_counter() - t_start, confidence=confidence,
                   fingerprint=fp)


def measure_interleaved(items: Mapping[str, tuple[nn.Module, Shape | Sequence[Shape]]], *,
                        rounds: int = 10, samples_per_round: int = 5, batch: int = 1,
                        threads: int = 1, backend: str = "torch", visit_warmup: int = 2,
                        min_sample_s: float = 2e-4, confidence: float = 0.95, seed: int = 0,
                        clock: str = "wall", on_round: Callable[[int, float], None] | None = None,
                        ) -> dict[str, LatencyResult]:
    """Measure many modules in interleaved rounds (robust to drifting load).

    ``items``: key -> (module, per-sample input shape(s)). Each round visits every module once,
    in an order drawn from ``seed``: ``visit_warmup`` calls, then ``samples_per_round``
    samples. ``on_round(round, elapsed_s)`` is called after each round.
    Returns key -> :class:`LatencyResult` over all its samples (``n = rounds * samples_per_round``).
    """
    batch, threads = _check_common(batch, threads, backend, confidence)
    tick = check_clock(clock, threads)
    rounds = check_int("rounds", rounds, minimum=1)
    samples_per_round = check_int("samples_per_round", samples_per_round, minimum=1)
    visit_warmup = check_int("visit_warmup", visit_warmup, minimum=0)
    min_sample_s = check_float("min_sample_s", min_sample_s, minimum=0.0)
    if not items:
        raise ConfigError("measure_interleaved needs at least one module")
    keys = list(items)
    rng = np.random.default_rng(seed)
    t_start = time.perf_counter()
    samples: dict[str, list[float]] = {k: [] for k in keys}
    wall: dict[str, float] = {k: 0.0 for k in keys}
    with torch_threads(threads):
        runs = {k: make_runner(m, s, batch=batch, backend=backend, threads=threads, seed=seed)
                for k, (m, s) in items.items()}
        numbers = {}
        for k in keys:
            for _ in range(max(visit_warmup, 3)):
                runs[k]()
            numbers[k] = _calibrate_number(runs[k], min_sample_s)
        for r in range(rounds):
            for j in rng.permutation(len(keys)):
                k = keys[int(j)]
                t0 = time.perf_counter()
                run = runs[k]
                for _ in range(visit_warmup):
                    run()
                for _ in range(samples_per_round):
                    samples[k].append(_sample(run, numbers[k], tick))
                wall[k] += time.perf_counter() - t0
            if on_round is not None:
                on_round(r, time.perf_counter() - t_start)
        fp = device_fingerprint(threads=threads, backend=backend)
    return {k: _result(samples[k], number=numbers[k], batch=batch, threads=threads,
                       backend=backend, clock=clock, wall_s=wall[k], confidence=confidence, fingerprint=fp)
            for k in keys}


class AddKernel(nn.Module):
    """``a + b``: the latency kernel of one addition at a sum node (cells, residuals)."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b
