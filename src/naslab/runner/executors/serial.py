"""The serial executor: evaluations in the driver process, one at a time."""

from __future__ import annotations

from collections import deque

from naslab.estimators.base import Estimator
from naslab.registry import register
from naslab.runner.executors.base import Executor, Task, TaskResult, run_task


@register("executor", "serial")
class SerialExecutor(Executor):
    """Evaluates in the driver process, one task at a time."""

    max_workers = 1

    def __init__(self) -> None:
        self._queue: deque[Task] = deque()
        self._estimator: Estimator | None = None

    def start(self, estimator: Estimator) -> None:
        self._estimator = estimator

    @property
    def estimator(self) -> Estimator:
        """The estimator :meth:`start` was given (the runner's serial loop calls it)."""
        assert self._estimator is not None, "start() first"
        return self._estimator

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    def wait(self) -> list[TaskResult]:
        assert self._estimator is not None, "start() first"
        return [run_task(self._estimator, self._queue.popleft())]

    def run(self, task: Task) -> TaskResult:
        """Evaluate ``task`` now, bypassing the queue (the runner's serial loop)."""
        assert self._estimator is not None, "start() first"
        return run_task(self._estimator, task)
