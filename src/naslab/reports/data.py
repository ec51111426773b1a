"""What a report reads from storage: the runs of one experiment or of one comparison group.

Nothing here re-runs or re-queries anything: every number comes from the storage file
(experiment configs and meta, per-trial incumbents and costs, final-training records).
A comparison group (``naslab compare``) labels its experiments with ``strategy``, ``seed`` and
``target``; when its config states a budget, each run is cut to the trials that budget allows
(a longer run reused by a smaller comparison counts only its prefix, as the comparison did).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from naslab.errors import ConfigError, StorageError, did_you_mean
from naslab.estimators.base import Objective, Objectives
from naslab.runner.storage import Storage
from naslab.runner.termination import make_termination, prefix_length

_COLUMNS = ("status", "reused", "incumbent_objective", "incumbent_test", "cum_simulated_s",
            "cum_wall_s")


@dataclass
class RunData:
    """One experiment, as arrays over its trials (NaN where no incumbent yet)."""

    exp_id: str
    strategy: str
    strategy_name: str        # registry name from the config (label may differ)
    seed: int | None
    target: str
    labels: dict[str, Any]
    config: dict[str, Any]
    meta: dict[str, Any]
    status: str
    inc_test: np.ndarray
    inc_val: np.ndarray
    cum_sim: np.ndarray
    cum_wall: np.ndarray
    n_failed: int
    n_reused: int
    n_recorded: int           # trials in storage (>= len(inc_test) when cut to a budget)
    optimum: float | None
    test_unavailable: str | None
    final_training: list[dict[str, Any]] = field(default_factory=list)
    trial_test: np.ndarray | None = None  # per-trial test accuracy (single-experiment reports)
    trial_val: np.ndarray | None = None
    kind: str = "search"      # "search" | "oneshot" (the experiment's kind in storage)
    #: the run's objectives (primary first) and constraints, from its config
    objectives: Objectives = field(default_factory=lambda: Objectives((Objective(),)))
    #: multi-objective single-experiment reports: the final front, one row per trial on it
    front: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_trials(self) -> int:
        return int(self.inc_test.size)

    @property
    def final_test(self) -> float:
        return float(self.inc_test[-1]) if self.inc_test.size else float("nan")

    @property
    def final_val(self) -> float:
        return float(self.inc_val[-1]) if self.inc_val.size else float("nan")

    @property
    def search_sim_s(self) -> float:
        return float(self.cum_sim[-1]) if self.cum_sim.size else 0.0

    @property
    def search_wall_s(self) -> float:
        return float(self.cum_wall[-1]) if self.cum_wall.size else 0.0


@dataclass
class ReportData:
    kind: str                       # "comparison" | "experiment"
    id: str
    location: str
    group_config: dict[str, Any] | None
    runs: list[RunData]
    baseline: str | None            # strategy label of random search, when present

    def targets(self) -> list[str]:
        seen: list[str] = []
        for r in self.runs:
            if r.target not in seen:
                seen.append(r.target)
        return seen

    def strategies(self, target: str) -> dict[str, list[RunData]]:
        out: dict[str, list[RunData]] = {}
        for r in self.runs:
            if r.target == target:
                out.setdefault(r.strategy, []).append(r)
        return out


def target_of(config: dict[str, Any]) -> str:
    est = config.get("estimator", {}) or {}
    return str(est.get("benchmark") or est.get("dataset") or est.get("estimator") or "unknown")


def resolve_id(storage: Storage, ident: str) -> str:
    """``"comparison"`` or ``"experiment"`` for ``ident``; StorageError when it is neither."""
    group_ids = [g["id"] for g in storage.groups()]
    exp_ids = [e.id for e in storage.experiments()]
    in_g, in_e = ident in group_ids, ident in exp_ids
    if in_g and in_e:
        raise ConfigError(f"{ident!r} names both a comparison group and an experiment in "
                          f"{storage.location}; rename one of them")
    if in_g:
        return "comparison"
    if in_e:
        return "experiment"
    hint = did_you_mean(ident, group_ids + exp_ids)
    what = (f"{len(group_ids)} comparison group(s) and {len(exp_ids)} experiment(s)"
            if group_ids or exp_ids else "no experiments and no comparison groups")
    raise StorageError(f"no comparison group or experiment {ident!r} in {storage.location} "
                       f"(it holds {what}){hint}; list them with `naslab runs --storage "
                       f"{storage.location}`")


def load_report_data(storage: Storage, ident: str) -> ReportData:
    """Read one experiment or one comparison group from ``storage``."""
    kind = resolve_id(storage, ident)
    infos = {e.id: e for e in storage.experiments()}
    if kind == "comparison":
        gcfg, members = storage.group(ident)
        if not members:
            raise StorageError(f"comparison group {ident!r} in {storage.location} has no "
                               f"experiments yet; run the comparison first")
    else:
        gcfg, members = None, [(ident, {})]
    # the budget of a `naslab compare` group (other groups: every recorded trial counts)
    budget = gcfg.get("budget") if isinstance(gcfg, dict) and gcfg.get("kind") == "comparison" else None
    single = kind == "experiment"
    runs = []
    for exp_id, labels in members:
        if exp_id not in infos:
            raise StorageError(f"comparison group {ident!r} lists experiment {exp_id!r}, which is "
                               f"not in {storage.location}; the storage file is incomplete")
        runs.append(_load_run(storage, infos[exp_id], labels, budget, single))
    return ReportData(kind, ident, storage.location, gcfg, runs, _baseline(gcfg, runs))


def _load_run(storage: Storage, info: Any, labels: dict[str, Any], budget: dict[str, Any] | None,
              single: bool) -> RunData:
    cols = storage.trial_columns(info.id, _COLUMNS)
    n = len(cols["status"])
    k = _budget_prefix(budget, cols) if budget else n
    cfg, meta = info.config, info.meta

    def arr(name: str) -> np.ndarray:
        return np.array([np.nan if x is None else x for x in cols[name][:k]], dtype=np.float64)

    strat_cfg = cfg.get("strategy", {}) or {}
    run = RunData(
        exp_id=info.id,
        strategy=str(labels.get("strategy") or strat_cfg.get("strategy") or "unknown"),
        strategy_name=str(strat_cfg.get("strategy") or labels.get("strategy") or "unknown"),
        seed=labels.get("seed", cfg.get("seed")),
        target=str(labels.get("target") or target_of(cfg)),
        labels=dict(labels), config=cfg, meta=meta, status=info.status,
        inc_test=arr("incumbent_test"), inc_val=arr("incumbent_objective"),
        cum_sim=arr("cum_simulated_s"), cum_wall=arr("cum_wall_s"),
        n_failed=sum(s == "failed" for s in cols["status"][:k]),
        n_reused=sum(bool(x) for x in cols["reused"][:k]), n_recorded=n,
        optimum=meta.get("optimum_test_acc"), test_unavailable=meta.get("test_unavailable"),
        final_training=storage.records(info.id, "final_training"),
        kind=getattr(info, "kind", "search"),
        objectives=Objectives.from_describe(cfg.get("objective")),
    )
    if single:
        trials = storage.trials(info.id)[:k]
        run.trial_test = np.array([t.metrics.get("test_acc", np.nan) if t.status == "complete"
                                   else np.nan for t in trials], dtype=np.float64)
        run.trial_val = np.array([np.nan if t.objective is None else t.objective
                                  for t in trials], dtype=np.float64)
        if run.objectives.is_multi and trials and trials[-1].front is not None:
            names = [o.metric for o in run.objectives]
            run.front = [{"trial": trials[n].number, "arch": str(trials[n].arch),
                          **dict(zip(names, trials[n].objectives or ())),
                          "test_acc": trials[n].metrics.get("test_acc")}
                         for n in trials[-1].front]
    return run


def _budget_prefix(budget: dict[str, Any], cols: dict[str, list[Any]]) -> int:
    """Trials a run keeps under the comparison's budget (all of them when it is not reached),
    decided as the runner does when it replays recorded trials under a smaller budget."""
    if not isinstance(budget, dict):
        raise StorageError(f"comparison budget must be a mapping with max_trials / "
                           f"max_simulated_s / max_wall_s, got {budget!r}")
    term = make_termination(budget.get("max_trials"), budget.get("max_simulated_s"),
                            budget.get("max_wall_s"))
    k = prefix_length(term, cols["cum_simulated_s"], cols["cum_wall_s"])
    return len(cols["cum_simulated_s"]) if k is None else k


def _baseline(gcfg: dict[str, Any] | None, runs: list[RunData]) -> str | None:
    """The strategy label of random search: the group's baseline, else a label or strategy
    named ``rs``."""
    base_name = (gcfg or {}).get("baseline", "rs") if isinstance(gcfg, dict) else "rs"
    labels = sorted({r.strategy for r in runs if r.strategy_name == base_name})
    if not labels:
        return None
    return base_name if base_name in labels else labels[0]


def comparison_runs_by_benchmark(storage: Storage, comparison: str,
                                 benchmarks: list[str]) -> dict[str, dict[str, list[RunData]]]:
    """The runs of comparison group ``comparison`` on each of ``benchmarks`` (benchmark names
    of tabular targets), by strategy label: what ``naslab analyze --comparison`` compares with
    exact random search. ConfigError when ``comparison`` is an experiment or has no run on any
    of them."""
    data = load_report_data(storage, comparison)
    if data.kind != "comparison":
        raise ConfigError(f"--comparison {comparison!r} is an experiment, not a comparison group")
    groups: dict[str, dict[str, list[RunData]]] = {}
    for name in benchmarks:
        by: dict[str, list[RunData]] = {}
        for r in data.runs:
            if (r.config.get("estimator") or {}).get("benchmark") == name:
                by.setdefault(r.strategy, []).append(r)
        if by:
            groups[name] = by
    if not groups:
        found = sorted({str((r.config.get("estimator") or {}).get("benchmark")) for r in data.runs})
        raise ConfigError(f"comparison {comparison!r} has no runs on {', '.join(benchmarks)} "
                          f"(its runs searched {', '.join(found)}); pass --benchmark of one of those")
    return groups
