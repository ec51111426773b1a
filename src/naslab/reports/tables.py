"""Report tables built from :class:`~naslab.reports.data.ReportData`: final results per
strategy, the cost ledger per run, and the run card. Each is a list of flat dicts (or one dict)
that is written as CSV and JSON and rendered into the HTML page."""

from __future__ import annotations

import csv
import importlib.metadata
import json
import math
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from naslab.analysis.stats import mann_whitney, ranks_desc
from naslab.reports.data import ReportData, RunData
from naslab.runner.ledger import ledger_from


def _nan_to_none(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, np.generic):
        return _nan_to_none(x.item())
    return x


def final_table(data: ReportData, target: str) -> list[dict[str, Any]]:
    """Per strategy on ``target``: runs, mean/std of the final incumbent's test accuracy and
    regret, rank (1 = best mean), mean rank over the seeds all strategies share, Mann-Whitney U
    against random search (two-sided) with effect sizes, mean costs."""
    groups = data.strategies(target)
    base = data.baseline if data.baseline in groups else None
    # rank and test on test accuracy; on validation accuracy when no run recorded test accuracy
    on_test = any(np.isfinite(r.final_test) for rs in groups.values() for r in rs)

    def score(r: RunData) -> float:
        return r.final_test if on_test else r.final_val

    base_final = (np.array([score(r) for r in groups[base]]) if base is not None else None)
    rows = []
    for name, runs in groups.items():
        final = np.array([score(r) for r in runs])
        val = np.array([r.final_val for r in runs])
        reg = np.array([(r.optimum - r.final_test) if r.optimum is not None else np.nan
                        for r in runs])
        row: dict[str, Any] = {
            "target": target, "strategy": name, "runs": len(runs),
            "trials_mean": float(np.mean([r.n_trials for r in runs])),
            "compared_on": "test_acc" if on_test else "val_acc",
            "test_mean": _mean(final) if on_test else None,
            "test_std": _std(final) if on_test else None,
            "val_mean": _mean(val), "val_std": _std(val),
            "regret_mean": _mean(reg), "regret_std": _std(reg),
            "search_sim_h_mean": float(np.mean([r.search_sim_s for r in runs])) / 3600.0,
            "search_wall_s_mean": float(np.mean([r.search_wall_s for r in runs])),
            "failed_trials": int(sum(r.n_failed for r in runs)),
        }
        retrained = [_final_training_summary(r) for r in runs]
        rt = np.array([x["test_acc"] for x in retrained if x["test_acc"] is not None])
        if rt.size:
            row["retrained_test_mean"] = _mean(rt)
            row["retrained_test_std"] = _std(rt)
        if base_final is not None and name != base and np.isfinite(final).any() \
                and np.isfinite(base_final).any():
            mw = mann_whitney(final, base_final)
            row.update({"vs_rs_U": mw.u, "vs_rs_p": mw.p, "vs_rs_cles": mw.cles,
                        "vs_rs_rank_biserial": mw.rank_biserial})
        else:
            row.update({"vs_rs_U": None, "vs_rs_p": None, "vs_rs_cles": None,
                        "vs_rs_rank_biserial": None})
        rows.append(row)
    key = "test_mean" if on_test else "val_mean"
    means = np.array([np.nan if r[key] is None else r[key] for r in rows])
    for r, rk in zip(rows, ranks_desc(means)):
        r["rank"] = float(rk)
    mean_seed_rank = _mean_rank_over_seeds(groups, score)
    for r in rows:
        r["mean_rank_over_seeds"] = mean_seed_rank.get(r["strategy"])
    rows.sort(key=lambda r: (r["rank"], r["strategy"]))
    return [{k: _nan_to_none(v) for k, v in r.items()} for r in rows]


def _mean(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else None


def _std(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(x.std(ddof=1)) if x.size > 1 else None


def _mean_rank_over_seeds(groups: dict[str, list[RunData]],
                          score: Any) -> dict[str, float | None]:
    """Average over the seeds every strategy ran of the strategy's rank among strategies."""
    by_seed = {name: {r.seed: score(r) for r in runs} for name, runs in groups.items()}
    common = set.intersection(*(set(v) for v in by_seed.values())) if by_seed else set()
    common.discard(None)
    if len(groups) < 2 or not common:
        return {name: None for name in groups}
    names = list(groups)
    tot = np.zeros(len(names))
    for s in common:
        tot += ranks_desc(np.array([by_seed[n][s] for n in names]))
    return {n: float(t / len(common)) for n, t in zip(names, tot)}


def _final_training_summary(run: RunData) -> dict[str, Any]:
    """One final training of the run's incumbent: mean cost per training (from the run's cost
    ledger) and mean test accuracy over the recorded trainings (seeds)."""
    if not run.final_training:
        return {"n": 0, "sim_s": None, "wall_s": None, "test_acc": None, "failed": 0}
    ft = _ledger(run)["final_training"]
    tests = []
    for r in run.final_training:
        if r.get("status", "complete") != "complete":
            continue
        t = (r.get("metrics") or {}).get("test_acc", r.get("test_acc"))
        if t is not None:
            tests.append(float(t))
    n = ft["n"]
    return {"n": n, "failed": ft["failed"],
            "sim_s": ft["simulated_s"] / n if n else None,
            "wall_s": ft["wall_s"] / n if n else None,
            "test_acc": float(np.mean(tests)) if tests else None}


def _ledger(run: RunData) -> dict[str, dict[str, Any]]:
    """The run's cost ledger (:mod:`naslab.runner.ledger`) from what the report has read."""
    return ledger_from(run.config, run.meta, kind=run.kind, cum_simulated_s=run.search_sim_s,
                       cum_wall_s=run.search_wall_s, n_trials=run.n_trials, n_failed=run.n_failed,
                       records=run.final_training)


def cost_ledger(data: ReportData) -> list[dict[str, Any]]:
    """Per run: search cost (simulated and wall), final-training cost (one training of the
    incumbent, mean over the recorded final-training seeds) and the total to a deployable model,
    from each run's cost ledger (:func:`naslab.runner.ledger.cost_ledger`).

    Without a final-training step the incumbent's own search evaluation is the deployable
    model (tabular benchmarks: its recorded training), so the total is the search cost.
    """
    rows = []
    for r in data.runs:
        search = _ledger(r)["search"]
        ft = _final_training_summary(r)
        sim_total = search["simulated_s"] + (ft["sim_s"] or 0.0)
        wall_total = search["wall_s"] + (ft["wall_s"] or 0.0)
        rows.append({
            "experiment": r.exp_id, "target": r.target, "strategy": r.strategy, "seed": r.seed,
            "status": r.status, "trials": r.n_trials, "failed": r.n_failed, "reused": r.n_reused,
            "search_sim_h": search["simulated_s"] / 3600.0, "search_wall_s": search["wall_s"],
            "final_trainings": ft["n"], "final_failed": ft["failed"],
            "final_sim_h": None if ft["sim_s"] is None else ft["sim_s"] / 3600.0,
            "final_wall_s": ft["wall_s"],
            "total_sim_h": sim_total / 3600.0, "total_wall_s": wall_total,
            "final_test": _nan_to_none(r.final_test),
            "retrained_test": ft["test_acc"],
        })
    return rows


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("naslab", "numpy", "scipy", "matplotlib", "torch"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _find_keys(obj: Any, pred: Any, path: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = f"{path}.{k}" if path else str(k)
            if pred(str(k)):
                found.append((p, v))
            found.extend(_find_keys(v, pred, p))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            found.extend(_find_keys(v, pred, f"{path}[{i}]"))
    return found


def seed_ranges(seeds: list[Any]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    ints = sorted({int(s) for s in seeds if s is not None})
    if not ints:
        return "none recorded"
    runs: list[tuple[int, int]] = []
    for s in ints:
        if runs and s == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], s)
        else:
            runs.append((s, s))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def run_card(data: ReportData) -> dict[str, Any]:
    """Versions, machine, seeds, data-file and protocol hashes of the runs in the report.

    What the runs recorded (naslab version, executor, termination, command) comes from storage;
    the software versions and machine are those of the process that renders the report, listed
    as such (runs record only the naslab version).
    """
    runs = data.runs
    sources: dict[str, set[str]] = {}
    protocols: dict[str, set[str]] = {}
    for r in runs:
        est = r.config.get("estimator", {}) or {}
        for _path, val in _find_keys(est, lambda k: k == "sources"):
            if isinstance(val, dict):
                for name, h in val.items():
                    sources.setdefault(str(name), set()).add(str(h))
        for path, val in _find_keys(est, lambda k: "protocol" in k.lower()):
            if not isinstance(val, (dict, list)):
                protocols.setdefault(path, set()).add(str(val))
        for rec in r.final_training:
            for path, val in _find_keys(rec.get("estimator") or {}, lambda k: "protocol" in k.lower()):
                if not isinstance(val, (dict, list)):
                    protocols.setdefault("final_training." + path, set()).add(str(val))

    def distinct(key: str) -> list[Any]:
        vals: list[Any] = []
        for r in runs:
            v = r.meta.get(key)
            if v is not None and v not in vals:
                vals.append(v)
        return vals

    recorded_env = {k: distinct(k) for k in ("python", "numpy", "torch", "platform", "machine",
                                              "cpu_count", "hostname") if distinct(k)}
    card: dict[str, Any] = {
        "report": {"kind": data.kind, "id": data.id, "storage": data.location,
                   "runs": len(runs), "targets": data.targets()},
        "naslab_recorded_by_runs": distinct("naslab"),
        "environment_recorded_by_runs": recorded_env or "not recorded by the runs",
        "report_environment": {
            **_versions(),
            "platform": platform.platform(), "machine": platform.machine(),
            "processor": platform.processor() or "unknown", "cpu_count": os.cpu_count(),
            "executable": sys.executable,
        },
        "seeds": seed_ranges([r.seed for r in runs]),
        "strategies": sorted({r.strategy for r in runs}),
        "objectives": sorted({json.dumps(r.config.get("objective"), sort_keys=True) for r in runs}),
        "executors": [json.dumps(x, sort_keys=True) for x in distinct("executor")],
        "terminations": [json.dumps(x, sort_keys=True) for x in distinct("termination")],
        "budget_rules": sorted({_budget_rule(x) for x in distinct("termination")
                                if isinstance(x, dict) and "max_simulated_s" in x}),
        "query_notes": [json.dumps(x, sort_keys=True) for x in distinct("estimator_notes")],
        "protocols": distinct("protocol"),
        "commands": distinct("command"),
        "data_file_hashes": {k: sorted(v) for k, v in sorted(sources.items())},
        "protocol_hashes": {k: sorted(v) for k, v in sorted(protocols.items())},
    }
    if data.group_config is not None:
        card["comparison"] = {k: data.group_config.get(k) for k in
                              ("name", "budget", "baseline", "retrain", "objective")
                              if k in data.group_config}
    return card


def _budget_rule(termination: dict[str, Any]) -> str:
    """What happened to the trial that would exceed a simulated-time budget, in words."""
    if termination.get("over_budget", "keep") == "discard":
        return "discard: the query that would exceed the simulated budget was dropped"
    return "keep: the trial that crossed the simulated budget was recorded (may overshoot)"


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    keys: list[str] = []
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if r.get(k) is None else r.get(k) for k in keys})


def write_json(obj: Any, path: Path) -> None:
    """JSON with NaN/inf written as null (valid JSON for any reader)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(clean_json(obj), f, indent=1, allow_nan=False)
        f.write("\n")


def clean_json(o: Any) -> Any:
    """``o`` with numpy values as Python ones and non-finite floats as None."""
    if isinstance(o, dict):
        return {str(k): clean_json(v) for k, v in o.items()}
    if isinstance(o, (list, tuple, set)):
        return [clean_json(v) for v in o]
    if isinstance(o, np.ndarray):
        return [clean_json(v) for v in o.tolist()]
    if isinstance(o, np.generic):
        return clean_json(o.item())
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o
