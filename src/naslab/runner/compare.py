"""Fair comparisons: strategies x seeds x targets under one budget, all trials in storage.

A comparison is described by a YAML/JSON config (see :func:`load_config`) and run by
:func:`run_comparison`. Every (strategy, seed, target) is one ordinary experiment, with the
deterministic id of :func:`~naslab.runner.experiment.default_experiment_id`, so a rerun of the
same config reuses every finished run at the cost of one storage read, resumes interrupted ones
and runs only what is missing. Random search (``rs``) is always part of a comparison: it is
added as the baseline when absent. The experiments are collected in a storage group (id = the
comparison's name) with labels ``{"strategy", "seed", "target"}``; reports read that group.
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naslab.errors import ConfigError, NaslabError, StorageError, did_you_mean
from naslab.estimators.base import Estimator, Objective
from naslab.runner.executors import Executor, make_executor
from naslab.runner.storage import SQLiteStorage, Storage, TrialRecord, TrialStore, _canon
from naslab.runner.termination import Termination, make_termination, prefix_length

#: registry name of the baseline that every comparison contains
BASELINE = "rs"
#: ``storage.commit``: when trials become durable (``auto``: ``experiment`` when every target
#: is a tabular benchmark, else ``trial``)
COMMIT_MODES = ("auto", "trial", "experiment")

_TOP_KEYS = ("name", "space", "strategies", "seeds", "targets", "benchmarks", "objective",
             "budget", "executor", "storage", "retrain", "data_dir")
_BUDGET_KEYS = ("trials", "simulated_hours", "wall_s")
_STRATEGY_KEYS = ("name", "params", "label")
_TARGET_KEYS = ("benchmark", "estimator", "params", "label", "val")
_EXECUTOR_KEYS = ("name", "workers", "address", "params", "level")
#: ``executor.level``: what the executor's workers run (``runs``: whole experiments, process
#: executor and experiment-level commits only)
LEVELS = ("trials", "runs")
_STORAGE_KEYS = ("path", "commit")
_RETRAIN_KEYS = ("estimator", "params", "seeds")
_OBJECTIVE_KEYS = ("metric", "mode")


# ------------------------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class StrategySpec:
    label: str
    name: str  # registry name (aliases resolved)
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "params": self.params}


@dataclass(frozen=True)
class TargetSpec:
    label: str
    estimator: str  # registry name
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"label": self.label, "estimator": self.estimator, "params": self.params}


@dataclass(frozen=True)
class RetrainSpec:
    """Final training of each run's incumbent: the estimator and the training seeds."""

    estimator: str
    params: dict[str, Any]
    seeds: tuple[int, ...]

    def describe(self) -> dict[str, Any]:
        return {"estimator": self.estimator, "params": self.params, "seeds": list(self.seeds)}


@dataclass
class CompareConfig:
    """A validated comparison config. ``group_config()`` is its identity in storage."""

    name: str
    space: str
    strategies: list[StrategySpec]
    seeds: list[int]
    targets: list[TargetSpec]
    objective: Objective
    budget: dict[str, float]  # keys among max_trials, max_simulated_s, max_wall_s
    executor: dict[str, Any] = field(default_factory=lambda: {"name": "serial"})
    storage: str = "naslab.db"
    commit: str = "auto"
    retrain: RetrainSpec | None = None
    data_dir: str | None = None
    source: str = "config"

    def termination(self) -> Termination:
        return make_termination(self.budget.get("max_trials"),  # type: ignore[arg-type]
                                self.budget.get("max_simulated_s"), self.budget.get("max_wall_s"))

    def group_config(self) -> dict[str, Any]:
        """What makes two comparisons the same (not where they run or how they commit)."""
        return {
            "kind": "comparison", "name": self.name, "space": self.space,
            "strategies": [s.describe() for s in self.strategies], "baseline": BASELINE,
            "seeds": list(self.seeds), "targets": [t.describe() for t in self.targets],
            "objective": {"metric": self.objective.metric, "mode": self.objective.mode},
            "budget": dict(self.budget),
            "retrain": None if self.retrain is None else self.retrain.describe(),
        }

    @property
    def commit_mode(self) -> str:
        """``trial`` or ``experiment``: the ``auto`` default resolved (experiment-level commits
        when every target is a tabular benchmark, whose runs take milliseconds)."""
        if self.commit != "auto":
            return self.commit
        return "experiment" if all(t.estimator == "tabular" for t in self.targets) else "trial"

    @property
    def n_runs(self) -> int:
        return len(self.strategies) * len(self.seeds) * len(self.targets)


def _where(ctx: str, key: str) -> str:
    return f"{ctx}.{key}" if ctx else key


def _check_keys(d: Any, allowed: tuple[str, ...], ctx: str, source: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ConfigError(f"{source}: {ctx or 'the config'} must be a mapping, got "
                          f"{type(d).__name__} {d!r}")
    for k in d:
        if not isinstance(k, str) or k not in allowed:
            raise ConfigError(f"{source}: unknown key {_where(ctx, str(k))!r}"
                              f"{did_you_mean(str(k), allowed)}; allowed keys"
                              f"{' in ' + ctx if ctx else ''}: {', '.join(allowed)}")
    return d


def _int(v: Any, what: str, source: str, minimum: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ConfigError(f"{source}: {what} must be an integer >= {minimum}, got {v!r}")
    return v


def _num(v: Any, what: str, source: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise ConfigError(f"{source}: {what} must be a positive number, got {v!r}")
    return float(v)


def _label(v: Any, what: str, source: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ConfigError(f"{source}: {what} must be a non-empty string, got {v!r}")
    return v.strip()


def _params(v: Any, what: str, source: str) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ConfigError(f"{source}: {what} must be a mapping of parameter names to values, "
                          f"got {v!r}")
    return dict(v)


def _seeds(v: Any, what: str, source: str) -> list[int]:
    if isinstance(v, int) and not isinstance(v, bool):
        return list(range(_int(v, what + " (a count)", source, 1)))
    if isinstance(v, list) and v:
        out = [_int(x, f"every entry of {what}", source) for x in v]
        dup = sorted({x for x in out if out.count(x) > 1})
        if dup:
            raise ConfigError(f"{source}: {what} lists seed(s) {dup} more than once")
        return out
    raise ConfigError(f"{source}: {what} must be a count (e.g. 10 for seeds 0..9) or a non-empty "
                      f"list of non-negative integers, got {v!r}")


def _check_distinct(items: list[tuple[str, dict[str, Any]]], key: str, what: str,
                    source: str) -> None:
    """Two entries with the same component and parameters would be the same experiments."""
    seen: dict[str, int] = {}
    for i, (name, params) in enumerate(items):
        k = _canon([name, params])
        if k in seen:
            raise ConfigError(f"{source}: {key}[{i}] is the same {what} as {key}[{seen[k]}] "
                              f"({name!r} with the same parameters); its runs would be the same "
                              f"experiments. Remove one, or change its parameters")
        seen[k] = i


def load_config(config: str | Path | dict[str, Any], *, check_components: bool = True) -> CompareConfig:
    """Read and validate a comparison config (a YAML/JSON file or an already parsed mapping).

    Keys (``*`` = required)::

        name: nb201-cifar10          # group id in storage (default: compare-<hash of config>)
        space: nb201                 # default nb201
        strategies*: [re, ls, {name: reinforce, params: {lr: 0.05}, label: reinforce-lr05}]
        seeds*: 10                   # seeds 0..9, or a list [0, 3, 7]
        targets*: [nb201/cifar10, {benchmark: nb201/cifar100, val: mean},
                   {estimator: train, params: {dataset: digits, epochs: 3}, label: digits}]
        budget*: {trials: 150, simulated_hours: 50, wall_s: 600}   # any of them; first hit stops
        objective: val_acc           # or {metric: val_acc, mode: max}
        executor: serial             # or {name: process|ray, workers: 2, address: auto}
        storage: naslab.db           # or {path: naslab.db, commit: auto|trial|experiment}
        retrain: {estimator: train, params: {dataset: digits}, seeds: 1}
        data_dir: /path/to/data      # benchmark / dataset directory

    ``benchmarks`` is accepted as another name for ``targets``. Unknown keys, bad values and
    unknown component names raise ConfigError naming the key, what was expected and what was
    received.
    """
    import yaml  # type: ignore[import-untyped,unused-ignore]

    from naslab import registry

    if isinstance(config, dict):
        raw, source = config, "compare config"
    else:
        path = Path(config)
        source = f"compare config {str(path)!r}"
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise ConfigError(f"{source} does not exist") from None
        except OSError as exc:
            raise ConfigError(f"{source} cannot be read: {exc}") from None
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source} is not valid YAML: {exc}") from None
        if raw is None:
            raise ConfigError(f"{source} is empty")
    d = _check_keys(raw, _TOP_KEYS, "", source)
    if "targets" in d and "benchmarks" in d:
        raise ConfigError(f"{source}: give 'targets' or 'benchmarks' (the same thing), not both")
    for req in ("strategies", "seeds", "budget"):
        if req not in d:
            raise ConfigError(f"{source}: missing required key {req!r}")
    if "targets" not in d and "benchmarks" not in d:
        raise ConfigError(f"{source}: missing required key 'targets' (e.g. targets: "
                          f"[nb201/cifar10])")

    space = d.get("space", "nb201")
    if not isinstance(space, str):
        raise ConfigError(f"{source}: space must be a space name such as 'nb201', got {space!r}")
    if check_components:
        space = getattr(registry.get("space", space), "name", space)

    # strategies (rs added as the baseline) ------------------------------------------------
    raw_s = d["strategies"]
    if isinstance(raw_s, str):
        raw_s = [raw_s]
    if not isinstance(raw_s, list) or not raw_s:
        raise ConfigError(f"{source}: strategies must be a non-empty list of strategy names or "
                          f"{{name, params, label}} mappings, got {raw_s!r}")
    strategies: list[StrategySpec] = []
    for i, item in enumerate(raw_s):
        ctx = f"strategies[{i}]"
        if isinstance(item, str):
            item = {"name": item}
        item = _check_keys(item, _STRATEGY_KEYS, ctx, source)
        if "name" not in item:
            raise ConfigError(f"{source}: {ctx} needs a 'name' (a registered strategy)")
        name = _label(item["name"], f"{ctx}.name", source)
        params = _params(item.get("params"), f"{ctx}.params", source)
        if check_components:
            cls = registry.get("strategy", name)
            name = getattr(cls, "registry_name", name)
            registry.check_params(cls, params, what=f"{source}: {ctx} (strategy {name!r})")
        label = _label(item.get("label", name), f"{ctx}.label", source)
        strategies.append(StrategySpec(label, name, params))
    if not any(s.name == BASELINE for s in strategies):
        if any(s.label == BASELINE for s in strategies):
            raise ConfigError(f"{source}: the label {BASELINE!r} is reserved for the random-search "
                              f"baseline")
        strategies.insert(0, StrategySpec(BASELINE, BASELINE, {}))
    _check_distinct([(s.name, s.params) for s in strategies], "strategies", "strategy", source)
    labels = [s.label for s in strategies]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ConfigError(f"{source}: strategy label(s) {dup} appear more than once; give each "
                          f"variant its own 'label'")

    seeds = _seeds(d["seeds"], "seeds", source)

    # targets --------------------------------------------------------------------------------
    tkey = "targets" if "targets" in d else "benchmarks"
    raw_t = d[tkey]
    if isinstance(raw_t, str):
        raw_t = [raw_t]
    if not isinstance(raw_t, list) or not raw_t:
        raise ConfigError(f"{source}: {tkey} must be a non-empty list such as [nb201/cifar10] "
                          f"or [{{estimator: train, params: {{dataset: digits}}}}], got {raw_t!r}")
    targets: list[TargetSpec] = []
    for i, item in enumerate(raw_t):
        ctx = f"{tkey}[{i}]"
        if isinstance(item, str):
            item = {"benchmark": item}
        item = _check_keys(item, _TARGET_KEYS, ctx, source)
        params = _params(item.get("params"), f"{ctx}.params", source)
        if "benchmark" in item:
            if "estimator" in item and item["estimator"] not in ("tabular", "benchmark"):
                raise ConfigError(f"{source}: {ctx} gives a benchmark, which is answered by the "
                                  f"tabular estimator, and estimator {item['estimator']!r}")
            bench = _label(item["benchmark"], f"{ctx}.benchmark", source)
            params = {"benchmark": bench, **params}
            if "val" in item:
                params["val"] = item["val"]
            est_name = "tabular"
            default_label = bench
        elif "estimator" in item:
            est_name = _label(item["estimator"], f"{ctx}.estimator", source)
            if "val" in item:
                params["val"] = item["val"]
            default_label = None
        else:
            raise ConfigError(f"{source}: {ctx} needs 'benchmark' (e.g. nb201/cifar10) or "
                              f"'estimator' (a registered estimator name)")
        if check_components:
            cls = registry.get("estimator", est_name)
            est_name = getattr(cls, "registry_name", est_name)
            registry.check_params(cls, params, what=f"{source}: {ctx} (estimator {est_name!r})")
        if default_label is None:
            default_label = est_name + (f"/{params['dataset']}" if "dataset" in params else "")
        label = _label(item.get("label", default_label), f"{ctx}.label", source)
        targets.append(TargetSpec(label, est_name, params))
    _check_distinct([(t.estimator, t.params) for t in targets], tkey, "target", source)
    tl = [t.label for t in targets]
    dup = sorted({x for x in tl if tl.count(x) > 1})
    if dup:
        raise ConfigError(f"{source}: target label(s) {dup} appear more than once; give each "
                          f"target its own 'label'")

    # budget -------------------------------------------------------------------------------
    b = _check_keys(d["budget"], _BUDGET_KEYS, "budget", source)
    if not b:
        raise ConfigError(f"{source}: budget needs at least one of {', '.join(_BUDGET_KEYS)}")
    budget: dict[str, float] = {}
    if "trials" in b:
        budget["max_trials"] = _int(b["trials"], "budget.trials", source, 1)
    if "simulated_hours" in b:
        budget["max_simulated_s"] = _num(b["simulated_hours"], "budget.simulated_hours",
                                         source) * 3600.0
    if "wall_s" in b:
        budget["max_wall_s"] = _num(b["wall_s"], "budget.wall_s", source)

    # objective ------------------------------------------------------------------------------
    o = d.get("objective", "val_acc")
    if isinstance(o, str):
        o = {"metric": o}
    o = _check_keys(o, _OBJECTIVE_KEYS, "objective", source)
    try:
        objective = Objective(o.get("metric", "val_acc"), o.get("mode", "max"))
    except ConfigError as exc:
        raise ConfigError(f"{source}: objective: {exc}") from None

    # executor ---------------------------------------------------------------------------
    e = d.get("executor", "serial")
    if isinstance(e, str):
        e = {"name": e}
    e = _check_keys(e, _EXECUTOR_KEYS, "executor", source)
    executor: dict[str, Any] = {"name": _label(e.get("name", "serial"), "executor.name", source),
                "workers": e.get("workers"), "address": e.get("address"),
                "params": _params(e.get("params"), "executor.params", source),
                "level": e.get("level", "trials")}
    if executor["level"] not in LEVELS:
        raise ConfigError(f"{source}: executor.level must be one of {', '.join(LEVELS)}, got "
                          f"{executor['level']!r}{did_you_mean(str(executor['level']), LEVELS)}")
    if check_components:
        try:
            make_executor(executor["name"], workers=executor["workers"],
                          address=executor["address"], **executor["params"])
        except NaslabError as exc:
            raise ConfigError(f"{source}: executor: {exc}") from None

    # storage --------------------------------------------------------------------------------
    s = d.get("storage", "naslab.db")
    if isinstance(s, str):
        s = {"path": s}
    s = _check_keys(s, _STORAGE_KEYS, "storage", source)
    storage = _label(s.get("path", "naslab.db"), "storage.path", source)
    commit = s.get("commit", "auto")
    if commit not in COMMIT_MODES:
        raise ConfigError(f"{source}: storage.commit must be one of {', '.join(COMMIT_MODES)}, "
                          f"got {commit!r}{did_you_mean(str(commit), COMMIT_MODES)}")

    # retrain ----------------------------------------------------------------------------
    retrain = None
    if d.get("retrain") is not None:
        r = _check_keys(d["retrain"], _RETRAIN_KEYS, "retrain", source)
        r_est = _label(r.get("estimator", "train"), "retrain.estimator", source)
        r_params = _params(r.get("params"), "retrain.params", source)
        if check_components:
            cls = registry.get("estimator", r_est)
            r_est = getattr(cls, "registry_name", r_est)
            registry.check_params(cls, r_params, what=f"{source}: retrain (estimator {r_est!r})")
        retrain = RetrainSpec(r_est, r_params, tuple(_seeds(r.get("seeds", 1), "retrain.seeds",
                                                            source)))

    data_dir = d.get("data_dir")
    if data_dir is not None:
        data_dir = _label(str(data_dir), "data_dir", source)

    if executor["level"] == "runs":
        _check_run_level(executor, commit, targets, source)
    cfg = CompareConfig(name="", space=space, strategies=strategies, seeds=seeds,
                        targets=targets, objective=objective, budget=budget, executor=executor,
                        storage=storage, commit=commit, retrain=retrain, data_dir=data_dir,
                        source=source)
    if "name" in d:
        cfg.name = _label(d["name"], "name", source)
    else:
        cfg.name = "compare-" + hashlib.blake2b(_canon(cfg.group_config()).encode(),
                                                digest_size=4).hexdigest()
    return cfg


def _check_run_level(executor: dict[str, Any], commit: str, targets: list[TargetSpec],
                     source: str) -> None:
    """``level: runs`` runs whole experiments in worker processes; say clearly what it needs."""
    from naslab import registry

    name = getattr(registry.get("executor", executor["name"]), "registry_name", executor["name"])
    if name != "process":
        raise ConfigError(f"{source}: executor.level 'runs' (whole runs in parallel) is "
                          f"implemented for the process executor only, got executor {name!r}; "
                          f"use level 'trials' with {name!r}")
    mode = commit if commit != "auto" else (
        "experiment" if all(t.estimator == "tabular" for t in targets) else "trial")
    if mode != "experiment":
        raise ConfigError(f"{source}: executor.level 'runs' needs storage.commit 'experiment' "
                          f"(workers return whole runs, which the driver writes at once), got "
                          f"commit {mode!r}")


# ------------------------------------------------------------------------------------------
# running


@dataclass
class RunSummary:
    """One member of a comparison: where it came from and what it found."""

    experiment_id: str
    labels: dict[str, Any]
    how: str  # "new" | "resumed" | "reused"
    status: str
    n_trials: int
    failed_trials: int
    best_val: float | None
    test_acc: float | None
    regret: float | None
    simulated_s: float
    wall_s: float


@dataclass
class ComparisonResult:
    group_id: str
    storage: str
    runs: list[RunSummary]
    wall_s: float
    retrained: int = 0

    def count(self, how: str) -> int:
        return sum(r.how == how for r in self.runs)

    def table(self) -> list[dict[str, Any]]:
        """Per (target, strategy): seeds, mean/std of final test accuracy and regret, mean
        simulated cost, failed trials."""
        import numpy as np

        rows: dict[tuple[str, str], list[RunSummary]] = {}
        for r in self.runs:
            rows.setdefault((r.labels["target"], r.labels["strategy"]), []).append(r)
        out = []
        for (tgt, strat), rs in rows.items():
            test = [r.test_acc for r in rs if r.test_acc is not None]
            reg = [r.regret for r in rs if r.regret is not None]
            out.append({
                "target": tgt, "strategy": strat, "seeds": len(rs),
                "test_mean": float(np.mean(test)) if test else None,
                "test_std": float(np.std(test)) if test else None,
                "regret_mean": float(np.mean(reg)) if reg else None,
                "regret_std": float(np.std(reg)) if reg else None,
                "trials_mean": float(np.mean([r.n_trials for r in rs])),
                "simulated_h_mean": float(np.mean([r.simulated_s for r in rs])) / 3600.0,
                "failed_trials": int(sum(r.failed_trials for r in rs)),
            })
        return out

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group_id, "storage": self.storage, "runs": len(self.runs),
                "new": self.count("new"), "resumed": self.count("resumed"),
                "reused": self.count("reused"), "retrained": self.retrained,
                "wall_s": self.wall_s, "table": self.table()}


def make_estimator(spec: TargetSpec | RetrainSpec, data_dir: str | None) -> Estimator:
    """The estimator of a target (or of the retrain step); ``data_dir`` is passed to
    estimators that take one, unless the spec sets it."""
    import inspect

    from naslab import registry

    params = dict(spec.params)
    cls = registry.get("estimator", spec.estimator)
    if data_dir is not None and "data_dir" not in params and \
            "data_dir" in inspect.signature(cls).parameters:
        params["data_dir"] = data_dir
    return registry.create("estimator", spec.estimator, **params)  # type: ignore[no-any-return]


class _Buffer(TrialStore):
    """Collects one experiment's new trials in memory (``commit: experiment``).

    It answers ``trials``/``checkpoint`` from what the real storage already holds (so an
    experiment recorded earlier resumes), keeps the new trials, and computes the checkpoint
    once, when the run has finished. Nothing reaches the real storage until
    :func:`_flush` writes all of it in one transaction.
    """

    persistent = True

    def __init__(self, prior: list[TrialRecord], ckpt: dict[str, Any] | None) -> None:
        self.prior, self.ckpt = prior, ckpt
        self.new: list[TrialRecord] = []
        self.final_ckpt_fn: Callable[[], dict[str, Any]] | None = None
        self.final_ckpt: dict[str, Any] | None = None
        self.status = "running"
        self.config: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}

    def open_experiment(self, exp_id: str, config: dict[str, Any], meta: dict[str, Any], *,
                        kind: str = "search") -> bool:
        self.config, self.meta = config, meta
        return not self.prior

    def record_trial(self, exp_id: str, trial: TrialRecord,
                     checkpoint: Callable[[], dict[str, Any]] | None = None) -> None:
        self.new.append(trial)
        self.final_ckpt_fn = checkpoint

    def trials(self, exp_id: str) -> list[TrialRecord]:
        return self.prior + self.new

    def checkpoint(self, exp_id: str) -> dict[str, Any] | None:
        return self.ckpt

    def set_status(self, exp_id: str, status: str) -> None:
        self.status = status
        if status == "finished" and self.final_ckpt_fn is not None:
            self.final_ckpt = self.final_ckpt_fn()  # the state after the last trial

    # unused by the runner
    def experiments(self) -> list[Any]:
        return []

    def add_record(self, exp_id: str, kind: str, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def records(self, exp_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return []

    def open_group(self, group_id: str, config: dict[str, Any]) -> bool:
        raise NotImplementedError

    def add_to_group(self, group_id: str, exp_id: str, labels: dict[str, Any]) -> None:
        raise NotImplementedError

    def groups(self) -> list[dict[str, Any]]:
        return []

    def group(self, group_id: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        raise NotImplementedError


def _summary(exp_id: str, labels: dict[str, Any], how: str, status: str,
             cols: dict[str, list[Any]], optimum: float | None) -> RunSummary:
    n = len(cols["status"])
    test = cols["incumbent_test"][-1] if n else None
    return RunSummary(
        experiment_id=exp_id, labels=labels, how=how, status=status, n_trials=n,
        failed_trials=sum(s == "failed" for s in cols["status"]),
        best_val=cols["incumbent_objective"][-1] if n else None, test_acc=test,
        regret=None if test is None or optimum is None else optimum - test,
        simulated_s=cols["cum_simulated_s"][-1] if n else 0.0,
        wall_s=cols["cum_wall_s"][-1] if n else 0.0)


_SUMMARY_COLS = ("status", "incumbent_objective", "incumbent_test", "cum_simulated_s",
                 "cum_wall_s")


def _prefix_len(term: Termination, cols: dict[str, list[Any]]) -> int | None:
    """How many recorded trials a run under ``term`` keeps (None: the budget is not reached,
    the run must go on)."""
    return prefix_length(term, cols["cum_simulated_s"], cols["cum_wall_s"])


def run_comparison(cfg: CompareConfig, *, storage: Storage | None = None,
                   executor: Executor | None = None,
                   on_run: Callable[[RunSummary, int, int], None] | None = None) -> ComparisonResult:
    """Run (or complete) a comparison; every trial goes to ``storage`` (default: the config's
    SQLite file). Finished runs are reused; ``on_run(summary, done, total)`` after each run."""
    from naslab import registry
    from naslab.runner.experiment import Experiment
    from naslab.spaces.base import get_space

    t0 = time.perf_counter()
    own_store = storage is None
    st = storage if storage is not None else SQLiteStorage(cfg.storage)
    own_ex = executor is None
    ex = executor
    try:
        gid = cfg.name
        try:
            st.open_group(gid, cfg.group_config())
        except StorageError:
            old, _ = st.group(gid)
            new = cfg.group_config()
            diff = sorted(k for k in set(old) | set(new) if _canon(old.get(k)) != _canon(new.get(k)))
            raise ConfigError(
                f"{cfg.source}: comparison {gid!r} already exists in {st.location} with another "
                f"configuration (differs in: {', '.join(diff)}); give this comparison a new "
                f"'name' (runs already recorded are still reused) or use another storage file"
            ) from None
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

        todo: list[tuple[int, Any, dict[str, Any], str, TargetSpec, StrategySpec, float | None]] = []
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
                        cols = st.trial_columns(exp.id, _SUMMARY_COLS)
                        k = _prefix_len(term, cols)
                        if k is not None:  # the recorded run covers this budget: reuse it
                            cols = {c: v[:k] for c, v in cols.items()}
                            reused = _summary(exp.id, labels, "reused", info.status, cols, optimum)
                    how = "resumed" if info is not None and info.n_trials else "new"
                    if reused is not None:
                        finish(i, reused)
                    elif cfg.executor.get("level") == "runs":
                        todo.append((i, exp, labels, how, target, sspec, optimum))
                    else:
                        if commit == "experiment":
                            status, trials = _run_buffered(exp, st, how == "resumed")
                        else:
                            res = exp.run()
                            status, trials = res.status, res.trials
                        finish(i, _summary(exp.id, labels, how, status, _columns(trials),
                                           optimum))
                    i += 1
        if todo:
            _run_parallel(cfg, st, todo, finish)
        runs = [done[k] for k in sorted(done)]
        retrained = 0
        if cfg.retrain is not None:
            retrained = _retrain(cfg, st, ex, runs)
        return ComparisonResult(gid, st.location, runs, time.perf_counter() - t0, retrained)
    finally:
        if own_ex and ex is not None:
            ex.shutdown()
        if own_store:
            st.close()


def _run_parallel(cfg: CompareConfig, st: Storage, todo: list[Any],
                  finish: Callable[[int, RunSummary], None]) -> None:
    """``executor.level: runs``: whole experiments in worker processes (each run serial inside
    its worker, so results equal a serial comparison); the driver writes each finished run in
    one transaction, in completion order."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
    from concurrent.futures import wait as fwait
    from concurrent.futures.process import BrokenProcessPool

    from naslab.runner.executors import check_workers, init_worker_process

    e = cfg.executor
    workers = check_workers(e["workers"] if e["workers"] is not None else 2)
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
    threads = int(e["params"].get("threads_per_worker", 1))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                               initializer=init_worker_process, initargs=(threads,))
    futures: dict[Any, tuple[int, Any, dict[str, Any], str, float | None]] = {}
    try:
        for i, exp, labels, how, target, sspec, optimum in todo:
            prior = st.trials(exp.id) if how == "resumed" else []
            ckpt = st.checkpoint(exp.id) if how == "resumed" else None
            job = {"space": cfg.space, "target": target, "data_dir": cfg.data_dir,
                   "strategy": sspec, "objective": cfg.objective, "budget": cfg.budget,
                   "seed": exp.seed, "meta": exp.meta, "prior": prior, "ckpt": ckpt,
                   "exp_id": exp.id}
            futures[pool.submit(_run_job, job)] = (i, exp, labels, how, optimum)
        pending = set(futures)
        while pending:
            finished, pending = fwait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                i, exp, labels, how, optimum = futures[fut]
                try:
                    out = fut.result()
                except BrokenProcessPool:
                    raise NaslabError(
                        f"a worker process died while running {exp.id} (level: runs); the runs "
                        f"that finished are recorded: run the comparison again to complete it"
                    ) from None
                st.open_experiment(exp.id, out["config"], out["meta"])
                try:
                    if out["status"] == "finished":
                        st.record_trials(exp.id, out["new"], out["ckpt"])  # all or nothing
                finally:
                    st.set_status(exp.id, out["status"] if sys.exc_info()[0] is None
                                  else "interrupted")
                finish(i, _summary(exp.id, labels, how, out["status"],
                                   _columns(out["prior"] + out["new"]), optimum))
    except BaseException:
        # an error or Ctrl-C: stop the runs in flight now rather than waiting for them (they
        # were never recorded, so a rerun redoes them)
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)


_worker_estimators: dict[str, Estimator] = {}


def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    """One experiment in a ``level: runs`` worker, against an in-memory buffer."""
    from naslab import registry
    from naslab.runner.experiment import Experiment
    from naslab.spaces.base import get_space

    target: TargetSpec = job["target"]
    key = _canon([target.describe(), job["data_dir"]])
    est = _worker_estimators.get(key)
    if est is None:
        est = _worker_estimators[key] = make_estimator(target, job["data_dir"])
    sspec: StrategySpec = job["strategy"]
    b = job["budget"]
    term = make_termination(b.get("max_trials"), b.get("max_simulated_s"), b.get("max_wall_s"))
    exp = Experiment(get_space(job["space"]), registry.create("strategy", sspec.name, **sspec.params),
                     est, termination=term, objective=job["objective"], seed=job["seed"],
                     meta=job["meta"])
    if exp.id != job["exp_id"]:  # pragma: no cover - the identity must not depend on the process
        raise NaslabError(f"experiment id differs in the worker ({exp.id}) and the driver "
                          f"({job['exp_id']})")
    buf = _Buffer(job["prior"], job["ckpt"])
    exp.storage = buf
    exp.run()
    return {"config": buf.config, "meta": buf.meta, "status": buf.status, "new": buf.new,
            "ckpt": buf.final_ckpt, "prior": job["prior"]}


def _columns(trials: list[TrialRecord]) -> dict[str, list[Any]]:
    return {"status": [t.status for t in trials],
            "incumbent_objective": [t.incumbent_objective for t in trials],
            "incumbent_test": [t.incumbent_test for t in trials],
            "cum_simulated_s": [t.cum_simulated_s for t in trials],
            "cum_wall_s": [t.cum_wall_s for t in trials]}


def _run_buffered(exp: Any, st: Storage, has_prior: bool) -> tuple[str, list[TrialRecord]]:
    """Run ``exp`` against a :class:`_Buffer`, then write its new trials and final checkpoint
    to ``st`` in one transaction. A run that does not finish writes nothing (its experiment
    is rerun from what was durable before)."""
    buf = _Buffer(st.trials(exp.id) if has_prior else [], st.checkpoint(exp.id) if has_prior else None)
    real = exp.storage
    exp.storage = buf
    try:
        exp.run()
    finally:
        exp.storage = real
        st.open_experiment(exp.id, buf.config or exp.config, buf.meta)
        if buf.status == "finished":
            st.record_trials(exp.id, buf.new, buf.final_ckpt)
        st.set_status(exp.id, buf.status)
    return buf.status, buf.prior + buf.new


def _retrain(cfg: CompareConfig, st: Storage, ex: Executor, runs: list[RunSummary]) -> int:
    """Final training of every run's incumbent (records of kind ``final_training``).

    An (architecture, seed) pair is trained once and its result recorded for every run that
    found it; records that already exist (same estimator description) are kept as they are.
    """
    from naslab.runner.executors import Task
    from naslab.seeding import derive_seed

    assert cfg.retrain is not None
    est = make_estimator(cfg.retrain, cfg.data_dir)
    desc = est.describe()
    todo: dict[tuple[Any, int], list[tuple[str, TrialRecord]]] = {}
    for r in runs:
        trials = st.trials(r.experiment_id)[:r.n_trials]
        if not trials or trials[-1].incumbent_number is None:
            continue
        inc = trials[trials[-1].incumbent_number]
        done = {(_tup(rec["choices"]), rec["seed"])
                for rec in st.records(r.experiment_id, "final_training")
                if _canon(rec.get("estimator")) == _canon(desc)}
        for s in cfg.retrain.seeds:
            if (tuple(inc.arch.choices), s) in done:
                continue
            todo.setdefault((inc.arch.choices, s), []).append((r.experiment_id, inc))
    if not todo:
        return 0
    ex.start(est)
    tasks: dict[int, tuple[tuple[Any, int], Task]] = {}
    keys = list(todo)
    pending = 0
    i = 0
    while i < len(keys) or pending:
        while i < len(keys) and pending < ex.max_workers:
            (choices, s) = keys[i]
            arch = todo[keys[i]][0][1].arch
            task = Task(i, arch, None, derive_seed(s, 0x7E7))
            tasks[i] = (keys[i], task)
            ex.submit(task)
            pending += 1
            i += 1
        for res in ex.wait():
            pending -= 1
            if res.fatal is not None:
                raise res.fatal
            key, task = tasks[res.ticket]
            ev = res.evaluation
            for exp_id, inc in todo[key]:
                st.add_record(exp_id, "final_training", {
                    "arch": str(task.arch), "choices": list(task.arch.to_json()["choices"]),
                    "seed": key[1], "eval_seed": task.seed, "estimator": desc,
                    "status": "complete" if ev is not None else "failed",
                    "metrics": {} if ev is None else {k: float(v) for k, v in ev.metrics.items()},
                    "cost": {"wall_s": (res.finished - res.started) if ev is None else ev.cost.wall_s,
                             "simulated_s": 0.0 if ev is None else ev.cost.simulated_s},
                    "error": res.error, "incumbent_trial": inc.number,
                    "search_val": inc.objective, "shared_with": len(todo[key]),
                })
    return len(keys)


def _tup(x: Any) -> Any:
    return tuple(_tup(v) for v in x) if isinstance(x, list) else x
