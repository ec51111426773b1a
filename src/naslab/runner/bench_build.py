"""Build a local reference benchmark: train sampled architectures stand-alone, several seeds each,
and record everything in one versioned JSON file (NAS-Bench-201's method, on the user's data).

``build_benchmark(out, space=..., dataset=..., n_archs=100, seeds=3, protocol="cpu", ...)``:

* **Architectures**: :func:`select_archs` draws architectures uniformly from the space with a
  seeded generator and keeps the first ``n_archs`` distinct isomorphism classes
  (``space.canonical``; one member per class, the canonical one). A class thus enters with a
  probability that grows with its size, and at most once. A larger ``n_archs`` with the same
  selection seed extends the list (the first ones stay the same).
* **Runs**: every (architecture, seed) pair is one stand-alone training under the protocol
  (:class:`~naslab.estimators.training.TrainingEstimator`, training seed = the run's seed, as
  NB201 trains every architecture with the same seeds), with the validation accuracy measured
  after every epoch (the curve). Pairs run on any executor (serial, process pool, Ray); only
  this driver writes the file.
* **File** (format ``naslab-local-benchmark`` version :data:`FORMAT_VERSION`): the space, the
  dataset's description (split configuration, sizes, fingerprint), the protocol with its hash,
  the selection rule, the architectures, and per finished pair its metrics (val / test accuracy
  and loss, train accuracy, params, FLOPs, train time) and per-epoch curves. It is rewritten
  atomically (temporary file, fsync, rename) after every finished pair, so it is valid at every
  moment: ``kill -9`` then the same command continues, and a finished pair is never retrained.
  When every pair is done the file is marked complete and gets its **noise ceiling**: Kendall's
  tau between seeds (mean over seed pairs, bootstrap interval; :func:`naslab.analysis.fidelity.seed_ceiling`)
  for validation and test accuracy.

:class:`naslab.benchmarks.local.LocalBenchmark` reads the file as a tabular benchmark.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from naslab.benchmarks.local import FORMAT, FORMAT_VERSION, read_file
from naslab.errors import ConfigError, NaslabError, check_int
from naslab.spaces.base import Architecture, SearchSpace, get_space

__all__ = ["FORMAT", "FORMAT_VERSION", "BuildResult", "BuildLocked", "build_benchmark",
           "select_archs", "read_benchmark_file", "noise_ceilings"]

#: the metrics a run records (besides its curve)
RUN_METRICS = ("val_acc", "val_loss", "test_acc", "test_loss", "train_acc", "train_loss",
               "params_m", "flops_m", "train_time_s")
CURVE_KEYS = ("epoch", "train_loss", "train_acc", "val_acc", "val_loss", "time_s")
SELECTION_RULE = ("uniform draws from space.sample with a seeded numpy generator, mapped to "
                  "space.canonical; the first n distinct classes, in draw order")


class BuildLocked(NaslabError):
    """Another process is building the same benchmark file."""


def select_archs(space: SearchSpace, n: int, seed: int = 0) -> list[Architecture]:
    """``n`` architectures of distinct isomorphism classes (their canonical members), drawn
    uniformly from ``space`` with a generator seeded ``seed`` (see the module docstring).
    A space without a canonical form gives ``n`` distinct architectures."""
    n = check_int("number of architectures", n, minimum=1)
    seed = check_int("selection seed", seed, minimum=0)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xBE7C]))
    out: list[Architecture] = []
    seen: set[Any] = set()
    misses = 0
    while len(out) < n:
        a = space.canonical(space.sample(rng))
        if a.choices in seen:
            misses += 1
            if misses > 2000 + 200 * n:
                raise ConfigError(f"space {space.name!r} offers only about {len(out)} distinct "
                                  f"architecture classes to sample; asked for {n}")
            continue
        seen.add(a.choices)
        out.append(a)
    return out


def read_benchmark_file(path: str | Path) -> dict[str, Any]:
    """The content of a local benchmark file, checked for format and version."""
    return read_file(Path(path))


def _write_atomic(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    data = json.dumps(doc, separators=(",", ":"), allow_nan=True)
    with open(tmp, "w") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):  # persist the rename (not possible on every platform)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``<path>.lock`` for the whole build."""
    import fcntl

    lock = path.with_name(path.name + ".lock")
    f = open(lock, "a+")
    try:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BuildLocked(f"another process is building {path} (it holds {lock}); wait for "
                              f"it to finish or stop it, then run the same command again") from None
        yield
    finally:
        f.close()


def noise_ceilings(doc: dict[str, Any], *, n_boot: int = 1000, seed: int = 0
                   ) -> dict[str, Any]:
    """Seed-to-seed Kendall tau (with bootstrap interval) of val and test accuracy of a
    benchmark document (finished runs only)."""
    from naslab.analysis.fidelity import seed_ceiling

    out: dict[str, Any] = {}
    for metric in ("val_acc", "test_acc"):
        out[metric] = seed_ceiling(run_matrix(doc, metric), n_boot=n_boot, seed=seed)
    return out


def run_matrix(doc: dict[str, Any], metric: str) -> np.ndarray:
    """(archs, seeds) array of ``metric`` over the document's finished runs (NaN = missing)."""
    seeds = list(doc["seeds"])
    t = np.full((len(doc["archs"]), len(seeds)), np.nan)
    col = {s: j for j, s in enumerate(seeds)}
    for r in doc["runs"]:
        if r["seed"] in col:
            t[r["arch"], col[r["seed"]]] = r[metric]
    return t


@dataclass
class BuildResult:
    """What one ``build_benchmark`` session did."""

    path: Path
    complete: bool
    n_archs: int
    seeds: list[int]
    trained: int  # pairs trained in this session
    recorded: int  # finished pairs in the file
    failed: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0  # cumulative build wall time over all sessions
    noise_ceiling: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "complete": self.complete, "n_archs": self.n_archs,
                "seeds": self.seeds, "trained": self.trained, "recorded": self.recorded,
                "failed": self.failed, "build_wall_s": self.wall_s,
                "noise_ceiling": self.noise_ceiling}


def _seed_list(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        return list(range(check_int("seeds", seeds, minimum=1)))
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise ConfigError(f"seeds must be a positive count or a list of seeds, got {seeds!r}")
    out = [check_int("seed", s, minimum=0) for s in seeds]
    if not out or len(set(out)) != len(out):
        raise ConfigError(f"seeds must be a positive count or a list of distinct seeds, got "
                          f"{seeds!r}")
    return out


def _compatible(path: Path, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Raise ConfigError unless ``new`` (this command's header) continues ``old``."""
    diffs = []
    for key in ("space", "selection_seed", "data_options"):
        if old.get(key) != new.get(key):
            diffs.append(f"{key}: file {old.get(key)!r}, now {new.get(key)!r}")
    if old["protocol"].get("hash") != new["protocol"]["hash"]:
        diffs.append(f"protocol hash: file {old['protocol'].get('hash')}, now "
                     f"{new['protocol']['hash']}")
    if old["dataset"].get("fingerprint") != new["dataset"]["fingerprint"]:
        diffs.append("dataset: the images differ (fingerprint "
                     f"{old['dataset'].get('fingerprint')} vs {new['dataset']['fingerprint']})")
    n_old, n_new = len(old["archs"]), len(new["archs"])
    if n_new < n_old:
        diffs.append(f"archs: the file holds {n_old}, the command asks for {n_new} (a smaller "
                     f"benchmark would drop recorded runs)")
    elif old["archs"] != new["archs"][:n_old]:
        diffs.append("archs: the recorded architectures are not the ones this selection draws")
    missing = [s for s in old["seeds"] if s not in new["seeds"]]
    if missing:
        diffs.append(f"seeds: the file has seeds {old['seeds']}, the command drops {missing}")
    if diffs:
        raise ConfigError(f"{path} holds a benchmark of another configuration; it can only be "
                          f"continued by the command that started it (or one asking for more "
                          f"archs / seeds). Differences: " + "; ".join(diffs)
                          + ". Use another --out, or delete the file to start over")


def build_benchmark(out: str | Path, *, space: str | SearchSpace, dataset: str,
                    n_archs: int = 100, seeds: int | Sequence[int] = 3,
                    protocol: Any = "cpu", selection_seed: int = 0,
                    data_dir: str | None = None, split_seed: int = 0,
                    n_train: int | None = None, n_val: int | None = None,
                    n_test: int | None = None, device: str = "cpu", executor: Any = None,
                    on_result: Callable[[dict[str, Any], int, int], None] | None = None,
                    max_runs: int | None = None, n_boot: int = 1000,
                    **overrides: Any) -> BuildResult:
    """Train ``n_archs`` architectures x ``seeds`` stand-alone and write (or continue) the
    benchmark file ``out`` (see the module docstring).

    ``protocol`` and ``overrides`` are the training estimator's (``protocol="cpu",
    epochs=3, image_size=16, channels=1``); ``executor`` a started-or-not
    :class:`~naslab.runner.executors.Executor` (default serial). ``on_result(run, done, total)``
    is called after each finished pair is written; ``max_runs`` stops the session after that
    many new pairs (the file stays resumable). Raises ConfigError when ``out`` holds a
    benchmark of another configuration, :class:`BuildLocked` when another process builds it.
    """
    from naslab.estimators.training import TrainingEstimator
    from naslab.runner.executors import SerialExecutor, Task

    path = Path(out).expanduser()
    if path.exists() and path.is_dir():
        raise ConfigError(f"--out must be a file path, got the directory {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    sp = get_space(space) if isinstance(space, str) else space
    seed_list = _seed_list(seeds)
    if max_runs is not None:
        max_runs = check_int("max_runs", max_runs, minimum=1)
    est = TrainingEstimator(dataset, protocol, data_dir=data_dir, device=device,
                            split_seed=split_seed, n_train=n_train, n_val=n_val, n_test=n_test,
                            num_threads=1, curves=True, **overrides)
    est.check_space(sp)
    archs = select_archs(sp, n_archs, selection_seed)
    data_options = {"dataset": est.dataset_name, "split_seed": split_seed,
                    "n_train": n_train, "n_val": n_val, "n_test": n_test,
                    "channels": est.protocol.channels, "image_size": est.protocol.image_size}
    from naslab import __version__
    from naslab.runner.experiment import run_environment

    header: dict[str, Any] = {
        "format": FORMAT, "version": FORMAT_VERSION, "complete": False,
        "space": sp.name, "dataset": est.data.describe(), "data_options": data_options,
        "protocol": est.protocol.describe(), "epochs": est.protocol.epochs,
        "seeds": seed_list, "selection_seed": selection_seed,
        "selection": {"rule": SELECTION_RULE, "n_archs": len(archs),
                      "canonical": bool(sp.has_canonical)},
        "archs": [str(a) for a in archs], "choices": [list(a.choices) for a in archs],
    }
    with _lock(path):
        if path.exists():
            old = read_benchmark_file(path)
            _compatible(path, old, header)
            runs: list[dict[str, Any]] = list(old["runs"])
            build = dict(old.get("build", {}))
            seed_list = old["seeds"] + [s for s in seed_list if s not in old["seeds"]]
            header["seeds"] = seed_list
        else:
            runs, build = [], {"wall_s": 0.0, "sessions": 0, "created": time.time()}
        build["sessions"] = int(build.get("sessions", 0)) + 1
        build.update(naslab=__version__, environment=run_environment())
        done = {(r["arch"], r["seed"]) for r in runs}
        todo = [(i, s) for i in range(len(archs)) for s in seed_list if (i, s) not in done]
        total = len(archs) * len(seed_list)
        failures: list[dict[str, Any]] = []
        wall0 = float(build.get("wall_s", 0.0))
        t0 = time.perf_counter()

        def save(complete: bool, ceiling: dict[str, Any] | None = None) -> None:
            build["wall_s"] = wall0 + time.perf_counter() - t0
            build["updated"] = time.time()
            doc = {**header, "complete": complete, "runs": runs, "failures": failures,
                   "build": build}
            if ceiling is not None:
                doc["noise_ceiling"] = ceiling
            _write_atomic(path, doc)

        ex = executor if executor is not None else SerialExecutor()
        build["executor"] = ex.describe()
        trained = 0
        if not path.exists():
            save(False)
        try:
            if todo:
                ex.start(est)
                budget = len(todo) if max_runs is None else min(max_runs, len(todo))
                queue = list(todo[:budget])
                pending: dict[int, tuple[int, int]] = {}
                ticket = 0

                def submit() -> None:
                    nonlocal ticket
                    while queue and len(pending) < ex.max_workers:
                        i, s = queue.pop(0)
                        ex.submit(Task(ticket, archs[i], None, s))
                        pending[ticket] = (i, s)
                        ticket += 1

                submit()
                while pending:
                    for res in ex.wait():
                        i, s = pending.pop(res.ticket)
                        if res.fatal is not None:
                            raise res.fatal
                        if res.evaluation is None:
                            failures.append({"arch": i, "seed": s, "error": res.error})
                        else:
                            runs.append(_run_record(i, s, res))
                            trained += 1
                        save(False)
                        if on_result is not None and res.evaluation is not None:
                            on_result(runs[-1], len(runs), total)
                    submit()
        finally:
            if executor is None:
                ex.shutdown()
        complete = len({(r["arch"], r["seed"]) for r in runs}) == total
        ceiling = noise_ceilings({**header, "runs": runs}, n_boot=n_boot) if complete else None
        save(complete, ceiling)
        return BuildResult(path, complete, len(archs), seed_list, trained, len(runs), failures,
                           float(build["wall_s"]), ceiling)


def _run_record(i: int, s: int, res: Any) -> dict[str, Any]:
    ev = res.evaluation
    m = ev.metrics
    hist = ev.info.get("history", [])
    rec: dict[str, Any] = {"arch": i, "seed": s}
    for k in RUN_METRICS:
        rec[k] = float(m[k])
    rec["curve"] = {k: [float(h[k]) for h in hist] for k in CURVE_KEYS if hist and k in hist[0]}
    rec["wall_s"] = float(ev.cost.wall_s)
    rec["finished"] = float(res.finished)
    return rec
