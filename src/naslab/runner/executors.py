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
