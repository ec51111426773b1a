"""Executors run estimator evaluations; the driver alone records results.

``base``: the interface (:class:`Task`, :class:`TaskResult`, :class:`Executor`,
:func:`run_task`, :func:`make_executor`) and the worker helpers; ``serial``: evaluations in
the driver; ``pool``: :class:`JobPool`, the one local process pool (used by the process
executor, one task per architecture, and by a comparison's ``executor.level: runs``, one
experiment per job); ``process``: the process executor on that pool; ``ray``: the Ray
executor (Ray is imported only when it starts). Registered as kind ``executor``.
"""

from naslab.runner.executors.base import (
    Executor,
    Task,
    TaskResult,
    WorkerError,
    _pickled_estimator,
    check_workers,
    describe_exit,
    init_worker_process,
    make_executor,
    pickled_estimator,
    run_task,
    set_worker_threads,
    worker_evaluate,
)
from naslab.runner.executors.pool import JobHandler, JobPool, JobResult
from naslab.runner.executors.process import EvaluateHandler, ProcessExecutor
from naslab.runner.executors.ray import RayExecutor
from naslab.runner.executors.serial import SerialExecutor

__all__ = [
    "EvaluateHandler", "Executor", "JobHandler", "JobPool", "JobResult", "ProcessExecutor",
    "RayExecutor", "SerialExecutor", "Task", "TaskResult", "WorkerError", "_pickled_estimator",
    "check_workers", "describe_exit", "init_worker_process", "make_executor",
    "pickled_estimator", "run_task", "set_worker_threads", "worker_evaluate",
]
