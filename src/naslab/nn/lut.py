"""Latency lookup tables: kernels measured once, networks predicted as sums (torch only to build).

A :class:`LatencyLUT` holds, for one space, network protocol (width, depth, input size) and
measurement protocol (batch, threads, backend) on one device:

* ``entries``: key -> the median latency (ms) of every kernel the space's
  :class:`~naslab.nn.latency_parts.LatencyModel` declares, with its confidence interval and noise;
* ``fixed_keys``: the skeleton's kernels (stem, reductions, head, sum nodes);
* ``call_ms``: the measuring harness's own cost per call (entering ``inference_mode`` and a
  trivial module's call for torch; ``session.run`` of an identity graph for onnxruntime),
  measured with the kernels: a network pays it once, not once per kernel, so each kernel counts
  ``entry - call_ms`` and the network one ``call_ms``;
* ``overhead_ms``: what sums of kernels miss, calibrated on whole networks while building
  (median over the calibration archs of ``measured - sum of their kernels``);
* the device fingerprint, the naslab version and the file format version.

``predict(arch) = sum(entries[k] - call for k in arch_kernels(arch) + fixed_keys) + call + overhead``.
Prediction needs no torch (a search that takes latency from a LUT stays torch-free).

Versioning: :meth:`LatencyLUT.load` refuses a file of another format version, another naslab
version or another device (the fingerprint fields :data:`~naslab.nn.latency.DEVICE_KEYS`) with
a message naming what differs, unless ``force=True`` (the LUT then records the mismatches in
``forced``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from naslab.errors import ConfigError, check_int

if TYPE_CHECKING:
    from naslab.nn.latency_parts import LatencyModel
    from naslab.spaces.base import Architecture

__all__ = ["LUT_FORMAT", "LUT_VERSION", "LatencyLUT", "build_lut", "build_lut_and_measure",
           "validate_lut",
           "LUTValidation", "measure_archs", "DEVICE_KEYS"]

#: LatencyResult / summarize() field of each statistic (as naslab.nn.latency.STATISTICS)
STAT_FIELD = {"median": "median_ms", "p10": "p10_ms", "min": "min_ms", "mean": "mean_ms"}

#: the item measuring the harness's per-call cost while a LUT is built
CALL_KEY = "call|identity"

LUT_FORMAT = "naslab-latency-lut"
LUT_VERSION = 1

#: fingerprint fields that must agree (kept equal to naslab.nn.latency.DEVICE_KEYS, which
#: imports torch; a test checks they are the same)
DEVICE_KEYS = ("cpu_model", "machine", "system", "cpu_count", "torch", "backend",
               "backend_version")


def _naslab_version() -> str:
    import naslab

    return str(naslab.__version__)


def current_fingerprint(*, threads: int, backend: str) -> dict[str, Any]:
    """This machine's fingerprint (imports torch: the fingerprint names its version)."""
    from naslab.nn.latency import device_fingerprint

    return device_fingerprint(threads=threads, backend=backend)


@dataclass
class LatencyLUT:
    """A latency lookup table (see the module docstring). Build with :func:`build_lut`, read
    with :meth:`load`."""

    space: str
    protocol: dict[str, Any]             # the latency model's network protocol
    batch: int
    threads: int
    backend: str
    entries: dict[str, dict[str, Any]]   # key -> {"ms", "ci_ms", "iqr_rel", "cv", "n", "info"}
    statistic: str = "median"            # what "ms" is: median | p10 | min | mean of the samples
    clock: str = "wall"                  # wall | cpu (the thread's CPU time)
    fixed_keys: list[str] = field(default_factory=list)
    overhead_ms: float = 0.0
    call_ms: float = 0.0
    calibration: list[dict[str, Any]] = field(default_factory=list)
    fingerprint: dict[str, Any] = field(default_factory=dict)
    naslab_version: str = ""
    created: str = ""
    build: dict[str, Any] = field(default_factory=dict)
    forced: list[str] = field(default_factory=list)   # mismatches accepted by load(force=True)
    path: str | None = None
    _model: Any = field(default=None, repr=False, compare=False)
    _table: Any = field(default=None, repr=False, compare=False)   # cached decision_table()

    # --- prediction (no torch) --------------------------------------------------------------
    def model(self) -> LatencyModel:
        """The space's latency model for this LUT's protocol."""
        if self._model is None:
            from naslab.nn.latency_parts import latency_model

            self._model = latency_model(self.space, **self.protocol)
        m: LatencyModel = self._model
        return m

    def kernel_ms(self, key: str) -> float:
        """The measured median latency (ms) of kernel ``key``."""
        try:
            return float(self.entries[key]["ms"])
        except KeyError:
            raise ConfigError(f"the latency LUT ({self.path or self.space}) has no kernel "
                              f"{key!r}; was it built for another protocol?") from None

    def part_ms(self, key: str) -> float:
        """What kernel ``key`` adds to a network: its entry less the per-call cost."""
        return self.kernel_ms(key) - self.call_ms

    def fixed_ms(self, *, overhead: bool = True) -> float:
        """The skeleton's latency: fixed kernels + one call (+ the calibrated overhead)."""
        return (sum(self.part_ms(k) for k in self.fixed_keys) + self.call_ms
                + (self.overhead_ms if overhead else 0.0))

    def _check_arch(self, arch: Architecture) -> None:
        if arch.space != self.space:
            raise ConfigError(f"the latency LUT is for space {self.space!r}, got an "
                              f"architecture of space {arch.space!r}")

    def predict(self, arch: Architecture, *, overhead: bool = True,
                include_fixed: bool = True) -> float:
        """Predicted latency (ms) of ``arch``'s network: its kernels + the fixed part."""
        self._check_arch(arch)
        if self._table is None:
            t = self.decision_table()
            self._table = False if t is None else t
        if self._table is not False:
            from naslab.spaces.base import get_space

            sp = get_space(self.space)
            idx = sp.decision_indices(sp.validate(arch))
            ms = float(sum(self._table[d, o] for d, o in enumerate(idx)))
        else:
            ms = sum(self.part_ms(k) for k in self.model().arch_kernels(arch))
        return ms + (self.fixed_ms(overhead=overhead) if include_fixed else 0.0)

    def predict_many(self, archs: Sequence[Architecture], *, overhead: bool = True) -> np.ndarray:
        return np.array([self.predict(a, overhead=overhead) for a in archs], dtype=float)

    def breakdown(self, arch: Architecture) -> dict[str, float]:
        """Per-kernel contributions (ms, summed over repetitions) plus ``"overhead"``."""
        self._check_arch(arch)
        out: dict[str, float] = {}
        for k in [*self.fixed_keys, *self.model().arch_kernels(arch)]:
            out[k] = out.get(k, 0.0) + self.part_ms(k)
        out["call"] = self.call_ms
        out["overhead"] = self.overhead_ms
        return out

    def decision_table(self) -> np.ndarray | None:
        """For spaces additive over their decisions: ``table[d, o]`` = ms that option ``o`` of
        decision ``d`` adds (NaN where a decision has fewer options), so that ``predict(arch)
        = fixed_ms() + sum_d table[d, idx_d]`` (the expected-latency loss of ProxylessNAS /
        FBNet is ``sum_d p_d @ table[d]``). None for a non-additive space."""
        dk = self.model().decision_kernels()
        if dk is None:
            return None
        width = max(len(opts) for opts in dk)
        t = np.full((len(dk), width), np.nan)
        for d, opts in enumerate(dk):
            for o, keys in enumerate(opts):
                t[d, o] = sum(self.part_ms(k) for k in keys)
        return t

    # --- files ------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"format": LUT_FORMAT, "format_version": LUT_VERSION,
                "naslab_version": self.naslab_version, "created": self.created,
                "space": self.space, "protocol": self.protocol, "batch": self.batch,
                "threads": self.threads, "backend": self.backend, "statistic": self.statistic,
                "clock": self.clock,
                "fingerprint": self.fingerprint, "overhead_ms": self.overhead_ms,
                "call_ms": self.call_ms,
                "fixed_keys": self.fixed_keys, "calibration": self.calibration,
                "build": self.build, "entries": self.entries}

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_name(p.name + ".tmp")
            tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n")
            tmp.replace(p)
        except OSError as exc:
            raise ConfigError(f"cannot write the latency LUT to {str(p)!r}: {exc}") from None
        self.path = str(p)
        return p

    def digest(self) -> str:
        """blake2b hash of the table's content (enters the hardware estimator's description)."""
        blob = json.dumps({k: v for k, v in self.to_json().items() if k != "created"},
                          sort_keys=True).encode()
        return hashlib.blake2b(blob, digest_size=8).hexdigest()

    @classmethod
    def from_json(cls, d: Mapping[str, Any], *, path: str | None = None) -> LatencyLUT:
        where = path or "the latency LUT"
        if not isinstance(d, Mapping) or d.get("format") != LUT_FORMAT:
            raise ConfigError(f"{where} is not a naslab latency LUT (expected \"format\": "
                              f"{LUT_FORMAT!r}, got {d.get('format') if isinstance(d, Mapping) else d!r})")
        try:
            return cls(space=str(d["space"]), protocol=dict(d["protocol"]), batch=int(d["batch"]),
                       threads=int(d["threads"]), backend=str(d["backend"]),
                       entries={str(k): dict(v) for k, v in d["entries"].items()},
                       fixed_keys=[str(k) for k in d["fixed_keys"]],
                       statistic=str(d.get("statistic", "median")),
                       clock=str(d.get("clock", "wall")),
                       overhead_ms=float(d.get("overhead_ms", 0.0)),
                       call_ms=float(d.get("call_ms", 0.0)),
                       calibration=list(d.get("calibration", [])),
                       fingerprint=dict(d.get("fingerprint", {})),
                       naslab_version=str(d.get("naslab_version", "")),
                       created=str(d.get("created", "")), build=dict(d.get("build", {})),
                       path=path)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{where} is damaged: {type(exc).__name__}: {exc}") from None

    @classmethod
    def load(cls, path: str | Path, *, force: bool = False,
             fingerprint: Mapping[str, Any] | None = None) -> LatencyLUT:
        """Read a LUT file; refuse another format version, naslab version or device.

        ``fingerprint``: the device to check against (default: this machine's, which imports
        torch). ``force=True`` accepts the mismatches and lists them in ``forced``."""
        p = Path(path)
        try:
            d = json.loads(p.read_text())
        except FileNotFoundError:
            raise ConfigError(f"latency LUT file {str(p)!r} does not exist; build one with "
                              f"`naslab latency build-lut --out {p}`") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read latency LUT {str(p)!r}: {exc}") from None
        if isinstance(d, Mapping) and d.get("format") == LUT_FORMAT \
                and d.get("format_version") != LUT_VERSION:
            raise ConfigError(f"latency LUT {str(p)!r} has format version "
                              f"{d.get('format_version')!r}; this naslab reads version "
                              f"{LUT_VERSION}: rebuild it with `naslab latency build-lut`")
        lut = cls.from_json(d, path=str(p))
        problems: list[str] = []
        here_v = _naslab_version()
        if lut.naslab_version != here_v:
            problems.append(f"naslab version: {lut.naslab_version!r} vs {here_v!r}")
        here = fingerprint if fingerprint is not None else current_fingerprint(
            threads=lut.threads, backend=lut.backend)
        problems += [f"{k}: {lut.fingerprint.get(k)!r} vs {here.get(k)!r}" for k in DEVICE_KEYS
                     if lut.fingerprint.get(k) != here.get(k)]
        if problems and not force:
            raise ConfigError(
                f"latency LUT {str(p)!r} was not built here (recorded vs this machine): "
                f"{'; '.join(problems)}. Its latencies describe another device or naslab; "
                f"rebuild it here with `naslab latency build-lut`, or pass --force "
                f"(force=True) to use it anyway (e.g. a LUT built on the target device)")
        lut.forced = problems
        return lut


# --- building and validating (torch) ----------------------------------------------------------

def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _network(model: LatencyModel, arch: Architecture, seed: int) -> Any:
    import torch

    from naslab.nn.networks import build_network

    return build_network(arch, generator=torch.Generator().manual_seed(seed),
                         **model.network_protocol())


def build_lut(space: str, *, batch: int = 1, threads: int = 1, backend: str = "torch",
              statistic: str = "median", clock: str = "wall", rounds: int = 20,
              samples_per_round: int = 5, calibration_archs: int = 10,
              min_sample_s: float = 2e-4,
              seed: int = 0, on_round: Callable[[int, float], None] | None = None,
              **protocol: Any) -> LatencyLUT:
    """Measure every kernel of ``space``'s latency model (and ``calibration_archs`` of the
    model's calibration archs, as whole networks; 0: no overhead) in interleaved rounds;
    return the LUT.

    ``protocol``: the latency model's options (NB201: ``C``, ``N``, ``num_classes``,
    ``in_channels``, ``image_size``). ``statistic``: the entries' value (``median`` of the
    samples; ``mean`` adds up like a network's mean; ``p10`` / ``min``). ``clock``: ``wall`` or
    ``cpu`` (see :mod:`naslab.nn.latency`)."""
    lut, _ = build_lut_and_measure(space, (), batch=batch, threads=threads, backend=backend,
                                   statistic=statistic, clock=clock, rounds=rounds,
                                   samples_per_round=samples_per_round,
                                   calibration_archs=calibration_archs,
                                   min_sample_s=min_sample_s, seed=seed, on_round=on_round,
                                   **protocol)
    return lut


def build_lut_and_measure(space: str, archs: Sequence[Architecture], *, batch: int = 1,
                          threads: int = 1, backend: str = "torch", statistic: str = "median",
                          clock: str = "wall", rounds: int = 20, samples_per_round: int = 5,
                          calibration_archs: int = 10, min_sample_s: float = 2e-4, seed: int = 0,
                          on_round: Callable[[int, float], None] | None = None,
                          **protocol: Any) -> tuple[LatencyLUT, list[Any]]:
    """:func:`build_lut`, with the networks of ``archs`` measured in the same interleaved
    rounds as the kernels (their :class:`~naslab.nn.latency.LatencyResult` returned in order):
    a comparison free of drift between building a LUT and measuring networks."""
    from naslab.nn.latency import (check_backend, check_statistic, device_fingerprint,
                                   measure_interleaved)
    from naslab.nn.latency_parts import latency_model

    check_backend(backend)
    check_statistic(statistic)
    model = latency_model(space, **protocol)
    t0 = time.perf_counter()
    kernels = model.kernels()
    missing = [k for k in model.fixed_kernels() if k not in kernels]
    if missing:
        raise ConfigError(f"latency model of {space!r} lists fixed kernels it does not declare: "
                          f"{missing[:3]}")
    items: dict[str, tuple[Any, Any]] = {k: (kern.build(), kern.input_shapes)
                                         for k, kern in kernels.items()}
    from naslab.nn.ops import Identity

    items[CALL_KEY] = (Identity(), model.input_shape())
    n_cal = check_int("calibration_archs", calibration_archs, minimum=0)
    from naslab.seeding import derive_seed

    # a seed of their own: validate_lut(seed=s) must not draw the archs the overhead was fit on
    calib = model.calibration_archs(n_cal, seed=derive_seed(seed, 0xCA1)) if n_cal else []
    for a in [*calib, *archs]:
        items.setdefault(f"net:{a}", (_network(model, a, seed), model.input_shape()))
    res = measure_interleaved(items, rounds=rounds, samples_per_round=samples_per_round,
                              batch=batch, threads=threads, backend=backend,
                              min_sample_s=min_sample_s, seed=seed, clock=clock,
                              on_round=on_round)
    entries: dict[str, dict[str, Any]] = {
        k: {"ms": r.value(statistic), "ci_ms": list(r.ci(statistic)), "median_ms": r.median_ms,
            "p10_ms": r.p10_ms, "min_ms": r.min_ms, "iqr_rel": r.iqr_rel, "cv": r.cv, "n": r.n,
            "number": r.number, "info": dict(kernels[k].info)}
        for k, r in res.items() if k in kernels}
    lut = LatencyLUT(space=space, protocol=dict(model.protocol), batch=batch, threads=threads,
                     backend=backend, entries=entries, statistic=statistic, clock=clock,
                     fixed_keys=model.fixed_kernels(),
                     fingerprint=device_fingerprint(threads=threads, backend=backend),
                     naslab_version=_naslab_version(), created=_now())
    lut._model = model
    lut.call_ms = res[CALL_KEY].value(statistic)
    cal: list[dict[str, Any]] = []
    for a in calib:
        r = res[f"net:{a}"]
        kern = lut.predict(a, overhead=False)
        ms = r.value(statistic)
        cal.append({"arch": str(a), "choices": list(a.choices), "measured_ms": ms,
                    "ci_ms": list(r.ci(statistic)), "kernels_ms": kern,
                    "residual_ms": ms - kern})
    lut.calibration = cal
    lut.overhead_ms = float(np.median([float(c["residual_ms"]) for c in cal])) if cal else 0.0
    noise = [float(e["iqr_rel"]) for e in entries.values()]
    lut.build = {"wall_s": time.perf_counter() - t0, "rounds": rounds,
                 "samples_per_round": samples_per_round, "min_sample_s": min_sample_s,
                 "seed": seed, "kernels": len(entries), "calibration_archs": len(cal),
                 "median_iqr_rel": float(np.median(noise)) if noise else None}
    if archs:
        lut.build["measured_alongside"] = len(set(archs))
    return lut, [res[f"net:{a}"] for a in archs]


def measure_archs(model: LatencyModel, archs: Sequence[Architecture], *, batch: int = 1,
                  threads: int = 1, backend: str = "torch", clock: str = "wall",
                  rounds: int = 10, samples_per_round: int = 3, seed: int = 0,
                  on_round: Callable[[int, float], None] | None = None) -> list[Any]:
    """Direct measurements (:class:`~naslab.nn.latency.LatencyResult`) of ``archs``' networks,
    interleaved; one result per arch, in order (duplicates measured once)."""
    from naslab.nn.latency import measure_interleaved

    items = {}
    for a in archs:
        key = f"net:{a}"
        if key not in items:
            items[key] = (_network(model, a, seed), model.input_shape())
    res = measure_interleaved(items, rounds=rounds, samples_per_round=samples_per_round,
                              batch=batch, threads=threads, backend=backend, min_sample_s=0.0,
                              seed=seed, clock=clock, on_round=on_round)
    return [res[f"net:{a}"] for a in archs]


def _errors(pred: np.ndarray, meas: np.ndarray) -> dict[str, float]:
    from scipy import stats

    rel = (pred - meas) / meas
    rho = stats.spearmanr(pred, meas).statistic if len(meas) > 2 else math.nan
    tau = stats.kendalltau(pred, meas).statistic if len(meas) > 2 else math.nan
    return {"mape": float(np.mean(np.abs(rel)) * 100), "max_ape": float(np.max(np.abs(rel)) * 100),
            "bias_pct": float(np.mean(rel) * 100), "spearman": float(rho), "kendall": float(tau),
            "p90_ape": float(np.percentile(np.abs(rel), 90) * 100)}


@dataclass
class LUTValidation:
    """LUT predictions against direct measurement on random archs (percentages in %)."""

    archs: list[str]
    predicted_ms: list[float]
    predicted_kernels_only_ms: list[float]
    measured_ms: list[float]                 # median over both passes' samples
    first_ms: list[float]                    # pass 1 (the same arch measured twice: pass 1, 2)
    second_ms: list[float]
    lut: dict[str, float]                    # errors of predicted vs measured
    lut_kernels_only: dict[str, float]       # without the calibrated overhead
    repeatability: dict[str, float]          # pass 2 vs pass 1, same statistics
    noise_iqr_rel: float                     # median IQR/median of the direct measurements
    wall_s: float
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    def summary(self) -> str:
        f = self.lut
        k = self.lut_kernels_only
        r = self.repeatability
        return "\n".join([
            f"archs          {len(self.archs)}",
            f"LUT vs meas.   MAPE {f['mape']:.2f} %  Spearman {f['spearman']:.4f}  max error "
            f"{f['max_ape']:.2f} %  bias {f['bias_pct']:+.2f} %",
            f"kernels only   MAPE {k['mape']:.2f} %  Spearman {k['spearman']:.4f}  max error "
            f"{k['max_ape']:.2f} %  bias {k['bias_pct']:+.2f} %  (no calibrated overhead)",
            f"repeatability  MAPE {r['mape']:.2f} %  Spearman {r['spearman']:.4f}  max error "
            f"{r['max_ape']:.2f} %  (the same arch measured twice)",
            f"noise          median IQR/median of a measurement {self.noise_iqr_rel * 100:.1f} %",
            f"wall           {self.wall_s:.1f} s"])

    def plot(self, path: str | Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        meas = np.array(self.measured_ms)
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
        lo, hi = float(meas.min()) * 0.9, float(meas.max()) * 1.1
        ax = axes[0]
        ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, ls="--", label="y = x")
        ax.scatter(meas, self.predicted_kernels_only_ms, s=10, alpha=0.6, color="tab:orange",
                   label=f"kernels only (MAPE {self.lut_kernels_only['mape']:.1f} %)")
        ax.scatter(meas, self.predicted_ms, s=10, alpha=0.7, color="tab:blue",
                   label=f"LUT (MAPE {self.lut['mape']:.1f} %, ρ {self.lut['spearman']:.3f})")
        ax.set_xlabel("measured latency (ms)")
        ax.set_ylabel("predicted latency (ms)")
        ax.set_title("LUT prediction vs direct measurement")
        ax.legend(fontsize=8)
        ax = axes[1]
        ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, ls="--")
        ax.scatter(self.first_ms, self.second_ms, s=10, alpha=0.7, color="tab:green",
                   label=f"MAPE {self.repeatability['mape']:.1f} %, "
                         f"ρ {self.repeatability['spearman']:.3f}")
        ax.set_xlabel("measurement 1 (ms)")
        ax.set_ylabel("measurement 2 (ms)")
        ax.set_title("repeatability: the same arch measured twice")
        ax.legend(fontsize=8)
        m = self.meta
        fig.suptitle(f"{m.get('space')} {m.get('protocol')}, batch {m.get('batch')}, "
                     f"{m.get('threads')} thread(s), {m.get('backend')}", fontsize=9)
        fig.tight_layout()
        p = Path(path)
        try:
            fig.savefig(p, dpi=110)
        except OSError as exc:
            raise ConfigError(f"cannot write the figure {str(p)!r}: {exc}") from None
        finally:
            plt.close(fig)
        return p


def validate_lut(lut: LatencyLUT, *, archs: int | Sequence[Architecture] = 50, seed: int = 0,
                 rounds: int = 10, samples_per_round: int = 3,
                 on_round: Callable[[int, float], None] | None = None) -> LUTValidation:
    """Compare ``lut``'s predictions with direct measurements of random archs (or the given
    ones), under the LUT's batch / threads / backend. Each arch is measured twice (two passes
    of ``rounds // 2`` interleaved rounds, the second in another order): their agreement is the
    measurement's own repeatability, the floor any LUT error should be read against."""
    from naslab.spaces.base import get_space

    t0 = time.perf_counter()
    model = lut.model()
    sp = get_space(lut.space)
    if isinstance(archs, int):
        n = check_int("archs", archs, minimum=3)
        rng = np.random.default_rng(seed)
        chosen: list[Architecture] = []
        seen: set[Architecture] = set()
        try:
            size: int | None = len(sp)
        except TypeError:  # not finite, or too large for len() (the block space: 2e19)
            size = None
        if size is not None and n > size:
            raise ConfigError(f"archs must be at most the space size {size}, got {n}")
        while len(chosen) < n:
            a = sp.sample(rng)
            if a not in seen:
                seen.add(a)
                chosen.append(a)
    else:
        chosen = list(archs)
        if len(chosen) < 3:
            raise ConfigError(f"validate_lut needs at least 3 architectures, got {len(chosen)}")
    rounds = check_int("rounds", rounds, minimum=2)
    half = rounds // 2
    kw: dict[str, Any] = {"batch": lut.batch, "threads": lut.threads, "backend": lut.backend,
          "clock": lut.clock, "samples_per_round": samples_per_round}
    first = measure_archs(model, chosen, rounds=half, seed=seed, on_round=on_round, **kw)
    second = measure_archs(model, chosen, rounds=rounds - half, seed=seed + 1,
                           on_round=None if on_round is None else
                           (lambda r, s: on_round(r + half, s)), **kw)
    st = lut.statistic
    # the measurement: the statistic over both passes' samples pooled
    from naslab.nn.latency import summarize

    pooled = [summarize([*a.samples_ms, *b.samples_ms]) for a, b in zip(first, second)]
    meas = np.array([p[STAT_FIELD[st]] for p in pooled])
    m1 = np.array([a.value(st) for a in first])
    m2 = np.array([b.value(st) for b in second])
    pred = lut.predict_many(chosen)
    pred_k = lut.predict_many(chosen, overhead=False)
    noise = float(np.median([r.iqr_rel for r in (*first, *second)]))
    return LUTValidation(
        archs=[str(a) for a in chosen], predicted_ms=pred.tolist(),
        predicted_kernels_only_ms=pred_k.tolist(), measured_ms=meas.tolist(),
        first_ms=m1.tolist(), second_ms=m2.tolist(), lut=_errors(pred, meas),
        lut_kernels_only=_errors(pred_k, meas), repeatability=_errors(m2, m1),
        noise_iqr_rel=noise, wall_s=time.perf_counter() - t0,
        meta={"space": lut.space, "protocol": lut.protocol, "batch": lut.batch,
              "threads": lut.threads, "backend": lut.backend, "statistic": lut.statistic,
              "clock": lut.clock, "seed": seed, "rounds": rounds,
              "samples_per_round": samples_per_round, "lut": lut.path, "lut_digest": lut.digest(),
              "forced": lut.forced, "fingerprint": current_fingerprint(
                  threads=lut.threads, backend=lut.backend)})
