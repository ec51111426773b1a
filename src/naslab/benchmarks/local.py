"""Local benchmarks: the tabular benchmark of a file written by ``naslab bench build``.

``load_benchmark("local:PATH")`` (``--benchmark local:PATH``) reads the versioned JSON file of
:mod:`naslab.runner.bench_build` (format ``naslab-local-benchmark``): stand-alone training runs
of sampled architectures, several seeds each, on the user's data. It answers like NB201's table:

* its space is the recorded architectures (:class:`~naslab.spaces.subset.SubsetSpace` of the
  file's space: one member per isomorphism class; a query of any isomorphic architecture gets
  its class's record); rows are in the file's order;
* ``val="run"``: ``val_acc`` / ``val_loss`` / ``train_acc`` of one recorded run, picked by the
  query seed (:func:`naslab.seeding.run_for_seed`, as NB201's API with ``is_random=True``);
  ``val="mean"``: the mean over runs. Test metrics, parameters, FLOPs and training time are
  means over runs; test metrics are never shown to strategies (the runner hides ``test_*``);
* fidelities are epochs ``1..E``: at ``e < E`` the validation accuracy / loss, train accuracy
  and training time are those of the recorded ``E``-epoch runs after ``e`` epochs (their
  schedule spans ``E`` epochs, as NB201's 200-epoch curves); test metrics exist at ``E`` only;
* the simulated cost of a query is the recorded training time (mean over runs).

A file that is still being built is refused unless ``partial=True`` (architectures with at
least one finished run). :meth:`LocalBenchmark.metadata` carries the file's noise ceiling.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from naslab.benchmarks.base import METRIC_MODES, TEST_PREFIX, TabularBenchmark
from naslab.errors import ConfigError, DataError, did_you_mean
from naslab.registry import register
from naslab.seeding import run_for_seed
from naslab.spaces.base import Architecture, SearchSpace, get_space
from naslab.spaces.subset import SubsetSpace

__all__ = ["LocalBenchmark", "FORMAT", "FORMAT_VERSION"]

FORMAT = "naslab-local-benchmark"
FORMAT_VERSION = 1
#: metrics picked from one run with val="run" (the others are means over runs)
RUN_METRICS = ("val_acc", "val_loss", "train_acc")
#: metric -> curve key, for fidelities below the last epoch
CURVE_OF = {"val_acc": "val_acc", "val_loss": "val_loss", "train_acc": "train_acc",
            "train_time_s": "time_s"}


def read_file(path: Path) -> dict[str, Any]:
    import json

    try:
        text = path.read_text()
    except OSError as exc:
        raise DataError(f"cannot read local benchmark file {path}: {exc}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a naslab local benchmark file (not text; write one "
                        f"with `naslab bench build`)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not a naslab local benchmark (invalid JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError(f"{path} is not a naslab local benchmark file (expected format "
                        f"{FORMAT!r}; write one with `naslab bench build`)")
    v = doc.get("version")
    if not isinstance(v, int) or v > FORMAT_VERSION:
        raise DataError(f"{path} is a local benchmark of format version {v!r}; this naslab "
                        f"reads versions up to {FORMAT_VERSION} (upgrade naslab)")
    for key in ("space", "archs", "seeds", "runs", "epochs"):
        if key not in doc:
            raise DataError(f"{path}: local benchmark file lacks {key!r}")
    return doc


@register("benchmark", "local")
class LocalBenchmark(TabularBenchmark):
    """A local benchmark file (``naslab bench build``) as a tabular benchmark.

    Parameters
    ----------
    path: the benchmark file (``load_benchmark("local:PATH")``).
    val: ``"run"`` (one recorded run per query, picked by the query seed) or ``"mean"``.
    partial: accept a file whose build is unfinished (architectures with >= 1 finished run).
    data_dir: unused (the file holds everything); accepted for ``load_benchmark``.
    """

    metrics = ("val_acc", "test_acc", "val_loss", "test_loss", "train_acc", "params_m",
               "flops_m", "train_time_s")
    fidelity_unit = "epochs"
    cost_metric = "train_time_s"
    device_metrics = ()
    metric_modes = {**METRIC_MODES, "val_loss": "min", "test_loss": "min", "train_loss": "min"}

    def __init__(self, path: str, *, val: str = "run", partial: bool = False,
                 data_dir: str | None = None) -> None:
        if not isinstance(path, (str, Path)) or not str(path):
            raise ConfigError("a local benchmark needs the path of its file: "
                              "--benchmark local:PATH")
        if val not in ("run", "mean"):
            raise ConfigError(f"local benchmark val must be 'run' or 'mean', got {val!r}"
                              f"{did_you_mean(str(val), ('run', 'mean'))}")
        if not isinstance(partial, bool):
            raise ConfigError(f"partial must be true or false, got {partial!r}")
        self.path = Path(path).expanduser().resolve()
        self.val, self.partial = val, partial
        self._load()

    def _load(self) -> None:
        p = self.path
        if not p.is_file():
            raise DataError(f"local benchmark file {p} does not exist (write it with "
                            f"`naslab bench build --out {p}`)")
        doc = read_file(p)
        self.file_hash = hashlib.blake2b(p.read_bytes(), digest_size=8).hexdigest()
        base = get_space(doc["space"])
        seeds = list(doc["seeds"])
        n_all = len(doc["archs"])
        E = int(doc["epochs"])
        col = {s: j for j, s in enumerate(seeds)}
        have = np.zeros((n_all, len(seeds)), dtype=bool)
        for r in doc["runs"]:
            have[r["arch"], col[r["seed"]]] = True
        total = n_all * len(seeds)
        if not doc.get("complete", False) and not self.partial:
            raise DataError(f"{p} is an unfinished benchmark ({int(have.sum())} of {total} runs "
                            f"recorded); finish it by running the same `naslab bench build` "
                            f"command again, or load it with partial=true")
        keep = np.flatnonzero(have.any(axis=1))
        if len(keep) == 0:
            raise DataError(f"{p} holds no finished run yet")
        row = {int(i): k for k, i in enumerate(keep)}
        archs = [base.parse(doc["archs"][i]) for i in keep]
        self._space_obj = SubsetSpace(base, archs, label=f"local benchmark {p}")
        n, S = len(keep), len(seeds)
        metric_keys = [m for m in self.metrics]
        self._runs = {m: np.full((n, S), np.nan) for m in metric_keys}
        self._curves = {k: np.full((n, S, E), np.nan) for k in set(CURVE_OF.values())}
        for r in doc["runs"]:
            if r["arch"] not in row:
                continue
            i, j = row[r["arch"]], col[r["seed"]]
            for m in metric_keys:
                if m in r:
                    self._runs[m][i, j] = float(r[m])
            for k, vals in (r.get("curve") or {}).items():
                if k in self._curves and len(vals) == E:
                    self._curves[k][i, j] = vals
        self.doc_header = {k: v for k, v in doc.items() if k not in ("runs", "choices", "archs")}
        self.space_name = base.name
        self.epochs = E
        self.seeds = seeds
        self.fidelities = tuple(float(e) for e in range(1, E + 1))
        self.max_fidelity = float(E)
        self.complete = bool(doc.get("complete", False))
        self._n_runs = have[keep].sum(axis=1)

    # pickling for process / Ray workers: ship the path, reload on the other side
    def __getstate__(self) -> dict[str, Any]:
        return {"path": str(self.path), "val": self.val, "partial": self.partial}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path, self.val, self.partial = Path(state["path"]), state["val"], state["partial"]
        self._load()

    # identity ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"local:{self.path}"

    @property
    def space(self) -> SubsetSpace:
        return self._space_obj

    def restrict(self, space: SearchSpace) -> SearchSpace:
        """The recorded architectures: what a search with this benchmark can explore."""
        self.check_space_name(space)
        return self._space_obj

    # queries -------------------------------------------------------------------------------
    def index(self, arch: Architecture | int | str) -> int:
        sp = self._space_obj
        if isinstance(arch, Architecture):
            return sp.index(arch)
        if isinstance(arch, str):
            return sp.index(sp.parse(arch))
        return sp.index(sp.from_index(arch))

    def _values(self, metric: str, fid: float) -> np.ndarray:
        """(archs, runs) of ``metric`` at fidelity ``fid``."""
        if metric not in self.metrics:
            raise ConfigError(f"{self.name} metric must be one of {', '.join(self.metrics)}, "
                              f"got {metric!r}{did_you_mean(str(metric), self.metrics)}")
        if fid == self.max_fidelity or metric in ("params_m", "flops_m"):
            return self._runs[metric]
        if metric.startswith(TEST_PREFIX):
            raise DataError(f"{self.name} records test metrics after the last epoch "
                            f"({self.epochs}) only, asked at fidelity {fid:g}")
        return self._curves[CURVE_OF[metric]][:, :, int(fid) - 1]

    def query(self, arch: Architecture | int | str, metric: str = "val_acc", *, seed: int = 0,
              fidelity: float | None = None, device: str | None = None) -> float:
        """One metric of one architecture (see the module docstring for run / mean)."""
        if device is not None:
            raise DataError(f"{self.name} has no per-device measurements (asked for device "
                            f"{device!r})")
        i = self.index(arch)
        fid = self.check_fidelity(fidelity)
        vals = self._values(metric, fid)[i]
        ok = vals[np.isfinite(vals)]
        if len(ok) == 0:
            raise DataError(f"{self.name}: no recorded {metric} for {self._space_obj.members[i]}")
        if self.val == "run" and metric in RUN_METRICS:
            return float(ok[run_for_seed(seed, i) % len(ok)])
        return float(ok.mean())

    def runs(self, arch: Architecture | int | str, metric: str = "val_acc", *,
             fidelity: float | None = None) -> list[float]:
        vals = self._values(metric, self.check_fidelity(fidelity))[self.index(arch)]
        return [float(v) for v in vals if np.isfinite(v)]

    def run_table(self, metric: str = "val_acc", *, fidelity: float | None = None) -> np.ndarray:
        return np.array(self._values(metric, self.check_fidelity(fidelity)), dtype=np.float64)

    def column(self, metric: str, *, fidelity: float | None = None,
               device: str | None = None) -> np.ndarray:
        """Mean over runs of ``metric`` for every recorded architecture (row order)."""
        if device is not None:
            raise DataError(f"{self.name} has no per-device measurements")
        t = self.run_table(metric, fidelity=fidelity)
        with np.errstate(invalid="ignore"):
            return np.nanmean(t, axis=1)

    # descriptions --------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {"benchmark": self.name, "val": self.val, "file_hash": self.file_hash,
                "partial": self.partial}

    def metadata(self) -> dict[str, Any]:
        d = super().metadata()
        h = self.doc_header
        d.update(path=str(self.path), complete=self.complete, seeds=self.seeds,
                 epochs=self.epochs, n_runs=int(self._n_runs.sum()),
                 dataset=h.get("dataset"), protocol=h.get("protocol"),
                 selection=h.get("selection"), noise_ceiling=h.get("noise_ceiling"),
                 build=h.get("build"))
        return d

    def __repr__(self) -> str:
        return (f"LocalBenchmark({str(self.path)!r}, {len(self._space_obj)} archs x "
                f"{len(self.seeds)} seeds, {self.epochs} epochs, val={self.val!r})")
