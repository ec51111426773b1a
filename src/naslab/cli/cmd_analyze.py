"""``naslab analyze``: search-space analysis of a tabular benchmark (and a comparison against
the exact random-search baseline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from naslab.benchmarks import DEFAULT_BENCHMARK
from naslab.cli.main import DATA_HELP, STORAGE_HELP, app, check_output
from naslab.errors import check_int


@app.command()
def analyze(
    benchmark: Optional[list[str]] = typer.Option(
        None, "--benchmark", "-b", help=f"Benchmark target NAME/DATASET (repeatable; default {DEFAULT_BENCHMARK})."),
    budget: Optional[int] = typer.Option(
        None, help="Largest N of the best-of-N curves (default 150, or the comparison's longest run)."),
    metric: str = typer.Option("test_acc", help="Metric analysed: test_acc, or val_acc (mean over runs)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write index.html, figures/ and tables/ here."),
    mc_runs: int = typer.Option(0, help="Also simulate random search this many times and compare with "
                                        "the exact curves (e.g. 10000)."),
    seed: int = typer.Option(0, help="Seed of the simulations (random walks, Monte-Carlo)."),
    comparison: Optional[str] = typer.Option(
        None, help="Comparison group in --storage: each strategy against exact random search."),
    storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
    data_dir: Optional[Path] = typer.Option(None, help=DATA_HELP),
    output: str = typer.Option("text", help="text | json"),
) -> None:
    """Analyse a search space from its benchmark table: accuracy distribution, exact expected
    best-of-N of random search, per-edge operation importance (exact functional ANOVA),
    fitness-distance correlation, random-walk autocorrelation, isomorphism statistics."""
    from naslab.analysis.compare import compare_to_random
    from naslab.analysis.space import analyze_space
    from naslab.benchmarks import load_benchmark
    check_output(output)
    mc_runs = check_int("--mc-runs", mc_runs, minimum=0)
    seed = check_int("--seed", seed, minimum=0)
    targets = list(dict.fromkeys(benchmark or [DEFAULT_BENCHMARK]))
    benches = [load_benchmark(t, data_dir=None if data_dir is None else str(data_dir), val="mean")
               for t in targets]
    groups: dict[str, Any] = {}
    if comparison is not None:
        from naslab.reports.data import comparison_runs_by_benchmark
        from naslab.runner import SQLiteStorage

        store = SQLiteStorage(storage, readonly=True)
        try:
            groups = comparison_runs_by_benchmark(store, comparison, [b.name for b in benches])
        finally:
            store.close()
    if budget is None:
        budget = max([150] + [r.n_trials for by in groups.values() for rs in by.values() for r in rs])
    analyses, vs = [], {}
    for b in benches:
        analyses.append(analyze_space(b, n_max=budget, metric=metric, mc_runs=mc_runs, seed=seed))
        if b.name in groups:
            vs[b.name] = compare_to_random(groups[b.name], b)
    index = None
    if out is not None:
        from naslab.reports.space_report import write_space_report

        index = write_space_report(analyses, out, vs)
    if output == "json":
        d = {"targets": [a.to_json() for a in analyses],
             "vs_random": {k: v.table() for k, v in vs.items()},
             "report": None if index is None else str(index)}
        from naslab.reports.tables import clean_json

        typer.echo(json.dumps(clean_json(d)))
        return
    for a in analyses:
        _print_analysis(a)
        if a.target in vs:
            _print_vs(vs[a.target])
    if index is not None:
        typer.echo(f"\nreport  {index}")


def _print_analysis(a: Any) -> None:
    j = a.to_json()
    an = j["anova"]
    main = sorted(an["main_fraction"].items(), key=lambda kv: -kv[1])
    bon = a.best_of_n
    iso = a.isomorphism
    lines = [
        f"== {a.target} ({a.metric}, {a.n_archs:,} archs) ==",
        f"best arch        {a.optimum['value']:.2f}  {a.optimum['arch']}"
        + (f"  (and {a.optimum['n_archs'] - 1} more at the same value)" if a.optimum["n_archs"] > 1 else ""),
        f"quantiles        median {a.quantiles['q50']:.2f} | 90% {a.quantiles['q90']:.2f} | "
        f"99% {a.quantiles['q99']:.2f} | archs within 1 point of the best: {a.near_optimum['within_1']:,}",
        f"best-of-{a.n_max} (exact) random search {bon['rs_val_run'][-1]:.3f} (one run's val per query), "
        f"{bon['rs_val_mean'][-1]:.3f} (mean val); oracle {bon['oracle_max_test'][-1]:.3f}",
        "edge importance  " + ", ".join(f"{e} {100 * f:.1f}%" for e, f in main)
        + f"; pairs {100 * float(an['order_fraction']['2']):.1f}%, higher orders "
        f"{100 * sum(float(v) for k, v in an['order_fraction'].items() if int(k) > 2):.1f}%",
        f"landscape        FDC {a.fdc['to_optimum']:.3f}, correlation length "
        f"{a.autocorr['correlation_length']:.2f} mutations, {a.local_optima['count']} local optima",
        f"isomorphism      {iso['n_classes']:,} classes, {iso['zero_output_archs']:,} archs with zero output, "
        f"within-class sd {iso['within_class_sd']:.3f}",
    ]
    chk = a.best_of_n_check
    for k in ("oracle_max_test", "rs_val_run", "rs_val_mean"):
        if k in chk:
            c = chk[k]
            lines.append(f"MC check {k:16s} max |exact-MC| {c['max_abs_dev']:.4f} at N={c['at_n']} "
                         f"(max |z| {c['max_z']:.2f})"
                         + (f", with control variate {c['cv_max_abs_dev']:.4f}" if "cv_max_abs_dev" in c else ""))
    typer.echo("\n".join(lines))


def _print_vs(v: Any) -> None:
    typer.echo(f"vs exact random search (val={v.val_mode}):")
    for r in v.table():
        ci = "" if r["gain_ci95"] is None else f" ± {r['gain_ci95']:.3f}"
        p = "" if r["p_t_test"] is None else f", p {r['p_t_test']:.3g}"
        typer.echo(f"  {r['strategy']:12s} {r['runs']:4d} runs  N={r['budget']}  mean {r['test_mean']:.3f}  "
                   f"random {r['rs_exact']:.3f}  gain {r['gain']:+.3f}{ci}{p}")
