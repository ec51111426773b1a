"""Multi-objective figures and report sections: Pareto fronts (found vs exact), hypervolume
anytime curves with 95 % bands, final hypervolume per strategy with Mann-Whitney tests against
random search."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from naslab.analysis.stats import mann_whitney, mean_ci
from naslab.errors import ConfigError
from naslab.reports import html as H
from naslab.reports import plots
from naslab.reports.data import RunData
from naslab.runner.storage import Storage


def _step(ax: Any, pts: np.ndarray, modes: Sequence[str], **kw: Any) -> None:
    """A 2-D front as the staircase it dominates (points sorted along the first objective)."""
    if pts.shape[0] == 0:
        return
    order = np.argsort(pts[:, 0])
    p = pts[order]
    where = "post" if (modes[0] == "max") == (modes[1] == "max") else "pre"
    ax.step(p[:, 0], p[:, 1], where=where, **kw)


def front_figure(metrics: Sequence[str], modes: Sequence[str], exact: np.ndarray,
                 found: dict[str, list[np.ndarray]], col: dict[str, str], title: str) -> Any:
    """Exact front (black) and, per strategy, every run's final front (faint points) with the
    median run's front drawn as its staircase; the first two objectives."""
    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    _step(ax, exact[:, :2], modes, color="black", lw=1.2, label="exact front", zorder=3)
    ax.scatter(exact[:, 0], exact[:, 1], s=12, color="black", zorder=4)
    for name, fronts in found.items():
        if not fronts:
            continue
        allp = np.concatenate([f[:, :2] for f in fronts if f.size] or [np.zeros((0, 2))])
        ax.scatter(allp[:, 0], allp[:, 1], s=6, alpha=0.15, color=col.get(name, "C0"))
        mid = fronts[len(fronts) // 2]
        _step(ax, mid[:, :2], modes, color=col.get(name, "C0"), lw=1.4, alpha=0.9,
              label=f"{name} (median run)")
        ax.scatter(mid[:, 0], mid[:, 1], s=14, color=col.get(name, "C0"), zorder=2)
    ax.set_xlabel(f"{metrics[0]} ({modes[0]})")
    ax.set_ylabel(f"{metrics[1]} ({modes[1]})")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------
# `naslab analyze --objectives ... --out DIR`
# ------------------------------------------------------------------------------------------

def write_front_analysis(analyses: Sequence[Any], columns: Sequence[dict[str, np.ndarray]],
                         runs: Sequence[Sequence[Any]], out: str | Path) -> Path:
    """``out/index.html`` + ``figures/front_<target>.png`` + ``tables/fronts_<target>.json|csv``
    for :class:`~naslab.analysis.fronts.FrontAnalysis` results (with the columns they were
    computed on and the runs they scored)."""
    from naslab.reports.build import prepare_out, slug
    from naslab.reports.tables import clean_json, write_csv, write_json

    outp = prepare_out(out)
    body, nav = [], []
    for fa, cols, rs in zip(analyses, columns, runs):
        s = slug(fa.target)
        ef = fa.exact
        found: dict[str, list[np.ndarray]] = {}
        q = {r["experiment"]: r["hv_ratio"] for r in fa.runs}
        for r in sorted(rs, key=lambda r: q.get(r.exp_id, 0.0)):
            vals = np.stack([cols[m][np.asarray(r.front, dtype=np.int64)] for m in ef.metrics], axis=1)
            found.setdefault(r.strategy, []).append(vals)
        col = plots.colors(sorted(found), fa.baseline)
        fig = front_figure(ef.metrics, ef.modes, ef.values, found, col,
                           f"{fa.target}: exact Pareto front ({ef.indices.size} archs) and found fronts")
        png = plots.png_bytes(fig)
        (outp / "figures" / f"front_{s}.png").write_bytes(png)
        write_json(clean_json(fa.to_json()), outp / "tables" / f"fronts_{s}.json")
        write_csv(fa.runs, outp / "tables" / f"fronts_{s}.csv")
        rows = [{"arch": a, **{m: float(v) for m, v in zip(ef.metrics, vals)}}
                for a, vals in zip(fa.archs, ef.values)]
        cols_h: list[H.Column] = [("arch", "architecture", lambda v: f"<code>{H.esc(str(v))}</code>")]
        cols_h += [(m, f"{m} ({o})", lambda v: H.fmt(v, ".4g")) for m, o in zip(ef.metrics, ef.modes)]
        strat_cols: list[H.Column] = [
            ("strategy", "strategy", lambda v: H.esc(str(v))), ("runs", "runs", lambda v: H.fmt(v, "d")),
            ("hv_ratio_mean", "HV ratio", lambda v: H.fmt(v, ".4f")),
            ("hv_ratio_ci95", "± 95 %", lambda v: H.fmt(v, ".4f")),
            ("igd_mean", "IGD", lambda v: H.fmt(v, ".4f")),
            ("recall_mean", "recall (front)", lambda v: H.fmt(v, ".3f")),
            ("recall_evaluated_mean", "recall (evaluated)", lambda v: H.fmt(v, ".3f")),
            (f"hv_ratio_p_vs_{fa.baseline}", f"p HV vs {fa.baseline}", H.fmt_p),
            (f"recall_p_vs_{fa.baseline}", f"p recall vs {fa.baseline}", H.fmt_p)]
        nav.append((f"t-{s}", fa.target))
        body.append(
            f'<section id="t-{H.esc(s)}"><h2>{H.esc(fa.target)}</h2>'
            + H.facts([("objectives", H.esc(", ".join(f"{m}:{o}" for m, o in zip(ef.metrics, ef.modes)))),
                       ("exact front", f"{ef.indices.size} of {ef.n_points:,} archs"),
                       ("normalised hypervolume", H.fmt(ef.hypervolume, ".5f")),
                       ("runs scored", str(len(fa.runs)))])
            + H.figure(png, f"front_{s}", f"Pareto fronts on {fa.target}",
                       "Black: the exact front over every architecture. Colours: each strategy's "
                       "final fronts scored on these columns (faint: every run; line: the "
                       "median run by hypervolume ratio).")
            + (f"<h3>Strategies</h3>{H.table(fa.strategies, strat_cols)}" if fa.strategies else "")
            + f"<h3>Exact front</h3>{H.table(rows, cols_h)}</section>")
    index = outp / "index.html"
    index.write_text(H.page("naslab: exact Pareto fronts", "multi-objective analysis", nav,
                            "".join(body), "Generated by naslab from the benchmark tables and storage."),
                     encoding="utf-8")
    return index


# ------------------------------------------------------------------------------------------
# `naslab report` of multi-objective comparisons
# ------------------------------------------------------------------------------------------

def load_mo(storage: Storage, runs: Sequence[RunData]) -> dict[str, dict[str, Any]]:
    """Per run: the hypervolume after every trial and the final front's objective vectors
    (from the ``hypervolume``, ``objectives`` and ``front`` columns, cut to the run's budget)."""
    out: dict[str, dict[str, Any]] = {}
    for r in runs:
        cols = storage.trial_columns(r.exp_id, ("hypervolume", "objectives", "front"))
        k = r.n_trials
        hv = np.array([np.nan if x is None else x for x in cols["hypervolume"][:k]], dtype=np.float64)
        last = cols["front"][k - 1] if k else None
        pts = np.array([cols["objectives"][n] for n in (last or [])], dtype=np.float64)
        out[r.exp_id] = {"hv": hv, "front": pts.reshape(-1, len(r.objectives))}
    return out


def mo_section(storage: Storage, groups: dict[str, list[RunData]], baseline: str | None,
               slug: str, save_png: Callable[[str, bytes], None],
               save_table: Callable[[str, Any], None]) -> str:
    """The multi-objective part of a comparison's target section."""
    runs = [r for rs in groups.values() for r in rs if r.n_trials]
    if not runs:
        return ""
    objs = runs[0].objectives
    if any(r.objectives != objs for r in runs):
        raise ConfigError("the runs of one target searched different objectives or reference "
                          "points; their hypervolumes cannot be compared")
    mo = load_mo(storage, runs)
    order = sorted(groups)
    col = plots.colors(order, baseline)
    ref = objs.reference
    parts = ["<h3>Multi-objective results</h3>"]
    rows: list[dict[str, Any]] = []
    base = baseline if baseline in groups else None
    finals = {name: [float(mo[r.exp_id]["hv"][-1]) for r in rs if r.n_trials and mo[r.exp_id]["hv"].size]
              for name, rs in groups.items()}
    if ref is not None:
        plt = plots.pyplot()
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        curves = {}
        for name in order:
            rs = [r for r in groups[name] if r.n_trials]
            if not rs:
                continue
            n = min(r.n_trials for r in rs)
            a = np.stack([mo[r.exp_id]["hv"][:n] for r in rs])
            m, h, _ = mean_ci(a)
            x = np.arange(1, n + 1)
            ax.plot(x, m, color=col[name], label=name, lw=1.4)
            ax.fill_between(x, m - np.nan_to_num(h), m + np.nan_to_num(h), color=col[name], alpha=0.18, lw=0)
            curves[name] = {"trials": x.tolist(), "mean": m.tolist(), "ci95": h.tolist()}
        ax.set_xlabel("trials")
        ax.set_ylabel("hypervolume")
        ax.set_xscale("log")
        plots.plain_log_axis(ax.xaxis)
        ax.set_title(f"hypervolume of the front (mean, 95 % CI) vs reference {list(ref)}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        png = plots.png_bytes(fig)
        save_png(f"hypervolume_{slug}", png)
        save_table(f"hypervolume_curves_{slug}", curves)
        parts.append(H.figure(png, f"hypervolume_{slug}", "hypervolume anytime curves",
                              "Hypervolume of each run's non-dominated feasible set after every "
                              "trial, against the runs' common reference point (raw units); "
                              "lines: mean over runs, bands: 95 % t-interval of the mean."))
        for name in order:
            v = np.array(finals.get(name) or [np.nan])
            m, h, _ = mean_ci(v)
            row: dict[str, Any] = {"strategy": name, "runs": int(np.isfinite(v).sum()),
                                   "hv_mean": float(m[0]), "hv_ci95": float(h[0]),
                                   "front_size_mean": float(np.mean([mo[r.exp_id]["front"].shape[0]
                                                                     for r in groups[name] if r.n_trials] or [np.nan]))}
            if base is not None and name != base and finals.get(name) and finals.get(base):
                mw = mann_whitney(finals[name], finals[base])
                row["p_vs_rs"], row["cles_vs_rs"] = mw.p, mw.cles
            rows.append(row)
        save_table(f"hypervolume_final_{slug}", rows)
        cols: list[H.Column] = [
            ("strategy", "strategy", lambda v: H.esc(str(v))), ("runs", "runs", lambda v: H.fmt(v, "d")),
            ("hv_mean", "final hypervolume", lambda v: H.fmt(v, ".6g")),
            ("hv_ci95", "± 95 %", lambda v: H.fmt(v, ".3g")),
            ("front_size_mean", "front size", lambda v: H.fmt(v, ".1f")),
            ("p_vs_rs", "p vs rs (MWU)", H.fmt_p), ("cles_vs_rs", "P(beats rs)", lambda v: H.fmt(v, ".2f"))]
        parts.append(H.table(rows, cols))
        parts.append('<p class="note">Final hypervolume of every run; Mann-Whitney U (two-sided, '
                     'scipy) against random search' + (f" (<b>{H.esc(base)}</b>)" if base else
                                                       " (no random-search baseline here)")
                     + '; P(beats rs) = U / (n₁ n₂).</p>')
    else:
        parts.append('<p class="note">These runs recorded no reference point, so no '
                     'hypervolume; the fronts are shown below.</p>')
    if len(objs) >= 2:
        found: dict[str, list[np.ndarray]] = {}
        for name in order:
            rs = sorted((r for r in groups[name] if r.n_trials),
                        key=lambda r: float(mo[r.exp_id]["hv"][-1]) if mo[r.exp_id]["hv"].size else 0.0)
            found[name] = [mo[r.exp_id]["front"] for r in rs]
        metrics = [o.metric for o in objs]
        modes = [o.mode for o in objs]
        fig = front_figure(metrics, modes, np.zeros((0, len(metrics))), found, col,
                           "final fronts per strategy (validation, as searched)")
        png = plots.png_bytes(fig)
        save_png(f"fronts_{slug}", png)
        parts.append(H.figure(png, f"fronts_{slug}", "final fronts per strategy",
                              "Every run's final front (faint points) and the front of each "
                              "strategy's median run by final hypervolume (line), in the objective "
                              "values the search saw (first two objectives). `naslab analyze "
                              "--objectives` scores them against the exact front, on test "
                              "accuracy as well."))
    return "".join(parts)
