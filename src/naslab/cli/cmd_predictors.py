"""``naslab predictors evaluate``: the predictor evaluation harness on a tabular benchmark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from naslab.benchmarks import DEFAULT_BENCHMARK
from naslab.cli.main import (
    DATA_HELP,
    _err_console,
    _out_console,
    app,
    check_output,
    parse_list,
    parse_params,
)
from naslab.errors import ConfigError, check_int

predictors_app = typer.Typer(
    name="predictors", help="Performance predictors: evaluate how well they rank architectures.",
    no_args_is_help=True, add_completion=False)
app.add_typer(predictors_app, name="predictors")


def _predictor_params(items: list[str] | None, names: list[str]) -> dict[str, dict[str, Any]]:
    """``["gcn.epochs=50", ...]`` -> ``{"gcn": {"epochs": 50}}``."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in parse_params(items, "--param").items():
        name, dot, param = key.partition(".")
        if not dot or not param:
            raise ConfigError(f"--param must be PREDICTOR.KEY=VALUE (e.g. gcn.epochs=50), got {key!r}")
        if name not in names:
            raise ConfigError(f"--param {key!r} names predictor {name!r}, which is not among "
                              f"--predictors ({', '.join(names)})")
        out.setdefault(name, {})[param] = value
    return out


@predictors_app.command()
def evaluate(
    benchmark: str = typer.Option(DEFAULT_BENCHMARK, help="Tabular benchmark NAME/DATASET."),
    predictors: str = typer.Option("gcn,bananas,gp,rf,lgb",
                                   help="Comma-separated predictors (see `naslab list predictors`)."),
    train_sizes: str = typer.Option("10,20,50,100,200,500", help="Comma-separated training sizes."),
    seeds: int = typer.Option(20, help="Number of seeds (splits), 0..seeds-1."),
    test_size: int = typer.Option(200, help="Test architectures per seed (fixed across sizes)."),
    sampling: str = typer.Option("unique", help="unique: one member of every isomorphism class "
                                                "(no test arch isomorphic to a training arch); "
                                                "uniform: all archs."),
    train_label: str = typer.Option("run", help="Training label: 'run' (one recorded run's "
                                                "validation accuracy, what a search sees) or 'mean'."),
    param: Optional[list[str]] = typer.Option(
        None, "--param", "-p", help="Predictor hyper-parameter PREDICTOR.KEY=VALUE (repeatable)."),
    plot: Optional[Path] = typer.Option(None, help="Write a plot (PNG/PDF/SVG) of tau, precision "
                                                   "and fit time against training size."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write every fit's figures as JSON."),
    data_dir: Optional[Path] = typer.Option(None, help=DATA_HELP),
    output: str = typer.Option("text", help="text | json | markdown"),
    progress: bool = typer.Option(True, help="Show progress (on stderr)."),
) -> None:
    """Fit each predictor on random training sets and rank a held-out test set.

    Per seed: a 200-architecture test set (fixed across training sizes) and nested training
    sets disjoint from it. Reports Kendall tau and Spearman rho against the validation accuracy
    (mean over training runs), precision@top-10 %, tau against one run's validation accuracy
    and against test accuracy, fit and query time: mean (± std) over seeds.
    """
    from naslab.predictors.evaluate import check_output_file, evaluate_predictors

    check_output(output, ("text", "json", "markdown"))
    if plot is not None:
        check_output_file(plot, "--plot", plot=True)
    if json_out is not None:
        check_output_file(json_out, "--json")
    names = [str(p) for p in parse_list(predictors, "--predictors")]
    sizes = [check_int("--train-sizes", v) for v in parse_list(train_sizes, "--train-sizes")]
    params = _predictor_params(param, names)
    total = len(names) * len(sizes) * seeds
    done = [0]
    console = _err_console() if progress else None

    def on_row(row: Any) -> None:
        done[0] += 1
        if console is not None:
            console.print(f"[{done[0]}/{total}] seed {row.seed} {row.predictor} n={row.n_train}: "
                          f"tau {row.kendall:.3f} ({row.fit_s:.2f} s)", highlight=False)

    ev = evaluate_predictors(benchmark, names, train_sizes=sizes, seeds=seeds,
                             test_size=test_size, sampling=sampling, train_label=train_label,
                             params=params, data_dir=None if data_dir is None else str(data_dir),
                             on_row=on_row)
    if json_out is not None:
        json_out.write_text(json.dumps(ev.to_json(), indent=1))
    if plot is not None:
        ev.plot(str(plot), title=f"{benchmark}: predictors ({sampling} sampling, {seeds} seeds)")
    if output == "json":
        typer.echo(json.dumps(ev.to_json()))
        return
    if output == "markdown":
        typer.echo(ev.markdown())
        return
    from rich.table import Table

    summ = ev.summary()
    has_test = any(d["kendall_test"] is not None for d in summ)
    t = Table("predictor", "n train", "Kendall τ (val)", "Spearman ρ", "prec@10%", "τ (1 run)",
              *(["τ (test)"] if has_test else []), "fit s", "query ms",
              title=f"{benchmark}: {seeds} seeds, {test_size} test archs, {sampling} sampling, "
                    f"train label {train_label}")
    for d in summ:
        cells = [d["predictor"], str(d["n_train"]), f"{d['kendall']:.3f} ± {d['kendall_std']:.3f}",
                 f"{d['spearman']:.3f}", f"{d['precision']:.3f}", f"{d['kendall_run']:.3f}"]
        if has_test:
            cells.append("n/a" if d["kendall_test"] is None else f"{d['kendall_test']:.3f}")
        cells += [f"{d['fit_s']:.3f}", f"{1000 * d['query_s']:.1f}"]
        t.add_row(*cells)
    _out_console().print(t)
