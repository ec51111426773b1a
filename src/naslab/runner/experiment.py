"""The experiment loop: ask the strategy, evaluate, record, tell; resume from storage."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from naslab.errors import ConfigError, NaslabError, StorageError
from naslab.estimators.base import Cost, Estimator, Evaluation, Objective
from naslab.runner.executors import Executor, SerialExecutor, Task, TaskResult
from naslab.runner.storage import InMemoryStorage, Storage, TrialRecord, _canon
from naslab.runner.termination import Progress, Termination
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture, SearchSpace
from naslab.strategies.base import Strategy, Suggestion


@dataclass
class RunResult:
    """Everything a finished (or stopped) run recorded, with the incumbent after each trial."""

    experiment_id: str
    trials: list[TrialRecord]
    objective: Objective
    optimum_test: float | None = None
    resumed_trials: int = 0
    wall_s: float = 0.0
    status: str = "finished"
    test_unavailable: str | None = None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def n_trials(self) -> int:
        return len(self.trials)

    @property
    def best(self) -> TrialRecord | None:
        """The incumbent at the end: best objective among full-fidelity trials (validation)."""
        if not self.trials or self.trials[-1].incumbent_number is None:
            return None
        return self.trials[self.trials[-1].incumbent_number]

    @property
    def best_arch(self) -> Architecture | None:
        b = self.best
        return None if b is None else b.arch

    @property
    def best_objective(self) -> float | None:
        b = self.best
        return None if b is None else b.objective

    @property
    def test_acc(self) -> float | None:
        b = self.best
        return None if b is None else b.metrics.get("test_acc")

    @property
    def regret(self) -> float | None:
        """Optimum test accuracy of the space minus the incumbent's test accuracy."""
        t = self.test_acc
        if t is None or self.optimum_test is None:
            return None
        return self.optimum_test - t

    @property
    def simulated_cost_s(self) -> float:
        return self.trials[-1].cum_simulated_s if self.trials else 0.0

    def incumbent_test_at(self, n: int) -> float | None:
        """Test accuracy of the incumbent after the first ``n`` trials."""
        if n < 1 or not self.trials:
            return None
        return self.trials[min(n, len(self.trials)) - 1].incumbent_test

    def to_json(self) -> dict[str, Any]:
        b = self.best
        return {
            "experiment_id": self.experiment_id,
            "status": self.status,
            "best_arch": None if b is None else str(b.arch),
            "objective": self.objective.metric,
            "val_acc": None if b is None else b.metrics.get("val_acc"),
            "test_acc": self.test_acc,
            "test_unavailable": self.test_unavailable,
            "optimum_test_acc": self.optimum_test,
            "regret": self.regret,
            "trials": self.n_trials,
            "failed_trials": sum(t.status == "failed" for t in self.trials),
            "reused_trials": sum(t.reused for t in self.trials),
            "resumed_trials": self.resumed_trials,
            "simulated_cost_s": self.simulated_cost_s,
            "wall_s": self.wall_s,
        }


@functools.lru_cache(maxsize=1)
def _environment() -> tuple[tuple[str, Any], ...]:
    return tuple(_read_environment().items())


def run_environment() -> dict[str, Any]:
    """Versions and machine recorded with every experiment (the report's run card); read once
    per process."""
    return dict(_environment())


def _read_environment() -> dict[str, Any]:
    import os
    import platform
    import socket
    from importlib import metadata

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return {"python": platform.python_version(), "numpy": version("numpy"),
            "torch": version("torch"), "platform": platform.platform(),
            "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "hostname": socket.gethostname()}


def experiment_config(space: SearchSpace, strategy: Strategy, estimator: Estimator,
                      objective: Objective, seed: int) -> dict[str, Any]:
    """The identity of an experiment: two runs with equal configs are the same experiment."""
    return {
        "space": space.name,
        "strategy": strategy.describe(),
        "estimator": estimator.describe(),
        "objective": {"metric": objective.metric, "mode": objective.mode},
        "seed": int(seed),
    }


def default_experiment_id(config: dict[str, Any]) -> str:
    """``<strategy>-<benchmark or estimator>-s<seed>-<hash>``, stable for equal configs."""
    h = hashlib.blake2b(_canon(config).encode(), digest_size=4).hexdigest()
    est = config["estimator"]
    target = est.get("benchmark") or est.get("dataset") or est.get("estimator", "est")
    raw = f"{config['strategy']['strategy']}-{target}-s{config['seed']}-{h}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", raw)


class Experiment:
    """Connects a space, a strategy and an estimator; records every trial; stops on termination.

    ``run()`` resumes when storage already holds trials of this experiment id: recorded trials
    are not re-evaluated, the strategy continues from its checkpoint, and the final result equals
    that of an uninterrupted run with the same seed. An architecture already evaluated in the run
    (at the same fidelity) is answered from the run's record at no new cost (``reused``).

    Strategies see validation metrics only; ``test_*`` metrics go to storage for reports.
    """

    def __init__(self, space: SearchSpace, strategy: Strategy, estimator: Estimator, *,
                 termination: Termination, objective: Objective | str = "val_acc",
                 storage: Storage | None = None, executor: Executor | None = None,
                 seed: int = 0, experiment_id: str | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        if isinstance(objective, str):
            objective = Objective(objective)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
        if not isinstance(termination, Termination):
            raise ConfigError(f"termination must be a Termination rule, got {termination!r}")
        estimator.check_space(space)
        self.space, self.strategy, self.estimator = space, strategy, estimator
        self.objective, self.termination = objective, termination
        self.storage = storage if storage is not None else InMemoryStorage()
        self._own_executor = executor is None
        self.executor = executor if executor is not None else SerialExecutor()
        self.seed = seed
        self.config = experiment_config(space, strategy, estimator, objective, seed)
        self.id = experiment_id or default_experiment_id(self.config)
        self.meta = dict(meta or {})
        self._max_fid = getattr(estimator, "max_fidelity", None)
        strategy.bind_fidelities(getattr(estimator, "fidelities", None), self._max_fid)
        strategy.setup(space, self.objective, seed=seed)  # validates hyper-parameters early

    # ---------------------------------------------------------------------------------------
    def run(self, on_trial: Callable[[TrialRecord], None] | None = None) -> RunResult:
        """Run (or resume) until the termination rule says stop; returns the result."""
        from naslab import __version__

        meta = {"naslab": __version__, **run_environment(),
                "termination": self.termination.describe(),
                "executor": self.executor.describe(),
                "optimum_test_acc": self.estimator.optimum("test_acc"),
                "test_unavailable": self._test_unavailable(), **self.meta}
        st, strategy, objective = self.storage, self.strategy, self.objective
        st.open_experiment(self.id, self.config, meta)
        strategy.setup(self.space, objective, seed=self.seed)

        recorded = st.trials(self.id)
        trials: list[TrialRecord] = []
        cache: dict[tuple[Any, float | None], TrialRecord] = {}
        inc: TrialRecord | None = None
        cum_sim = 0.0
        for rec in recorded:
            if self.termination.done(Progress(len(trials), 0, cum_sim, rec.cum_wall_s)):
                break
            trials.append(rec)
            cum_sim = rec.cum_simulated_s
            if rec.status == "complete":
                cache.setdefault((rec.arch.choices, rec.fidelity), rec)
        resumed = len(trials)
        if resumed < len(recorded):  # a smaller budget than what is recorded: report that prefix
            return self._result(trials, resumed, trials[-1].cum_wall_s if trials else 0.0,
                                "finished")
        if trials:
            inc = trials[trials[-1].incumbent_number] if trials[-1].incumbent_number is not None else None

        n_asked, wall_before = 0, 0.0
        pending: list[Task] = []
        if recorded:
            ckpt = st.checkpoint(self.id)
            if ckpt is None:
                raise StorageError(f"experiment {self.id!r} has trials but no checkpoint to resume "
                                   f"from; start a new experiment id")
            strategy.load_state_dict(ckpt["strategy"])
            rs = ckpt["runner"]
            n_asked, wall_before = int(rs["n_asked"]), float(rs["wall_s"])
            for ticket, choices, fid, tseed in rs["pending"]:
                arch = Architecture.from_json({"space": self.space.name, "choices": choices})
                pending.append(Task(int(ticket), arch, fid, int(tseed)))

        ex = self.executor
        ex.start(self.estimator)
        inflight: dict[int, Task] = {}
        for task in pending:
            ex.submit(task)
            inflight[task.ticket] = task
        ready: list[tuple[Task, TaskResult]] = []
        t0 = time.perf_counter()
        status = "finished"
        term = self.termination
        space = self.space
        persistent = st.persistent

        def checkpoint() -> dict[str, Any]:
            return {
                "strategy": strategy.state_dict(),
                "runner": {
                    "n_asked": n_asked,
                    "wall_s": wall_before + time.perf_counter() - t0,
                    "pending": [[t.ticket, list(t.arch.to_json()["choices"]), t.fidelity, t.seed]
                                for t in inflight.values()],
                },
            }

        try:
            while True:
                prog = Progress(len(trials), len(inflight), cum_sim,
                                wall_before + time.perf_counter() - t0)
                asked_any = False
                if not ready and not term.done(prog):
                    free = ex.max_workers - len(inflight)
                    left = term.trials_left(prog)
                    if left is not None:
                        free = min(free, left)
                    if free > 0:
                        for s in strategy.ask(free)[:free]:
                            asked_any = True
                            if isinstance(s, Suggestion):
                                arch, fid = s.arch, s.fidelity
                            else:
                                arch, fid = s, None
                            if fid is not None and self._max_fid is not None and fid >= self._max_fid:
                                fid = None
                            space.validate(arch)
                            task = Task(n_asked, arch, fid, derive_seed(self.seed, n_asked))
                            n_asked += 1
                            hit = cache.get((arch.choices, fid))
                            if hit is not None:
                                now = time.time()
                                ready.append((task, TaskResult(task.ticket, Evaluation(
                                    hit.metrics, Cost(0.0, 0.0), hit.fidelity, hit.info), None,
                                    now, now)))
                            else:
                                ex.submit(task)
                                inflight[task.ticket] = task
                if ready:
                    batch, ready = ready, []
                    reused = True
                elif inflight:
                    batch = [(inflight[r.ticket], r) for r in ex.wait()]
                    reused = False
                else:
                    if term.done(prog):
                        break
                    if not asked_any:
                        raise NaslabError(
                            f"strategy {type(strategy).__name__} proposed nothing while no "
                            f"evaluation was pending; it cannot make progress")
                    continue
                for task, res in batch:
                    inflight.pop(task.ticket, None)
                    if res.fatal is not None:
                        raise res.fatal
                    rec = self._make_record(len(trials), task, res, reused)
                    cum_sim += rec.cost.simulated_s
                    rec.cum_simulated_s = cum_sim
                    rec.cum_wall_s = wall_before + time.perf_counter() - t0
                    if rec.status == "complete":
                        assert res.evaluation is not None
                        full = rec.fidelity is None or self._max_fid is None or rec.fidelity >= self._max_fid
                        if full and (inc is None or objective.better(rec.objective, inc.objective)):  # type: ignore[arg-type]
                            inc = rec
                        cache.setdefault((task.arch.choices, task.fidelity), rec)
                        strategy.tell(task.arch, res.evaluation.without_test())
                    else:
                        strategy.tell_failed(task.arch, rec.error or "failed")
                    if inc is not None:
                        rec.incumbent_number = inc.number
                        rec.incumbent_objective = inc.objective
                        rec.incumbent_test = inc.metrics.get("test_acc")
                    trials.append(rec)
                    st.record_trial(self.id, rec, checkpoint if persistent else None)
                    if on_trial is not None:
                        on_trial(rec)
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        except BaseException:
            status = "failed"
            raise
        finally:
            if self._own_executor:
                ex.shutdown()
            st.set_status(self.id, status)
        return self._result(trials, resumed, wall_before + time.perf_counter() - t0, status)

    def _make_record(self, number: int, task: Task, res: TaskResult, reused: bool) -> TrialRecord:
        if res.evaluation is None:
            return TrialRecord(number=number, arch=task.arch, status="failed", fidelity=task.fidelity,
                               seed=task.seed, cost=Cost(res.finished - res.started, 0.0),
                               error=res.error, started=res.started, finished=res.finished)
        ev = res.evaluation
        metrics = {k: float(v) for k, v in ev.metrics.items()}
        return TrialRecord(number=number, arch=task.arch, status="complete", metrics=metrics,
                           objective=self.objective.value(ev), fidelity=task.fidelity,
                           seed=task.seed, cost=ev.cost, reused=reused, started=res.started,
                           finished=res.finished, info=dict(ev.info))

    def _test_unavailable(self) -> str | None:
        """Why the estimator reports no test accuracy (None when it does)."""
        if getattr(self.estimator, "has_test", True):
            return None
        bench = getattr(self.estimator, "bench", None)
        return getattr(bench, "test_unavailable_reason", "the estimator reports no test accuracy")

    def _result(self, trials: list[TrialRecord], resumed: int, wall: float, status: str) -> RunResult:
        opt = self.estimator.optimum("test_acc")
        reason = self._test_unavailable()
        return RunResult(self.id, trials, self.objective, opt, resumed, wall, status, reason,
                         json.loads(_canon(self.config)))


def load_result(storage: Storage, experiment_id: str) -> RunResult:
    """A RunResult rebuilt from storage alone (for ``naslab show`` and reports)."""
    info = storage.experiment(experiment_id)
    trials = storage.trials(experiment_id)
    obj = info.config.get("objective", {})
    return RunResult(experiment_id, trials, Objective(obj.get("metric", "val_acc"), obj.get("mode", "max")),
                     info.meta.get("optimum_test_acc"), 0,
                     trials[-1].cum_wall_s if trials else 0.0, info.status,
                     info.meta.get("test_unavailable"), info.config)
