"""The executor interface: :class:`Task` in, :class:`TaskResult` out, and the helpers every
executor's workers share (thread limit, evaluation in a worker, exit-status wording).

An executor receives tasks and hands back results as they finish (asynchronously: a free
worker gets new work at once). Workers never touch storage. An exception inside a worker
becomes a failed result carrying the error text; the run goes on. A ``NaslabError`` (bad
configuration, missing data) is ``fatal``: the driver re-raises it.
"""

from __future__ import annotations

import time
import traceback
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from naslab.errors import ConfigError, NaslabError, check_int
from naslab.estimators.base import Estimator, Evaluation
from naslab.spaces.base import Architecture


@dataclass(slots=True)
class Task:
    """One evaluation the driver hands an executor (one per trial; not frozen, which costs
    a microsecond each; nothing changes it after it is made)."""

    ticket: int
    arch: Architecture
    fidelity: float | None
    seed: int


@dataclass(slots=True)
class TaskResult:
    ticket: int
    evaluation: Evaluation | None
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0
    #: a NaslabError (bad configuration, missing data) is re-raised by the driver, not recorded
    fatal: BaseException | None = None


def run_task(estimator: Estimator, task: Task) -> TaskResult:
    """Evaluate one task, turning ordinary exceptions into a failed result."""
    started = time.time()
    try:
        ev = estimator.evaluate(task.arch, fidelity=task.fidelity, seed=task.seed)
        return TaskResult(task.ticket, ev, None, started, time.time())
    except Exception as exc:  # noqa: BLE001 - recorded as a failed trial
        return failed_result(task.ticket, exc, started)


def failed_result(ticket: int, exc: Exception, started: float) -> TaskResult:
    """The result of an evaluation that raised ``exc`` (call it in the ``except`` block): a
    NaslabError (bad configuration, missing data) is fatal, re-raised by the driver; any
    other exception is a failed trial with its message and traceback."""
    if isinstance(exc, NaslabError):
        return TaskResult(ticket, None, str(exc), started, time.time(), fatal=exc)
    msg = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
    return TaskResult(ticket, None, msg, started, time.time())


class Executor(ABC):
    """Runs tasks for the driver. ``start`` ships the estimator once; ``submit`` queues a task;
    ``wait`` blocks until at least one task is done and returns the finished ones."""

    max_workers: int = 1

    @abstractmethod
    def start(self, estimator: Estimator) -> None: ...

    @abstractmethod
    def submit(self, task: Task) -> None: ...

    @abstractmethod
    def wait(self) -> list[TaskResult]: ...

    def shutdown(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"executor": getattr(self, "registry_name", type(self).__name__),
                "workers": self.max_workers}

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


# --------------------------------------------------------------------------------------------
# shared by the workers of the process pool and the Ray executor


class WorkerError(NaslabError):
    """A worker could not be started or could not load what it runs (a setup error: fatal)."""


def set_worker_threads(threads: int) -> None:
    """Limit a worker's math libraries to ``threads`` threads (called in the worker).

    Sets the usual environment variables (read by torch, OpenMP, MKL and OpenBLAS when they are
    first imported) and, when torch is already imported, ``torch.set_num_threads``.
    """
    import os
    import sys

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
        os.environ[var] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def worker_evaluate(estimator: Estimator, task: Task, threads: int) -> TaskResult:
    """``run_task`` in a worker: re-applies the thread limit (an estimator may have imported
    torch since the last task) and makes sure the result can travel back to the driver."""
    import pickle

    set_worker_threads(threads)
    res = run_task(estimator, task)
    if res.fatal is not None:
        try:
            pickle.dumps(res.fatal)
        except Exception:  # noqa: BLE001 - an unpicklable exception travels as its text
            res.fatal = WorkerError(f"{type(res.fatal).__name__}: {res.fatal}")
    try:
        pickle.dumps(res.evaluation)
    except Exception as exc:  # noqa: BLE001
        return TaskResult(task.ticket, None,
                          f"the evaluation could not be sent back from the worker "
                          f"({type(exc).__name__}: {exc}); keep Evaluation.info picklable",
                          res.started, res.finished)
    return res


def describe_exit(exitcode: int | None) -> str:
    """``exit code 3`` / ``killed by signal SIGKILL (-9)`` for a dead process."""
    import signal

    if exitcode is None:
        return "unknown exit status"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = "; out of memory? the kernel OOM killer sends SIGKILL" if exitcode == -signal.SIGKILL else ""
        return f"killed by {name} ({exitcode}){hint}"
    return f"exit code {exitcode}"


def init_worker_process(threads: int) -> None:
    """Set up a worker process: one Ctrl-C handler (the driver's, which stops the workers)
    and the thread limit."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_worker_threads(threads)


def check_workers(workers: object) -> int:
    """``workers`` / ``--workers``: an integer >= 1."""
    return check_int("workers (--workers)", workers, minimum=1, expected=">= 1")


def pickled_estimator(estimator: Estimator) -> bytes:
    """The estimator's pickle, or a ConfigError saying why it cannot go to worker processes."""
    import pickle

    try:
        return pickle.dumps(estimator)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(
            f"estimator {estimator!r} cannot be sent to worker processes: pickling failed with "
            f"{type(exc).__name__}: {exc} (estimators must be picklable for the process and Ray "
            f"executors; use --executor serial otherwise)") from None


#: the old private name
_pickled_estimator = pickled_estimator


def make_executor(name: str = "serial", *, workers: int | None = None,
                  address: str | None = None, **params: Any) -> Executor:
    """An executor by registry name, with the CLI's ``--workers`` and ``--ray-address``.

    ``workers`` is refused by the serial executor (it evaluates one task at a time) and
    ``address`` by every executor but ``ray``, rather than silently ignored.
    """
    from naslab import registry

    cls = registry.get("executor", name)
    real = getattr(cls, "registry_name", name)
    kw = dict(params)
    if workers is not None:
        if real == "serial":
            if check_workers(workers) != 1:
                raise ConfigError(f"--workers {workers} needs a parallel executor (--executor "
                                  f"process or ray); the serial executor runs one evaluation "
                                  f"at a time")
        else:
            kw["workers"] = workers
    if address is not None:
        if real != "ray":
            raise ConfigError(f"--ray-address is for --executor ray, got --executor {name!r}")
        kw["address"] = address
    ex: Executor = registry.create("executor", real, **kw)
    return ex
