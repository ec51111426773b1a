"""The search-space analysis page (``naslab analyze --out DIR``): figures and tables of
:class:`~naslab.analysis.space.SpaceAnalysis` for one or more benchmark targets, and, for a
stored comparison, each strategy against the exact random-search baseline."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np

from naslab.analysis.compare import VsRandom
from naslab.analysis.space import SpaceAnalysis
from naslab.reports import html as H
from naslab.reports import plots
from naslab.reports.build import prepare_out, slug
from naslab.reports.tables import write_csv, write_json

CURVE_LABELS = {
    "oracle_max_test": "best test acc. among N (oracle)",
    "rs_val_mean": "random search, mean validation acc.",
    "rs_val_run": "random search, one run's validation acc. per query (naslab rs)",
}

CURVE_COLORS = {"oracle_max_test": "#2ca02c", "rs_val_mean": "#1f77b4", "rs_val_run": "#d62728"}


def curve_label(a: SpaceAnalysis, key: str) -> str:
    """The legend of a best-of-N curve (a benchmark without test metrics reports validation)."""
    if a.reported == "test_acc":
        return CURVE_LABELS.get(key, key)
    return {"oracle_max_test": f"best {a.reported} among N (oracle)",
            "rs_val_mean": f"random search by {a.reported} (mean over runs)",
            "rs_val_run": f"random search by {a.reported}, one run per query (naslab rs)",
            }.get(key, key)


def reported_label(a: SpaceAnalysis) -> str:
    """What the curves report of a pick, as an axis label."""
    return "test acc. (%)" if a.reported == "test_acc" else a.reported


def _name(a: SpaceAnalysis) -> str:
    """What the curves report of a pick, in a sentence."""
    return "test accuracy" if a.reported == "test_acc" else a.reported


def distribution_figure(a: SpaceAnalysis) -> Any:
    plt = plots.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.4, 3.3), layout="constrained")
    y = a.values
    ax1.hist(y, bins=120, color="#6b8fc7")
    ax1.set_yscale("log")
    plots.plain_log_axis(ax1.yaxis)
    for q, ls in (("q50", "--"), ("q90", ":"), ("q99", "-.")):
        ax1.axvline(a.quantiles[q], color="k", lw=0.9, ls=ls,
                    label=f"{q[1:]} % quantile {a.quantiles[q]:.2f}")
    ax1.set_xlabel(f"{a.metric} (%)")
    ax1.set_ylabel("archs (log)")
    ax1.set_title(f"distribution over all {a.n_archs:,} archs")
    ax1.legend(loc="upper left", fontsize=8)
    top = float(y.max())
    d = np.sort(top - y)
    gaps = np.geomspace(0.01, max(float(d[-1]), 0.02), 200)
    cnt = np.searchsorted(d, gaps, side="right")
    ax2.plot(gaps, cnt, color="#6b8fc7", lw=2)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    plots.plain_log_axis(ax2.xaxis)
    plots.plain_log_axis(ax2.yaxis)
    ax2.set_xlabel("points below the best arch (log)")
    ax2.set_ylabel("archs within that gap (log)")
    ax2.set_title(f"the top: archs within x points of the best ({top:.2f})")
    fig.suptitle(f"{a.target}: {a.metric}", fontweight="bold")
    return fig


def best_of_n_figure(a: SpaceAnalysis, vs: VsRandom | None = None) -> Any:
    plt = plots.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.4, 3.5), layout="constrained")
    n = np.arange(1, a.n_max + 1)
    for key, curve in a.best_of_n.items():
        ax1.plot(n, curve, color=CURVE_COLORS.get(key), lw=1.8, label=curve_label(a, key))
    ax1.set_xscale("log")
    plots.plain_log_axis(ax1.xaxis)
    top = a.optimum["value"]
    lo = a.best_of_n["rs_val_run"][min(4, a.n_max - 1)]
    ax1.set_ylim(lo - 0.15 * (top - lo), top + 0.05 * (top - lo))
    ax1.axhline(top, color="k", lw=0.8, ls=":")
    ax1.set_xlabel("N (queries, log)")
    ax1.set_ylabel(f"expected {reported_label(a)} of the pick")
    ax1.set_title("expected best-of-N of random sampling (exact)")
    ax1.legend(loc="lower right", fontsize=7.5)
    regret_oracle = top - a.best_of_n["oracle_max_test"]
    regret_rs = top - a.best_of_n["rs_val_run"]
    ax2.plot(n, regret_rs, color=CURVE_COLORS["rs_val_run"], lw=1.8, label="random search (naslab rs)")
    ax2.plot(n, regret_oracle, color=CURVE_COLORS["oracle_max_test"], lw=1.8, label="oracle best-of-N")
    if vs is not None:
        col = plots.colors(list(vs.strategies), "rs" if "rs" in vs.strategies else None)
        for name, s in vs.strategies.items():
            x = np.arange(1, s["mean"].size + 1)
            ax2.plot(x, top - s["mean"], color=col[name], lw=1.2, ls="--", label=f"{name} (stored runs)")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    plots.plain_log_axis(ax2.xaxis)
    plots.plain_log_axis(ax2.yaxis)
    ax2.set_xlabel("N (queries, log)")
    ax2.set_ylabel("regret (points, log)")
    ax2.set_title("regret to the best arch")
    ax2.legend(loc="lower left", fontsize=7.5)
    fig.suptitle(f"{a.target}: expected best-of-N (exact)", fontweight="bold")
    return fig


def anova_figure(a: SpaceAnalysis) -> Any:
    plt = plots.pyplot()
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13.0, 3.6), layout="constrained",
                                        gridspec_kw={"width_ratios": [1.0, 1.0, 1.35]})
    an = a.anova
    e = np.arange(len(a.edges))
    ax1.bar(e, 100 * an.main_fraction, color="#6b8fc7")
    ax1.set_xticks(e)
    ax1.set_xticklabels(a.edges)
    ax1.set_xlabel("edge (from node -> to node)")
    ax1.set_ylabel("% of the variance")
    ax1.set_title("main effect of each edge's operation")
    for i, v in enumerate(an.main_fraction):
        ax1.text(i, 100 * v, f"{100 * v:.1f}", ha="center", va="bottom", fontsize=8)
    pf = 100 * an.pair_fraction
    im = ax2.imshow(pf, cmap="Blues")
    ax2.set_xticks(e)
    ax2.set_xticklabels(a.edges, rotation=45)
    ax2.set_yticks(e)
    ax2.set_yticklabels(a.edges)
    ax2.grid(False)
    for i in range(len(e)):
        for j in range(len(e)):
            if i != j:
                ax2.text(j, i, f"{pf[i, j]:.1f}", ha="center", va="center", fontsize=7.5,
                         color="white" if pf[i, j] > 0.6 * pf.max() else "black")
    ax2.set_title("pairwise interactions (% of variance)")
    fig.colorbar(im, ax=ax2, shrink=0.8)
    mm = np.array(an.marginal_means)  # (edges, ops)
    im3 = ax3.imshow(mm.T, cmap="RdYlGn", aspect="auto")
    ax3.set_xticks(e)
    ax3.set_xticklabels(a.edges)
    ax3.set_yticks(range(len(a.ops)))
    ax3.set_yticklabels(a.ops)
    ax3.grid(False)
    for i in range(mm.shape[0]):
        for j in range(mm.shape[1]):
            dark = mm[i, j] < mm.min() + 0.2 * (mm.max() - mm.min())
            ax3.text(i, j, f"{mm[i, j]:.1f}", ha="center", va="center", fontsize=7.5,
                     color="white" if dark else "black")
    ax3.set_title(f"marginal mean {a.metric} (%) per edge and operation")
    fig.colorbar(im3, ax=ax3, shrink=0.8)
    fig.suptitle(f"{a.target}: functional ANOVA over the 6 edge operations (exact, all archs)",
                 fontweight="bold")
    return fig


def landscape_figure(a: SpaceAnalysis) -> Any:
    plt = plots.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.4, 3.3), layout="constrained")
    prof = a.fdc["by_distance"]
    d = [p["distance"] for p in prof]
    ax1.fill_between(d, [p["q25"] for p in prof], [p["q75"] for p in prof], color="#c6d4ea",
                     label="quartiles")
    ax1.plot(d, [p["median"] for p in prof], "o-", color="#1f5fbf", label="median")
    ax1.plot(d, [p["max"] for p in prof], "^:", color="#2ca02c", label="best")
    for p in prof:
        ax1.annotate(f"{p['n']:,}", (p["distance"], p["q25"]), textcoords="offset points",
                     xytext=(0, -11), ha="center", fontsize=7, color="#5b6477")
    ax1.set_xlabel("edges that differ from the best arch (Hamming distance; numbers: archs)")
    ax1.set_ylabel(f"{a.metric} (%)")
    ax1.set_title(f"fitness vs distance to the optimum (FDC {a.fdc['to_optimum']:.3f})")
    ax1.legend(loc="lower left", fontsize=8)
    rho = np.array(a.autocorr["exact"])
    sim = np.array(a.autocorr["simulated"])
    k = np.arange(rho.size)
    ax2.plot(k, rho, "o-", color="#1f5fbf", label="exact (from the ANOVA)")
    ax2.plot(k, sim, "x--", color="#d62728",
             label=f"simulated ({a.autocorr['walks']:,} walks, seed {a.autocorr['seed']})")
    ax2.set_xlabel("mutations apart (lag)")
    ax2.set_ylabel("autocorrelation")
    ax2.set_title(f"random-walk autocorrelation (correlation length "
                  f"{a.autocorr['correlation_length']:.2f})")
    ax2.legend(fontsize=8)
    return fig


def vs_random_figure(vs: VsRandom) -> Any:
    plt = plots.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.4, 3.4), layout="constrained")
    n = np.arange(1, vs.n_max + 1)
    ax1.plot(n, vs.rs_exact, color="k", lw=2, label="random search, exact expectation")
    base = "rs" if "rs" in vs.strategies else None
    col = plots.colors(list(vs.strategies), base)
    lows, glo, ghi = [], [], []
    for name, s in vs.strategies.items():
        x = np.arange(1, s["mean"].size + 1)
        ok = np.isfinite(s["mean"])
        ax1.plot(x[ok], s["mean"][ok], color=col[name], lw=1.5, label=f"{name} ({s['runs']} runs)")
        okb = ok & np.isfinite(s["ci"])
        ax1.fill_between(x[okb], (s["mean"] - s["ci"])[okb], (s["mean"] + s["ci"])[okb],
                         color=col[name], alpha=0.15, lw=0)
        ax2.plot(x[ok], s["gain_curve"][ok], color=col[name], lw=1.5, label=name)
        ax2.fill_between(x[okb], (s["gain_curve"] - s["ci"])[okb], (s["gain_curve"] + s["ci"])[okb],
                         color=col[name], alpha=0.15, lw=0)
        tail = slice(max(0, s["mean"].size // 10), None)
        lows.append(np.nanmin(s["mean"][tail]))
        glo.append(np.nanmin((s["gain_curve"] - np.nan_to_num(s["ci"]))[tail]))
        ghi.append(np.nanmax((s["gain_curve"] + np.nan_to_num(s["ci"]))[tail]))
    lo = min(lows + [float(vs.rs_exact[vs.n_max // 10])])
    hi = max(float(np.nanmax(s["mean"])) for s in vs.strategies.values())
    ax1.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
    ax1.set_xlabel("trials (queries)")
    ax1.set_ylabel("test acc. of the incumbent (%)")
    ax1.set_title(f"{vs.target}: stored runs vs exact random search")
    ax1.legend(fontsize=7.5, loc="lower right")
    ax2.axhline(0, color="k", lw=1)
    span = max(max(ghi) - min(glo), 0.05)
    ax2.set_ylim(min(glo) - 0.1 * span, max(ghi) + 0.1 * span)
    ax2.set_xlabel("trials (queries)")
    ax2.set_ylabel("gain over random search (points)")
    ax2.set_title("mean gain over the exact random baseline (95 % CI)")
    return fig


def write_space_report(analyses: list[SpaceAnalysis], out: str | Path,
                       vs: dict[str, VsRandom] | None = None, *, dpi: int = 110) -> Path:
    """``out/index.html`` with the analysis of every target, plus figures/*.png, tables/*.json
    and *.csv."""
    outp = prepare_out(out)
    plt = plots.pyplot()
    plt.rcParams["savefig.dpi"] = dpi
    vs = vs or {}
    body, nav, figs = [], [], []
    for a in analyses:
        s = slug(a.target)
        nav.append((f"t-{s}", a.target))
        v = vs.get(a.target)
        write_json(a.to_json(), outp / "tables" / f"space_{s}.json")
        parts = [f'<section id="t-{H.esc(s)}"><h2>{H.esc(a.target)}</h2>']
        rs150 = a.best_of_n["rs_val_run"][-1]
        parts.append(H.facts([
            ("best arch (" + a.metric + ")", H.fmt(a.optimum["value"])),
            ("median arch", H.fmt(a.quantiles["q50"])),
            ("archs within 1 point of the best", f"{a.near_optimum['within_1']:,}"),
            (f"random search, best of {a.n_max} (exact)", H.fmt(rs150)),
            (f"oracle best of {a.n_max}", H.fmt(a.best_of_n["oracle_max_test"][-1])),
            ("FDC", H.fmt(a.fdc["to_optimum"], ".3f")),
            ("correlation length (mutations)", H.fmt(a.autocorr["correlation_length"], ".2f")),
            ("local optima (archs)", str(a.local_optima["count"])),
        ]))
        for name, fig, alt, cap in (
            (f"distribution_{s}", distribution_figure(a), "accuracy distribution",
             "Left: the metric over every architecture of the space (log counts) with quantiles. "
             "Right: how many architectures lie within x points of the best one."),
            (f"best_of_n_{s}", best_of_n_figure(a, v), "expected best-of-N",
             f"Exact expected best-of-N (no sampling): the oracle takes the best "
             f"{_name(a)} among N distinct uniform archs; random search takes the "
             f"{_name(a)} of the arch with the best validation value among N distinct "
             f"archs, where every query sees one recorded training run (naslab rs with a "
             f"tabular estimator, val=run) or the mean over runs; ties go to the earlier query."
             + ("" if a.reported == "test_acc" else
                " The benchmark records no test metrics: the pick is reported by the "
                "validation value it was picked by.")),
            (f"anova_{s}", anova_figure(a), "operation importance",
             f"Exact functional ANOVA over all {a.n_archs:,} archs (uniform over the options of "
             f"each decision): share of the variance explained by each edge's operation alone (left), by "
             "pairs beyond their main effects (middle), and the marginal mean of each "
             "operation per edge (right)."),
            (f"landscape_{s}", landscape_figure(a), "landscape",
             "Left: the metric against the number of edges that differ from the best arch. "
             "Right: correlation of the metric along random walks of single-edge mutations "
             "(naslab's mutate), exact from the ANOVA eigen-decomposition and simulated."),
        ):
            png = plots.png_bytes(fig)
            (outp / "figures" / f"{name}.png").write_bytes(png)
            figs.append(name)
            parts.append(H.figure(png, name, alt, cap))
        parts.append(_tables_html(a))
        if v is not None:
            name = f"vs_random_{s}"
            png = plots.png_bytes(vs_random_figure(v))
            (outp / "figures" / f"{name}.png").write_bytes(png)
            figs.append(name)
            parts.append("<h3>Strategies against exact random search</h3>")
            parts.append(H.figure(png, name, "strategies vs random search",
                                  "Mean test accuracy of the stored runs' incumbents (95 % CI) "
                                  "and their gain over the exact expected random-search "
                                  f"incumbent at the same number of queries (val={v.val_mode})."))
            rows = v.table()
            write_csv(rows, outp / "tables" / f"vs_random_{s}.csv")
            write_json(rows, outp / "tables" / f"vs_random_{s}.json")
            parts.append(H.table(rows, [
                ("strategy", "strategy", lambda x: H.esc(str(x))),
                ("runs", "runs", lambda x: H.fmt(x)),
                ("budget", "queries", lambda x: H.fmt(x)),
                ("test_mean", "mean test acc.", lambda x: H.fmt(x)),
                ("rs_exact", "random search (exact)", lambda x: H.fmt(x)),
                ("gain", "gain", lambda x: H.fmt(x, "+.3f")),
                ("gain_ci95", "± 95 % CI", lambda x: H.fmt(x, ".3f")),
                ("p_t_test", "p (t-test)", H.fmt_p),
                ("max_abs_z_vs_rs_curve", "max |z| over N", lambda x: H.fmt(x, ".2f")),
            ]))
            parts.append('<p class="note">p: one-sample t-test of the runs\' final test accuracies '
                         'against the exact random-search value. max |z|: the largest deviation '
                         'of the mean curve from the exact random-search curve, in standard '
                         'errors of the runs; for random search itself it checks the exact curve '
                         'against naslab\'s rs.</p>')
        parts.append("</section>")
        body.append("".join(parts))
    from naslab import __version__

    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    page = H.page("naslab search-space analysis", " · ".join(H.esc(a.target) for a in analyses),
                  nav, "".join(body),
                  f"Generated by naslab {H.esc(__version__)} on {stamp} from the benchmark tables"
                  + (" and stored runs" if vs else "") + ".")
    index = outp / "index.html"
    index.write_text(page, encoding="utf-8")
    write_json({"figures": figs, "targets": [a.target for a in analyses]}, outp / "report.json")
    return index


def _tables_html(a: SpaceAnalysis) -> str:
    j = a.to_json()
    q = [{"quantile": k[1:] + " %", "value": v} for k, v in a.quantiles.items()]
    an = j["anova"]
    main = [{"edge": e, "share": 100 * f} for e, f in an["main_fraction"].items()]
    order = [{"order": k, "share": 100 * f} for k, f in an["order_fraction"].items()]
    iso = a.isomorphism
    chk = a.best_of_n_check
    rows_chk = []
    for k in ("oracle_max_test", "rs_val_run", "rs_val_mean"):
        if k in chk:
            rows_chk.append({"curve": CURVE_LABELS[k], **chk[k]})
    iso_rows = [
        {"k": "isomorphism classes", "v": f"{iso['n_classes']:,} of {a.n_archs:,} archs"},
        {"k": "archs alone in their class", "v": f"{iso['singletons']:,}"},
        {"k": "largest class", "v": f"{iso['largest_classes'][0]['size']} archs"},
        {"k": "archs whose output is always zero", "v": f"{iso['zero_output_archs']:,}"},
        {"k": "within-class share of the variance", "v": f"{100 * iso['within_class_var_fraction']:.3f} %"},
        {"k": "within-class std. dev. (training noise)", "v": f"{iso['within_class_sd']:.3f} points"},
        {"k": f"distinct classes among {a.n_max} random archs (exact mean)",
         "v": f"{iso['expected_distinct_classes'][-1]:.1f}"},
        {"k": "local optima (archs / classes)", "v": f"{a.local_optima['count']} / {a.local_optima['classes']}"},
        {"k": "worst local optimum", "v": f"{a.local_optima['worst']:.2f}"},
    ]
    html = ['<div style="display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start">']
    html.append("<div><h3>Quantiles</h3>" + H.table(q, [("quantile", "quantile", H.esc),
                                                       ("value", a.metric, lambda x: H.fmt(x))]) + "</div>")
    html.append("<div><h3>Variance by edge</h3>" + H.table(main, [("edge", "edge", H.esc),
                                                                 ("share", "% of variance", lambda x: H.fmt(x))])
                + H.table(order, [("order", "interaction order", H.esc),
                                  ("share", "% of variance", lambda x: H.fmt(x))]) + "</div>")
    html.append("<div><h3>Isomorphism and landscape</h3>" + H.table(iso_rows, [("k", "", H.esc), ("v", "", H.esc)])
                + "</div></div>")
    if rows_chk:
        html.append(f"<h3>Exactness check: Monte-Carlo random search ({chk['runs']:,} runs, seed {chk['seed']})</h3>")
        html.append(H.table(rows_chk, [
            ("curve", "curve", H.esc), ("max_abs_dev", "max |exact − MC|", lambda x: H.fmt(x, ".4f")),
            ("at_n", "at N", lambda x: H.fmt(x)), ("max_z", "max |z|", lambda x: H.fmt(x, ".2f")),
            ("se_at_1", "MC s.e. at N=1", lambda x: H.fmt(x, ".3f")),
            ("cv_max_abs_dev", "max |exact − MC| with control variate", lambda x: H.fmt(x, ".4f")),
        ]))
        html.append('<p class="note">The Monte-Carlo standard error at small N (one arch: the '
                    'spread of the whole space over √runs) exceeds 0.05 points; the control '
                    'variate (the oracle maximum of the same sampled archs, whose exact mean is '
                    'known) removes that noise.</p>')
    return "".join(html)
