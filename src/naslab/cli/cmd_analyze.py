"""``naslab analyze``: search-space analysis of a tabular benchmark (and a comparison against
the exact random-search baseline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from naslab.benchmarks import DEFAULT_BENCHMARK
from naslab.cli.main import DATA_HELP, STORAGE_HELP, app, check_output
from naslab.errors import ConfigError, check_int


@app.command()
def analyze(
    benchmark: Optional[list[str]] = typer.Option(
        None, "--benchmark", "-b", help=f"Benchmark target NAME/DATASET (repeatable; default {DEFAULT_BENCHMARK})."),
    budget: Optional[int] = typer.Option(
        None, help="Largest N of the best-of-N curves (default 150, or the comparison's longest run)."),
    metric: Optional[str] = typer.Option(
        None, help="Metric analysed: test_acc, or val_acc (mean over runs); default test_acc, "
                   "or the benchmark's validation metric where it records no test metrics."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write index.html, figures/ and tables/ here."),
    mc_runs: int = typer.Option(0, help="Also simulate random search this many times and compare with "
                                        "the exact curves (e.g. 10000)."),
    seed: int = typer.Option(0, help="Seed of the simulations (random walks, Monte-Carlo)."),
    comparison: Optional[str] = typer.Option(
        None, help="Comparison group in --storage: each strategy against exact random search."),
    storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
    data_dir: Optional[Path] = typer.Option(None, help=DATA_HELP),
    output: str = typer.Option("text", help="text | json"),
    objectives: Optional[str] = typer.Option(
        None, help="Multi-objective analysis instead: the exact Pareto front over every "
                   "architecture for 2 or 3 of accuracy (val_acc = mean over runs, test_acc), "
                   "params_m, flops_m, latency_ms@<device>, e.g. "
                   "'test_acc:max,latency_ms@pixel3:min'; with --comparison / --experiment, "
                   "each run's hypervolume ratio, IGD and recall of the exact set."),
    experiment: Optional[list[str]] = typer.Option(
        None, "--experiment", help="A multi-objective experiment in --storage to score against "
                                   "the exact front (repeatable; with --objectives)."),
) -> None:
    """Analyse a search space from its benchmark table: accuracy distribution, exact expected
    best-of-N of random search, per-edge operation importance (exact functional ANOVA),
    fitness-distance correlation, random-walk autocorrelation, isomorphism statistics.
    With --objectives: the exact Pareto front and how stored runs score against it."""
    from naslab.analysis.compare import compare_to_random
    from naslab.analysis.space import analyze_space
    from naslab.benchmarks import load_benchmark
    check_output(output)
    if objectives is not None:
        if metric is not None or mc_runs or budget is not None:
            raise ConfigError("--metric, --mc-runs and --budget belong to the space analysis; "
                              "leave them out with --objectives")
        return _analyze_fronts(benchmark, objectives, comparison, experiment or [], storage,
                               data_dir, out, output)
    if experiment:
        raise ConfigError("--experiment scores a multi-objective run: give --objectives too")
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
        f"{bon['rs_val_mean'][-1]:.3f} (mean val); oracle {bon['oracle_max_test'][-1]:.3f}"
        + ("" if a.reported == "test_acc" else f"  ({a.reported} of the pick: no test metrics)"),
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


def _analyze_fronts(benchmark: list[str] | None, objectives: str, comparison: str | None,
                    experiments: list[str], storage: Path, data_dir: Path | None,
                    out: Path | None, output: str) -> None:
    from naslab.analysis.fronts import analyze_fronts
    from naslab.analysis.pareto import parse_metric_modes
    from naslab.benchmarks import load_benchmark

    targets = list(dict.fromkeys(benchmark or [DEFAULT_BENCHMARK]))
    benches = [load_benchmark(t, data_dir=None if data_dir is None else str(data_dir), val="mean")
               for t in targets]
    ids = ([comparison] if comparison else []) + list(experiments)
    store = None
    if ids:
        from naslab.runner import SQLiteStorage

        store = SQLiteStorage(storage, readonly=True)
    analyses, cols_all, runs_all = [], [], []
    try:
        for b in benches:
            metrics = [m for m, _ in parse_metric_modes(objectives, b.metric_mode)]
            extra = {}
            if "flops_m" in metrics and "flops_m" not in b.metrics:
                opts = b.network_options()
                if opts is None:
                    raise ConfigError(f"{b.name} has no FLOPs column and does not say how its "
                                      f"networks were built, so FLOPs cannot be counted")
                from naslab.nn.counting import flops_column

                extra["flops_m"], _info = flops_column(b.space, **opts)
            runs = []
            if store is not None:
                from naslab.reports.data import front_runs

                for ident in ids:
                    runs += front_runs(store, ident, b.name, b.index)
            fa = analyze_fronts(b, objectives, runs, extra_columns=extra)
            from naslab.analysis.fronts import metric_columns

            analyses.append(fa)
            cols_all.append(metric_columns(b, fa.exact.metrics, extra))
            runs_all.append(runs)
    finally:
        if store is not None:
            store.close()
    index = None
    if out is not None:
        from naslab.reports.fronts import write_front_analysis

        index = write_front_analysis(analyses, cols_all, runs_all, out)
    if output == "json":
        from naslab.reports.tables import clean_json

        typer.echo(json.dumps(clean_json({"targets": [a.to_json() for a in analyses],
                                          "report": None if index is None else str(index)})))
        return
    for fa in analyses:
        _print_fronts(fa)
    if index is not None:
        typer.echo(f"\nreport  {index}")


def _print_fronts(fa: Any) -> None:
    ef = fa.exact
    names = [f"{m}:{o}" for m, o in zip(ef.metrics, ef.modes)]

    def vec(v: Any) -> str:
        return "(" + ", ".join(format(float(x), ".4g") for x in v) + ")"

    lines = [f"== {fa.target}: exact Pareto front on ({', '.join(names)}) ==",
             f"front            {ef.indices.size} of {ef.n_points:,} archs; ideal {vec(ef.ideal)}, "
             f"nadir {vec(ef.nadir)}",
             f"hypervolume      {ef.hypervolume:.5f} normalised (ideal 0, nadir 1, reference "
             f"{ef.reference:g}); {ef.raw_hypervolume:.6g} raw against {vec(ef.raw_reference())}"]
    order = sorted(range(ef.indices.size), key=lambda k: float(ef.values[k, 0]))
    for k in order:
        vals = "  ".join(f"{m} {float(v):.4g}" for m, v in zip(ef.metrics, ef.values[k]))
        lines.append(f"  #{int(ef.indices[k]):<6d} {vals}  {fa.archs[k]}")
    if fa.strategies:
        lines.append(f"runs scored on these columns ({len(fa.runs)}; recall = share of the exact "
                     f"set on the run's final front, evaluated = share the run evaluated):")
        for st in fa.strategies:
            p = st.get(f"hv_ratio_p_vs_{fa.baseline}")
            pr = st.get(f"recall_p_vs_{fa.baseline}")
            vs = ("" if p is None else f"  p vs {fa.baseline}: HV {p:.2g}, recall "
                  f"{'n/a' if pr is None else format(pr, '.2g')}")
            lines.append(f"  {st['strategy']:10s} {st['runs']:3d} runs  HV ratio "
                         f"{st['hv_ratio_mean']:.4f} ± {st['hv_ratio_ci95']:.4f}  IGD "
                         f"{st['igd_mean']:.4f}  recall {st['recall_mean']:.3f}  evaluated "
                         f"{st['recall_evaluated_mean']:.3f}  front {st['front_size_mean']:.1f}{vs}")
    typer.echo("\n".join(lines))
