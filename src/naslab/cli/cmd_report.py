"""``naslab report``: an HTML page with figures and tables of an experiment or a comparison."""

from __future__ import annotations

from pathlib import Path

import typer

from naslab.cli.main import STORAGE_HELP, app


@app.command()
def report(
    experiment_or_comparison: str = typer.Argument(
        ..., metavar="EXPERIMENT_OR_COMPARISON",
        help="Experiment id or comparison (group) id (see `naslab runs`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for index.html, figures/ and tables/."),
    storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
    dpi: int = typer.Option(110, help="Resolution of the PNG figures."),
) -> None:
    """Write a self-contained HTML report (plus PNG figures and CSV/JSON tables) built only from
    storage: anytime curves with 95 % bands, final table with ranks and Mann-Whitney U tests
    against random search, cost ledger and run card."""
    from naslab.errors import check_int
    from naslab.reports import build_report
    from naslab.runner import SQLiteStorage

    dpi = check_int("--dpi", dpi, minimum=30, maximum=600)
    store = SQLiteStorage(storage, readonly=True)
    try:
        res = build_report(store, experiment_or_comparison, out, dpi=dpi)
    finally:
        store.close()
    typer.echo(f"report   {res.index}")
    typer.echo(f"runs     {res.n_runs}")
    typer.echo(f"figures  {len(res.figures)} (PNG in {out / 'figures'})")
    typer.echo(f"time     {res.timings['total']:.2f} s")
