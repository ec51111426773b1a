"""How far each strategy of a stored comparison beats random search at the same budget.

The baseline is the *exact* expected best-of-N of naslab's random search on the same benchmark
target (:func:`naslab.analysis.best_of_n.expected_best_of_n`, with the validation mode the runs
used), so the only noise left is that of the strategy's own runs. The comparison's runs are
read from storage; they must have searched this benchmark with the same data files (their
recorded file hashes must match) and maximised validation accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from naslab.analysis import best_of_n as bon
from naslab.analysis.stats import mean_ci
from naslab.errors import ConfigError, DataError


@dataclass
class VsRandom:
    target: str
    val_mode: str
    n_max: int
    rs_exact: np.ndarray                    # E[test of RS incumbent], N = 1..n_max
    strategies: dict[str, dict[str, Any]]   # label -> curves and final numbers

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for name, s in self.strategies.items():
            rows.append({"target": self.target, "strategy": name, "runs": s["runs"],
                         "budget": s["budget"], "test_mean": s["final_mean"],
                         "rs_exact": s["rs_at_budget"], "gain": s["gain"],
                         "gain_ci95": s["gain_ci"], "p_t_test": s["p"],
                         "max_abs_z_vs_rs_curve": s["max_abs_z"]})
        return rows


def compare_to_random(runs_by_strategy: dict[str, list[Any]], bench: Any) -> VsRandom:
    """``runs_by_strategy``: label -> :class:`~naslab.reports.data.RunData` on ``bench``'s
    target. Returns per-strategy gain over the exact random-search curve."""
    from scipy import stats

    if not runs_by_strategy:
        raise ConfigError(f"no runs on {bench.name} to compare with random search")
    want = bench.describe()
    modes = set()
    for name, runs in runs_by_strategy.items():
        for r in runs:
            est = r.config.get("estimator", {}) or {}
            if est.get("benchmark") != bench.name:
                raise ConfigError(f"run {r.exp_id!r} ({name}) searched {est.get('benchmark') or est.get('estimator')!r}, "
                                  f"not {bench.name!r}")
            if est.get("sources") != want["sources"]:
                raise DataError(
                    f"run {r.exp_id!r} ({name}) used other data files than the benchmark loaded "
                    f"now (recorded hashes {est.get('sources')}, now {want['sources']}); pass "
                    f"--data-dir of the data the comparison ran on")
            obj = r.config.get("objective", {}) or {}
            if obj.get("metric", "val_acc") != "val_acc" or obj.get("mode", "max") != "max":
                raise ConfigError(f"run {r.exp_id!r} ({name}) optimised {obj}; the exact random "
                                  f"baseline is defined for maximising val_acc")
            modes.add(est.get("val", "run"))
    if len(modes) != 1:
        raise ConfigError(f"the runs mix validation modes {sorted(modes)}; compare one at a time")
    mode = modes.pop()
    n_max = max(r.n_trials for runs in runs_by_strategy.values() for r in runs)
    if n_max < 1:
        raise ConfigError("the runs have no trials")
    test = bench.column("test_acc")
    val = bench.run_table("val_acc") if mode == "run" else bench.column("val_acc")
    exact = bon.expected_best_of_n(val, test, n_max).mean
    out: dict[str, dict[str, Any]] = {}
    for name, runs in runs_by_strategy.items():
        lens = {r.n_trials for r in runs}
        mat = np.full((len(runs), n_max), np.nan)
        for i, r in enumerate(runs):
            mat[i, : r.n_trials] = r.inc_test
        m, h, n = mean_ci(mat)
        gain = m - exact
        budget = min(lens)
        finals = mat[:, budget - 1]
        finals = finals[np.isfinite(finals)]
        p = (float(stats.ttest_1samp(finals, exact[budget - 1]).pvalue)
             if finals.size > 1 and finals.std() > 0 else None)
        with np.errstate(invalid="ignore", divide="ignore"):
            dev = np.where(np.isnan(mat), 0.0, mat - m[None, :])
            se = np.sqrt((dev**2).sum(axis=0) / np.maximum(n - 1, 1) / np.maximum(n, 1))
            z = np.where(n >= 2, np.abs(gain) / se, np.nan)
        out[name] = {
            "runs": len(runs), "budget": budget, "mean": m, "ci": h, "n": n, "gain_curve": gain,
            "final_mean": float(m[budget - 1]), "rs_at_budget": float(exact[budget - 1]),
            "gain": float(gain[budget - 1]), "gain_ci": float(h[budget - 1]) if np.isfinite(h[budget - 1]) else None,
            "p": p, "max_abs_z": float(np.nanmax(z)) if np.isfinite(z).any() else None,
        }
    return VsRandom(bench.name, mode, n_max, exact, out)
