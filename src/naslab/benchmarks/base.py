"""The tabular-benchmark interface: everything estimators, the analysis and the CLI ask of a
table of recorded results over a finite search space.

Who calls what: :class:`~naslab.estimators.tabular.TabularEstimator` calls :meth:`evaluate`
once per trial (the fast path: every metric plus the simulated cost in one call) and
:meth:`optimum` for regret; the analysis reads whole :meth:`column` s and :meth:`run_table`;
``naslab query`` calls :meth:`query` and :meth:`runs`. Nobody reads a benchmark's private
fields. Subclasses register as kind ``benchmark`` and are built by :func:`load_benchmark`.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from naslab.errors import ConfigError, DataError, did_you_mean
from naslab.spaces.base import Architecture, SearchSpace, get_space

#: metric-name prefix of test metrics (never shown to strategies)
TEST_PREFIX = "test_"
#: ``"latency_ms@pixel3"``: a per-device metric
DEVICE_SEP = "@"
#: the optimisation direction of the usual metrics: accuracies up, size, latency and time down
METRIC_MODES: Mapping[str, str] = {
    "val_acc": "max", "test_acc": "max", "train_acc": "max",
    "params_m": "min", "flops_m": "min", "latency_ms": "min", "train_time_s": "min",
}


class TabularBenchmark(ABC):
    """Recorded results of every architecture of one finite search space (or of a fixed sample
    of a space: then :attr:`n_archs` and :meth:`arch` name its rows).

    Class attributes a subclass sets: ``space_name``, ``metrics`` (queryable names, in the order
    :meth:`evaluate` reports them), ``fidelities`` (the recorded budgets, e.g. epochs) and
    ``max_fidelity`` (the one used when ``fidelity=None``), ``cost_metric`` (the metric that is
    the simulated cost of a query), ``device_metrics`` (metrics measured per device) and, for
    metrics outside :data:`METRIC_MODES`, ``metric_modes``. Subclasses implement
    :attr:`name`, :meth:`index`, :meth:`query`, :meth:`column` and :meth:`describe`; every other
    method has a default built on those, which a subclass may override for speed (results must
    stay equal to the defaults').
    """

    space_name: str = ""
    metrics: tuple[str, ...] = ()
    fidelities: tuple[float, ...] = ()
    max_fidelity: float = 0.0
    fidelity_unit: str = "budget"
    cost_metric: str = "train_time_s"
    device_metrics: tuple[str, ...] = ("latency_ms",)
    metric_modes: Mapping[str, str] = METRIC_MODES
    #: False for a benchmark that labels a sample of its space: :meth:`archs` lists the sample,
    #: :meth:`column` follows its order and :meth:`index` is the row in it
    covers_space: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # fidelities as floats once, so that the per-query check is a plain lookup
        cls.fidelities = tuple(float(f) for f in cls.fidelities)
        cls.max_fidelity = float(cls.max_fidelity)

    # --- identity --------------------------------------------------------------------------
    @property
    @abstractmethod
    def name(self) -> str:
        """``"<benchmark>/<dataset>"``, the name :func:`load_benchmark` takes."""

    @property
    def space(self) -> SearchSpace:
        """The search space whose architectures the table holds."""
        return get_space(self.space_name)

    def archs(self) -> list[Architecture]:
        """The labelled architectures in row order (the order of :meth:`column`): every
        architecture of the space in index order, unless ``covers_space`` is False."""
        return list(self.space.enumerate())

    @property
    def n_archs(self) -> int:
        """Rows of the table: the architectures it holds (the whole space, or the sample)."""
        return len(self.space) if self.covers_space else len(self.archs())

    def arch(self, row: int) -> Architecture:
        """The architecture of row ``row`` (0 <= row < :attr:`n_archs`): the space's
        ``from_index`` when the benchmark covers its space, else ``archs()[row]``. What code that
        walks a table - the predictor harness, the proxy evaluation - reads instead of the
        space's index."""
        return self.space.from_index(row) if self.covers_space else self.archs()[row]

    @property
    def has_test(self) -> bool:
        """Whether the test metrics were found (searching never needs them)."""
        return True

    @property
    def test_unavailable_reason(self) -> str:
        """Why test metrics are missing, and how to get them ('' when :attr:`has_test`)."""
        return "" if self.has_test else f"{self.name} has no test metrics"

    @property
    def devices(self) -> list[str]:
        """Devices with recorded measurements of the ``device_metrics`` (may be empty)."""
        return []

    def restrict(self, space: SearchSpace) -> SearchSpace:
        """The part of ``space`` this benchmark can answer for: ``space`` itself for a table
        of the whole space; a benchmark recording a sample of architectures returns those
        (the space a search with it explores)."""
        self.check_space_name(space)
        return space

    def check_space_name(self, space: SearchSpace) -> None:
        """ConfigError unless ``space`` is the space this benchmark's table is of."""
        if space.name != self.space_name:
            raise ConfigError(f"benchmark {self.name!r} scores space {self.space_name!r}, but "
                              f"the search space is {space.name!r}")

    # --- validation ------------------------------------------------------------------------
    def check_fidelity(self, fidelity: float | None) -> float:
        """The fidelity as a float (``None`` -> :attr:`max_fidelity`); ConfigError unless it is
        one of :attr:`fidelities`."""
        if fidelity is None:
            return self.max_fidelity
        try:
            f = float(fidelity)
        except (TypeError, ValueError):
            f = float("nan")
        if f not in self.fidelities:
            allowed = " or ".join(f"{x:g}" for x in self.fidelities)
            raise ConfigError(f"{self.name} fidelity ({self.fidelity_unit}) must be {allowed}, "
                              f"got {fidelity!r}")
        return f

    def check_device(self, device: str) -> str:
        """``device`` if it is one of :attr:`devices`; else ConfigError with close matches (or
        DataError when the benchmark found no device measurements at all)."""
        devs = self.devices
        if not devs:
            raise DataError(f"{self.name} has no per-device measurements (asked for device "
                            f"{device!r})")
        if device not in devs:
            raise ConfigError(f"{self.name} device must be one of {', '.join(devs)}, got "
                              f"{device!r}{did_you_mean(str(device), devs)}")
        return device

    def check_metric(self, metric: str) -> str:
        """``metric`` if :meth:`query` knows it (``<metric>@<device>`` included)."""
        base, _, dev = str(metric).partition(DEVICE_SEP)
        if base in self.metrics and (not dev or base in self.device_metrics):
            if dev:
                self.check_device(dev)
            return metric
        raise ConfigError(f"{self.name} metric must be one of {', '.join(self.metrics)}, got "
                          f"{metric!r}{did_you_mean(str(metric), self.metrics)}")

    def metric_mode(self, metric: str) -> str:
        """``"max"`` or ``"min"``: the direction in which ``metric`` is better (accuracies are
        maximised; parameters, FLOPs, latency and training time minimised)."""
        base = str(metric).partition(DEVICE_SEP)[0]
        mode = self.metric_modes.get(base) or METRIC_MODES.get(base)
        if mode is None:
            known = tuple(self.metrics)
            raise ConfigError(f"{self.name} has no direction for metric {metric!r}; its metrics "
                              f"are {', '.join(known)}{did_you_mean(str(metric), known)}")
        return mode

    # --- queries ---------------------------------------------------------------------------
    @abstractmethod
    def index(self, arch: Architecture | int | str) -> int:
        """Official row index of ``arch`` (an Architecture, its notation, or an index)."""

    @abstractmethod
    def query(self, arch: Architecture | int | str, metric: str = "val_acc", *, seed: int = 0,
              fidelity: float | None = None, device: str | None = None) -> float:
        """One metric of one architecture. ``seed`` chooses among recorded runs where the
        benchmark has several; ``device`` (or ``metric="<metric>@<device>"``) a device
        measurement; ``fidelity`` a recorded budget (default :attr:`max_fidelity`)."""

    @abstractmethod
    def column(self, metric: str, *, fidelity: float | None = None,
               device: str | None = None) -> np.ndarray:
        """``metric`` of every architecture in official (row) order (a fresh array). Where the
        benchmark records several runs, the mean over runs."""

    def cost(self, arch: Architecture | int | str, *, fidelity: float | None = None) -> float:
        """Simulated seconds of one query of ``arch`` at ``fidelity``: what obtaining the
        answer for real would cost (the recorded training time)."""
        return self.query(arch, self.cost_metric, fidelity=fidelity)

    def evaluate(self, arch: Architecture | int | str, *, fidelity: float | None = None,
                 seed: int = 0, devices: Sequence[str] = ()) -> tuple[dict[str, float], float]:
        """Every metric of one query and its simulated cost (s), in one call.

        Metrics are those of :attr:`metrics` in that order (test metrics only where recorded
        at that fidelity) plus ``<metric>@<device>`` for each of ``devices``; the cost is
        :meth:`cost`. Called once per trial by the tabular estimator.
        """
        fid = self.check_fidelity(fidelity)
        out: dict[str, float] = {}
        for m in self.metrics:
            try:
                out[m] = self.query(arch, m, seed=seed, fidelity=fid)
            except DataError:
                if not m.startswith(TEST_PREFIX):
                    raise
        for d in devices:
            for m in self.device_metrics:
                out[m + DEVICE_SEP + d] = self.query(arch, m, device=d)
        return out, self.cost(arch, fidelity=fid)

    def runs(self, arch: Architecture | int | str, metric: str = "val_acc", *,
             fidelity: float | None = None) -> list[float]:
        """Every recorded run's value of ``metric`` for ``arch`` (one value where the
        benchmark records a single number)."""
        return [self.query(arch, metric, fidelity=fidelity)]

    def run_table(self, metric: str = "val_acc", *, fidelity: float | None = None) -> np.ndarray:
        """Shape (archs, runs): every recorded run of ``metric`` per architecture, NaN-padded
        to the right where an architecture has fewer runs."""
        return self.column(metric, fidelity=fidelity)[:, None]

    def optimum(self, metric: str = "test_acc", mode: str | None = None, *,
                fidelity: float | None = None, device: str | None = None) -> float | None:
        """Best value of ``metric`` over the whole space in direction ``mode`` (default
        :meth:`metric_mode`: the maximum of an accuracy, the minimum of latency); None for a
        test metric the benchmark does not have. Cached per argument set."""
        mode = self.metric_mode(metric) if mode is None else mode
        if mode not in ("max", "min"):
            raise ConfigError(f"optimum mode must be 'max' or 'min', got {mode!r}")
        if str(metric).startswith(TEST_PREFIX) and not self.has_test:
            return None
        cache: dict[tuple[Any, ...], float] = self.__dict__.setdefault("_optima", {})
        key = (metric, mode, fidelity, device)
        if key not in cache:
            col = self.column(metric, fidelity=fidelity, device=device)
            cache[key] = float(np.max(col) if mode == "max" else np.min(col))
        return cache[key]

    def query_notes(self, fidelity: float | None = None) -> dict[str, str]:
        """What a query at ``fidelity`` returns, in words, for run cards: ``val_acc`` (one
        recorded run or a mean over runs, and why) and ``cost`` (what the simulated cost
        charges, and what the data lack). Subclasses say more where they know more."""
        fid = self.check_fidelity(fidelity)
        cost = (f"the recorded {self.cost_metric} at {fid:g} {self.fidelity_unit}"
                if self.cost_metric else
                "none: the benchmark records no training time, so every query costs 0 simulated "
                "seconds (budgets in trials only)")
        return {"val_acc": "the recorded validation value", "cost": cost}

    def network_options(self) -> dict[str, Any] | None:
        """How the recorded networks were built, for counting what the table lacks (FLOPs):
        ``{"input_shape": [C, H, W], **builder options}`` (e.g. ``num_classes``), passed to
        the space's network builder; None when unknown."""
        return None

    # --- descriptions ----------------------------------------------------------------------
    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """JSON-able identity stored with each experiment: the name, options that change
        answers, and the hashes of the data files (part of experiment ids: keep it stable)."""

    def metadata(self) -> dict[str, Any]:
        """JSON-able facts about the benchmark for people and reports (not part of ids)."""
        return {
            "name": self.name,
            "space": self.space_name,
            "n_archs": self.n_archs,
            "metrics": list(self.metrics),
            "metric_modes": {m: self.metric_mode(m) for m in self.metrics},
            "fidelities": list(self.fidelities),
            "max_fidelity": self.max_fidelity,
            "fidelity_unit": self.fidelity_unit,
            "cost_metric": self.cost_metric,
            "devices": self.devices,
            "has_test": self.has_test,
            "test_unavailable_reason": self.test_unavailable_reason or None,
            "describe": self.describe(),
        }


def load_benchmark(spec: str, *, data_dir: str | os.PathLike[str] | None = None,
                   **params: Any) -> TabularBenchmark:
    """``"<name>/<dataset>"`` (e.g. :data:`naslab.benchmarks.DEFAULT_BENCHMARK`) -> the
    registered benchmark ``name`` built for that dataset with ``params``;
    ``"<name>:<path>"`` (``"local:ref.json"``) -> benchmark ``name`` read from that file."""
    from naslab import registry

    head = str(spec).split("/", 1)[0]
    if ":" in head:  # "local:PATH": a benchmark read from a file
        name, _, target = str(spec).partition(":")
        if not target:
            raise ConfigError(f"benchmark {spec!r}: give the file after the colon, e.g. "
                              f"local:ref.json")
        cls = registry.get("benchmark", name)
        params["path"] = target
    else:
        name, _, dataset = str(spec).partition("/")
        cls = registry.get("benchmark", name)
        if dataset:
            params["dataset"] = dataset
    registry.check_params(cls, params, what=f"benchmark {name!r}")
    bench = cls(data_dir=None if data_dir is None else str(data_dir), **params)
    if not isinstance(bench, TabularBenchmark):
        raise ConfigError(f"benchmark {name!r} is {type(bench).__name__}, not a TabularBenchmark")
    return bench


class ValidationOnlyBenchmark(TabularBenchmark):
    """A table with one recorded value per architecture and metric, validation metrics only
    and no training times (NB301's sample, TransNAS-Bench-101's zero-cost file): queries read
    ``self._cols[metric][row]`` (filled by the subclass), cost nothing, and test metrics raise
    :attr:`test_unavailable_reason`. Subclasses give :meth:`index` and the data."""

    cost_metric = ""
    _cols: dict[str, list[float]]

    def _col(self, metric: str) -> list[float]:
        col = self._cols.get(metric)
        if col is None:
            self.check_metric(metric)   # raises with the benchmark's metrics
            raise DataError(self.test_unavailable_reason)  # pragma: no cover - test metrics
        return col

    def query(self, arch: Architecture | int | str, metric: str = "val_acc", *, seed: int = 0,
              fidelity: float | None = None, device: str | None = None) -> float:
        i = self.index(arch)
        self.check_fidelity(fidelity)
        if device is not None:
            self.check_device(device)
        if metric.startswith("test_"):
            raise DataError(self.test_unavailable_reason)
        return self._col(metric)[i]

    def cost(self, arch: Architecture | int | str, *, fidelity: float | None = None) -> float:
        """0: the data record no training times."""
        self.index(arch)
        self.check_fidelity(fidelity)
        return 0.0

    def evaluate(self, arch: Architecture | int | str, *, fidelity: float | None = None,
                 seed: int = 0, devices: Sequence[str] = ()) -> tuple[dict[str, float], float]:
        i = self.index(arch)
        self.check_fidelity(fidelity)
        for d in devices:
            self.check_device(d)
        return {m: self._cols[m][i] for m in self.metrics}, 0.0

    def column(self, metric: str, *, fidelity: float | None = None,
               device: str | None = None) -> np.ndarray:
        """``metric`` of every row, in row order."""
        self.check_fidelity(fidelity)
        if device is not None:
            self.check_device(device)
        if metric.startswith("test_"):
            raise DataError(self.test_unavailable_reason)
        return np.asarray(self._col(metric), dtype=np.float64)
