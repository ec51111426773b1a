"""TransNAS-Bench-101 micro (Duan et al., CVPR 2021) as a tabular benchmark (no torch).

Source: ``transnas101/tnb101_classification_synflow.zip`` (automl/NASLib, branch ``zerocost``,
Apache-2.0): per task, JSON lists of ``{"idx", "arch": "(a, b, c, d, e, f)", "val_accuracy",
"synflow": {"score", "time"}}`` for all 4,096 micro cells (and 3,256 macro archs, which this
benchmark does not read). The six digits are TransNAS-Bench-101's own op codes in the order of
its arch string ``64-41414-a_bc_def`` (NASLib's query turns them into that string verbatim);
the reader checks this against the data: every cell whose output is always zero under that
reading has one and the same validation value and a synflow score of 0, under NASLib's own op
numbering they do not (docs/data.md).

Tasks (``tnb101/<task>``) and their metric: ``class_object`` (100 classes), ``class_scene``
(63 classes), ``jigsaw`` (1,000 permutations) - ``val_acc``, top-1 validation accuracy (%);
``room_layout`` - ``val_neg_loss``, the negative L2 validation loss (TransNAS's
``valid_neg_loss``, maximised; ``val_loss`` is its negation, minimised). Every task also gives
``zc_synflow``, NASLib's synflow score of the untrained network. The file holds no test metrics
and no training times: searches report validation values and a simulated cost of 0.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from naslab.benchmarks.base import ValidationOnlyBenchmark
from naslab.benchmarks.cache import Sources, TableCache, Tables
from naslab.benchmarks.datadir import data_dir_origin, file_hash, find_file, resolve_data_dir
from naslab.errors import ConfigError, DataError, did_you_mean
from naslab.registry import register
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.transnas import EDGES, N_ARCHS, TransNASMicroSpace

__all__ = ["FILE", "TASKS", "TransNASBenchmark", "load_tables"]

FORMAT_VERSION = 1
FILE = "tnb101_classification_synflow.zip"
FOLDER = "transnas101"
#: task -> its validation metric(s); the first is the one searches optimise
TASKS: dict[str, tuple[str, ...]] = {
    "class_object": ("val_acc",),
    "class_scene": ("val_acc",),
    "jigsaw": ("val_acc",),
    "room_layout": ("val_neg_loss", "val_loss"),
}
WHERE = ("tnb101_classification_synflow.zip is NASLib's TransNAS-Bench-101 zero-cost file "
         "(https://github.com/automl/NASLib, branch zerocost); put it into the data directory's "
         "transnas101/ folder")
_MEMBER = re.compile(r"(?:.*/)?benchmark--transbench101_micro--([a-z_]+)--(\d+)\.json$")


def _space() -> TransNASMicroSpace:
    sp = get_space("tnb101")
    assert isinstance(sp, TransNASMicroSpace)
    return sp


def zero_output(choices: Sequence[int]) -> bool:
    """Whether a cell's output is always zero (every route to node 3 crosses a ``none``)."""
    nonzero = [True, False, False, False]
    for e, (dst, src) in enumerate(EDGES):   # edges are ordered by target node
        if choices[e] != 0 and nonzero[src]:
            nonzero[dst] = True
    return not nonzero[3]


_CACHE: TableCache[Tables] = TableCache("tnb101", version=FORMAT_VERSION, tables=Tables)


def load_tables(data_dir: str | os.PathLike[str] | None = None, *, use_cache: bool = True) -> Tables:
    """Arrays ``<task>/<metric>`` over the 4,096 cells in index order (cached by file hash)."""
    ddir = resolve_data_dir(data_dir)
    path = find_file(ddir, FOLDER, FILE)
    if path is None:
        raise DataError(f"no TransNAS-Bench-101 data: {FILE} is not in {ddir / FOLDER} or {ddir} "
                        f"(data directory chosen by {data_dir_origin(data_dir)}). To fix: {WHERE}.")
    sources: Sources = {FILE: {"path": str(path), "hash": file_hash(path)}}
    return _CACHE.load(ddir, sources, _parse, use_cache=use_cache)


def _parse(sources: Sources) -> Tables:
    path = Path(sources[FILE]["path"])
    space = _space()
    records: dict[str, list[Any]] = {t: [] for t in TASKS}
    try:
        with zipfile.ZipFile(path) as z:
            for name in sorted(z.namelist()):
                m = _MEMBER.match(name)
                if m is None:
                    continue
                if m.group(1) not in records:
                    raise DataError(f"{path}: member {name!r} is a micro file of task "
                                    f"{m.group(1)!r}; known tasks: {', '.join(TASKS)}")
                data = json.loads(z.read(name))
                if not isinstance(data, list):
                    raise DataError(f"{path}: {name} must hold a JSON list of records")
                records[m.group(1)].extend(data)
    except (zipfile.BadZipFile, OSError, json.JSONDecodeError) as e:
        raise DataError(f"{path} is not a readable zip of JSON files ({e}). To fix: {WHERE}.") from None
    arrays: dict[str, np.ndarray] = {}
    for task, recs in records.items():
        val = np.full(N_ARCHS, np.nan)
        syn = np.full(N_ARCHS, np.nan)
        for r in recs:
            try:
                digits = tuple(int(v) for v in str(r["arch"]).strip("() ").split(","))
                i = space.index(Architecture("tnb101", digits))
                v, s = float(r["val_accuracy"]), float(r["synflow"]["score"])
            except Exception:
                raise DataError(f"{path}: {task} record {str(r)[:120]!r} is not a micro-cell "
                                f"record (arch '(a, b, c, d, e, f)' with digits 0..3, "
                                f"val_accuracy, synflow.score). To fix: {WHERE}.") from None
            if not np.isnan(val[i]):
                raise DataError(f"{path}: {task} lists arch {r['arch']} twice")
            val[i], syn[i] = v, s
        missing = int(np.isnan(val).sum())
        if missing:
            raise DataError(f"{path}: {task} has records for {N_ARCHS - missing} of the "
                            f"{N_ARCHS} micro cells; expected all. To fix: {WHERE}.")
        _check_op_order(path, task, val, syn, space)
        metric = TASKS[task][0]
        arrays[f"{task}/{metric}"] = val
        arrays[f"{task}/zc_synflow"] = syn
    return Tables(arrays, sources)


def _check_op_order(path: Path, task: str, val: np.ndarray, syn: np.ndarray,
                    space: TransNASMicroSpace) -> None:
    """Cells whose output is always zero predict a constant: one validation value for all of
    them (up to 0.1 % of the task's range: room_layout's losses carry float noise), synflow
    exactly 0. Holds under TransNAS's op codes, fails under NASLib's numbering."""
    zero = np.array([zero_output(a.choices) for a in space.enumerate()])
    if np.ptp(val[zero]) > 1e-3 * np.ptp(val) or np.any(syn[zero] != 0):
        raise DataError(
            f"{path}: {task}: the {int(zero.sum())} cells whose output is always zero (read with "
            f"TransNAS-Bench-101's op codes 0 none, 1 skip, 2 conv1x1, 3 conv3x3) do not share "
            f"one validation value with synflow 0; the file uses another op order. To fix: {WHERE}.")


@register("benchmark", "tnb101", aliases=("transnas101", "transnas-bench-101"))
class TransNASBenchmark(ValidationOnlyBenchmark):
    """Tabular TransNAS-Bench-101 micro for one task.

    Parameters
    ----------
    dataset: the task: ``class_object`` | ``class_scene`` | ``jigsaw`` | ``room_layout``.
    data_dir: data directory (default ``$NASLAB_DATA`` or the per-user default).
    val: accepted for interface compatibility; the file records one value per cell, so
        ``"run"`` and ``"mean"`` answer the same.

    One recorded value per cell and metric, at the single fidelity 1 (the full training of
    the benchmark). No test metrics, no training times (cost 0).
    """

    space_name = "tnb101"
    fidelities = (1.0,)
    max_fidelity = 1.0
    fidelity_unit = "full recorded training"
    device_metrics = ()
    metric_modes = {"val_acc": "max", "val_neg_loss": "max", "val_loss": "min",
                    "zc_synflow": "max"}

    def __init__(self, dataset: str = "class_object", *, data_dir: str | None = None,
                 val: str = "run") -> None:
        task = str(dataset).strip().lower()
        if task not in TASKS:
            raise ConfigError(f"TransNAS-Bench-101 task must be one of {', '.join(TASKS)}, got "
                              f"{dataset!r}{did_you_mean(str(dataset), TASKS)}")
        if val not in ("run", "mean"):
            raise ConfigError(f"TransNAS-Bench-101 val must be 'run' or 'mean', got {val!r}")
        self.task = task
        self.val = val
        self.data_dir = None if data_dir is None else str(data_dir)
        self.metrics = TASKS[task] + ("zc_synflow",)
        self._bind(load_tables(self.data_dir))

    def _bind(self, tables: Tables) -> None:
        self.tables = tables
        self._space = _space()
        primary = TASKS[self.task][0]
        v = tables[f"{self.task}/{primary}"]
        self._cols: dict[str, list[float]] = {primary: v.tolist(),
                                              "zc_synflow": tables[f"{self.task}/zc_synflow"].tolist()}
        if self.task == "room_layout":
            self._cols["val_loss"] = (-v).tolist()

    def __getstate__(self) -> dict[str, Any]:
        return {"task": self.task, "val": self.val, "data_dir": self.tables.data_dir}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.task, self.val, self.data_dir = state["task"], state["val"], state["data_dir"]
        self.metrics = TASKS[self.task] + ("zc_synflow",)
        self._bind(load_tables(self.data_dir))

    @property
    def name(self) -> str:
        return f"tnb101/{self.task}"

    @property
    def space(self) -> TransNASMicroSpace:
        return self._space

    @property
    def has_test(self) -> bool:
        return False

    @property
    def test_unavailable_reason(self) -> str:
        return (f"{self.name} has no test metrics: {FILE} (NASLib's zero-cost file) records the "
                f"validation metric only")

    def index(self, arch: Architecture | int | str) -> int:
        if isinstance(arch, Architecture):
            return self._space.index(arch)
        if isinstance(arch, str):
            return self._space.index(self._space.parse(arch))
        return self._space.index(self._space.from_index(arch))

    def describe(self) -> dict[str, Any]:
        return {"benchmark": self.name,
                "sources": {k: v["hash"] for k, v in self.tables.sources.items()}}

    def metadata(self) -> dict[str, Any]:
        d = super().metadata()
        d.update(task=self.task, data_dir=self.tables.data_dir,
                 sources={k: dict(v) for k, v in self.tables.sources.items()},
                 note="validation metric of TransNAS-Bench-101 (micro); no test metrics, no "
                      "training times in the source file")
        return d

    def __repr__(self) -> str:
        return f"TransNASBenchmark(dataset={self.task!r})"
