"""The one process pool: its job protocol, and both kinds of parallelism going through it
(the process executor, one task per architecture; a comparison's ``level: runs``, one
experiment per job)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from naslab.errors import NaslabError
from naslab.runner import Experiment, MaxTrials, SQLiteStorage
from naslab.runner.compare import load_config, run_comparison
from naslab.runner.compare import run as compare_run
from naslab.runner.executors import (
    EvaluateHandler,
    JobHandler,
    JobPool,
    ProcessExecutor,
    WorkerError,
)
from naslab.spaces import DEFAULT_SPACE, get_space
from naslab.strategies.random_search import RandomSearch
from naslab.testing.executors import FaultyEstimator

SRC = Path(__file__).resolve().parents[2] / "src" / "naslab"


class Square(JobHandler):
    """Jobs: ints. Squares them; ``-1`` raises, ``-3`` kills the worker (``os._exit(3)``)."""

    loads = "the squarer"

    def __call__(self, job: Any) -> Any:
        if job == -1:
            raise RuntimeError("no square for -1")
        if job == -3:
            os._exit(3)
        return job * job, os.getpid()


class Unloadable(JobHandler):
    loads = "the unloadable handler"

    def setup(self) -> None:
        raise RuntimeError("cannot set up")


def _collect(pool: JobPool, n: int) -> dict[int, Any]:
    out: dict[int, Any] = {}
    while len(out) < n:
        for r in pool.wait():
            out[r.ticket] = r
    return out


def test_pool_returns_values_errors_and_deaths_and_keeps_warm_workers() -> None:
    with JobPool(2) as pool:
        assert pool.start(Square()) is True
        for i, job in enumerate([2, -1, 3, -3, 4]):
            pool.submit(i, job)
        got = _collect(pool, 5)
        assert [got[i].value[0] for i in (0, 2, 4)] == [4, 9, 16]
        assert isinstance(got[1].raised, RuntimeError) and "no square" in str(got[1].raised)
        dead = got[3]
        assert dead.died and dead.value is None and dead.exit == "exit code 3"
        assert dead.job == -3 and "died (exit code 3)" in (dead.lost or "")
        assert pool.replaced == 1
        # the same handler on an idle pool: the warm workers stay; another one restarts them
        workers = {w.process.pid for w in pool._workers}
        assert pool.start(Square()) is False
        pool.submit(9, 5)
        (r,) = pool.wait()
        assert r.value[0] == 25 and r.value[1] in workers
        assert {w.process.pid for w in pool._workers} == workers
        assert pool.start(Cube()) is True
        assert not workers & {w.process.pid for w in pool._workers}
        pool.submit(10, 3)
        assert pool.wait()[0].value == 27


class Cube(JobHandler):
    def __call__(self, job: Any) -> Any:
        return job ** 3


def test_pool_handler_that_cannot_load_is_a_worker_error() -> None:
    with JobPool(1) as pool, pytest.raises(WorkerError, match="could not load the unloadable "
                                                              "handler: RuntimeError: cannot set up"):
        pool.start(Unloadable())
        pool.submit(0, 1)
        pool.wait()


# --- one pool for both kinds of parallelism ------------------------------------------------


def test_only_the_pool_starts_worker_processes() -> None:
    """No second pool: outside executors/pool.py nothing in runner/ starts processes."""
    for path in sorted((SRC / "runner").rglob("*.py")):
        text = path.read_text()
        for needle in ("ProcessPoolExecutor", ".Process(", "multiprocessing.Pool", "mp.Pool"):
            if path.name != "pool.py":
                assert needle not in text, f"{path.relative_to(SRC)} uses {needle}"
    assert isinstance(ProcessExecutor(2).pool, JobPool)


def _cmp(tmp_path: Path, name: str, **over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name, "strategies": ["re"], "seeds": 3,
                         "targets": ["nb201/cifar10"], "budget": {"trials": 15},
                         "storage": str(tmp_path / f"{name}.db")}
    d.update(over)
    return d


def test_process_executor_and_level_runs_go_through_the_same_pool(
        tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[type, type]] = []
    real_start = JobPool.start

    def spy(self: JobPool, handler: JobHandler) -> bool:
        started.append((type(self), type(handler)))
        return real_start(self, handler)

    monkeypatch.setattr(JobPool, "start", spy)
    with ProcessExecutor(2) as ex:
        res = Experiment(get_space(DEFAULT_SPACE), RandomSearch(), FaultyEstimator(),
                         termination=MaxTrials(6), seed=1, executor=ex).run()
    assert res.n_trials == 6
    par = {"name": "process", "workers": 2, "level": "runs"}
    out = run_comparison(load_config(_cmp(tmp_path, "runs", executor=par)))
    assert out.count("new") == 6
    assert started == [(JobPool, EvaluateHandler), (JobPool, compare_run.RunJobs)]


class DiesOnSeed1(compare_run.RunJobs):
    """A ``level: runs`` worker that dies (``os._exit(3)``) on the runs of seed 1."""

    def __call__(self, job: dict[str, Any]) -> dict[str, Any]:
        if job["seed"] == 1:
            os._exit(3)
        return super().__call__(job)


def test_worker_death_in_level_runs_is_a_clear_error_and_a_rerun_completes(
        tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    par = {"name": "process", "workers": 2, "level": "runs"}
    cfg = load_config(_cmp(tmp_path, "crash", executor=par))
    monkeypatch.setattr(compare_run, "RunJobs", DiesOnSeed1)
    with pytest.raises(NaslabError, match=r"a worker process died while running \S+ \(level: "
                                          r"runs; exit code 3\); the runs that finished are "
                                          r"recorded: run the comparison again"):
        run_comparison(cfg)
    st = SQLiteStorage(cfg.storage)
    assert all(e.status == "finished" and e.n_trials == 15 for e in st.experiments())
    st.close()
    monkeypatch.undo()
    res = run_comparison(cfg)
    assert res.count("new") + res.count("reused") == 6 and res.count("new") >= 2
    ref = run_comparison(load_config(_cmp(tmp_path, "crash", storage=str(tmp_path / "ref.db"))))
    assert [(r.experiment_id, r.test_acc, r.n_trials) for r in res.runs] == \
        [(r.experiment_id, r.test_acc, r.n_trials) for r in ref.runs]
