"""What a comparison returns: one :class:`RunSummary` per run and the
:class:`ComparisonResult` table (mean ± sd of the final test accuracy, regret, cost)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from naslab.runner.records import TrialRecord


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
    """Every run of a comparison (in config order), the wall time, final trainings made."""

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


#: the trial columns a run's summary reads
SUMMARY_COLS = ("status", "incumbent_objective", "incumbent_test", "cum_simulated_s",
                "cum_wall_s")


def summarize(exp_id: str, labels: dict[str, Any], how: str, status: str,
              cols: dict[str, list[Any]], optimum: float | None) -> RunSummary:
    """A run's summary from its trial columns (:data:`SUMMARY_COLS`, e.g. a budget prefix of
    them) and the target's optimum test accuracy (for the regret)."""
    n = len(cols["status"])
    test = cols["incumbent_test"][-1] if n else None
    return RunSummary(
        experiment_id=exp_id, labels=labels, how=how, status=status, n_trials=n,
        failed_trials=sum(s == "failed" for s in cols["status"]),
        best_val=cols["incumbent_objective"][-1] if n else None, test_acc=test,
        regret=None if test is None or optimum is None else optimum - test,
        simulated_s=cols["cum_simulated_s"][-1] if n else 0.0,
        wall_s=cols["cum_wall_s"][-1] if n else 0.0)


def columns(trials: list[TrialRecord]) -> dict[str, list[Any]]:
    """:data:`SUMMARY_COLS` of ``trials`` (what ``Storage.trial_columns`` reads)."""
    return {"status": [t.status for t in trials],
            "incumbent_objective": [t.incumbent_objective for t in trials],
            "incumbent_test": [t.incumbent_test for t in trials],
            "cum_simulated_s": [t.cum_simulated_s for t in trials],
            "cum_wall_s": [t.cum_wall_s for t in trials]}
