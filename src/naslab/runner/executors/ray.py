"""Ray executor: evaluations on Ray actors, on a running cluster or a local one.

Ray is an optional extra (``pip install 'naslab[ray]'``) and is imported only when the executor
starts. Each worker is an actor that loads the estimator once and evaluates one task at a time
with ``threads_per_worker`` math-library threads; the driver alone writes storage.
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import Any

from naslab.errors import ConfigError, NaslabError, check_float, check_int
from naslab.estimators.base import Estimator
from naslab.registry import register
from naslab.runner.executors.base import (
    Executor,
    Task,
    TaskResult,
    WorkerError,
    check_workers,
    pickled_estimator,
    set_worker_threads,
    worker_evaluate,
)


def import_ray() -> Any:
    """``import ray`` with a clear error when the extra is not installed."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            f"the ray executor needs Ray, which is not installed ({exc}); install it with "
            f"pip install 'naslab[ray]', or use --executor process") from None
    return ray


class _RayWorker:
    """Body of one Ray actor (wrapped with ``ray.remote`` at start)."""

    def __init__(self, payload: bytes, threads: int) -> None:
        import pickle

        set_worker_threads(threads)
        self.threads = threads
        self.error: tuple[str, bool] | None = None
        self.estimator: Estimator | None = None
        try:
            self.estimator = pickle.loads(payload)
        except BaseException as exc:  # noqa: BLE001 - reported by ready()
            self.error = (f"{type(exc).__name__}: {exc}", isinstance(exc, NaslabError))

    def ready(self) -> tuple[int, tuple[str, bool] | None]:
        return os.getpid(), self.error

    def evaluate(self, task: Task) -> TaskResult:
        if self.estimator is None:
            msg = self.error[0] if self.error else "no estimator"
            now = time.time()
            return TaskResult(task.ticket, None, msg, now, now,
                              fatal=WorkerError(f"a Ray worker could not load the estimator: {msg}"))
        return worker_evaluate(self.estimator, task, self.threads)


@register("executor", "ray")
class RayExecutor(Executor):
    """Evaluations on ``workers`` Ray actors (one CPU each by default).

    ``address`` joins a running cluster (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``);
    without it a local Ray instance is started with at least ``workers`` CPUs and stopped at
    ``shutdown``. If Ray is already initialised in this process, that instance is used and
    left running. naslab (and what the estimator needs) must be installed on every node.

    A free actor gets the next task at once. An exception in the estimator is a failed trial
    carrying its text; an actor whose process dies (segfault, ``os._exit``, OOM kill, lost
    node) fails the trial it was running and is replaced by a new actor; the run goes on.
    """

    def __init__(self, workers: int = 2, *, address: str | None = None,
                 threads_per_worker: int = 1, cpus_per_worker: float = 1.0,
                 startup_timeout_s: float = 180.0, log_to_driver: bool = False) -> None:
        self.max_workers = check_workers(workers)
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ConfigError(f"Ray address (--ray-address) must be a non-empty string such as "
                              f"'auto' or 'ray://host:10001', got {address!r}")
        self.address = address
        self.threads_per_worker = check_int("threads_per_worker", threads_per_worker, minimum=1)
        self.cpus_per_worker = check_float("cpus_per_worker", cpus_per_worker, minimum=0)
        self.startup_timeout_s = check_float("startup_timeout_s", startup_timeout_s, minimum=0,
                                             strict_min=True)
        self.log_to_driver = bool(log_to_driver)
        self._ray: Any = None
        self._owns_ray = False
        self._actor_cls: Any = None
        self._payload: bytes | None = None
        self._payload_ref: Any = None
        self._actors: list[Any] = []
        self._busy: list[bool] = []
        self._refs: dict[Any, tuple[int, Task, float]] = {}
        self._queue: deque[Task] = deque()
        self._done: list[TaskResult] = []
        #: actors replaced after dying (for tests and reports)
        self.replaced = 0

    # lifecycle ------------------------------------------------------------------------------
    def _init_ray(self) -> Any:
        ray = import_ray()
        if not ray.is_initialized():
            import logging

            kw: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                                  "log_to_driver": self.log_to_driver}
            if self.address is None:
                need = int(-(-self.max_workers * self.cpus_per_worker // 1))
                kw["num_cpus"] = max(need, os.cpu_count() or 1)
            try:
                ray.init(address=self.address, **kw)
            except ConnectionError as exc:
                raise ConfigError(f"cannot join the Ray cluster at {self.address!r}: {exc}") from None
            self._owns_ray = True
        self._ray = ray
        have = float(ray.cluster_resources().get("CPU", 0.0))
        need_cpus = self.max_workers * self.cpus_per_worker
        if have < need_cpus:
            where = f"at {self.address!r}" if self.address else "(local)"
            raise ConfigError(
                f"the Ray cluster {where} has {have:g} CPUs, but {self.max_workers} workers with "
                f"{self.cpus_per_worker:g} CPU each need {need_cpus:g}; lower --workers")
        if self._actor_cls is None:
            self._actor_cls = ray.remote(num_cpus=self.cpus_per_worker, max_restarts=0,
                                         max_task_retries=0)(_RayWorker)
        return ray

    def start(self, estimator: Estimator) -> None:
        payload = pickled_estimator(estimator)
        busy = self._queue or self._done or self._refs
        if self._actors and payload == self._payload and not busy:
            return  # same estimator, idle actors: keep them
        self._stop_actors()
        ray = self._init_ray()
        self._payload = payload
        self._payload_ref = ray.put(payload)
        self._actors = [self._new_actor() for _ in range(self.max_workers)]
        self._busy = [False] * self.max_workers
        try:
            states = ray.get([a.ready.remote() for a in self._actors],
                             timeout=self.startup_timeout_s)
        except ray.exceptions.GetTimeoutError:
            self.shutdown()
            raise WorkerError(
                f"Ray did not start {self.max_workers} workers within {self.startup_timeout_s:g} s "
                f"(cluster resources: {ray.cluster_resources()})") from None
        except ray.exceptions.RayError as exc:
            self.shutdown()
            raise WorkerError(f"a Ray worker failed to start: {_first_line(exc)}") from None
        for _pid, err in states:
            if err is not None:
                self.shutdown()
                raise WorkerError(f"a Ray worker could not load the estimator: {err[0]}"
                                  + ("" if err[1] else " (naslab and the estimator's module "
                                                       "must be installed on every Ray node)"))

    def _new_actor(self) -> Any:
        return self._actor_cls.remote(self._payload_ref, self.threads_per_worker)

    def _stop_actors(self) -> None:
        ray = self._ray
        if ray is not None and ray.is_initialized():
            for a in self._actors:
                try:
                    ray.kill(a)
                except Exception:  # noqa: BLE001 - already dead
                    pass
        self._actors, self._busy = [], []
        self._refs.clear()
        self._queue.clear()
        self._done.clear()

    def shutdown(self) -> None:
        self._stop_actors()
        if self._owns_ray and self._ray is not None:
            self._ray.shutdown()
            self._owns_ray = False
        self._actor_cls = None
        self._payload = self._payload_ref = None

    # tasks -------------------------------------------------------------------------------
    def submit(self, task: Task) -> None:
        if not self._actors:
            raise RuntimeError("RayExecutor.start(estimator) must be called before submit()")
        self._queue.append(task)
        self._dispatch()

    def _dispatch(self) -> None:
        for i, busy in enumerate(self._busy):
            if not self._queue:
                return
            if not busy:
                task = self._queue.popleft()
                ref = self._actors[i].evaluate.remote(task)
                self._refs[ref] = (i, task, time.time())
                self._busy[i] = True

    def wait(self) -> list[TaskResult]:
        ray = self._ray
        if not self._actors:
            raise RuntimeError("RayExecutor.start(estimator) must be called before wait()")
        while not self._done:
            if not self._refs:
                raise RuntimeError("wait() called with no task submitted")
            refs = list(self._refs)
            ray.wait(refs, num_returns=1)
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
            for ref in ready:
                self._collect(ref)
            self._dispatch()
        out, self._done = self._done, []
        return out

    def _collect(self, ref: Any) -> None:
        ray = self._ray
        i, task, started = self._refs.pop(ref)
        self._busy[i] = False
        try:
            res = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            self._done.append(TaskResult(
                task.ticket, None,
                f"Ray worker died while evaluating {task.arch} ({_first_line(exc)}); the trial "
                f"is marked failed and a new worker was started", started, time.time()))
            try:
                ray.kill(self._actors[i])
            except Exception:  # noqa: BLE001
                pass
            self._actors[i] = self._new_actor()
            self.replaced += 1
            return
        except ray.exceptions.RayError as exc:  # e.g. the result could not be deserialised
            self._done.append(TaskResult(task.ticket, None,
                                         f"Ray could not return the result: {_first_line(exc)}",
                                         started, time.time()))
            return
        self._done.append(res)

    def describe(self) -> dict[str, Any]:
        return {"executor": "ray", "workers": self.max_workers, "address": self.address,
                "threads_per_worker": self.threads_per_worker}

    def __repr__(self) -> str:
        return f"RayExecutor(workers={self.max_workers}, address={self.address!r})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:400]
