"""``naslab compare CONFIG.yaml``: strategies x seeds x targets under one budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from naslab.cli.main import _err_console, _fmt, _out_console, app, check_output


@app.command()
def compare(
    config: Path = typer.Argument(..., help="Comparison config (YAML); see docs/architecture.md."),
    storage: Optional[Path] = typer.Option(None, help="SQLite file (overrides the config's storage)."),
    commit: Optional[str] = typer.Option(
        None, help="When trials become durable: 'trial' (each trial), 'experiment' (one "
                   "transaction per finished run) or 'auto' (default: experiment when every "
                   "target is tabular)."),
    executor: Optional[str] = typer.Option(None, help="serial | process | ray (overrides the config)."),
    workers: Optional[int] = typer.Option(None, help="Workers of --executor process/ray."),
    ray_address: Optional[str] = typer.Option(None, help="Join a running Ray cluster at this address."),
    level: Optional[str] = typer.Option(
        None, help="What the workers run: 'trials' (evaluations, default) or 'runs' (whole "
                   "experiments; process executor, experiment-level commits)."),
    data_dir: Optional[Path] = typer.Option(None, help="Benchmark / dataset directory."),
    check: bool = typer.Option(False, "--check", help="Validate the config and print the plan; run nothing."),
    output: str = typer.Option("text", help="text | json"),
    progress: bool = typer.Option(True, help="Show a progress bar over runs (on stderr)."),
) -> None:
    """Compare strategies fairly: every strategy x seed x target under the same budget.

    Random search is added as the baseline. All trials go to storage, grouped under the
    comparison's name; rerunning the same config reuses finished runs and completes the rest.
    """
    from naslab.runner.compare import load_config, run_comparison

    check_output(output)
    cfg = load_config(config)
    cfg.override(storage=None if storage is None else str(storage), commit=commit,
                 executor=executor, workers=workers, address=ray_address, level=level,
                 data_dir=None if data_dir is None else str(data_dir))
    if check:
        plan = cfg.plan()
        typer.echo(json.dumps(plan) if output == "json" else
                   "\n".join(f"{k:11s}{v}" for k, v in plan.items()))
        return
    show = progress and output == "text"
    if show:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        cols = [TextColumn("[bold]{task.fields[label]}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[last]}"), TimeElapsedColumn()]
        with Progress(*cols, console=_err_console(), transient=False) as prog:
            task = prog.add_task("compare", total=cfg.n_runs, label=cfg.name, last="")

            def on_run(s: Any, done: int, total: int) -> None:
                lab = s.labels
                prog.update(task, completed=done,
                            last=f"{lab['target']} {lab['strategy']} s{lab['seed']} ({s.how})")

            result = run_comparison(cfg, on_run=on_run)
    else:
        result = run_comparison(cfg)
    if output == "json":
        typer.echo(json.dumps(result.to_json()))
        return
    _print_table(result)


def _print_table(result: Any) -> None:
    from rich.table import Table

    t = Table("target", "strategy", "seeds", "test acc (mean ± sd)", "regret", "trials",
              "sim. h", "failed",
              title=f"comparison {result.group_id} ({result.storage})")
    for r in result.table():
        test = "n/a" if r["test_mean"] is None else f"{r['test_mean']:.2f} ± {r['test_std']:.2f}"
        t.add_row(r["target"], r["strategy"], str(r["seeds"]), test, _fmt(r["regret_mean"]),
                  f"{r['trials_mean']:.0f}", f"{r['simulated_h_mean']:.1f}", str(r["failed_trials"]))
    c = _out_console()
    c.print(t)
    c.print(f"{len(result.runs)} runs: {result.count('new')} new, {result.count('resumed')} "
            f"resumed, {result.count('reused')} reused from storage"
            + (f"; {result.retrained} final trainings" if result.retrained else "")
            + f"; {result.wall_s:.1f} s")
