"""How far a cheap ranking of architectures can be trusted: rank fidelity statistics (numpy /
scipy; the scatter figure imports matplotlib when drawn).

Given a proxy score per architecture (an accuracy with weights inherited from a supernet, a
zero-cost score, a low-fidelity accuracy) and a reference (stand-alone accuracy), the
**fidelity** of the proxy is how well it ranks the architectures as the reference does:

* Kendall's tau-b and Spearman's rho between proxy and reference (ties allowed), with their
  two-sided p-values against "no correlation" (scipy);
* precision@top-f: of the ``k = ceil(f * n)`` architectures the proxy ranks highest, the share
  that are among the ``k`` the reference ranks highest (ties at the cut are broken by position,
  the same for both);
* for each, a percentile bootstrap interval over architectures (resampling the architectures
  with replacement, ``n_boot`` times, from a seeded generator).

Beside them goes the reference's own **noise ceiling** (:func:`seed_ceiling`): Kendall's tau
between two independent training runs (seeds) of the reference, averaged over pairs of runs. A
proxy cannot be expected to agree with the reference better than the reference agrees with
itself when retrained, so the ceiling is the yardstick for every tau above.

(Sciuto et al. 2020 and Yu et al. 2020 measure supernet fidelity with Kendall's tau; Guo et al.
2020 report Spearman's rho; precision@top-k follows Ning et al. 2021.)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from naslab.errors import ConfigError, check_float, check_int

__all__ = ["Interval", "FidelityStats", "precision_at_top", "seed_ceiling", "fidelity_stats",
           "fidelity_figure", "kendall_rows", "spearman_rows", "precision_rows"]


@dataclass(frozen=True)
class Interval:
    """A statistic with its percentile bootstrap interval (``lo``, ``hi``) at ``conf``."""

    value: float
    lo: float
    hi: float
    conf: float = 0.95
    p_value: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        s = f"{self.value:.3f} [{self.lo:.3f}, {self.hi:.3f}]"
        return s if self.p_value is None else s + f" (p={self.p_value:.2g})"


def _vectors(pred: Any, ref: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64)
    r = np.asarray(ref, dtype=np.float64)
    if p.ndim != 1 or p.shape != r.shape:
        raise ConfigError(f"proxy scores and reference values must be vectors of equal length, "
                          f"got shapes {p.shape} and {r.shape}")
    if len(p) < 3:
        raise ConfigError(f"rank fidelity needs at least 3 architectures, got {len(p)}")
    if not (np.isfinite(p).all() and np.isfinite(r).all()):
        raise ConfigError("proxy scores and reference values must be finite (no NaN / inf)")
    return p, r


def _top_k(n: int, frac: float) -> int:
    return max(1, min(n, int(math.ceil(frac * n - 1e-9))))


def precision_at_top(pred: Any, ref: Any, frac: float = 0.1) -> float:
    """Share of the proxy's top ``ceil(frac * n)`` architectures that are also in the
    reference's top ``ceil(frac * n)`` (1 = the same set). Ties are broken by position."""
    p = np.asarray(pred, dtype=np.float64)
    r = np.asarray(ref, dtype=np.float64)
    frac = check_float("top fraction", frac, minimum=0.0, maximum=1.0, strict_min=True)
    k = _top_k(len(p), frac)
    top_p = np.argsort(-p, kind="stable")[:k]
    top_r = np.argsort(-r, kind="stable")[:k]
    return float(len(np.intersect1d(top_p, top_r))) / k


def _kendall(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import stats

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.kendalltau(a, b).statistic)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import stats

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.spearmanr(a, b).statistic)


def kendall_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of every row pair of two (rows, n) arrays, vectorised (what the
    bootstrap needs; equal to scipy's ``kendalltau`` row by row, NaN where a row is constant)."""
    a, b = np.atleast_2d(np.asarray(a, dtype=np.float64)), np.atleast_2d(np.asarray(b, dtype=np.float64))
    n = a.shape[1]
    i, j = np.triu_indices(n, 1)
    out = np.empty(a.shape[0])
    step = max(1, int(2e7 // max(len(i), 1)))
    for s0 in range(0, a.shape[0], step):
        dx = np.sign(a[s0:s0 + step, i] - a[s0:s0 + step, j])
        dy = np.sign(b[s0:s0 + step, i] - b[s0:s0 + step, j])
        num = (dx * dy).sum(axis=1)
        den = np.sqrt(np.count_nonzero(dx, axis=1).astype(np.float64)
                      * np.count_nonzero(dy, axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s0:s0 + step] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


def spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rho (Pearson correlation of average ranks) of every row pair, vectorised."""
    from scipy import stats

    ra = stats.rankdata(np.atleast_2d(a), axis=1)
    rb = stats.rankdata(np.atleast_2d(b), axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    den = np.sqrt((ra * ra).sum(axis=1) * (rb * rb).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (ra * rb).sum(axis=1) / np.where(den > 0, den, 1.0), np.nan)


def precision_rows(a: np.ndarray, b: np.ndarray, frac: float) -> np.ndarray:
    """:func:`precision_at_top` of every row pair, vectorised."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    rows, n = a.shape
    k = _top_k(n, frac)
    ta = np.zeros((rows, n), dtype=bool)
    tb = np.zeros((rows, n), dtype=bool)
    np.put_along_axis(ta, np.argsort(-a, axis=1, kind="stable")[:, :k], True, axis=1)
    np.put_along_axis(tb, np.argsort(-b, axis=1, kind="stable")[:, :k], True, axis=1)
    return (ta & tb).sum(axis=1) / k


def _interval(samples: np.ndarray, value: float, conf: float,
              p_value: float | None = None) -> Interval:
    s = samples[np.isfinite(samples)]
    if len(s) == 0:
        return Interval(value, float("nan"), float("nan"), conf, p_value)
    lo, hi = np.percentile(s, [100 * (1 - conf) / 2, 100 * (1 + conf) / 2])
    return Interval(float(value), float(lo), float(hi), conf, p_value)


def _check_boot(n_boot: int, conf: float) -> tuple[int, float]:
    n_boot = check_int("n_boot", n_boot, minimum=10)
    conf = check_float("conf", conf, minimum=0.0, maximum=1.0, strict_min=True)
    if conf >= 1:
        raise ConfigError(f"conf must be < 1, got {conf:g}")
    return n_boot, conf


def seed_ceiling(runs: Any, *, n_boot: int = 1000, seed: int = 0,
                 conf: float = 0.95) -> dict[str, Any]:
    """The noise ceiling of a reference with several runs per architecture.

    ``runs`` is an (architectures, runs) array (NaN = no such run). For every pair of run
    columns, Kendall's tau-b over the architectures that have both runs; the ceiling is the
    mean over pairs, with a bootstrap interval from resampling architectures (the same
    resample for every pair). Returns ``kendall`` (an :class:`Interval` as JSON), ``pairs``
    (tau per column pair), ``spearman`` (mean over pairs), ``n_archs`` and ``n_runs``. Fewer
    than two run columns: ``kendall`` is None (no ceiling can be measured).
    """
    t = np.asarray(runs, dtype=np.float64)
    if t.ndim != 2:
        raise ConfigError(f"runs must be an (architectures, runs) array, got shape {t.shape}")
    n_boot, conf = _check_boot(n_boot, conf)
    n, m = t.shape
    pairs = [(i, j) for i in range(m) for j in range(i + 1, m)
             if int((np.isfinite(t[:, i]) & np.isfinite(t[:, j])).sum()) >= 3]
    out: dict[str, Any] = {"n_archs": int(n), "n_runs": int(m), "pairs": [], "kendall": None,
                           "spearman": None}
    if not pairs:
        return out

    taus, rhos = [], []
    for i, j in pairs:
        ok = np.isfinite(t[:, i]) & np.isfinite(t[:, j])
        taus.append(_kendall(t[ok, i], t[ok, j]))
        rhos.append(_spearman(t[ok, i], t[ok, j]))
    tau = float(np.nanmean(taus)) if np.isfinite(taus).any() else float("nan")
    rho = float(np.nanmean(rhos)) if np.isfinite(rhos).any() else float("nan")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xCE11]))
    idx = rng.integers(0, n, (n_boot, n))
    per_pair = []
    for i, j in pairs:
        ok = np.isfinite(t[:, i]) & np.isfinite(t[:, j])
        a, b = t[:, i], t[:, j]  # with missing runs: the resampled archs that have both
        if ok.all():
            per_pair.append(kendall_rows(a[idx], b[idx]))
        else:
            vals = np.empty(n_boot)
            for r in range(n_boot):
                rows = idx[r][ok[idx[r]]]
                vals[r] = _kendall(a[rows], b[rows]) if len(rows) >= 3 else np.nan
            per_pair.append(vals)
    stacked = np.stack(per_pair)
    cnt = np.isfinite(stacked).sum(axis=0)
    sums = np.where(np.isfinite(stacked), stacked, 0.0).sum(axis=0)
    boot = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)  # mean over pairs
    for i, j in pairs:
        ok = np.isfinite(t[:, i]) & np.isfinite(t[:, j])
        out["pairs"].append({"runs": [i, j], "kendall": _kendall(t[ok, i], t[ok, j]),
                             "n": int(ok.sum())})
    out["kendall"] = _interval(boot, tau, conf).to_json()
    out["spearman"] = rho
    return out


@dataclass
class FidelityStats:
    """Rank fidelity of a proxy against a reference (see the module docstring)."""

    n: int
    kendall: Interval
    spearman: Interval
    precision: Interval
    top: float
    k: int
    ceiling: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "kendall": self.kendall.to_json(),
                "spearman": self.spearman.to_json(), "precision_at_top": self.precision.to_json(),
                "top": self.top, "k": self.k, "ceiling": self.ceiling, **self.extra}


def fidelity_stats(pred: Any, ref: Any, *, ref_runs: Any = None, top: float = 0.1,
                   n_boot: int = 1000, seed: int = 0, conf: float = 0.95) -> FidelityStats:
    """Kendall tau-b, Spearman rho and precision@top-``top`` of ``pred`` against ``ref``, with
    percentile bootstrap intervals over architectures (``n_boot`` resamples from ``seed``) and,
    when ``ref_runs`` (an (architectures, runs) table of the reference) is given, the
    reference's noise ceiling (:func:`seed_ceiling`)."""
    from scipy import stats

    p, r = _vectors(pred, ref)
    n_boot, conf = _check_boot(n_boot, conf)
    top = check_float("top fraction", top, minimum=0.0, maximum=1.0, strict_min=True)
    n = len(p)
    k = _top_k(n, top)
    tau = _kendall(p, r)
    rho = _spearman(p, r)
    p_tau = float(stats.kendalltau(p, r).pvalue) if math.isfinite(tau) else None
    p_rho = float(stats.spearmanr(p, r).pvalue) if math.isfinite(rho) else None
    prec = precision_at_top(p, r, top)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xF1DE]))
    idx = rng.integers(0, n, (n_boot, n))
    pb, rb = p[idx], r[idx]
    boot = np.stack([kendall_rows(pb, rb), spearman_rows(pb, rb),
                     precision_rows(pb, rb, top)], axis=1)
    ceiling = None
    if ref_runs is not None:
        runs = np.asarray(ref_runs, dtype=np.float64)
        if runs.ndim != 2 or runs.shape[0] != n:
            raise ConfigError(f"ref_runs must be an ({n}, runs) array, got shape {runs.shape}")
        ceiling = seed_ceiling(runs, n_boot=n_boot, seed=seed, conf=conf)
    return FidelityStats(n, _interval(boot[:, 0], tau, conf, p_tau),
                         _interval(boot[:, 1], rho, conf, p_rho),
                         _interval(boot[:, 2], prec, conf), top, k, ceiling)


def fidelity_figure(pred: Any, ref: Any, path: str | Path, *,
                    stats: FidelityStats | None = None, xlabel: str = "proxy",
                    ylabel: str = "reference", title: str = "") -> Path:
    """Scatter of proxy (x) against reference (y), one point per architecture, the top-k of
    both marked, the statistics in the legend box; written as PNG (or any format matplotlib
    infers from ``path``'s suffix). Returns the path."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    p, r = _vectors(pred, ref)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.2, 4.6), dpi=120)
    top = stats.top if stats is not None else 0.1
    k = _top_k(len(p), top)
    top_p = set(np.argsort(-p, kind="stable")[:k].tolist())
    top_r = set(np.argsort(-r, kind="stable")[:k].tolist())
    both = np.array([i in top_p and i in top_r for i in range(len(p))])
    either = np.array([(i in top_p) != (i in top_r) for i in range(len(p))])
    rest = ~(both | either)
    ax.scatter(p[rest], r[rest], s=16, c="#7f8c8d", alpha=0.7, linewidths=0, label="others")
    ax.scatter(p[either], r[either], s=22, c="#e67e22", alpha=0.9, linewidths=0,
               label=f"top {top:.0%} of one only")
    ax.scatter(p[both], r[both], s=28, c="#c0392b", linewidths=0, label=f"top {top:.0%} of both")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if stats is not None:
        lines = [f"n = {stats.n}",
                 f"Kendall τ = {stats.kendall.value:.3f} [{stats.kendall.lo:.2f}, {stats.kendall.hi:.2f}]",
                 f"Spearman ρ = {stats.spearman.value:.3f} [{stats.spearman.lo:.2f}, {stats.spearman.hi:.2f}]",
                 f"P@top{top:.0%} = {stats.precision.value:.2f} [{stats.precision.lo:.2f}, {stats.precision.hi:.2f}]"]
        c = stats.ceiling
        if c and c.get("kendall"):
            ck = c["kendall"]
            lines.append(f"ceiling τ (seed vs seed) = {ck['value']:.3f} "
                         f"[{ck['lo']:.2f}, {ck['hi']:.2f}]")
        ax.text(0.02, 0.98, "\n".join(lines), transform=ax.transAxes, va="top", ha="left",
                fontsize=7.5, bbox={"boxstyle": "round", "fc": "white", "alpha": 0.85,
                                    "ec": "#bbbbbb"})
    ax.legend(loc="lower right", fontsize=7.5, framealpha=0.85)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
