"""Report figures (matplotlib, Agg backend, imported only when a report is made).

Curves are means over runs with 95 % confidence bands (t-quantile x standard error).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from naslab.analysis.stats import mean_ci
from naslab.reports.data import RunData

BASELINE_COLOR = "#555555"
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2", "#bcbd22", "#7f7f7f"]


_styled = False


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, with the report style applied once (callers may
    then change rcParams, e.g. ``savefig.dpi``, and later calls keep that)."""
    global _styled
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    if _styled:
        return plt
    _styled = True
    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 110, "font.size": 9.5, "axes.titlesize": 10.5,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
        "grid.alpha": 0.25, "legend.frameon": False, "svg.fonttype": "none",
    })
    return plt


#: fixed colours of the built-in strategies, so a strategy looks the same in every figure
KNOWN_COLORS = {"re": PALETTE[0], "ls": PALETTE[1], "reinforce": PALETTE[2], "bananas": PALETTE[3],
                "neural_predictor": PALETTE[4], "sh": PALETTE[5], "hyperband": PALETTE[6],
                "nsga2": PALETTE[7], "mo_re": PALETTE[8]}


def colors(names: list[str], baseline: str | None) -> dict[str, str]:
    """A colour per strategy name: the baseline grey, built-in strategies their fixed colour,
    other names the remaining palette colours in sorted-name order (stable across figures)."""
    out: dict[str, str] = {}
    free = [c for c in PALETTE if c not in KNOWN_COLORS.values()]
    i = 0
    for n in sorted(names):
        if n == baseline:
            out[n] = BASELINE_COLOR
        elif n in KNOWN_COLORS:
            out[n] = KNOWN_COLORS[n]
        else:
            out[n] = free[i % len(free)]
            i += 1
    return {n: out[n] for n in names}


def png_bytes(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    pyplot().close(fig)
    return buf.getvalue()


def plain_log_axis(axis: Any) -> None:
    """Log-scale tick labels as plain numbers (0.3, 1, 10) instead of mathtext powers, which
    read better and render several times faster."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


# ------------------------------------------------------------------------------------------
# curve data
# ------------------------------------------------------------------------------------------


def _pad(rows: list[np.ndarray]) -> np.ndarray:
    n = max((r.size for r in rows), default=0)
    out = np.full((len(rows), n), np.nan)
    for i, r in enumerate(rows):
        out[i, : r.size] = r
    return out


def anytime_curves(groups: dict[str, list[RunData]], *, points: int = 160,
                   metric: str = "test") -> dict[str, Any]:
    """Per strategy: mean and 95 % CI half-width of the incumbent's test accuracy (``metric=
    "val"``: its validation accuracy, for runs without test accuracy) and regret after each
    trial, and on a common log-spaced grid of simulated search cost.

    On the cost grid a run's value at cost c is its incumbent after the last trial finished
    by c. A strategy's cost curve spans the costs where every one of its runs has a value
    (from its latest first trial to its cheapest complete run), so each point averages all runs.
    Runs without trials are left out of the curves.
    """
    out: dict[str, Any] = {"strategies": {}, "metric": metric}
    firsts = [r.cum_sim[0] for rs in groups.values() for r in rs if r.cum_sim.size and r.cum_sim[0] > 0]
    lasts = [r.cum_sim[-1] for rs in groups.values() for r in rs if r.cum_sim.size]
    have_cost = bool(firsts) and max(lasts, default=0.0) > 0
    grid = (np.geomspace(min(firsts), max(lasts), points) if have_cost else np.zeros(0))
    out["cost_grid_s"] = grid
    for name, all_runs in groups.items():
        runs = [r for r in all_runs if r.n_trials]
        if not runs:
            continue
        vals = [r.inc_test if metric == "test" else r.inc_val for r in runs]
        test = _pad(vals)
        opt = np.array([np.nan if r.optimum is None or metric != "test" else r.optimum
                        for r in runs])[:, None]
        reg = opt - test
        m, h, n = mean_ci(test)
        rm, rh, _ = mean_ci(reg)
        entry: dict[str, Any] = {"trials": np.arange(1, test.shape[1] + 1), "test_mean": m,
                                 "test_ci": h, "n": n, "regret_mean": rm, "regret_ci": rh}
        if have_cost:
            lo = max(r.cum_sim[0] for r in runs)
            hi = min(r.cum_sim[-1] for r in runs)
            sel = (grid >= lo) & (grid <= hi)
            g = grid[sel]
            at = np.full((len(runs), g.size), np.nan)
            for i, (r, v) in enumerate(zip(runs, vals)):
                k = np.searchsorted(r.cum_sim, g, side="right") - 1
                ok = k >= 0
                at[i, ok] = v[k[ok]]
            cm, ch, _ = mean_ci(at)
            crm, crh, _ = mean_ci(opt - at)
            entry.update({"cost_s": g, "cost_test_mean": cm, "cost_test_ci": ch,
                          "cost_regret_mean": crm, "cost_regret_ci": crh})
        out["strategies"][name] = entry
    return out


# ------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------


def _band(ax: Any, x: np.ndarray, m: np.ndarray, h: np.ndarray, color: str, label: str,
          baseline: bool) -> None:
    ok = np.isfinite(m)
    if not ok.any():
        return
    ax.plot(x[ok], m[ok], color=color, lw=1.8 if not baseline else 1.6,
            ls="--" if baseline else "-", label=label)
    okb = ok & np.isfinite(h)
    if okb.any():
        ax.fill_between(x[okb], (m - h)[okb], (m + h)[okb], color=color, alpha=0.16, lw=0)


def anytime_figure(curves: dict[str, Any], col: dict[str, str], baseline: str | None,
                   optimum: float | None, title: str) -> Any:
    plt = pyplot()
    has_cost = curves["cost_grid_s"].size > 0
    has_regret = optimum is not None
    ncols = 2 if has_cost else 1
    nrows = 2 if has_regret else 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.2 * nrows + 0.6),
                             squeeze=False, layout="constrained")
    lows = []
    for name, c in curves["strategies"].items():
        bl = name == baseline
        lab = f"{name} (baseline)" if bl else name
        _band(axes[0, 0], c["trials"], c["test_mean"], c["test_ci"], col[name], lab, bl)
        k = max(1, int(0.05 * c["trials"].size))
        if np.isfinite(c["test_mean"][k - 1:]).any():
            lows.append(np.nanmin(c["test_mean"][k - 1:]))
        if has_regret:
            _band(axes[1, 0], c["trials"], c["regret_mean"], c["regret_ci"], col[name], lab, bl)
        if has_cost and "cost_s" in c:
            hrs = c["cost_s"] / 3600.0
            _band(axes[0, 1], hrs, c["cost_test_mean"], c["cost_test_ci"], col[name], lab, bl)
            if has_regret:
                _band(axes[1, 1], hrs, c["cost_regret_mean"], c["cost_regret_ci"], col[name], lab, bl)
    ax = axes[0, 0]
    what = "test" if curves.get("metric", "test") == "test" else "validation"
    ax.set_title(f"{what} accuracy of the incumbent")
    ax.set_xlabel("trials (queries)")
    ax.set_ylabel(f"{what} accuracy (%)")
    if optimum is not None:
        for a in axes[0]:
            a.axhline(optimum, color="k", lw=0.8, ls=":")
        ax.annotate(f"best in space {optimum:.2f}", xy=(1.0, optimum), xycoords=("axes fraction", "data"),
                    ha="right", va="bottom", fontsize=8)
    if lows:
        top = optimum if optimum is not None else max(
            float(np.nanmax(c["test_mean"])) for c in curves["strategies"].values()
            if np.isfinite(c["test_mean"]).any())
        lo = min(lows)
        pad = 0.08 * max(top - lo, 0.1)
        for a in axes[0]:
            a.set_ylim(lo - pad, top + pad)
    if has_cost:
        a = axes[0, 1]
        a.set_xscale("log")
        plain_log_axis(a.xaxis)
        a.set_title(f"{what} accuracy against simulated search cost")
        a.set_xlabel("simulated search cost (hours, log)")
    if has_regret:
        for j in range(ncols):
            a = axes[1, j]
            if all(np.nanmin(c["regret_mean"]) > 0 for c in curves["strategies"].values()
                   if np.isfinite(c["regret_mean"]).any()):
                a.set_yscale("log")
                plain_log_axis(a.yaxis)
            a.set_ylabel("regret (points, log)")
            a.set_title("regret: best in space - incumbent" if j == 0 else "regret against simulated cost")
            if j == 1:
                a.set_xscale("log")
                plain_log_axis(a.xaxis)
                a.set_xlabel("simulated search cost (hours, log)")
            else:
                a.set_xlabel("trials (queries)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if labels:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 6))
    else:
        axes[0, 0].text(0.5, 0.5, "no trials recorded", transform=axes[0, 0].transAxes,
                        ha="center", va="center", color="#888888")
    fig.suptitle(title, fontsize=11.5, fontweight="bold")
    return fig


def final_figure(groups: dict[str, list[RunData]], order: list[str], col: dict[str, str],
                 baseline: str | None, optimum: float | None, title: str,
                 metric: str = "test") -> Any:
    """Final test (or validation) accuracy of every run, per strategy (box and points)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.4, 0.55 * len(order) + 1.3), layout="constrained")
    rng = np.random.default_rng(0)  # jitter only
    for i, name in enumerate(reversed(order)):
        v = np.array([r.final_test if metric == "test" else r.final_val for r in groups[name]])
        v = v[np.isfinite(v)]
        if not v.size:
            continue
        ax.boxplot(v, positions=[i], **_horizontal(), widths=0.55, showfliers=False,
                   medianprops={"color": col[name], "lw": 2},
                   boxprops={"color": col[name]}, whiskerprops={"color": col[name]},
                   capprops={"color": col[name]})
        ax.scatter(v, i + rng.uniform(-0.18, 0.18, v.size), s=9, color=col[name], alpha=0.55, lw=0)
        ax.plot([v.mean()], [i], marker="D", color="k", ms=4)
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([f"{n} (baseline)" if n == baseline else n for n in reversed(order)])
    if optimum is not None:
        ax.axvline(optimum, color="k", lw=0.8, ls=":")
    what = "test" if metric == "test" else "validation"
    ax.set_xlabel(f"{what} accuracy of the final incumbent (%)   [box: quartiles, diamond: mean]")
    ax.set_title(title)
    return fig


def _horizontal() -> dict[str, Any]:
    import matplotlib

    major, minor = (int(x) for x in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}


def single_run_figure(run: RunData, title: str) -> Any:
    """One run: every trial's validation and test accuracy, and the incumbent's."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9.0, 3.6), layout="constrained")
    x = np.arange(1, run.n_trials + 1)
    if run.trial_val is not None:
        ax.scatter(x, run.trial_val, s=10, color="#9ecae1", label="trial: validation (seen by the strategy)")
    if run.trial_test is not None:
        ax.scatter(x, run.trial_test, s=10, color="#fdae6b", label="trial: test")
    ax.step(x, run.inc_val, where="post", color="#1f77b4", lw=1.8, label="incumbent: validation")
    ax.step(x, run.inc_test, where="post", color="#d62728", lw=1.8, label="incumbent: test")
    if run.optimum is not None:
        ax.axhline(run.optimum, color="k", lw=0.8, ls=":", label=f"best in space ({run.optimum:.2f})")
    vals = np.concatenate([run.inc_val[np.isfinite(run.inc_val)], run.inc_test[np.isfinite(run.inc_test)]])
    if vals.size:
        lo = np.quantile(vals, 0.02)
        top = max(vals.max(), run.optimum or vals.max())
        ax.set_ylim(lo - 0.15 * (top - lo + 0.1), top + 0.08 * (top - lo + 0.1))
    ax.set_xlabel("trial")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8, ncol=2)
    return fig
