"""A comparison's configuration: the schema, :func:`load_config` and its validation.

:func:`load_config` reads a YAML/JSON file (or a parsed mapping) into a :class:`CompareConfig`
and checks everything before anything runs: unknown keys anywhere (with the key's path and
did-you-mean), values, strategy / estimator / executor names and their parameter names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naslab.benchmarks import DEFAULT_BENCHMARK
from naslab.errors import (
    ConfigError,
    NaslabError,
    check_float,
    check_int,
    check_limit,
    did_you_mean,
    read_text_file,
)
from naslab.estimators.base import Constraint, Objective, Objectives
from naslab.runner.executors import make_executor
from naslab.runner.storage import _canon
from naslab.runner.termination import Termination, make_termination
from naslab.spaces import DEFAULT_SPACE

#: registry name of the baseline that every comparison contains
BASELINE = "rs"
#: ``storage.commit``: when trials become durable (``auto``: ``experiment`` when every target
#: is a tabular benchmark, else ``trial``)
COMMIT_MODES = ("auto", "trial", "experiment")

_TOP_KEYS = ("name", "space", "strategies", "seeds", "targets", "benchmarks", "objective",
             "objectives", "constraints", "reference", "budget", "executor", "storage", "retrain",
             "data_dir", "protocol")
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
    #: this target's own budget (a protocol's per-dataset budgets); None = the config's
    budget: dict[str, float] | None = None

    def describe(self) -> dict[str, Any]:
        d = {"label": self.label, "estimator": self.estimator, "params": self.params}
        if self.budget is not None:
            d["budget"] = dict(self.budget)
        return d


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
    objective: Objectives
    budget: dict[str, float]  # keys among max_trials, max_simulated_s, max_wall_s
    executor: dict[str, Any] = field(default_factory=lambda: {"name": "serial"})
    storage: str = "naslab.db"
    commit: str = "auto"
    retrain: RetrainSpec | None = None
    data_dir: str | None = None
    source: str = "config"
    #: a published protocol (:mod:`naslab.benchmarks.protocol`) the comparison runs under
    protocol: str | None = None
    #: the hypervolume reference point of multi-objective runs: "auto", "none" or one value
    #: per objective (see :class:`~naslab.runner.experiment.Experiment`)
    reference: str | tuple[float, ...] = "auto"

    def termination(self) -> Termination:
        return budget_termination(self.budget)

    def termination_for(self, target: TargetSpec) -> Termination:
        """The budget of ``target``'s runs: its own (a protocol's) or the config's."""
        if target.budget is None:
            return budget_termination(self.budget)
        return budget_termination(target.budget, over_budget=self._protocol().over_budget)

    @property
    def reuse(self) -> bool:
        """Whether repeated proposals are answered from a run's record (False under a
        protocol that charges every proposal)."""
        return True if self.protocol is None else self._protocol().reuse

    def target_for(self, target: TargetSpec, strategy: StrategySpec) -> TargetSpec:
        """``target`` with the estimator parameters the protocol gives ``strategy`` (BOHB's
        nominal budgets); ``target`` itself without a protocol."""
        if self.protocol is None:
            return target
        extra = self._protocol().estimator_params(strategy.name)
        params = {**extra, **target.params}
        return TargetSpec(target.label, target.estimator, params, target.budget)

    def _protocol(self) -> Any:
        from naslab.benchmarks.protocol import get_protocol

        assert self.protocol is not None
        return get_protocol(self.protocol)

    def group_config(self) -> dict[str, Any]:
        """What makes two comparisons the same (not where they run or how they commit)."""
        return {
            "kind": "comparison", "name": self.name, "space": self.space,
            "strategies": [s.describe() for s in self.strategies], "baseline": BASELINE,
            "seeds": list(self.seeds), "targets": [t.describe() for t in self.targets],
            "objective": self.objective_identity(),
            "budget": dict(self.budget),
            "retrain": None if self.retrain is None else self.retrain.describe(),
            **({} if self.protocol is None else {"protocol": self.protocol}),
        }

    def objective_identity(self) -> dict[str, Any]:
        """The objectives as the group config holds them: one objective without constraints
        is ``{"metric", "mode"}`` (as always); otherwise ``Objectives.describe()`` plus the
        reference point as configured (``auto`` is left out)."""
        d = self.objective.describe()
        if self.reference != "auto":
            d["reference"] = self.reference if isinstance(self.reference, str) else list(self.reference)
        return d

    @property
    def commit_mode(self) -> str:
        """``trial`` or ``experiment``: the ``auto`` default resolved (experiment-level commits
        when every target is a tabular benchmark, whose runs take milliseconds)."""
        return resolve_commit(self.commit, self.targets)

    @property
    def n_runs(self) -> int:
        return len(self.strategies) * len(self.seeds) * len(self.targets)

    def override(self, *, storage: str | None = None, commit: str | None = None,
                 executor: str | None = None, workers: int | None = None,
                 address: str | None = None, level: str | None = None,
                 data_dir: str | None = None) -> None:
        """Apply command-line overrides (None = keep the config's), checked as the config's
        own values are: another executor name starts from that executor's defaults."""
        if storage is not None:
            self.storage = storage
        if commit is not None:
            if commit not in COMMIT_MODES:
                raise ConfigError(f"--commit must be one of {', '.join(COMMIT_MODES)}, got "
                                  f"{commit!r}{did_you_mean(commit, COMMIT_MODES)}")
            self.commit = commit
        if data_dir is not None:
            self.data_dir = data_dir
        if executor is None and workers is None and address is None and level is None:
            if commit is not None and self.executor.get("level") == "runs":
                check_run_level(self.executor, self.commit, self.targets, "--commit")
            return
        e = dict(self.executor)
        if executor is not None and executor != e["name"]:
            e = {"name": executor, "workers": None, "address": None, "params": {},
                 "level": "trials"}
        if workers is not None:
            e["workers"] = workers
        if address is not None:
            e["address"] = address
        if level is not None:
            if level not in LEVELS:
                raise ConfigError(f"--level must be one of {', '.join(LEVELS)}, got {level!r}"
                                  f"{did_you_mean(level, LEVELS)}")
            e["level"] = level
        make_executor(e["name"], workers=e["workers"], address=e["address"], **e["params"])
        if e.get("level") == "runs":
            check_run_level(e, self.commit, self.targets, "--level runs")
        self.executor = e

    def plan(self) -> dict[str, Any]:
        """What would run (``naslab compare --check``)."""
        return {"group": self.name, "storage": self.storage, "commit": self.commit_mode,
                "runs": self.n_runs, "strategies": [s.label for s in self.strategies],
                "seeds": len(self.seeds), "targets": [t.label for t in self.targets],
                "budget": self.budget, "executor": self.executor["name"],
                "level": self.executor.get("level", "trials"),
                "retrain": None if self.retrain is None else self.retrain.describe(),
                **({} if self.protocol is None else {
                    "protocol": self.protocol,
                    "budgets": {t.label: t.budget for t in self.targets}})}


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
        n = check_int(f"{source}: {what} (a count)", v, minimum=1, expected="an integer >= 1")
        check_limit("seeds", n, f"{source}: {what}")
        return list(range(n))
    if isinstance(v, list) and v:
        check_limit("seeds", len(v), f"{source}: the number of {what}")
        out = [check_int(f"{source}: every entry of {what}", x, minimum=0) for x in v]
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

        name: my-comparison          # group id in storage (default: compare-<hash of config>)
        space: SPACE                 # default naslab.spaces.DEFAULT_SPACE
        strategies*: [re, ls, {name: reinforce, params: {lr: 0.05}, label: reinforce-lr05}]
        seeds*: 10                   # seeds 0..9, or a list [0, 3, 7]
        targets*: [NAME/DATASET, {benchmark: NAME/DATASET2, val: mean},
                   {estimator: train, params: {dataset: digits, epochs: 3}, label: digits}]
        budget*: {trials: 150, simulated_hours: 50, wall_s: 600}   # any of them; first hit stops
        objective: val_acc           # or {metric: val_acc, mode: max}, or a list of them
                                     # (multi-objective: [val_acc, latency_ms@pixel3:min])
        constraints: ["latency_ms@pixel3<=20"]   # optional; also for one objective
        reference: auto              # hypervolume reference point: auto | none | [v1, v2]
        executor: serial             # or {name: process|ray, workers: 2, address: auto}
        storage: naslab.db           # or {path: naslab.db, commit: auto|trial|experiment}
        retrain: {estimator: train, params: {dataset: digits}, seeds: 1}
        data_dir: /path/to/data      # benchmark / dataset directory
        protocol: nb201-paper        # a published protocol: it sets the targets (default: all
                                     # its search targets), their budgets and budget rule, the
                                     # search fidelity and the strategies' parameters (those
                                     # given explicitly win); no 'budget' then

    ``benchmarks`` is accepted as another name for ``targets``. Unknown keys, bad values and
    unknown component names raise ConfigError naming the key, what was expected and what was
    received.
    """
    import yaml

    from naslab import registry

    if isinstance(config, dict):
        raw, source = config, "compare config"
    else:
        path = Path(config)
        source = f"compare config {str(path)!r}"
        text = read_text_file(path, "compare config")
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source} is not valid YAML: {exc}") from None
        if raw is None:
            raise ConfigError(f"{source} is empty")
    d = _check_keys(raw, _TOP_KEYS, "", source)
    if "targets" in d and "benchmarks" in d:
        raise ConfigError(f"{source}: give 'targets' or 'benchmarks' (the same thing), not both")
    proto = None
    if d.get("protocol") is not None:
        from naslab.benchmarks.protocol import get_protocol

        proto = get_protocol(_label(d["protocol"], "protocol", source))
        if "budget" in d:
            raise ConfigError(f"{source}: protocol {proto.name!r} sets the budgets ("
                              + ", ".join(f"{t}: {b:g} s" for t, b in proto.search.items())
                              + "); remove 'budget'")
        d = {**d, "budget": {"simulated_hours": max(proto.search.values()) / 3600.0}}
        if "targets" not in d and "benchmarks" not in d:
            d["targets"] = list(proto.search)
    for req in ("strategies", "seeds", "budget"):
        if req not in d:
            raise ConfigError(f"{source}: missing required key {req!r}")
    if "targets" not in d and "benchmarks" not in d:
        raise ConfigError(f"{source}: missing required key 'targets' (e.g. targets: "
                          f"[{DEFAULT_BENCHMARK}])")

    space = d.get("space", DEFAULT_SPACE)
    if not isinstance(space, str):
        raise ConfigError(f"{source}: space must be a space name such as {DEFAULT_SPACE!r}, got "
                          f"{space!r}")
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
    if proto is not None:  # the authors' hyper-parameters, unless given explicitly
        strategies = [StrategySpec(sp.label, sp.name, dict(proto.strategies[sp.name]))
                      if sp.name in proto.strategies and not sp.params else sp
                      for sp in strategies]
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
        raise ConfigError(f"{source}: {tkey} must be a non-empty list such as "
                          f"[{DEFAULT_BENCHMARK}] "
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
            raise ConfigError(f"{source}: {ctx} needs 'benchmark' (e.g. {DEFAULT_BENCHMARK}) or "
                              f"'estimator' (a registered estimator name)")
        tbudget = None
        if proto is not None:
            if est_name not in ("tabular", "benchmark") or "benchmark" not in params:
                raise ConfigError(f"{source}: {ctx}: under protocol {proto.name!r} a target is "
                                  f"one of its benchmarks ({', '.join(proto.search)})")
            proto.check_target(params["benchmark"])
            tbudget = {"max_simulated_s": proto.budget(params["benchmark"])}
            params = {"fidelity": proto.fidelity, "val": proto.val, **params}
        if check_components:
            cls = registry.get("estimator", est_name)
            est_name = getattr(cls, "registry_name", est_name)
            registry.check_params(cls, params, what=f"{source}: {ctx} (estimator {est_name!r})")
        if default_label is None:
            default_label = est_name + (f"/{params['dataset']}" if "dataset" in params else "")
        label = _label(item.get("label", default_label), f"{ctx}.label", source)
        targets.append(TargetSpec(label, est_name, params, tbudget))
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
        budget["max_trials"] = check_int(f"{source}: budget.trials", b["trials"], minimum=1,
                                         expected="an integer >= 1")
        check_limit("trials", budget["max_trials"], f"{source}: budget.trials")
    for key, out, scale in (("simulated_hours", "max_simulated_s", 3600.0),
                            ("wall_s", "max_wall_s", 1.0)):
        if key in b:
            value = check_float(f"{source}: budget.{key}", b[key], minimum=0, strict_min=True,
                                finite=True)
            check_limit(key, value, f"{source}: budget.{key}")
            budget[out] = value * scale

    # objective(s), constraints, reference point --------------------------------------------
    objective, reference = _objectives(d, source)
    if proto is not None and (len(objective.objectives) != 1 or objective.constraints
                              or (objective.metric, objective.mode) != ("val_acc", "max")):
        raise ConfigError(f"{source}: protocol {proto.name!r} searches on val_acc (max) alone; "
                          f"got objectives {objective.describe()}")

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
        check_run_level(executor, commit, targets, source)
    cfg = CompareConfig(name="", space=space, strategies=strategies, seeds=seeds,
                        targets=targets, objective=objective, reference=reference,
                        budget=budget, executor=executor,
                        storage=storage, commit=commit, retrain=retrain, data_dir=data_dir,
                        source=source, protocol=None if proto is None else proto.name)
    if "name" in d:
        cfg.name = _label(d["name"], "name", source)
    else:
        cfg.name = "compare-" + hashlib.blake2b(_canon(cfg.group_config()).encode(),
                                                digest_size=4).hexdigest()
    return cfg


def check_run_level(executor: dict[str, Any], commit: str, targets: list[TargetSpec],
                    source: str) -> None:
    """``level: runs`` runs whole experiments in worker processes; say clearly what it needs."""
    from naslab import registry

    name = getattr(registry.get("executor", executor["name"]), "registry_name", executor["name"])
    if name != "process":
        raise ConfigError(f"{source}: executor.level 'runs' (whole runs in parallel) is "
                          f"implemented for the process executor only, got executor {name!r}; "
                          f"use level 'trials' with {name!r}")
    mode = resolve_commit(commit, targets)
    if mode != "experiment":
        raise ConfigError(f"{source}: executor.level 'runs' needs storage.commit 'experiment' "
                          f"(workers return whole runs, which the driver writes at once), got "
                          f"commit {mode!r}")


def budget_termination(budget: dict[str, float], *, over_budget: str = "keep") -> Termination:
    """The termination rule of a validated budget (``max_trials``, ``max_simulated_s``,
    ``max_wall_s``; the first reached stops; ``over_budget``: the simulated budget's rule)."""
    trials = budget.get("max_trials")
    return make_termination(None if trials is None else int(trials),
                            budget.get("max_simulated_s"), budget.get("max_wall_s"),
                            over_budget=over_budget)


def resolve_commit(commit: str, targets: list[TargetSpec]) -> str:
    """``trial`` or ``experiment``: ``auto`` is ``experiment`` when every target's estimator
    answers instantly (``Estimator.instant``: a tabular benchmark, whose runs take
    milliseconds), else ``trial``."""
    if commit != "auto":
        return commit
    from naslab import registry

    def instant(name: str) -> bool:
        try:
            return bool(getattr(registry.get("estimator", name), "instant", False))
        except NaslabError:
            return False

    return "experiment" if all(instant(t.estimator) for t in targets) else "trial"


def _objectives(d: dict[str, Any], source: str) -> tuple[Objectives, str | tuple[float, ...]]:
    """``objective`` (or ``objectives``): a metric, ``METRIC:max|min``, ``{metric, mode}`` or a
    list of them; ``constraints``: a list of ``METRIC OP BOUND`` strings; ``reference``:
    ``auto`` | ``none`` | one number per objective."""
    if "objective" in d and "objectives" in d:
        raise ConfigError(f"{source}: give either objective or objectives, not both")
    o = d.get("objective", d.get("objectives", "val_acc"))
    key = "objectives" if "objectives" in d else "objective"
    items = o if isinstance(o, list) else [o]
    if not items:
        raise ConfigError(f"{source}: {key} must name at least one metric, got []")
    objs = []
    for k, it in enumerate(items):
        where = f"{key}[{k}]" if isinstance(o, list) else key
        try:
            if isinstance(it, str):
                objs.append(Objective.parse(it))
            elif isinstance(it, dict):
                it = _check_keys(it, _OBJECTIVE_KEYS, where, source)
                objs.append(Objective(it.get("metric", "val_acc"), it.get("mode", "max")))
            else:
                raise ConfigError(f"expected a metric name, METRIC:max|min or {{metric, mode}}, "
                                  f"got {it!r}")
        except ConfigError as exc:
            raise ConfigError(f"{source}: {where}: {exc}") from None
    c = d.get("constraints", [])
    if isinstance(c, str):
        c = [c]
    if not isinstance(c, list):
        raise ConfigError(f"{source}: constraints must be a list of strings such as "
                          f"'latency_ms<=5', got {c!r}")
    cons = []
    for k, it in enumerate(c):
        try:
            cons.append(Constraint.parse(it))
        except ConfigError as exc:
            raise ConfigError(f"{source}: constraints[{k}]: {exc}") from None
    try:
        objectives = Objectives(tuple(objs), tuple(cons))
    except ConfigError as exc:
        raise ConfigError(f"{source}: {key}: {exc}") from None
    r = d.get("reference", "auto")
    reference: str | tuple[float, ...]
    if isinstance(r, str) and r in ("auto", "none"):
        reference = r
    elif isinstance(r, list) and r and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                           for x in r):
        reference = tuple(float(x) for x in r)
        try:
            objectives.with_reference(reference)
        except ConfigError as exc:
            raise ConfigError(f"{source}: reference: {exc}") from None
    else:
        raise ConfigError(f"{source}: reference must be auto, none or a list of one number per "
                          f"objective, got {r!r}")
    if reference != "auto" and not objectives.is_multi:
        raise ConfigError(f"{source}: reference applies to multi-objective comparisons (several "
                          f"objectives); this one has one objective")
    return objectives, reference
