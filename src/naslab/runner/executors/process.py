"""The process executor: evaluations in local worker processes of a :class:`JobPool`."""

from __future__ import annotations

from typing import Any

from naslab.estimators.base import Estimator
from naslab.registry import register
from naslab.runner.executors.base import (
    Executor,
    Task,
    TaskResult,
    pickled_estimator,
    worker_evaluate,
)
from naslab.runner.executors.pool import JobHandler, JobPool


class EvaluateHandler(JobHandler):
    """A pool worker that loads one estimator and evaluates one :class:`Task` per job."""

    loads = "the estimator"

    def __init__(self, payload: bytes, threads: int) -> None:
        self.payload, self.threads = payload, threads
        self.estimator: Estimator | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"payload": self.payload, "threads": self.threads}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.payload, self.threads = state["payload"], state["threads"]
        self.estimator = None

    def setup(self) -> None:
        import pickle

        self.estimator = pickle.loads(self.payload)

    def __call__(self, job: Any) -> TaskResult:
        assert self.estimator is not None, "setup() first"
        return worker_evaluate(self.estimator, job, self.threads)


@register("executor", "process", aliases=("processes", "pool"))
class ProcessExecutor(Executor):
    """A pool of local worker processes; a free worker gets the next task at once.

    Each worker loads the estimator once (it is pickled at ``start``) and runs with
    ``threads_per_worker`` math-library threads (torch included). An exception inside the
    estimator becomes a failed trial carrying its text. A worker process that dies (segfault,
    ``os._exit``, OOM kill) fails the trial it was running with the exit status, is replaced by
    a fresh process, and the run goes on. Workers never touch storage.

    The workers are those of a :class:`~naslab.runner.executors.pool.JobPool` (the pool a
    comparison's ``executor.level: runs`` uses too); ``start_method`` is multiprocessing's:
    ``forkserver`` by default where available, else ``spawn``. As with any multiprocessing
    code, a script that starts runs needs the ``if __name__ == "__main__":`` guard.
    """

    def __init__(self, workers: int = 2, *, threads_per_worker: int = 1,
                 start_method: str | None = None) -> None:
        self.pool = JobPool(workers, threads_per_worker=threads_per_worker,
                            start_method=start_method, preload=(__name__,))
        self.max_workers = self.pool.max_workers
        self.threads_per_worker = self.pool.threads_per_worker
        self.start_method = self.pool.start_method

    @property
    def replaced(self) -> int:
        """Worker processes replaced after dying (for tests and reports)."""
        return self.pool.replaced

    def start(self, estimator: Estimator) -> None:
        """Ship the estimator to the workers; an idle pool already holding an estimator that
        pickles to the same bytes keeps its warm workers."""
        self.pool.start(EvaluateHandler(pickled_estimator(estimator), self.threads_per_worker))

    def shutdown(self) -> None:
        self.pool.shutdown()

    def submit(self, task: Task) -> None:
        if not self.pool.started:
            raise RuntimeError("ProcessExecutor.start(estimator) must be called before submit()")
        self.pool.submit(task.ticket, task)

    def wait(self) -> list[TaskResult]:
        if not self.pool.started:
            raise RuntimeError("ProcessExecutor.start(estimator) must be called before wait()")
        out = []
        for r in self.pool.wait():
            if r.value is not None:
                out.append(r.value)
                continue
            task: Task = r.job
            if r.died:
                msg = (f"worker process {r.pid} died while evaluating {task.arch} ({r.exit}); "
                       f"the trial is marked failed and a new worker process was started")
            elif r.raised is not None:  # pragma: no cover - worker_evaluate catches everything
                msg = f"{type(r.raised).__name__}: {r.raised}"
            else:
                msg = str(r.lost)
            out.append(TaskResult(task.ticket, None, msg, r.started, r.finished))
        return out

    def describe(self) -> dict[str, Any]:
        return {"executor": "process", "workers": self.max_workers,
                "threads_per_worker": self.threads_per_worker}

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.max_workers})"
