"""A labelled sample of the DARTS space: NASLib's 725 NAS-Bench-301 genotypes (no torch).

Source: ``nb301/zc_nasbench301.json`` (automl/NASLib ``naslib/data``, Apache-2.0):
``{"cifar10": {"<compact arch>": {"idx", "arch", "val_accuracy", "params": {"score"},
"flops": {"score"}, "<proxy>": {"score", "time"}, ...}}}``. The arch keys are NASLib's compact
form, ``[[(input, op id) x 8], [x 8]]`` with op ids in NB301's order (:data:`naslab.spaces.darts.OPS`);
the recorded parameter counts equal those of naslab's DARTS network at C=32, layers=8,
affine=False for all 725 genotypes (the check of that reading, docs/benchmarks.md).

**The labels are not trained results.** ``val_acc`` is the NAS-Bench-301 *surrogate's
prediction* of CIFAR-10 validation accuracy (Siems et al. 2020), which NASLib stored; every
description of this benchmark says so (``describe()["labels"]``, ``metadata()``). Use it to
compare predictors and zero-cost proxies on the DARTS space, not as ground truth of training.

Unlike a tabular benchmark of a whole space, this one covers a sample: :meth:`archs` lists its
725 genotypes (rows in NASLib's ``idx`` order), :meth:`column` is in that row order and
:meth:`index` gives an arch's row (an arch outside the sample is a DataError). ``covers_space``
is False. Metrics: ``val_acc`` (surrogate, %), ``params_m`` and ``flops_m`` (as recorded by
NASLib), and the recorded zero-cost scores as ``zc_<name>`` (NASLib's networks and data).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from naslab.benchmarks.base import ValidationOnlyBenchmark
from naslab.benchmarks.cache import Sources, TableCache, Tables
from naslab.benchmarks.datadir import data_dir_origin, file_hash, find_file, resolve_data_dir
from naslab.errors import ConfigError, DataError, InvalidArchitectureError, did_you_mean
from naslab.registry import register
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.darts import DartsSpace

__all__ = ["FILE", "NB301Sample", "PROXIES", "load_tables"]

FORMAT_VERSION = 1
FILE = "zc_nasbench301.json"
FOLDER = "nb301"
N_ROWS = 725
#: zero-cost scores recorded in the file (NASLib's names)
PROXIES: tuple[str, ...] = ("epe_nas", "fisher", "grad_norm", "grasp", "jacov", "l2_norm",
                            "nwot", "plain", "snip", "synflow")
LABELS = ("NAS-Bench-301 surrogate predictions of CIFAR-10 validation accuracy (stored by "
          "NASLib), not trained results")
WHERE = ("zc_nasbench301.json is NASLib's NB301 zero-cost file (https://github.com/automl/NASLib, "
         "naslib/data); put it into the data directory's nb301/ folder")


def _space() -> DartsSpace:
    sp = get_space("darts")
    assert isinstance(sp, DartsSpace)
    return sp


_CACHE: TableCache[Tables] = TableCache("nb301", version=FORMAT_VERSION, tables=Tables)


def load_tables(data_dir: str | os.PathLike[str] | None = None, *, use_cache: bool = True) -> Tables:
    """``choices`` (rows x 42 decisions), ``val_acc``, ``params_m``, ``flops_m``, ``zc_<name>``."""
    ddir = resolve_data_dir(data_dir)
    path = find_file(ddir, FOLDER, FILE)
    if path is None:
        raise DataError(f"no NB301 sample: {FILE} is not in {ddir / FOLDER} or {ddir} (data "
                        f"directory chosen by {data_dir_origin(data_dir)}). To fix: {WHERE}.")
    sources: Sources = {FILE: {"path": str(path), "hash": file_hash(path)}}
    return _CACHE.load(ddir, sources, _parse, use_cache=use_cache)


def _parse(sources: Sources) -> Tables:
    path = Path(sources[FILE]["path"])
    space = _space()
    try:
        raw = json.loads(path.read_text())
        table = raw["cifar10"]
        assert isinstance(table, dict)
    except (OSError, ValueError, KeyError, AssertionError):
        raise DataError(f"{path} is not NASLib's NB301 zero-cost file (a JSON object with key "
                        f"'cifar10'). To fix: {WHERE}.") from None
    if len(table) != N_ROWS:
        raise DataError(f"{path} holds {len(table)} archs, expected NASLib's {N_ROWS}. "
                        f"To fix: {WHERE}.")
    rows: dict[int, tuple[Architecture, dict[str, Any]]] = {}
    for key, rec in table.items():
        try:
            arch = space.parse(key)
            row = int(rec["idx"])
        except InvalidArchitectureError as e:
            raise DataError(f"{path}: arch {key!r} is not a DARTS compact arch: {e}") from None
        except (KeyError, TypeError, ValueError):
            raise DataError(f"{path}: record {key!r} has no integer 'idx'") from None
        if row in rows or not 0 <= row < N_ROWS:
            raise DataError(f"{path}: record {key!r} has idx {row}, repeated or outside "
                            f"0..{N_ROWS - 1}")
        rows[row] = (arch, rec)
    arrays: dict[str, np.ndarray] = {
        "choices": np.array([rows[r][0].choices for r in range(N_ROWS)], dtype=np.int64)}
    fields = {"val_acc": ("val_accuracy", None), "params_m": ("params", "score"),
              "flops_m": ("flops", "score")}
    fields.update({f"zc_{p}": (p, "score") for p in PROXIES})
    for name, (k, sub) in fields.items():
        try:
            arrays[name] = np.array([float(rows[r][1][k] if sub is None else rows[r][1][k][sub])
                                     for r in range(N_ROWS)])
        except (KeyError, TypeError, ValueError):
            raise DataError(f"{path}: some record lacks a numeric {k}{'.' + sub if sub else ''}. "
                            f"To fix: {WHERE}.") from None
    return Tables(arrays, sources)


@register("benchmark", "nb301", aliases=("nasbench301", "nas-bench-301"))
class NB301Sample(ValidationOnlyBenchmark):
    """NASLib's 725 DARTS genotypes with NB301-surrogate validation accuracy (CIFAR-10).

    ``load_benchmark("nb301/cifar10")``. The labels are surrogate predictions (see the module
    docstring); no test metrics, no training times (cost 0), one value per arch.
    """

    space_name = "darts"
    metrics = ("val_acc", "params_m", "flops_m", *(f"zc_{p}" for p in PROXIES))
    fidelities = (1.0,)
    max_fidelity = 1.0
    fidelity_unit = "full recorded training"
    device_metrics = ()
    metric_modes = {"val_acc": "max", "params_m": "min", "flops_m": "min",
                    **{f"zc_{p}": "max" for p in PROXIES}}
    #: the benchmark labels a sample of its space, not every architecture
    covers_space = False
    labels = LABELS

    def __init__(self, dataset: str = "cifar10", *, data_dir: str | None = None,
                 val: str = "run") -> None:
        if str(dataset).lower() != "cifar10":
            raise ConfigError(f"the NB301 sample has one dataset, cifar10, got {dataset!r}"
                              f"{did_you_mean(str(dataset), ['cifar10'])}")
        if val not in ("run", "mean"):
            raise ConfigError(f"NB301 val must be 'run' or 'mean', got {val!r}")
        self.val = val
        self.data_dir = None if data_dir is None else str(data_dir)
        self._bind(load_tables(self.data_dir))

    def _bind(self, tables: Tables) -> None:
        self.tables = tables
        self._space = _space()
        self._archs = [Architecture("darts", tuple(int(v) for v in row))
                       for row in tables["choices"]]
        self._row = {self._space.index(a): r for r, a in enumerate(self._archs)}
        self._cols = {m: tables[m].tolist() for m in self.metrics}

    def __getstate__(self) -> dict[str, Any]:
        return {"val": self.val, "data_dir": self.tables.data_dir}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.val, self.data_dir = state["val"], state["data_dir"]
        self._bind(load_tables(self.data_dir))

    @property
    def name(self) -> str:
        return "nb301/cifar10"

    @property
    def space(self) -> DartsSpace:
        return self._space

    @property
    def has_test(self) -> bool:
        return False

    @property
    def test_unavailable_reason(self) -> str:
        return (f"{self.name} has no test metrics: its only accuracy is the NB301 surrogate's "
                f"prediction of validation accuracy")

    def archs(self) -> list[Architecture]:
        """The 725 genotypes, in row order (NASLib's idx)."""
        return list(self._archs)

    def __len__(self) -> int:
        return len(self._archs)

    def index(self, arch: Architecture | int | str) -> int:
        """The row of ``arch`` (an Architecture, its notation, or a row number)."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if not 0 <= int(arch) < len(self._archs):
                raise InvalidArchitectureError(
                    f"NB301 sample row must be in 0..{len(self._archs) - 1}, got {arch!r}")
            return int(arch)
        if isinstance(arch, bool) or not isinstance(arch, (str, Architecture)):
            raise InvalidArchitectureError(f"{self.name}: expected an Architecture, its genotype "
                                           f"or a row number, got {arch!r}")
        a = self._space.parse(arch) if isinstance(arch, str) else arch
        row = self._row.get(self._space.index(a))
        if row is None:
            raise DataError(f"{self.name}: genotype {self._space.format(a)} is not among the "
                            f"{len(self._archs)} labelled genotypes of the NB301 sample")
        return row

    def optimum(self, metric: str = "test_acc", mode: str | None = None, *,
                fidelity: float | None = None, device: str | None = None) -> float | None:
        """Best value over the *sample* (not the space)."""
        return super().optimum(metric, mode, fidelity=fidelity, device=device)

    def describe(self) -> dict[str, Any]:
        return {"benchmark": self.name, "labels": "nb301-surrogate",
                "sources": {k: v["hash"] for k, v in self.tables.sources.items()}}

    def metadata(self) -> dict[str, Any]:
        d = super().metadata()
        d.update(n_archs=len(self._archs), covers_space=False, space_size=len(self._space),
                 labels=LABELS, data_dir=self.tables.data_dir,
                 sources={k: dict(v) for k, v in self.tables.sources.items()})
        return d

    def __repr__(self) -> str:
        return "NB301Sample()"
