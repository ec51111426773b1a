"""The exact Pareto front of a tabular benchmark and how stored multi-objective runs score
against it (what ``naslab analyze --objectives`` prints).

A run's final front (the architectures it reports) and the architectures it evaluated are
looked up in the benchmark's columns of the analysed objectives, so a search on single-run
validation accuracy can be scored on test accuracy (or on the mean validation accuracy over
runs) against the exact front of the same columns. Figures (all from
:class:`~naslab.analysis.pareto.ExactFront`): normalised hypervolume ratio (ideal 0, nadir 1,
reference 1.1), IGD in the normalised space, recall = share of the exact Pareto set's
architectures on the run's final front, and ``recall_evaluated`` = share the run evaluated at
all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from naslab.analysis.pareto import ExactFront, exact_front, front_quality, parse_metric_modes
from naslab.analysis.stats import mann_whitney, mean_ci
from naslab.errors import ConfigError, did_you_mean

#: metrics the analysis can compute when the benchmark has no column for them
COMPUTED_METRICS = ("flops_m",)


@dataclass
class FrontRun:
    """What the analysis needs of one stored run: its final front and evaluated
    architectures (as benchmark indices) and the objectives it searched."""

    exp_id: str
    strategy: str
    seed: int | None
    objectives: list[tuple[str, str]]     # (metric, mode) as searched
    front: list[int]
    evaluated: list[int]
    trials: int


@dataclass
class FrontAnalysis:
    target: str
    exact: ExactFront
    archs: list[str]                      # arch strings of the exact front, as exact.indices
    runs: list[dict[str, Any]] = field(default_factory=list)
    strategies: list[dict[str, Any]] = field(default_factory=list)
    baseline: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "exact_front": self.exact.to_json(archs=self.archs),
                "runs": self.runs, "strategies": self.strategies, "baseline": self.baseline,
                "info": self.info}


def metric_columns(bench: Any, metrics: Sequence[str],
                   extra: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Whole columns of ``metrics`` (``extra`` first, e.g. computed FLOPs; then the
    benchmark's ``column``: mean over runs for validation accuracy, ``latency_ms@<device>``
    per device)."""
    from naslab.errors import NaslabError

    out: dict[str, np.ndarray] = {}
    for m in metrics:
        if extra and m in extra:
            out[m] = np.asarray(extra[m], dtype=np.float64)
            continue
        try:
            out[m] = np.asarray(bench.column(m), dtype=np.float64)
        except NaslabError as exc:
            known = list(bench.metrics) + [f"latency_ms@{d}" for d in bench.devices[:3]]
            raise ConfigError(f"--objectives: {bench.name} has no metric {m!r} ({exc}); use "
                              f"{', '.join(bench.metrics)}, latency_ms@<device> or "
                              f"{', '.join(COMPUTED_METRICS)}{did_you_mean(m, known)}") from None
    return out


def _compatible(searched: list[tuple[str, str]], analysed: list[tuple[str, str]]) -> str | None:
    """Why a run that searched ``searched`` cannot be scored on ``analysed`` (None if it can):
    the same metrics in the same order and directions, except that an accuracy may be scored
    on another split (``val_acc`` searched, ``test_acc`` analysed)."""
    def base(m: str) -> str:
        for p in ("val_", "test_", "train_"):
            if m.startswith(p) and m.endswith("_acc"):
                return "*_acc"
        return m

    if [(base(m), o) for m, o in searched] != [(base(m), o) for m, o in analysed]:
        s = ", ".join(f"{m}:{o}" for m, o in searched)
        return f"it searched ({s})"
    return None


def analyze_fronts(bench: Any, objectives: str | Sequence[str],
                   runs: Sequence[FrontRun] = (), *,
                   extra_columns: Mapping[str, np.ndarray] | None = None,
                   baseline: str | None = "rs") -> FrontAnalysis:
    """The exact front of ``bench`` for ``objectives`` (``"test_acc:max,latency_ms@pixel3:min"``)
    and each run's scores against it, with per-strategy means, 95 % intervals and two-sided
    Mann-Whitney tests against ``baseline``'s runs on hypervolume ratio and recall."""
    objs = parse_metric_modes(objectives, bench.metric_mode)
    cols = metric_columns(bench, [m for m, _ in objs], extra_columns)
    ef = exact_front(cols, objs)
    space = bench.space
    archs = [str(space.from_index(int(i))) for i in ef.indices]
    fa = FrontAnalysis(bench.name, ef, archs, baseline=None)
    by: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        why = _compatible(r.objectives, objs)
        if why is not None:
            want = ", ".join(f"{m}:{o}" for m, o in objs)
            raise ConfigError(f"run {r.exp_id!r} cannot be scored on ({want}): {why}; analyse "
                              f"it with --objectives naming the same metrics")
        q = front_quality(ef, cols, r.front, r.evaluated)
        row = {"experiment": r.exp_id, "strategy": r.strategy, "seed": r.seed,
               "trials": r.trials, **q}
        fa.runs.append(row)
        by.setdefault(r.strategy, []).append(row)
    base = baseline if baseline in by else None
    fa.baseline = base
    for name, rows in by.items():
        s: dict[str, Any] = {"strategy": name, "runs": len(rows)}
        for k in ("hv_ratio", "igd", "recall", "recall_evaluated", "front_size"):
            v = np.array([row[k] for row in rows], dtype=np.float64)
            m, h, _ = mean_ci(v)
            s[f"{k}_mean"], s[f"{k}_ci95"] = float(m[0]), float(h[0])
            s[f"{k}_std"] = float(np.std(v, ddof=1)) if v.size > 1 else float("nan")
        if base is not None and name != base:
            for k in ("hv_ratio", "recall"):
                a = [row[k] for row in rows]
                b = [row[k] for row in by[base]]
                try:
                    mw = mann_whitney(a, b)
                except ConfigError:
                    continue
                s[f"{k}_p_vs_{base}"], s[f"{k}_cles_vs_{base}"] = mw.p, mw.cles
        fa.strategies.append(s)
    fa.info = {"recall": "share of the exact Pareto set's architectures on the run's final front",
               "recall_evaluated": "share of the exact Pareto set's architectures the run evaluated",
               "normalisation": "minimisation; ideal (0) and nadir (1) of the exact front; reference 1.1"}
    return fa
