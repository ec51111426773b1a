"""The fidelity harness: how well an estimator's ranking (a supernet's inherited weights, a
zero-cost proxy, a low-fidelity training) agrees with reference rankings.

``estimator_fidelity(estimator, references, ...)`` scores a set of architectures with the
estimator (``proxy_metric``, default ``val_acc``: with the supernet estimator, the
inherited-weight accuracy after BN recalibration) and compares the scores with each
reference's ``metric`` (default ``test_acc``; the mean over the reference's runs) by Kendall
tau, Spearman rho and precision@top-10 % with bootstrap intervals, beside the reference's noise
ceiling (:mod:`naslab.analysis.fidelity`). ``naslab bench fidelity`` (and later
``naslab oneshot fidelity``) call it.

Architectures: those of the first reference that records a sample of the space (a local
benchmark: its recorded architectures, which every such reference must hold), else
``n_archs`` drawn like ``naslab bench build`` draws them (:func:`~naslab.runner.bench_build.select_archs`,
one per isomorphism class, seeded). Noise ceiling: Kendall tau between the reference's runs of
``metric``; where the reference records a single value of ``metric`` per architecture (NB201's
test accuracy is a mean over runs), between its runs of ``val_acc`` instead (noted as
``ceiling_metric``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from naslab.analysis.fidelity import FidelityStats, fidelity_figure, fidelity_stats
from naslab.benchmarks.base import TabularBenchmark
from naslab.errors import ConfigError, DataError
from naslab.estimators.base import Estimator
from naslab.spaces.base import Architecture, get_space

__all__ = ["ReferenceFidelity", "FidelityReport", "estimator_fidelity", "reference_values"]


@dataclass
class ReferenceFidelity:
    """The comparison with one reference."""

    name: str
    metric: str
    values: np.ndarray
    stats: FidelityStats
    ceiling_metric: str | None
    figure: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"reference": self.name, "metric": self.metric,
                "ceiling_metric": self.ceiling_metric, "figure": self.figure,
                "stats": self.stats.to_json(), "values": self.values.tolist()}


@dataclass
class FidelityReport:
    """Scores of the architectures and their comparison with every reference."""

    archs: list[Architecture]
    proxy_metric: str
    proxy: np.ndarray
    estimator: dict[str, Any]
    references: list[ReferenceFidelity]
    wall_s: float
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"n_archs": len(self.archs), "archs": [str(a) for a in self.archs],
                "proxy_metric": self.proxy_metric, "proxy": self.proxy.tolist(),
                "estimator": self.estimator, "wall_s": self.wall_s,
                "references": [r.to_json() for r in self.references], **self.meta}


def reference_values(bench: TabularBenchmark, archs: Sequence[Architecture], metric: str
                     ) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """Mean over runs of ``metric`` per architecture, and the (archs, runs) table the noise
    ceiling is measured on with its metric (None when the reference has a single run)."""
    bench.check_metric(metric)
    rows = np.array([bench.index(a) for a in archs], dtype=np.int64)
    table = bench.run_table(metric)[rows]
    with np.errstate(invalid="ignore"):
        values = np.nanmean(table, axis=1)
    if not np.isfinite(values).all():
        bad = [str(archs[i]) for i in np.flatnonzero(~np.isfinite(values))[:3]]
        raise DataError(f"reference {bench.name} has no {metric} for {len(bad)}+ of the "
                        f"architectures, e.g. {bad[0]}")

    def multi(t: np.ndarray) -> bool:
        return t.shape[1] >= 2 and int((np.isfinite(t).sum(axis=1) >= 2).sum()) >= 3

    if multi(table):
        return values, table, metric
    if metric != "val_acc" and "val_acc" in bench.metrics:
        alt = bench.run_table("val_acc")[rows]
        if multi(alt):
            return values, alt, "val_acc"
    return values, None, None


def _archs_for(references: Sequence[TabularBenchmark], n_archs: int, arch_seed: int
               ) -> list[Architecture]:
    from naslab.runner.bench_build import select_archs

    base = get_space(references[0].space_name)
    for ref in references:
        if ref.space_name != base.name:
            raise ConfigError(f"references must be of one space: {references[0].name} is of "
                              f"{base.name!r}, {ref.name} of {ref.space_name!r}")
    for ref in references:
        sub = ref.restrict(base)
        if sub is not base:
            archs = list(sub.enumerate())
            for other in references:
                for a in archs:
                    other.index(a)  # raises naming the arch when a reference lacks it
            return archs
    return select_archs(base, n_archs, arch_seed)


def estimator_fidelity(estimator: Estimator, references: Sequence[TabularBenchmark], *,
                       archs: Sequence[Architecture] | None = None, n_archs: int = 100,
                       arch_seed: int = 0, proxy_metric: str = "val_acc",
                       metric: str = "test_acc", top: float = 0.1, n_boot: int = 1000,
                       seed: int = 0, figure_dir: str | Path | None = None,
                       proxy_label: str = "inherited-weight val acc (%)",
                       on_arch: Callable[[int, int, Architecture, float], None] | None = None,
                       ) -> FidelityReport:
    """Score ``archs`` (default: see the module docstring) with ``estimator`` and compare with
    every reference (Kendall / Spearman / precision@top, bootstrap intervals, noise ceiling);
    with ``figure_dir``, one scatter figure per reference is written there."""
    if not references:
        raise ConfigError("the fidelity harness needs at least one reference benchmark")
    t0 = time.perf_counter()
    chosen = list(archs) if archs is not None else _archs_for(references, n_archs, arch_seed)
    if len(chosen) < 3:
        raise ConfigError(f"the fidelity harness needs at least 3 architectures, got {len(chosen)}")
    space = get_space(chosen[0].space)
    estimator.check_space(space)
    scores = np.empty(len(chosen))
    for k, a in enumerate(chosen):
        ev = estimator.evaluate(a, seed=seed)
        if proxy_metric not in ev.metrics:
            raise ConfigError(f"the estimator reports no {proxy_metric!r} (it reports "
                              f"{', '.join(ev.metrics)}); choose --proxy-metric")
        scores[k] = float(ev.metrics[proxy_metric])
        if on_arch is not None:
            on_arch(k + 1, len(chosen), a, scores[k])
    out: list[ReferenceFidelity] = []
    for ref in references:
        values, runs, cmetric = reference_values(ref, chosen, metric)
        st = fidelity_stats(scores, values, ref_runs=runs, top=top, n_boot=n_boot, seed=seed)
        fig = None
        if figure_dir is not None:
            import re

            slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", ref.name).strip("-")
            fig = str(fidelity_figure(
                scores, values, Path(figure_dir) / f"fidelity-{slug}-{metric}.png", stats=st,
                xlabel=proxy_label, ylabel=f"{metric} (%), {ref.name}",
                title=f"{len(chosen)} architectures: proxy vs {ref.name}"))
        out.append(ReferenceFidelity(ref.name, metric, values, st, cmetric, fig))
    desc = estimator.describe()
    return FidelityReport(chosen, proxy_metric, scores, desc, out, time.perf_counter() - t0)
