"""``naslab proxies``: how well zero-cost proxies rank a benchmark's architectures.

The command parses, looks up and prints; the harness is
:func:`naslab.estimators.proxy_eval.evaluate_proxies`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import typer

from naslab.cli.main import DATA_HELP, _err_console, _out_console, app, parse_params
from naslab.errors import ConfigError


def _sample_size(sample: str, size: int) -> int | None:
    """``--sample``: a number of archs in 2..size, or 'all' (None)."""
    if sample.strip().lower() == "all":
        return None
    try:
        n = int(sample)
    except ValueError:
        raise ConfigError(f"--sample must be a number of architectures or 'all', got "
                          f"{sample!r}") from None
    if not 2 <= n <= size:
        raise ConfigError(f"--sample must be between 2 and the space size {size} (or 'all'), "
                          f"got {n}")
    return n


@app.command()
def proxies(
    proxy: list[str] = typer.Option(
        ["synflow"], "--proxy", help="Zero-cost proxy (repeatable; see `naslab list proxies`)."),
    space: Optional[str] = typer.Option(None, help="Search space (default: the benchmark's)."),
    benchmark: Optional[str] = typer.Option(
        None, help="Ground truth: tabular benchmark NAME/DATASET (default: "
                   "naslab.benchmarks.DEFAULT_BENCHMARK)."),
    metric: Optional[str] = typer.Option(
        None, help="Benchmark metric the proxy should rank (default test_acc, or the benchmark's "
                   "validation metric where it records no test metrics)."),
    sample: str = typer.Option("100", help="Architectures scored: a number drawn uniformly without "
                                           "replacement, or 'all'."),
    seed: int = typer.Option(0, help="Seed of the sample and of every network's initialisation."),
    dataset: Optional[str] = typer.Option(
        None, help="Dataset of data-dependent proxies (e.g. digits); for data-free ones it sets "
                   "the input shape (default: CIFAR-10's 3x32x32, 10 classes)."),
    batch_size: int = typer.Option(64, help="Batch size of data-dependent proxies."),
    estimator_param: Optional[list[str]] = typer.Option(
        None, "--estimator-param", "-e", help="Further proxy-estimator parameter KEY=VALUE "
                                              "(data_seed, channels, image_size, C, N, device)."),
    cache: Optional[Path] = typer.Option(
        None, help="Directory keeping every score as it is computed (resumes an interrupted run)."),
    threads: int = typer.Option(1, help="torch CPU threads per evaluation (0: torch's default)."),
    data_dir: Optional[Path] = typer.Option(None, help=DATA_HELP),
    output: str = typer.Option("text", help="text | json"),
    progress: bool = typer.Option(True, help="Show a progress bar (on stderr)."),
) -> None:
    """Score sampled architectures with zero-cost proxies; report Spearman rho and Kendall tau
    against the benchmark, and the compute time.

    Data-dependent proxies run on the --dataset you name; a tabular benchmark's ground truth
    comes from training on its own data (CIFAR / ImageNet16 for NAS-Bench-201), so their
    correlations are then measured across datasets.
    """
    from naslab import registry
    from naslab.benchmarks import DEFAULT_BENCHMARK, load_benchmark
    from naslab.estimators.proxy_eval import ProxyEvaluation, evaluate_proxies
    from naslab.spaces.base import get_space

    if output not in ("text", "json"):
        raise ConfigError(f"--output must be 'text' or 'json', got {output!r}")
    if threads < 0:
        raise ConfigError(f"--threads must be a positive integer (or 0 for torch's default), "
                          f"got {threads}")
    if seed < 0:
        raise ConfigError(f"--seed must be a non-negative integer, got {seed}")
    names = [getattr(registry.get("proxy", p), "registry_name", p) for p in proxy]
    sp = None if space is None else get_space(registry.get("space", space).name)
    bench = load_benchmark(benchmark or DEFAULT_BENCHMARK,
                           data_dir=None if data_dir is None else str(data_dir))
    if sp is None:
        sp = get_space(bench.space_name)
    if metric is None:
        from naslab.analysis.space import default_metric

        metric = default_metric(bench)
    n = _sample_size(sample, bench.n_archs) if bench.space_name == sp.name else None
    params = parse_params(estimator_param, "--estimator-param")
    if dataset is not None:
        params.setdefault("dataset", dataset)
    params.setdefault("batch_size", batch_size)
    params.setdefault("num_threads", threads or None)

    def run(on_score: Callable[[str, int, int], None] | None = None) -> ProxyEvaluation:
        return evaluate_proxies(names, benchmark=bench, space=sp, metric=metric, sample=n,
                                seed=seed, params=params, cache_dir=cache, on_score=on_score)

    if progress and (output == "text" or _err_console().is_terminal):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TimeRemainingColumn(),
                      console=_err_console()) as bar:
            tasks: dict[str, TaskID] = {}

            def on_score(name: str, done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=total)
                bar.update(tasks[name], completed=done)

            ev = run(on_score)
    else:
        ev = run()
    if output == "json":
        typer.echo(json.dumps(ev.to_json()))
        return
    from rich.table import Table

    t = Table("proxy", "data", "archs", "Spearman ρ", "Kendall τ", "compute", "per arch",
              title=ev.title)
    for r in ev.rows:
        t.add_row(r.proxy, r.dataset or "none (3x32x32)", str(r.n), f"{r.spearman:.3f}",
                  f"{r.kendall:.3f}", f"{r.compute_s:.1f} s", f"{r.per_arch_ms:.0f} ms")
    _out_console().print(t)
    for line in ev.notes():
        typer.echo(line)
