"""The one local process pool: long-lived worker processes that run jobs for the driver.

A :class:`JobPool` starts ``workers`` processes, ships each one a :class:`JobHandler` (pickled
once), and hands jobs to free workers as they come: ``submit(ticket, job)`` queues a job,
``wait()`` blocks until at least one is done and returns every finished one as a
:class:`JobResult`. Both kinds of parallelism use it: the process executor's handler evaluates
one architecture per job (:mod:`naslab.runner.executors.process`), a comparison's
``executor.level: runs`` handler runs one whole experiment per job
(:mod:`naslab.runner.compare.run`).

What the pool guarantees, whatever the handler: a worker that dies (segfault, ``os._exit``,
SIGKILL / OOM) is noticed at once (the driver waits on every pipe and process sentinel
together), the job it held comes back as a result with ``died=True`` and the exit status, and a
fresh worker takes its place; an exception raised by the handler comes back as ``raised``; a
handler that cannot be loaded in a worker is a :class:`WorkerError`; Ctrl-C reaches the driver
only (workers ignore SIGINT) and ``shutdown()`` stops busy workers at once. Workers never touch
storage: the driver records.

Start method: ``forkserver`` by default where available (workers fork from a clean server
process that has imported naslab: fast to start and replace, and safe with torch and threads,
unlike ``fork``), else ``spawn``. As with any multiprocessing code, a script that starts a pool
needs the ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from naslab.errors import ConfigError, NaslabError, check_int, did_you_mean
from naslab.runner.executors.base import (
    WorkerError,
    check_workers,
    describe_exit,
    init_worker_process,
    set_worker_threads,
)


class JobHandler:
    """What every worker of a pool runs: unpickled once per worker, :meth:`setup` there, then
    called once per job. Subclasses must be importable in a fresh process."""

    #: what a worker loads, for messages ("the estimator")
    loads = "the job handler"

    def setup(self) -> None:
        """Called in the worker after unpickling (load what the jobs share)."""

    def __call__(self, job: Any) -> Any:
        raise NotImplementedError


@dataclass
class JobResult:
    """The outcome of one job: ``value`` (what the handler returned), or ``raised`` (the
    exception it raised), or ``lost`` (why no result came back: the worker died, ``died``, or
    the result could not be sent or read)."""

    ticket: int
    job: Any
    value: Any = None
    raised: BaseException | None = None
    lost: str | None = None
    #: the worker died while running the job; ``exit`` says how (``killed by SIGSEGV (-11)``)
    died: bool = False
    exit: str | None = None
    pid: int | None = None
    started: float = 0.0
    finished: float = 0.0


def _worker_main(conn: Any, payload: bytes, threads: int) -> None:
    """Body of one worker process: load the handler, then run jobs until told to stop."""
    import os
    import pickle

    # Ctrl-C reaches the whole process group: the driver handles it and stops the workers
    init_worker_process(threads)
    try:
        handler = pickle.loads(payload)
        handler.setup()
    except BaseException as exc:  # noqa: BLE001 - reported to the driver, which stops
        try:
            conn.send(("load_error", f"{type(exc).__name__}: {exc}", isinstance(exc, NaslabError)))
        finally:
            conn.close()
        return
    conn.send(("ready", os.getpid(), None))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the driver is gone
            return
        if msg is None:
            return
        ticket, job = msg
        set_worker_threads(threads)  # a job may have imported torch since the last one
        try:
            out: tuple[str, int, Any] = ("done", ticket, handler(job))
        except Exception as exc:  # noqa: BLE001 - the driver decides what it means
            out = ("raised", ticket, exc)
        try:
            conn.send(out)  # pickled before anything is written: a failure leaves the pipe clean
        except Exception as exc:  # noqa: BLE001
            if out[0] == "raised":  # an unpicklable exception travels as its text
                conn.send(("raised", ticket, WorkerError(f"{type(out[2]).__name__}: {out[2]}")))
            else:
                conn.send(("lost", ticket, f"the result could not be sent back from the worker "
                                           f"({type(exc).__name__}: {exc})"))


class _Worker:
    __slots__ = ("process", "conn", "ticket", "job", "started", "ready")

    def __init__(self, process: Any, conn: Any) -> None:
        self.process, self.conn = process, conn
        self.ticket: int | None = None
        self.job: Any = None
        self.started = 0.0
        self.ready = False


_live_pools: Any = None  # weakref.WeakSet of JobPool, shut down at interpreter exit


def _shutdown_live_pools() -> None:
    for pool in list(_live_pools or ()):
        pool.shutdown()


class JobPool:
    """``workers`` local processes running jobs for the driver (see the module docstring).

    ``threads_per_worker``: math-library threads of each worker (torch included);
    ``start_method``: multiprocessing's (default ``forkserver`` where available, else
    ``spawn``); ``preload``: modules the forkserver imports once, so that workers fork with
    them loaded.
    """

    def __init__(self, workers: int = 2, *, threads_per_worker: int = 1,
                 start_method: str | None = None, preload: Sequence[str] = ()) -> None:
        import multiprocessing as mp

        self.max_workers = check_workers(workers)
        self.threads_per_worker = check_int("threads_per_worker", threads_per_worker, minimum=1)
        methods = mp.get_all_start_methods()
        if start_method is None:
            start_method = "forkserver" if "forkserver" in methods else "spawn"
        if start_method not in methods:
            raise ConfigError(f"start_method must be one of {methods}, got "
                              f"{start_method!r}{did_you_mean(str(start_method), methods)}")
        self.start_method = start_method
        self._ctx: Any = mp.get_context(start_method)
        if start_method == "forkserver":
            # the server imports these once; workers fork from it (no-op once it runs)
            self._ctx.set_forkserver_preload(["__main__", __name__, *preload])
        self._workers: list[_Worker] = []
        self._queue: deque[tuple[int, Any]] = deque()
        self._payload: bytes | None = None
        self._loads = JobHandler.loads
        self._done: list[JobResult] = []
        self._startup_deaths = 0
        #: worker processes replaced after dying (for tests and reports)
        self.replaced = 0

    # lifecycle ------------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return bool(self._workers)

    @property
    def busy(self) -> bool:
        """Jobs queued, running, or finished and not yet collected."""
        return bool(self._queue or self._done or any(w.ticket is not None for w in self._workers))

    def start(self, handler: JobHandler) -> bool:
        """Start the workers with ``handler``. Idle workers already running a handler that
        pickles to the same bytes are kept (warm); otherwise the pool restarts, dropping jobs
        left in flight. Returns whether new workers were started."""
        import pickle

        try:
            payload = pickle.dumps(handler)
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(f"{handler.loads} cannot be sent to worker processes: pickling "
                              f"failed with {type(exc).__name__}: {exc}") from None
        if self._workers and payload == self._payload and not self.busy:
            return False
        self.shutdown()
        self._payload, self._loads = payload, handler.loads
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
        return True

    def _spawn(self) -> _Worker:
        assert self._payload is not None
        parent, child = self._ctx.Pipe(duplex=True)
        p = self._ctx.Process(target=_worker_main, name="naslab-worker",
                              args=(child, self._payload, self.threads_per_worker))
        p.start()
        child.close()
        return _Worker(p, parent)

    def shutdown(self) -> None:
        """Stop every worker: idle ones are told to exit, busy ones are terminated at once
        (their jobs are dropped); queued and uncollected results are discarded."""
        workers, self._workers = self._workers, []
        for w in workers:
            try:
                if w.process.is_alive():
                    w.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for w in workers:
            w.process.join(timeout=2.0 if w.ticket is None else 0.1)
            if w.process.is_alive():
                w.process.terminate()
                w.process.join(timeout=2.0)
            if w.process.is_alive():  # pragma: no cover - stuck in native code
                w.process.kill()
                w.process.join(timeout=2.0)
            w.conn.close()
        self._queue.clear()
        self._done.clear()

    def __enter__(self) -> JobPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()

    # jobs -------------------------------------------------------------------------------
    def submit(self, ticket: int, job: Any) -> None:
        if not self._workers:
            raise RuntimeError("JobPool.start(handler) must be called before submit()")
        self._queue.append((ticket, job))
        self._dispatch()

    def _dispatch(self) -> None:
        for w in self._workers:
            if not self._queue:
                return
            if w.ticket is None:
                ticket, job = self._queue.popleft()
                try:
                    w.conn.send((ticket, job))
                except (OSError, BrokenPipeError):
                    self._queue.appendleft((ticket, job))  # dead worker: wait() replaces it
                    continue
                w.ticket, w.job, w.started = ticket, job, time.time()

    def wait(self) -> list[JobResult]:
        """Block until a job is done and return it (as a list, one result per call: the
        caller hands out new work before it collects the next result, which stays ready)."""
        from multiprocessing.connection import wait as mp_wait

        if not self._workers:
            raise RuntimeError("JobPool.start(handler) must be called before wait()")
        while not self._done:
            if not self._queue and not any(w.ticket is not None for w in self._workers):
                raise RuntimeError("wait() called with no job submitted")
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
                if self._done:  # hand it back now; the others stay ready for the next call
                    break
            self._dispatch()
        out, self._done = self._done, []
        return out

    def _finish(self, w: _Worker, **kw: Any) -> None:
        assert w.ticket is not None
        self._done.append(JobResult(w.ticket, w.job, pid=w.process.pid, started=w.started,
                                    finished=time.time(), **kw))
        w.ticket, w.job = None, None

    def _receive(self, w: _Worker) -> None:
        try:
            msg = w.conn.recv()
        except (EOFError, OSError):
            self._replace(w)
            return
        except Exception as exc:  # noqa: BLE001 - a result that cannot be unpickled here
            if w.ticket is not None:
                self._finish(w, lost=f"the worker's result could not be read: "
                                     f"{type(exc).__name__}: {exc}")
            return
        kind, a, b = msg
        if kind == "ready":
            w.ready = True
            self._startup_deaths = 0
            return
        if kind == "load_error":
            self.shutdown()
            raise WorkerError(f"a worker process could not load {self._loads}: {a}"
                              + ("" if b else f" ({self._loads} must unpickle in a fresh "
                                              f"process: is its class importable there?)"))
        if w.ticket is None or a != w.ticket:  # pragma: no cover - protocol error
            return
        if kind == "done":
            self._finish(w, value=b)
        elif kind == "raised":
            self._finish(w, raised=b)
        else:
            self._finish(w, lost=b)

    def _replace(self, w: _Worker) -> None:
        w.process.join(timeout=5.0)
        how = describe_exit(w.process.exitcode)
        w.conn.close()
        i = self._workers.index(w)
        if w.ticket is not None:
            self._finish(w, lost=f"worker process {w.process.pid} died ({how})", died=True,
                         exit=how)
        if not w.ready:
            self._startup_deaths += 1
            if self._startup_deaths > 2 * self.max_workers + 2:
                self.shutdown()
                raise WorkerError(f"worker processes keep dying before they are ready (last: "
                                  f"{how}); the pool cannot start")
        self.replaced += 1
        self._workers[i] = self._spawn()

    def __repr__(self) -> str:
        return f"JobPool(workers={self.max_workers}, start_method={self.start_method!r})"
