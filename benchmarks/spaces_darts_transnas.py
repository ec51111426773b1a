"""The DARTS-space and TransNAS-Bench-101 rows of the space benchmark.

    python benchmarks/spaces_darts_transnas.py [--seeds 100] [--budget 150] [--out DIR]
                                               [--tasks class_object ...]
                                               [--parts builder,analysis,search] [--render]

Three parts, each a function returning rows that ``benchmarks/spaces.py`` can put beside the
other spaces' (:func:`search_rows`, :func:`analysis_rows`, :func:`darts_builder_rows`), plus
:func:`nb301_predictor_command` for the predictor-harness table of the NB301 sample:

1. **Search on TransNAS-Bench-101** (every task in the data): ``naslab compare`` of rs (the
   baseline), re, ls and bananas (bananas in rounds of 10 seeds over all tasks: it costs ~1e4
   times more per run), ``--seeds`` seeds, ``--budget`` queries, serial, one process;
   the incumbent's validation value (the benchmark has no test split) at 50 / 100 / 150 queries,
   mean ± sd over seeds, with the exact expected random-search value beside it. Runs are stored
   in ``--out``/tnb101.db and reused when the script runs again (an interrupted run resumes).
2. **Search-space analysis side by side**, NB201 (cifar10) and TransNAS-Bench-101 (each task),
   all on the validation metric (NB201: mean over its runs): distribution, exact expected
   best-of-N of random sampling, operation importance (exact functional ANOVA, main effects);
   figure ``docs/figures/spaces-nb201-tnb101.png``.
3. **DARTS builder vs NB301's recorded parameter counts** for the 725 genotypes, at the
   configuration that matches and at DARTS's own.

Results go to ``--out``/results.json; ``--render`` rewrites the ``spaces-darts-transnas``
section of docs/benchmarks.md from it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _docs import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STRATEGIES = ["re", "ls", "bananas"]          # rs is added by naslab compare
CHECKPOINTS = (50, 100, 150)
NB201_TARGET = "nb201/cifar10"
FIGURE = "spaces-nb201-tnb101.png"


def tnb_tasks() -> list[str]:
    from naslab.benchmarks.transnas import TASKS

    return list(TASKS)


# ------------------------------------------------------------------------------------------
# 1. search on TransNAS-Bench-101
# ------------------------------------------------------------------------------------------


def run_compare(task: str, strategies: list[str], seeds: int, budget: int, out: Path) -> None:
    """``naslab compare`` of ``strategies`` (rs added) on one task, seeds 0..seeds-1; runs
    already in ``out``/tnb101.db are reused, an interrupted one resumes."""
    from naslab.benchmarks.transnas import TASKS
    from naslab.runner.compare import load_config, run_comparison

    cfg = load_config({"name": f"tnb101-{task}-{'-'.join(strategies)}-{seeds}x{budget}",
                       "space": "tnb101", "strategies": strategies, "seeds": seeds,
                       "targets": [f"tnb101/{task}"], "budget": {"trials": budget},
                       "objective": TASKS[task][0], "storage": {"path": str(out / "tnb101.db")}})
    t0 = time.perf_counter()
    res = run_comparison(cfg)
    print(f"  {task} {'+'.join(strategies)} x {seeds} seeds: {res.count('new')} new runs, "
          f"{time.perf_counter() - t0:.0f} s", flush=True)


def collect(task: str, budget: int, out: Path) -> dict[str, Any]:
    """Rows per strategy from every finished run of ``task`` in storage (default strategy
    parameters, ``budget`` trials or more): the incumbent at 50 / 100 / 150 queries."""
    from naslab.analysis import best_of_n as bon
    from naslab.benchmarks import load_benchmark
    from naslab.benchmarks.transnas import TASKS
    from naslab.runner import SQLiteStorage

    metric = TASKS[task][0]
    bench = load_benchmark(f"tnb101/{task}")
    v = bench.column(metric)
    curves: dict[str, list[list[float]]] = {}
    walls: dict[str, list[float]] = {}
    st = SQLiteStorage(out / "tnb101.db", readonly=True)
    try:
        for e in st.experiments():
            c = e.config
            if (e.status != "finished" or (c.get("estimator") or {}).get("benchmark") != bench.name
                    or (c.get("objective") or {}).get("metric") != metric):
                continue
            cols = st.trial_columns(e.id, ("incumbent_objective", "cum_wall_s"))
            if len(cols["incumbent_objective"]) < budget:
                continue
            strat = str(c["strategy"]["strategy"])
            curves.setdefault(strat, []).append([float(x) for x in cols["incumbent_objective"][:budget]])
            walls.setdefault(strat, []).append(float(cols["cum_wall_s"][budget - 1]))
    finally:
        st.close()
    exact = bon.expected_max_of_n(v, budget)   # rs without replacement, one value per arch
    rows = []
    for strat, cs in sorted(curves.items()):
        a = np.array(cs)
        row: dict[str, Any] = {"task": task, "metric": metric, "strategy": strat,
                               "seeds": int(a.shape[0]),
                               "wall_s_per_run": float(np.mean(walls[strat]))}
        for n in CHECKPOINTS:
            if n <= a.shape[1]:
                x = a[:, n - 1]
                row[f"mean@{n}"] = float(x.mean())
                row[f"sd@{n}"] = float(x.std(ddof=1)) if len(x) > 1 else 0.0
                row[f"found_best@{n}"] = int(np.sum(np.isclose(x, v.max())))
        rows.append(row)
    return {"task": task, "metric": metric, "best": float(v.max()), "median": float(np.median(v)),
            "rs_exact": {str(n): float(exact[n - 1]) for n in CHECKPOINTS if n <= budget},
            "rows": rows}


def search_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Flat rows (task, strategy, mean/sd at each checkpoint) for benchmarks/spaces.py."""
    return [r for t in results.get("search", []) for r in t["rows"]]


# ------------------------------------------------------------------------------------------
# 2. search-space analysis, NB201 and TransNAS side by side
# ------------------------------------------------------------------------------------------


def analyse_target(target: str, n_max: int) -> dict[str, Any]:
    """Distribution, exact best-of-N of random sampling (picked and reported by the mean
    validation value) and the exact ANOVA main effects of one benchmark target."""
    from naslab.analysis import best_of_n as bon
    from naslab.analysis.fanova import anova, grid_table, space_grid
    from naslab.analysis.space import decision_labels, default_metric
    from naslab.benchmarks import load_benchmark

    bench = load_benchmark(target, val="mean")
    metric = "val_acc" if bench.has_test else default_metric(bench)
    v = bench.column(metric)
    space = bench.space
    choices, sizes = space_grid(space)
    an = anova(grid_table(v, choices, sizes))
    curve = bon.expected_max_of_n(v, n_max)
    best, med = float(v.max()), float(np.median(v))
    q = {f"q{p}": float(np.quantile(v, p / 100)) for p in (50, 90, 99)}
    gap = {str(n): float((curve[n - 1] - med) / (best - med)) for n in (10, 50, 150) if n <= n_max}
    ops = list(space.decisions[0].options)
    return {"target": target, "metric": metric, "n_archs": int(v.size), "best": best,
            "median": med, **q, "iqr": float(np.quantile(v, 0.75) - np.quantile(v, 0.25)),
            "top1pct_gap": float(best - np.quantile(v, 0.99)),
            "best_of_n": curve.tolist(), "gap_closed": gap,
            "edges": decision_labels(space), "ops": ops,
            "main_fraction": an.main_fraction.tolist(),
            "pairs_fraction": float(an.order_fraction[1]),
            "higher_fraction": float(an.order_fraction[2:].sum()),
            "marginal_means": [m.tolist() for m in an.marginal_means],
            "values": v.tolist()}


def analysis_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target: n, best, median, gap closed by best-of-N, importance shares."""
    out = []
    for a in results.get("analysis", []):
        out.append({k: a[k] for k in ("target", "metric", "n_archs", "best", "median", "q90",
                                      "q99", "gap_closed", "pairs_fraction", "higher_fraction")}
                   | {"top_edge": a["edges"][int(np.argmax(a["main_fraction"]))],
                      "top_edge_fraction": float(max(a["main_fraction"]))})
    return out


def analysis_figure(analyses: list[dict[str, Any]], path: Path) -> None:
    """Rows = targets; columns = distribution, expected best-of-N regret, operation importance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(analyses)
    fig, axes = plt.subplots(k, 3, figsize=(13.5, 2.55 * k), squeeze=False,
                             layout="constrained")
    for row, a in zip(axes, analyses):
        v = np.asarray(a["values"])
        ax = row[0]
        ax.hist(v, bins=80, color="#6b8fc7")
        ax.set_yscale("log")
        for key, ls in (("median", "--"), ("q99", ":")):
            ax.axvline(a[key], color="k", lw=0.9, ls=ls, label=f"{'median' if key == 'median' else '99 %'} {a[key]:.2f}")
        ax.axvline(a["best"], color="#d62728", lw=1.2, label=f"best {a['best']:.2f}")
        ax.set_title(f"{a['target']}: {a['metric']} over {a['n_archs']:,} archs", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
        ax = row[1]
        curve = np.asarray(a["best_of_n"])
        n = np.arange(1, curve.size + 1)
        ax.plot(n, a["best"] - curve, color="#1f77b4", lw=1.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N (distinct uniform archs)", fontsize=8)
        ax.set_ylabel("best - E[best of N]", fontsize=8)
        gc = a["gap_closed"]
        ax.set_title("random sampling, exact: median->best gap closed "
                     + ", ".join(f"N={k_}: {100 * g:.0f}%" for k_, g in gc.items()), fontsize=8)
        ax.grid(alpha=0.3, which="both")
        ax = row[2]
        mf = np.asarray(a["main_fraction"]) * 100
        ax.bar(range(len(mf)), mf, color="#2ca02c")
        ax.set_xticks(range(len(mf)), a["edges"], fontsize=7)
        ax.set_ylabel("% of variance (main effect)", fontsize=8)
        ax.set_title(f"op importance per edge; pairs {100 * a['pairs_fraction']:.0f}%, higher "
                     f"orders {100 * a['higher_fraction']:.0f}%", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


# ------------------------------------------------------------------------------------------
# 3. the DARTS builder against NB301's recorded parameter counts
# ------------------------------------------------------------------------------------------

#: (label, builder options, genotypes checked: None = all 725) against the recorded counts
BUILDER_CONFIGS: tuple[tuple[str, dict[str, Any], int | None], ...] = (
    ("C=32, layers=8, affine=False (NASLib's NB301 graph)", {"C": 32, "layers": 8, "affine": False}, None),
    ("C=32, layers=8, affine=True (DARTS's ops)", {"C": 32, "layers": 8}, None),
    ("C=16, layers=8, affine=False", {"C": 16, "layers": 8, "affine": False}, 100),
    ("C=36, layers=8, affine=False", {"C": 36, "layers": 8, "affine": False}, 100),
    ("C=32, layers=11 (N=3), affine=False", {"C": 32, "layers": 11, "affine": False}, 100),
    ("C=32, layers=8, affine=False, auxiliary head", {"C": 32, "layers": 8, "affine": False,
                                                       "auxiliary": True}, 100),
    ("C=36, layers=20 (DARTS CIFAR-10 evaluation)", {"C": 36, "layers": 20}, 100),
)


def darts_builder_rows() -> list[dict[str, Any]]:
    """For each configuration: how many of the genotypes' parameter counts (all 725, or the
    first rows) equal NB301's recorded ``params`` exactly, and the median relative
    difference."""
    import torch

    from naslab.benchmarks import load_benchmark
    from naslab.nn.darts import DartsNetwork

    bench = load_benchmark("nb301/cifar10")
    rec = np.round(bench.column("params_m") * 1e6).astype(np.int64)
    rows = []
    for label, kw, n_rows in BUILDER_CONFIGS:
        got = []
        for a in bench.archs()[:n_rows]:
            with torch.device("meta"):  # counts only: no memory, no initialisation
                net = DartsNetwork(a, **kw)
            got.append(sum(p.numel() for p in net.parameters()))
        g = np.asarray(got)
        r = rec[: g.size]
        rows.append({"config": label, "options": kw, "equal": int(np.sum(g == r)),
                     "n": int(g.size),
                     "median_rel_diff": float(np.median(np.abs(g - r) / r))})
    return rows


def nb301_predictor_command() -> str:
    """The predictor-harness table of the NB301 sample, once the space-generic harness is in."""
    return ("naslab predictors evaluate --benchmark nb301/cifar10 "
            "--predictors gcn,bananas,gp,rf,lgb --train-sizes 50,100,200 --seeds 10 "
            "--json nb301-predictors.json")


def rows(out: Path = Path("/tmp/naslab-spaces-dt")) -> dict[str, Any]:
    """Every row group this script measured (read from ``out``/results.json), for
    ``benchmarks/spaces.py``: ``search`` (TransNAS strategies), ``analysis`` (NB201 and TransNAS
    side by side), ``builder`` (DARTS parameter counts), ``markdown`` (this script's section) and
    ``nb301_predictors`` (the harness command, until the harness reads sample benchmarks)."""
    results = json.loads((out / "results.json").read_text())
    return {"search": search_rows(results), "analysis": analysis_rows(results),
            "builder": results.get("builder", []), "markdown": render(results),
            "nb301_predictors": nb301_predictor_command()}


# ------------------------------------------------------------------------------------------
# rendering
# ------------------------------------------------------------------------------------------


def _pm(m: float, s: float, spec: str) -> str:
    return f"{m:{spec}} ± {s:{spec}}"


def render(results: dict[str, Any]) -> str:
    lines: list[str] = []
    search = results.get("search", [])
    if search:
        seeds = max(r["seeds"] for t in search for r in t["rows"])
        lines += [
            f"### Search on TransNAS-Bench-101 micro ({seeds} seeds, up to "
            f"{results['budget']} queries)", "",
            "Black-box strategies unchanged from NB201 (`naslab compare`, serial, one process "
            "with one torch thread). The "
            "benchmark records validation metrics only (no test split, no training times): the "
            "incumbent is reported by the validation value it was picked by, mean ± sd over "
            "seeds; `rs exact` is the exact expectation of random search without replacement "
            "(`expected_max_of_n`), the check of the `rs` rows. `found` = runs whose incumbent is "
            "the best cell of the task. room_layout's metric is the negative L2 loss "
            "(`val_neg_loss`, maximised). Wall time per run is the strategy's own cost (tabular "
            "queries take microseconds); the machine was shared with other work (1-min load "
            f"average {results.get('load_before', [0])[0]:.1f} at the start"
            + (f", {results['load_after'][0]:.1f} at the end" if "load_after" in results else "")
            + ", on 2 cores), so it is inflated and comparable only within this section.", ""]
        short = sorted({r["strategy"] for t in search for r in t["rows"] if r["seeds"] < seeds})
        if short:
            lines += [f"*{', '.join(short)}: fewer seeds than the others* (the run was stopped "
                      f"before every seed was done; rerunning the command below completes them, "
                      f"reusing what is recorded).", ""]
        for t in search:
            lines += [f"**tnb101/{t['task']}** ({t['metric']}; best cell {t['best']:.3f}, "
                      f"median {t['median']:.3f})", "",
                      "| strategy | seeds | " + " | ".join(f"@ {n}" for n in CHECKPOINTS)
                      + " | found best @ 150 | wall s / run |",
                      "|---|" + "---:|" * (len(CHECKPOINTS) + 3)]
            spec = ".3f" if t["metric"] != "val_acc" else ".2f"
            for r in t["rows"]:
                cells = [_pm(r[f"mean@{n}"], r[f"sd@{n}"], spec) if f"mean@{n}" in r else "–"
                         for n in CHECKPOINTS]
                lines.append(f"| {r['strategy']} | {r['seeds']} | " + " | ".join(cells)
                             + f" | {r.get('found_best@150', '–')}/{r['seeds']} | "
                               f"{r['wall_s_per_run']:.2f} |")
            lines.append("| rs exact | | " + " | ".join(
                format(t["rs_exact"][str(n)], spec) if str(n) in t["rs_exact"] else "–"
                for n in CHECKPOINTS) + " | | |")
            lines.append("")
    an = results.get("analysis", [])
    if an:
        lines += [
            "### Search-space analysis: NB201 and TransNAS-Bench-101 side by side", "",
            "All on the validation metric (NB201 cifar10: mean over its runs; the NB201 section "
            "above reports the test-accuracy version). `gap closed @ N` = (E[best of N uniform "
            "distinct archs] − median) / (best − median), exact: how much of the way from a "
            "typical arch to the best one random sampling already goes. Importance: exact "
            "functional ANOVA over the full grid of edge operations (share of variance).", "",
            "| target | archs | best | median | 99 % quantile | gap closed @ 10 / 50 / 150 | "
            "most important edge | pair interactions | higher orders |",
            "|---|---:|---:|---:|---:|---|---|---:|---:|"]
        for a in an:
            gc = " / ".join(f"{100 * g:.0f} %" for g in a["gap_closed"].values())
            i = int(np.argmax(a["main_fraction"]))
            lines.append(f"| {a['target']} ({a['metric']}) | {a['n_archs']:,} | {a['best']:.3f} | "
                         f"{a['median']:.3f} | {a['q99']:.3f} | {gc} | {a['edges'][i]} "
                         f"{100 * a['main_fraction'][i]:.1f} % | {100 * a['pairs_fraction']:.1f} % | "
                         f"{100 * a['higher_fraction']:.1f} % |")
        lines += ["", f"![NB201 and TransNAS-Bench-101 side by side](figures/{FIGURE})", ""]
    bld = results.get("builder", [])
    if bld:
        lines += ["### DARTS network builder vs NB301's recorded parameter counts", "",
                  "The 725 genotypes of `nb301/zc_nasbench301.json` (NASLib's compact form, op ids "
                  "in NB301's order) built with `naslab.nn.build_network` (counted on the meta "
                  "device); `equal` = exact agreement with the recorded `params`.", "",
                  "| configuration | equal | median relative difference |", "|---|---:|---:|"]
        for r in bld:
            lines.append(f"| {r['config']} | {r['equal']}/{r['n']} | {100 * r['median_rel_diff']:.2f} % |")
        lines += ["", "NASLib's graph builds the cell ops' BatchNorms without affine parameters (its "
                  "search-space form) and keeps them in the discrete network; the preprocessing "
                  "BatchNorms have them. With DARTS's own affine ops the counts are higher by the "
                  "ops' BN scales and shifts (2 C per BN), never equal.", ""]
    pred = results.get("nb301_predictors")
    lines += ["### Predictors on the NB301 sample", ""]
    if pred:
        lines += [pred]
    else:
        lines += ["Not measured here: the space-generic predictor harness (train on a subset of a "
                  "labelled sample, rank the rest) is another helper's part and was not merged "
                  "when this ran. With it: `" + nb301_predictor_command() + "`. The labels are "
                  "NB301-surrogate predictions, not trained results."]
    lines += ["", "Reproduce: `python benchmarks/spaces_darts_transnas.py --seeds "
              f"{results.get('seeds', 100)} --budget {results.get('budget', 150)}` (runs kept in "
              "`--out`, default /tmp/naslab-spaces-dt; `--render` rewrites this section)."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--budget", type=int, default=150)
    ap.add_argument("--tasks", nargs="+", default=None)
    ap.add_argument("--out", type=Path, default=Path("/tmp/naslab-spaces-dt"))
    ap.add_argument("--parts", default="builder,analysis,search",
                    help="comma-separated subset of builder, analysis, search")
    ap.add_argument("--render", action="store_true", help="only rewrite the docs section")
    ap.add_argument("--no-write", action="store_true", help="do not touch docs/")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    res_path = args.out / "results.json"
    results: dict[str, Any] = json.loads(res_path.read_text()) if res_path.exists() else {}
    if not args.render:
        import torch

        torch.set_num_threads(1)
        results.update(seeds=args.seeds, budget=args.budget, load_before=os.getloadavg())
        parts = {p.strip() for p in args.parts.split(",")}
        if "analysis" in parts:
            t0 = time.perf_counter()
            results["analysis"] = [analyse_target(t, 150)
                                   for t in [NB201_TARGET] + [f"tnb101/{k}" for k in tnb_tasks()]]
            print(f"analysis {time.perf_counter() - t0:.1f} s", flush=True)
            res_path.write_text(json.dumps(results))
        if "builder" in parts:
            t0 = time.perf_counter()
            results["builder"] = darts_builder_rows()
            print(f"builder rows {time.perf_counter() - t0:.1f} s", flush=True)
            res_path.write_text(json.dumps(results))
        if "search" in parts:
            tasks = args.tasks or tnb_tasks()

            def save() -> None:
                results["search"] = [collect(t, args.budget, args.out) for t in tasks]
                res_path.write_text(json.dumps(results))

            print("search: rs, re, ls ...", flush=True)
            for task in tasks:
                run_compare(task, [s for s in STRATEGIES if s != "bananas"], args.seeds,
                            args.budget, args.out)
            save()
            # bananas costs ~1e4 times more per run: in rounds of seeds over every task, so that
            # an interrupted benchmark has results for all tasks
            for upto in range(min(10, args.seeds), args.seeds + 1, 10):
                print(f"search: bananas, seeds 0..{upto - 1} ...", flush=True)
                for task in tasks:
                    run_compare(task, ["bananas"], upto, args.budget, args.out)
                save()
        results["load_after"] = os.getloadavg()
        res_path.write_text(json.dumps(results))
    if "analysis" in results and not args.no_write:
        analysis_figure(results["analysis"], ROOT / "docs" / "figures" / FIGURE)
    md = render(results)
    if args.no_write:
        print(md)
    else:
        write_section("spaces-darts-transnas", md)
        print(f"wrote the spaces-darts-transnas section of docs/benchmarks.md", flush=True)


if __name__ == "__main__":
    main()
