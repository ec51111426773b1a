"""Executors run estimator evaluations; the driver alone records results.

An executor receives :class:`Task` objects and hands back :class:`TaskResult` objects as they
finish (asynchronously: a free worker gets new work at once). Workers never touch storage. An
exception inside a worker becomes a failed result carrying the error text; the run goes on.
"""

from __future__ import annotations

import time
import traceback
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from typing import Any

from naslab.errors import NaslabError
from naslab.estimators.base import Estimator, Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture


@dataclass(frozen=True)
class Task:
    ticket: int
    arch: Architecture
    fidelity: float | None
    seed: int


@dataclass
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
    except NaslabError as exc:
        return TaskResult(task.ticket, None, str(exc), started, time.time(), fatal=exc)
    except Exception as exc:  # noqa: BLE001 - recorded as a failed trial
        msg = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        return TaskResult(task.ticket, None, msg, started, time.time())


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


@register("executor", "serial")
class SerialExecutor(Executor):
    """Evaluates in the driver process, one task at a time."""

    max_workers = 1

    def __init__(self) -> None:
        self._queue: deque[Task] = deque()
        self._estimator: Estimator | None = None

    def start(self, estimator: Estimator) -> None:
        self._estimator = estimator

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    def wait(self) -> list[TaskResult]:
        assert self._estimator is not None, "start() first"
        return [run_task(self._estimator, self._queue.popleft())]


# --------------------------------------------------------------------------------------------
# shared by the process and Ray executors


class WorkerError(NaslabError):
    """A worker could not be started or could not load the estimator (a setup error: fatal)."""


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
    """Initializer of pool processes that run whole jobs: one Ctrl-C handler (the driver's)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_worker_threads(threads)


def check_workers(workers: object) -> int:
    from naslab.errors import check_int

    return check_int("workers (--workers)", workers, minimum=1, expected=">= 1")


def _pickled_estimator(estimator: Estimator) -> bytes:
    import pickle

    try:
        return pickle.dumps(estimator)
    except Exception as exc:  # noqa: BLE001
        from naslab.errors import ConfigError

        raise ConfigError(
            f"estimator {estimator!r} cannot be sent to worker processes: pickling failed with "
            f"{type(exc).__name__}: {exc} (estimators must be picklable for the process and Ray "
            f"executors; use --executor serial otherwise)") from None


# --------------------------------------------------------------------------------------------
# local process pool


def _process_worker_main(conn: Any, payload: bytes, threads: int) -> None:
    """Body of one worker process: load the estimator, then evaluate tasks until told to stop."""
    import pickle
    import signal

    # Ctrl-C reaches the whole process group: the driver handles it and stops the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_worker_threads(threads)
    try:
        estimator = pickle.loads(payload)
    except BaseException as exc:  # noqa: BLE001 - reported to the driver, which stops the run
        msg = f"{type(exc).__name__}: {exc}"
        try:
            conn.send(("load_error", msg, isinstance(exc, NaslabError)))
        finally:
            conn.close()
        return
    conn.send(("ready", None, None))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the driver is gone
            return
        if task is None:
            return
        conn.send(worker_evaluate(estimator, task, threads))


class _Worker:
    __slots__ = ("process", "conn", "task", "started", "ready")

    def __init__(self, process: Any, conn: Any) -> None:
        self.process, self.conn = process, conn
        self.task: Task | None = None
        self.started = 0.0
        self.ready = False


_live_pools: Any = None  # weakref.WeakSet of ProcessExecutor, shut down at interpreter exit


def _shutdown_live_pools() -> None:
    for ex in list(_live_pools or ()):
        ex.shutdown()


@register("executor", "process", aliases=("processes", "pool"))
class ProcessExecutor(Executor):
    """A pool of local worker processes; a free worker gets the next task at once.

    Each worker loads the estimator once (it is pickled at ``start``) and runs with
    ``threads_per_worker`` math-library threads (torch included). An exception inside the
    estimator becomes a failed trial carrying its text. A worker process that dies (segfault,
    ``os._exit``, OOM kill) fails the trial it was running with the exit status, is replaced by
    a fresh process, and the run goes on. Workers never touch storage.

    ``start_method`` is multiprocessing's: ``forkserver`` by default where available (workers
    fork from a clean server process that has imported naslab: fast to start and replace, and
    safe with torch and threads, unlike ``fork``), else ``spawn``. As with any multiprocessing
    code, a script that starts runs needs the ``if __name__ == "__main__":`` guard.
    """

    def __init__(self, workers: int = 2, *, threads_per_worker: int = 1,
                 start_method: str | None = None) -> None:
        import multiprocessing as mp

        from naslab.errors import ConfigError, check_int, did_you_mean

        self.max_workers = check_workers(workers)
        self.threads_per_worker = check_int("threads_per_worker", threads_per_worker, minimum=1)
        methods = mp.get_all_start_methods()
        if start_method is None:
            start_method = "forkserver" if "forkserver" in methods else "spawn"
        if start_method not in methods:
            raise ConfigError(f"start_method must be one of {methods}, got "
                              f"{start_method!r}{did_you_mean(str(start_method), methods)}")
        self.start_method = start_method
        self._ctx = mp.get_context(start_method)
        if start_method == "forkserver":
            # the server imports naslab once; workers fork from it (no-op once it runs)
            self._ctx.set_forkserver_preload(["__main__", "naslab.runner.executors"])
        self._workers: list[_Worker] = []
        self._queue: deque[Task] = deque()
        self._payload: bytes | None = None
        self._done: list[TaskResult] = []
        self._startup_deaths = 0
        #: worker processes replaced after dying (for tests and reports)
        self.replaced = 0

    # lifecycle ------------------------------------------------------------------------------
    def start(self, estimator: Estimator) -> None:
        payload = _pickled_estimator(estimator)
        busy = self._queue or self._done or any(w.task is not None for w in self._workers)
        if self._workers and payload == self._payload and not busy:
            return  # same estimator, idle pool: keep the warm workers
        self.shutdown()
        self._payload = payload
        self._startup_deaths = 0
        global _live_pools
        if _live_pools is None:
            import atexit
            import weakref

            _live_pools = weakref.WeakSet()
            atexit.register(_shutdown_live_pools)
        _live_pools.add(self)
        for _ in range(self.max_workers):
            self._workers.append(self._spawn())

    def _spawn(self) -> _Worker:
        assert self._payload is not None
        parent, child = self._ctx.Pipe(duplex=True)
        p = self._ctx.Process(  # type: ignore[attr-defined]
            target=_process_worker_main, name="naslab-worker",
            args=(child, self._payload, self.threads_per_worker))
        p.start()
        child.close()
        return _Worker(p, parent)

    def shutdown(self) -> None:
        workers, self._workers = self._workers, []
        for w in workers:
            try:
                if w.process.is_alive():
                    w.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for w in workers:
            w.process.join(timeout=2.0 if w.task is None else 0.1)
            if w.process.is_alive():
                w.process.terminate()
                w.process.join(timeout=2.0)
            if w.process.is_alive():  # pragma: no cover - stuck in native code
                w.process.kill()
                w.process.join(timeout=2.0)
            w.conn.close()
        self._queue.clear()
        self._done.clear()

    # tasks -------------------------------------------------------------------------------
    def submit(self, task: Task) -> None:
        if not self._workers:
            raise RuntimeError("ProcessExecutor.start(estimator) must be called before submit()")
        self._queue.append(task)
        self._dispatch()

    def _dispatch(self) -> None:
        for w in self._workers:
            if not self._queue:
                return
            if w.task is None:
                task = self._queue.popleft()
                try:
                    w.conn.send(task)
                except (OSError, BrokenPipeError):
                    self._queue.appendleft(task)  # dead worker: wait() notices and replaces it
                    continue
                w.task, w.started = task, time.time()

    def wait(self) -> list[TaskResult]:
        from multiprocessing.connection import wait as mp_wait

        if not self._workers:
            raise RuntimeError("ProcessExecutor.start(estimator) must be called before wait()")
        while not self._done:
            if not self._queue and not any(w.task is not None for w in self._workers):
                raise RuntimeError("wait() called with no task submitted")
            handles: dict[Any, _Worker] = {}
            for w in self._workers:
                handles[w.conn] = w
                handles[w.process.sentinel] = w
            for h in mp_wait(list(handles)):
                w = handles[h]
                if w not in self._workers:
                    continue  # already replaced in this round
                if h is w.conn:
                    self._receive(w)
                elif not w.conn.poll():  # exited, and nothing left to read
                    self._replace(w)
            self._dispatch()
        out, self._done = self._done, []
        return out

    def _receive(self, w: _Worker) -> None:
        try:
            msg = w.conn.recv()
        except (EOFError, OSError):
            self._replace(w)
            return
        except Exception as exc:  # noqa: BLE001 - a result that cannot be unpickled here
            if w.task is not None:
                self._done.append(TaskResult(w.task.ticket, None,
                                             f"the worker's result could not be read: "
                                             f"{type(exc).__name__}: {exc}", w.started, time.time()))
                w.task = None
            return
        if isinstance(msg, tuple):
            kind, text, is_naslab = msg
            if kind == "ready":
                w.ready = True
                self._startup_deaths = 0
                return
            self.shutdown()
            raise WorkerError(f"a worker process could not load the estimator: {text}"
                              + ("" if is_naslab else " (the estimator must unpickle in a fresh "
                                                      "process: is its class importable there?)"))
        if w.task is not None and msg.ticket == w.task.ticket:
            w.task = None
            self._done.append(msg)

    def _replace(self, w: _Worker) -> None:
        w.process.join(timeout=5.0)
        how = describe_exit(w.process.exitcode)
        w.conn.close()
        i = self._workers.index(w)
        if w.task is not None:
            self._done.append(TaskResult(
                w.task.ticket, None,
                f"worker process {w.process.pid} died while evaluating {w.task.arch} ({how}); "
                f"the trial is marked failed and a new worker process was started",
                w.started, time.time()))
        if not w.ready:
            self._startup_deaths += 1
            if self._startup_deaths > 2 * self.max_workers + 2:
                self.shutdown()
                raise WorkerError(f"worker processes keep dying before they are ready (last: "
                                  f"{how}); the pool cannot start")
        self.replaced += 1
        self._workers[i] = self._spawn()

    def describe(self) -> dict[str, Any]:
        return {"executor": "process", "workers": self.max_workers,
                "threads_per_worker": self.threads_per_worker}

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.max_workers})"


def make_executor(name: str = "serial", *, workers: int | None = None,
                  address: str | None = None, **params: Any) -> Executor:
    """An executor by registry name, with the CLI's ``--workers`` and ``--ray-address``.

    ``workers`` is refused by the serial executor (it evaluates one task at a time) and
    ``address`` by every executor but ``ray``, rather than silently ignored.
    """
    from naslab import registry
    from naslab.errors import ConfigError

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
    return registry.create("executor", real, **kw)  # type: ignore[no-any-return]
