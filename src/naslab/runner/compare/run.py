"""Running a comparison: every (target, strategy, seed) as an ordinary experiment.

Each run has the deterministic id of :func:`~naslab.runner.experiment.default_experiment_id`,
so a rerun of the same config reuses every finished run at the cost of one storage read
(a smaller budget reuses the prefix of :func:`~naslab.runner.termination.prefix_length`),
resumes interrupted ones and runs only what is missing. Runs go one after the other, their
evaluations on the config's executor (``executor.level: trials``), or whole runs in the
workers of a :class:`~naslab.runner.executors.pool.JobPool` (``level: runs``). With
``commit: experiment`` a run's trials are held in a
:class:`~naslab.runner.storage.BufferedTrialStore` and written in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from naslab.errors import ConfigError, NaslabError, StorageError
from naslab.estimators.base import Estimator, Objective
from naslab.runner.compare.config import (
    CompareConfig,
    RetrainSpec,
    StrategySpec,
    TargetSpec,
    budget_termination,
)
from naslab.runner.compare.result import (
    SUMMARY_COLS,
    ComparisonResult,
    RunSummary,
    columns,
    summarize,
)
from naslab.runner.executors import Executor, JobHandler, JobPool, check_workers, make_executor
from naslab.runner.records import TrialRecord
from naslab.runner.storage import BufferedTrialStore, SQLiteStorage, Storage, _canon
from naslab.runner.termination import prefix_length


def make_estimator(spec: TargetSpec | RetrainSpec, data_dir: str | None) -> Estimator:
    """The estimator of a target (or of the retrain step); ``data_dir`` is passed to
    estimators that take one, unless the spec sets it."""
    from naslab.estimators import make_estimator as build

    return build(spec.estimator, spec.params, offered={"data_dir": data_dir})


@dataclass
class _Run:
    """One run to make: its place in the comparison and what its summary needs."""

    index: int
    exp: Any  # Experiment
    labels: dict[str, Any]
    how: str  # "new" | "resumed"
    target: TargetSpec
    strategy: StrategySpec
    optimum: float | None


def run_comparison(cfg: CompareConfig, *, storage: Storage | None = None,
                   executor: Executor | None = None,
                   on_run: Callable[[RunSummary, int, int], None] | None = None) -> ComparisonResult:
    """Run (or complete) a comparison; every trial goes to ``storage`` (default: the config's
    SQLite file). Finished runs are reused; ``on_run(summary, done, total)`` after each run."""
    from naslab import registry
    from naslab.runner.experiment import Experiment
    from naslab.runner.retrain import retrain_incumbents
    from naslab.spaces.base import get_space

    t0 = time.perf_counter()
    own_store = storage is None
    st = storage if storage is not None else SQLiteStorage(cfg.storage)
    own_ex = executor is None
    ex = executor
    try:
        gid = cfg.name
        _open_group(cfg, st)
        space = get_space(cfg.space)
        term = cfg.termination()
        commit = cfg.commit_mode
        known = {e.id: e for e in st.experiments()}
        if ex is None:
            e = cfg.executor
            ex = make_executor(e["name"], workers=e["workers"], address=e["address"],
                               **e["params"])
        total = cfg.n_runs
        done: dict[int, RunSummary] = {}

        def finish(i: int, summary: RunSummary) -> None:
            st.add_to_group(gid, summary.experiment_id, summary.labels)
            done[i] = summary
            if on_run is not None:
                on_run(summary, len(done), total)

        todo: list[_Run] = []
        i = 0
        for target in cfg.targets:
            est = make_estimator(target, cfg.data_dir)
            optimum = est.optimum("test_acc")
            for sspec in cfg.strategies:
                for seed in cfg.seeds:
                    strat = registry.create("strategy", sspec.name, **sspec.params)
                    labels = {"strategy": sspec.label, "seed": seed, "target": target.label}
                    exp = Experiment(space, strat, est, termination=term, objective=cfg.objective,
                                     storage=st, executor=ex, seed=seed,
                                     meta={"command": "naslab compare", "comparison": gid})
                    info = known.get(exp.id)
                    reused = None
                    if info is not None and info.status == "finished" and info.n_trials:
                        cols = st.trial_columns(exp.id, SUMMARY_COLS)
                        k = prefix_length(term, cols["cum_simulated_s"], cols["cum_wall_s"])
                        if k is not None:  # the recorded run covers this budget: reuse it
                            cols = {c: v[:k] for c, v in cols.items()}
                            reused = summarize(exp.id, labels, "reused", info.status, cols,
                                               optimum)
                    how = "resumed" if info is not None and info.n_trials else "new"
                    if reused is not None:
                        finish(i, reused)
                    elif cfg.executor.get("level") == "runs":
                        todo.append(_Run(i, exp, labels, how, target, sspec, optimum))
                    else:
                        if commit == "experiment":
                            status, trials = _run_buffered(exp, st, how == "resumed")
                        else:
                            res = exp.run()
                            status, trials = res.status, res.trials
                        finish(i, summarize(exp.id, labels, how, status, columns(trials),
                                            optimum))
                    i += 1
        if todo:
            _run_in_pool(cfg, st, todo, finish)
        runs = [done[k] for k in sorted(done)]
        retrained = 0
        if cfg.retrain is not None:
            retrained = retrain_incumbents(
                st, [(r.experiment_id, r.n_trials) for r in runs],
                make_estimator(cfg.retrain, cfg.data_dir), cfg.retrain.seeds, ex)
        return ComparisonResult(gid, st.location, runs, time.perf_counter() - t0, retrained)
    finally:
        if own_ex and ex is not None:
            ex.shutdown()
        if own_store:
            st.close()


def _open_group(cfg: CompareConfig, st: Storage) -> None:
    """Open the comparison's storage group; the same name with another config is an error
    naming the keys that differ."""
    try:
        st.open_group(cfg.name, cfg.group_config())
    except StorageError:
        old, _ = st.group(cfg.name)
        new = cfg.group_config()
        diff = sorted(k for k in set(old) | set(new) if _canon(old.get(k)) != _canon(new.get(k)))
        raise ConfigError(
            f"{cfg.source}: comparison {cfg.name!r} already exists in {st.location} with another "
            f"configuration (differs in: {', '.join(diff)}); give this comparison a new "
            f"'name' (runs already recorded are still reused) or use another storage file"
        ) from None


def _run_buffered(exp: Any, st: Storage, has_prior: bool) -> tuple[str, list[TrialRecord]]:
    """Run ``exp`` against a :class:`BufferedTrialStore`, then write its new trials and final
    checkpoint to ``st`` in one transaction. A run that does not finish writes no trials (its
    experiment is rerun from what was durable before)."""
    buf = BufferedTrialStore(st.trials(exp.id) if has_prior else [],
                             st.checkpoint(exp.id) if has_prior else None)
    real = exp.storage
    exp.storage = buf
    try:
        exp.run()
    finally:
        exp.storage = real
        buf.write_to(st, exp.id, exp.config)
    return buf.status, buf.prior + buf.new


# --------------------------------------------------------------------------------------------
# executor.level: runs -- whole experiments in the workers of the process pool


class RunJobs(JobHandler):
    """A pool worker of ``executor.level: runs``: each job is one whole experiment, run
    serially against a :class:`BufferedTrialStore` (so its trials equal a serial run's); the
    worker sends back the new trials and the final checkpoint, and the driver writes them."""

    loads = "the comparison's run handler"

    def __init__(self, space: str, data_dir: str | None, objective: Objective,
                 budget: dict[str, float]) -> None:
        self.space, self.data_dir, self.objective, self.budget = space, data_dir, objective, budget
        self._estimators: dict[str, Estimator] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"space": self.space, "data_dir": self.data_dir, "objective": self.objective,
                "budget": self.budget}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.space, self.data_dir = state["space"], state["data_dir"]
        self.objective, self.budget = state["objective"], state["budget"]
        self._estimators = {}

    def __call__(self, job: dict[str, Any]) -> dict[str, Any]:
        from naslab import registry
        from naslab.runner.experiment import Experiment
        from naslab.spaces.base import get_space

        target: TargetSpec = job["target"]
        key = _canon(target.describe())
        est = self._estimators.get(key)
        if est is None:  # one estimator per target and worker (a benchmark loads once)
            est = self._estimators[key] = make_estimator(target, self.data_dir)
        sspec: StrategySpec = job["strategy"]
        exp = Experiment(get_space(self.space),
                         registry.create("strategy", sspec.name, **sspec.params), est,
                         termination=budget_termination(self.budget), objective=self.objective,
                         seed=job["seed"], meta=job["meta"])
        if exp.id != job["exp_id"]:  # pragma: no cover - the identity must not depend on the process
            raise NaslabError(f"experiment id differs in the worker ({exp.id}) and the driver "
                              f"({job['exp_id']})")
        buf = BufferedTrialStore(job["prior"], job["ckpt"])
        exp.storage = buf
        exp.run()
        return {"config": buf.config, "meta": buf.meta, "kind": buf.kind, "status": buf.status,
                "new": buf.new, "ckpt": buf.final_ckpt}


def _run_in_pool(cfg: CompareConfig, st: Storage, todo: list[_Run],
                 finish: Callable[[int, RunSummary], None]) -> None:
    """``executor.level: runs``: whole experiments in the pool's workers; the driver writes
    each finished run in one transaction, in completion order. A worker that dies stops the
    comparison with a clear error (what finished is recorded); an error or Ctrl-C stops the
    runs in flight at once (never recorded, so a rerun redoes them)."""
    e = cfg.executor
    pool = JobPool(check_workers(e["workers"] if e["workers"] is not None else 2),
                   threads_per_worker=e["params"].get("threads_per_worker", 1),
                   start_method=e["params"].get("start_method"), preload=(__name__,))
    priors: dict[int, list[TrialRecord]] = {}
    with pool:
        pool.start(RunJobs(cfg.space, cfg.data_dir, cfg.objective, cfg.budget))
        for run in todo:
            resumed = run.how == "resumed"
            priors[run.index] = st.trials(run.exp.id) if resumed else []
            pool.submit(run.index, {
                "target": run.target, "strategy": run.strategy, "seed": run.exp.seed,
                "meta": run.exp.meta, "prior": priors[run.index],
                "ckpt": st.checkpoint(run.exp.id) if resumed else None, "exp_id": run.exp.id})
        by_index = {run.index: run for run in todo}
        left = len(todo)
        while left:
            for r in pool.wait():
                left -= 1
                run = by_index[r.ticket]
                if r.raised is not None:
                    raise r.raised
                if r.value is None:
                    raise NaslabError(
                        f"a worker process died while running {run.exp.id} (level: runs; "
                        f"{r.exit or r.lost}); the runs that finished are recorded: run the "
                        f"comparison again to complete it" if r.died else
                        f"the result of {run.exp.id} did not come back from its worker "
                        f"(level: runs): {r.lost}")
                out = r.value
                buf = BufferedTrialStore(priors[run.index], None)
                buf.config, buf.meta, buf.kind = out["config"], out["meta"], out["kind"]
                buf.status = out["status"]
                buf.new, buf.final_ckpt = out["new"], out["ckpt"]
                buf.write_to(st, run.exp.id, run.exp.config)
                finish(run.index, summarize(run.exp.id, run.labels, run.how, out["status"],
                                            columns(buf.prior + buf.new), run.optimum))
