"""NAS-Bench-101 data: a labelled *sample* of the space as a small tabular benchmark, and a
reader of NB101's own records.

``nb101/zc_nasbench101.json`` (automl/NASLib, Apache-2.0): 500 records, each keyed by a raw
NB101 spec - the 49 entries of the 7x7 adjacency matrix (row-major) and 7 op ids - with
``val_accuracy``, ``params``, ``flops`` and nine zero-cost proxy scores. What the fields are,
as checked against NB101 itself (``tests/benchmarks/test_nb101_data.py``):

* op ids: 0 input, 1 output, **2 maxpool3x3, 3 conv1x1-bn-relu, 4 conv3x3-bn-relu**
  (:data:`NASLIB_OPS`; NB101's own order is conv3x3, conv1x1, maxpool). Under this order our
  builder's trainable-parameter count equals ``params`` for all 500 records; under any other
  order it does not.
* keys are raw specs (not pruned: some have unconnected or dangling nodes). They prune to 292
  unique cells: the file was drawn with NB101's ``random_spec`` (its pruned-size distribution
  matches :meth:`~naslab.spaces.nb101.NB101Space.sample`'s), which draws small cells often (55
  records are the input->output cell).
* ``val_accuracy``: the accuracy (in %) of *one* 108-epoch training run, drawn afresh per
  record: the records of one cell show at most three distinct values (NB101 trained every cell
  three times), every value is a multiple of 1/9984 as NB101's accuracies are (78 batches of
  128 images). The split cannot be checked here (none of the 500 cells is among the 30 records
  that carry both splits); NASLib's NB101 query reads NB101's ``validation_accuracy`` for it.
* ``params``: trainable parameters in millions of the pruned cell's network (= our builder's);
  ``flops``: NASLib's FLOP count in millions (its own convention, not re-derived here).
* proxy scores: NASLib's, one network initialisation per record (records of one cell differ).

:class:`NB101SampleBenchmark` (registered ``nb101_sample``, target ``nb101_sample/cifar10``)
holds one row per unique cell (in order of first appearance in the file; row ``i`` is
``arch(i)``: the spec of the cell's first record, pruned with its node order kept and padded -
the network NASLib's ``params`` were counted on); its recorded runs are the distinct ``val_accuracy``
values of the cell's records (1-3), ``params_m`` / ``flops_m`` / ``zc_<proxy>`` those of its
first record. It is a sample: querying a cell outside it is a DataError, the space stays
NB101's 423,624 cells, and the file records no training time (so it prices no search) and no
test accuracy. It serves the predictor harness (train on some rows, rank the rest) and
``naslab proxies`` (our proxies against its ``val_acc``; its recorded ``zc_*`` columns too).

``nb101/nb101_30_records.pkl`` (NASLib tests, from NB101's dataset): 30 full records keyed by
NB101 hash - pruned adjacency, op names, trainable parameters, three 108-epoch runs with
halfway/final train/validation/test accuracy and time. :func:`read_records` reads them.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from naslab.benchmarks.base import TabularBenchmark
from naslab.benchmarks.datadir import data_dir_origin, file_hash, find_file, resolve_data_dir
from naslab.errors import ConfigError, DataError, InvalidArchitectureError, did_you_mean
from naslab.registry import register
from naslab.seeding import run_for_seed
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.nb101 import N_CELLS, NB101Space

ZC_FILE = "zc_nasbench101.json"
RECORDS_FILE = "nb101_30_records.pkl"
#: op ids of the zc file's keys (NASLib's order)
NASLIB_OPS: dict[int, str] = {0: "input", 1: "output", 2: "maxpool3x3", 3: "conv1x1-bn-relu",
                              4: "conv3x3-bn-relu"}
#: the zero-cost proxies recorded in the zc file (NASLib's names; ``jacov`` = jacob_cov)
ZC_PROXIES: tuple[str, ...] = ("epe_nas", "fisher", "grad_norm", "grasp", "jacov", "l2_norm",
                               "plain", "snip", "synflow")
DATASETS: tuple[str, ...] = ("cifar10",)
EPOCHS = 108.0
WHERE = {
    ZC_FILE: ("zc_nasbench101.json is automl/NASLib's naslib/data/zc_nasbench101.json; put it "
              "into the data directory's nb101/ folder"),
    RECORDS_FILE: ("nb101_30_records.pkl is automl/NASLib's tests/assets/nb101_30_records.pkl "
                   "(30 NAS-Bench-101 records); put it into the data directory's nb101/ folder"),
}


def _space() -> NB101Space:
    sp = get_space("nb101")
    assert isinstance(sp, NB101Space)
    return sp


# ------------------------------------------------------------------------------------------
# readers
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRecord:
    """One record of the zc file: its raw key, the architecture of that raw spec and the
    recorded numbers."""

    key: str
    arch: Architecture
    val_accuracy: float
    params_m: float
    flops_m: float
    scores: dict[str, float] = field(default_factory=dict)


def _bad(path: Path, what: str) -> DataError:
    return DataError(f"{path}: {what}. To fix: {WHERE[ZC_FILE]}.")


def read_zc_file(path: str | os.PathLike[str]) -> list[SampleRecord]:
    """The records of NASLib's ``zc_nasbench101.json`` (``{"nasbench101": {"cifar10": {key:
    record}}}``), in file order; DataError naming the bad key or field."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
        table = data["nasbench101"]["cifar10"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise _bad(p, f"not NASLib's NB101 zero-cost file ({type(exc).__name__}: {exc})") from None
    if not isinstance(table, dict) or not table:
        raise _bad(p, "holds no nasbench101/cifar10 records")
    sp = _space()
    out = []
    for key, rec in table.items():
        try:
            vals = ast.literal_eval(key)
        except (ValueError, SyntaxError):
            raise _bad(p, f"key {key[:60]!r} is not a tuple of integers") from None
        if (not isinstance(vals, tuple) or len(vals) != 56
                or not all(type(v) is int for v in vals)):
            raise _bad(p, f"key {key[:60]!r} must be 49 adjacency entries and 7 op ids")
        ops = vals[49:]
        if ops[0] != 0 or ops[-1] != 1 or not all(o in (2, 3, 4) for o in ops[1:-1]):
            raise _bad(p, f"key {key[:60]!r}: op ids {ops} must be 0 (input), then 2/3/4, "
                          f"then 1 (output)")
        matrix = np.array(vals[:49], dtype=np.int64).reshape(7, 7)
        try:
            arch = sp.from_spec(matrix, [NASLIB_OPS[o] for o in ops])
        except InvalidArchitectureError as exc:
            raise _bad(p, f"key {key[:60]!r} is not a valid NB101 cell: {exc}") from None
        try:
            scores = {z: float(rec[z]) for z in ZC_PROXIES}
            out.append(SampleRecord(key, arch, float(rec["val_accuracy"]), float(rec["params"]),
                                    float(rec["flops"]), scores))
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad(p, f"record {key[:60]!r} lacks a number for {exc}") from None
    return out


@dataclass(frozen=True)
class NB101Record:
    """One full NB101 record (the 30-record fixture): the cell, its trainable parameters and
    its training runs per epoch budget (``runs[108]``: three dicts with ``halfway_*`` /
    ``final_*`` ``training_time``, ``train_accuracy``, ``validation_accuracy``,
    ``test_accuracy``; accuracies as fractions)."""

    key: str
    arch: Architecture
    matrix: list[list[int]]
    ops: list[str]
    trainable_parameters: int
    runs: dict[int, list[dict[str, float]]]


def read_records(path: str | os.PathLike[str]) -> dict[str, NB101Record]:
    """NB101 records pickled as ``{hash: (fixed, computed)}`` (NASLib's test asset)."""
    from naslab.benchmarks.readers import read_pickle

    p = Path(path)
    data = read_pickle(p, fix=WHERE[RECORDS_FILE])
    if not isinstance(data, dict):
        raise DataError(f"{p}: expected a dict of NB101 records keyed by hash. To fix: "
                        f"{WHERE[RECORDS_FILE]}.")
    sp = _space()
    out = {}
    for key, rec in data.items():
        try:
            fixed, computed = rec
            matrix = np.asarray(fixed["module_adjacency"]).astype(int).tolist()
            ops = [str(o) for o in fixed["module_operations"]]
            arch = sp.from_spec(matrix, ops)
            runs = {int(e): [{k: float(v) for k, v in r.items()} for r in rs]
                    for e, rs in computed.items()}
            out[str(key)] = NB101Record(str(key), arch, matrix, ops,
                                        int(fixed["trainable_parameters"]), runs)
        except (TypeError, ValueError, KeyError, InvalidArchitectureError) as exc:
            raise DataError(f"{p}: record {key!r} is not an NB101 record ({exc}). To fix: "
                            f"{WHERE[RECORDS_FILE]}.") from None
    return out


# ------------------------------------------------------------------------------------------
# the sample benchmark
# ------------------------------------------------------------------------------------------


_memo: dict[tuple[str, str], tuple[list[SampleRecord], dict[str, Any]]] = {}


def _load(path: Path) -> tuple[list[SampleRecord], dict[str, Any]]:
    key = (str(path), file_hash(path))
    hit = _memo.get(key)
    if hit is None:
        recs = read_zc_file(path)
        sp = _space()
        rows: dict[str, list[int]] = {}
        for i, r in enumerate(recs):
            rows.setdefault(sp.unique_key(r.arch), []).append(i)
        hit = (recs, {"rows": rows, "hash": key[1]})
        _memo[key] = hit
    return hit


@register("benchmark", "nb101_sample", aliases=("nb101-sample",))
class NB101SampleBenchmark(TabularBenchmark):
    """NAS-Bench-101 on CIFAR-10, over a labelled SAMPLE of the space: the 292 unique cells of
    NASLib's 500-record zero-cost file (see the module docstring for what each field means).

    Parameters
    ----------
    dataset: ``cifar10`` (the only one NB101 has).
    data_dir: data directory (default ``$NASLAB_DATA`` or the per-user default).
    val: ``"run"`` - a query returns one of the cell's recorded runs, picked by the query seed
        (as the NB201 benchmark does); ``"mean"`` - the mean over its recorded runs.

    Metrics: ``val_acc`` (108-epoch accuracy, %), ``params_m``, ``flops_m`` and the recorded
    proxy scores ``zc_<proxy>`` (:data:`ZC_PROXIES`). Fidelity: 108 epochs. No test accuracy
    and no training time are recorded: :meth:`cost` raises DataError.
    """

    space_name = "nb101"
    covers_space = False
    metrics = ("val_acc", "params_m", "flops_m") + tuple(f"zc_{z}" for z in ZC_PROXIES)
    fidelities = (EPOCHS,)
    max_fidelity = EPOCHS
    fidelity_unit = "epochs"
    cost_metric = "train_time_s"
    device_metrics = ()
    metric_modes = {"val_acc": "max", "params_m": "min", "flops_m": "min",
                    **{f"zc_{z}": "max" for z in ZC_PROXIES}}

    def __init__(self, dataset: str = "cifar10", *, data_dir: str | None = None,
                 val: str = "run") -> None:
        ds = str(dataset).strip().lower()
        if ds not in DATASETS:
            raise ConfigError(f"nb101_sample dataset must be one of {', '.join(DATASETS)}, got "
                              f"{dataset!r}{did_you_mean(str(dataset), DATASETS)}")
        if val not in ("run", "mean"):
            raise ConfigError(f"nb101_sample val must be 'run' or 'mean', got {val!r}")
        self.dataset, self.val = ds, val
        self.data_dir = None if data_dir is None else str(data_dir)
        ddir = resolve_data_dir(self.data_dir)
        path = find_file(ddir, "nb101", ZC_FILE)
        if path is None:
            raise DataError(f"no NB101 sample data: {ZC_FILE} is not in {ddir} or {ddir / 'nb101'} "
                            f"(data directory chosen by {data_dir_origin(self.data_dir)}). To fix: "
                            f"{WHERE[ZC_FILE]}.")
        self.path = path
        recs, info = _load(path)
        self.file_hash: str = info["hash"]
        sp = _space()
        self._space = sp
        self.records: list[SampleRecord] = recs
        self.keys: list[str] = list(info["rows"])
        self._row = {k: i for i, k in enumerate(self.keys)}
        members = list(info["rows"].values())
        # the first record's spec, pruned (node order kept) and padded: the network NB101 and
        # NASLib built for it (NB101's channel split depends on node order, so an isomorphic
        # relabelling such as the canonical form can differ by a few parameters)
        self._archs = [sp.pruned_arch(recs[m[0]].arch) for m in members]
        runs: list[list[float]] = []
        for m in members:
            vals: list[float] = []
            for i in m:
                v = recs[i].val_accuracy
                if v not in vals:
                    vals.append(v)
            runs.append(vals)
        self._runs = runs
        self._cols: dict[str, np.ndarray] = {
            "val_acc": np.array([float(np.mean(r)) for r in runs]),
            "params_m": np.array([recs[m[0]].params_m for m in members]),
            "flops_m": np.array([recs[m[0]].flops_m for m in members]),
        }
        for z in ZC_PROXIES:
            self._cols[f"zc_{z}"] = np.array([recs[m[0]].scores[z] for m in members])

    def __getstate__(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "data_dir": self.data_dir, "val": self.val}

    def __setstate__(self, state: dict[str, Any]) -> None:
        type(self).__init__(self, state["dataset"], data_dir=state["data_dir"], val=state["val"])

    # identity ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"nb101_sample/{self.dataset}"

    @property
    def space(self) -> NB101Space:
        return self._space

    @property
    def n_archs(self) -> int:
        return len(self._archs)

    def arch(self, row: int) -> Architecture:
        return self._archs[self._check_row(row)]

    @property
    def has_test(self) -> bool:
        return False

    @property
    def test_unavailable_reason(self) -> str:
        return (f"{self.name} is NASLib's zero-cost sample of NB101: it records validation "
                f"accuracy only, no test accuracy")

    # queries -------------------------------------------------------------------------------
    def _check_row(self, row: int) -> int:
        if isinstance(row, bool) or not isinstance(row, (int, np.integer)) \
                or not 0 <= int(row) < len(self._archs):
            raise InvalidArchitectureError(
                f"{self.name} row must be an integer in 0..{len(self._archs) - 1}, got {row!r}")
        return int(row)

    def index(self, arch: Architecture | int | str) -> int:
        """Row of ``arch`` (an nb101 Architecture - any spec of the cell -, its notation, or a
        row number). A valid cell outside the sample is a DataError."""
        if isinstance(arch, str):
            arch = self._space.parse(arch)
        if not isinstance(arch, Architecture):
            return self._check_row(arch)
        key = self._space.unique_key(arch)
        row = self._row.get(key)
        if row is None:
            raise DataError(
                f"NB101 cell {self._space.format(arch)!r} (hash {key}) is not in {self.name}: "
                f"the benchmark holds a sample of {len(self._archs)} of NB101's {N_CELLS:,} "
                f"cells")
        return row

    def runs(self, arch: Architecture | int | str, metric: str = "val_acc", *,
             fidelity: float | None = None) -> list[float]:
        self.check_fidelity(fidelity)
        if metric == "val_acc":
            return list(self._runs[self.index(arch)])
        return [self.query(arch, metric, fidelity=fidelity)]

    def run_table(self, metric: str = "val_acc", *, fidelity: float | None = None) -> np.ndarray:
        if metric != "val_acc":
            return super().run_table(metric, fidelity=fidelity)
        self.check_fidelity(fidelity)
        width = max(len(r) for r in self._runs)
        out = np.full((len(self._runs), width), np.nan)
        for i, r in enumerate(self._runs):
            out[i, : len(r)] = r
        return out

    def query(self, arch: Architecture | int | str, metric: str = "val_acc", *, seed: int = 0,
              fidelity: float | None = None, device: str | None = None) -> float:
        """One metric of one cell of the sample: ``val_acc`` (one recorded run picked by
        ``seed``, or the mean with ``val="mean"``), ``params_m``, ``flops_m``, ``zc_<proxy>``."""
        i = self.index(arch)
        self.check_fidelity(fidelity)
        if device is not None:
            raise DataError(f"{self.name} has no per-device measurements (asked for device "
                            f"{device!r})")
        if metric == "val_acc":
            r = self._runs[i]
            if self.val == "mean":
                return float(self._cols["val_acc"][i])
            return r[run_for_seed(seed, i) % len(r)]
        if metric in self._cols:
            return float(self._cols[metric][i])
        if metric in ("test_acc", "train_time_s"):
            raise DataError(self.test_unavailable_reason if metric == "test_acc" else
                            f"{self.name} records no training time (a sample for predictor and "
                            f"proxy evaluation, not a search benchmark)")
        raise ConfigError(f"{self.name} metric must be one of {', '.join(self.metrics)}, got "
                          f"{metric!r}{did_you_mean(str(metric), self.metrics)}")

    def column(self, metric: str, *, fidelity: float | None = None,
               device: str | None = None) -> np.ndarray:
        self.check_fidelity(fidelity)
        if metric in self._cols and device is None:
            return self._cols[metric].copy()
        self.query(0, metric, fidelity=fidelity, device=device)  # raises the clear error
        raise AssertionError(metric)  # pragma: no cover

    def cost(self, arch: Architecture | int | str, *, fidelity: float | None = None) -> float:
        return self.query(arch, "train_time_s", fidelity=fidelity)

    # descriptions --------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {"benchmark": "nb101_sample", "dataset": self.dataset, "val": self.val,
                "sources": {ZC_FILE: self.file_hash}}

    def metadata(self) -> dict[str, Any]:
        meta = super().metadata()
        meta.update({"sample": True, "records": len(self.records), "space_size": N_CELLS,
                     "note": "a labelled sample of NB101 (NASLib's zero-cost file); cells "
                             "outside it cannot be queried"})
        return meta

    def archs(self) -> list[Architecture]:
        """Every row's architecture (its first record's spec, pruned and padded), in row order."""
        return list(self._archs)
