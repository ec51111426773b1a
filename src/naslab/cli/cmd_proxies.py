"""``naslab proxies``: how well zero-cost proxies rank a benchmark's architectures."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

import typer

from naslab.cli.main import DATA_HELP, _err_console, _out_console, app, parse_params
from naslab.errors import ConfigError


def _sample_size(sample: str, size: int) -> int:
    if sample.strip().lower() == "all":
        return size
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
    space: str = typer.Option("nb201", help="Search space."),
    benchmark: str = typer.Option("nb201/cifar10", help="Ground truth: tabular benchmark NAME/DATASET."),
    metric: str = typer.Option("test_acc", help="Benchmark metric the proxy should rank (200 epochs)."),
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

    Data-dependent proxies run on the --dataset you name; on NB201 the ground truth comes from
    CIFAR / ImageNet16 training, data naslab does not have, so their correlations are measured
    across datasets.
    """
    import numpy as np

    from naslab import registry
    from naslab.analysis.rank_correlation import rank_correlation
    from naslab.benchmarks.nb201 import load_benchmark
    from naslab.estimators.zerocost import cache_file, score_archs
    from naslab.spaces.base import get_space

    if output not in ("text", "json"):
        raise ConfigError(f"--output must be 'text' or 'json', got {output!r}")
    if threads < 0:
        raise ConfigError(f"--threads must be a positive integer (or 0 for torch's default), "
                          f"got {threads}")
    if seed < 0:
        raise ConfigError(f"--seed must be a non-negative integer, got {seed}")
    names = [getattr(registry.get("proxy", p), "registry_name", p) for p in proxy]
    sp = get_space(registry.get("space", space).name)
    bench = load_benchmark(benchmark, data_dir=None if data_dir is None else str(data_dir))
    if bench.space_name != sp.name:
        raise ConfigError(f"benchmark {bench.name!r} scores space {bench.space_name!r}, not "
                          f"{sp.name!r}")
    truth_all = bench.column(metric)
    size = len(sp)
    n = _sample_size(sample, size)
    if n == size:
        idx = np.arange(size)
    else:
        idx = np.sort(np.random.default_rng(seed).choice(size, n, replace=False))
    truth = truth_all[idx]
    extra = parse_params(estimator_param, "--estimator-param")
    ests = []
    for name in names:
        params = dict(extra)
        if dataset is not None:
            params.setdefault("dataset", dataset)
        params.setdefault("batch_size", batch_size)
        params.setdefault("num_threads", threads or None)
        ests.append(registry.create("proxy", name, **params))

    rows: list[dict[str, Any]] = []
    show = progress and (output == "text" or _err_console().is_terminal)
    for name, est in zip(names, ests):
        path = None if cache is None else cache_file(cache, est, space=sp.name, seed=seed)
        t0 = time.perf_counter()
        if show:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            with Progress(TextColumn(f"[bold]{name}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), TimeRemainingColumn(),
                          console=_err_console()) as bar:
                task = bar.add_task(name, total=len(idx))
                scores, walls = score_archs(est, idx, seed=seed, space=sp, cache=path,
                                            on_score=lambda i, k: bar.update(task, completed=k))
        else:
            scores, walls = score_archs(est, idx, seed=seed, space=sp, cache=path)
        elapsed = time.perf_counter() - t0
        corr = rank_correlation(scores, truth)
        rows.append({"proxy": name, "benchmark": bench.name, "metric": metric,
                     "dataset": est.dataset, "n": corr["n"], "spearman": corr["spearman"],
                     "kendall": corr["kendall"], "n_neg_inf": corr["n_neg_inf"],
                     "compute_s": float(walls.sum()), "per_arch_ms": float(walls.mean() * 1e3),
                     "wall_s": elapsed, "seed": seed, "cache": path})
    if output == "json":
        typer.echo(json.dumps(rows))
        return
    from rich.table import Table

    t = Table("proxy", "data", "archs", "Spearman ρ", "Kendall τ", "compute", "per arch",
              title=f"zero-cost proxies vs {bench.name} {metric} (seed {seed})")
    for r in rows:
        data = r["dataset"] or "none (3x32x32)"
        t.add_row(r["proxy"], data, str(r["n"]), f"{r['spearman']:.3f}", f"{r['kendall']:.3f}",
                  f"{r['compute_s']:.1f} s", f"{r['per_arch_ms']:.0f} ms")
    _out_console().print(t)
    notes = [f"{r['proxy']}: {r['n_neg_inf']} archs have an undefined score (-inf: the network "
             f"ignores its input), ranked lowest" for r in rows if r["n_neg_inf"]]
    if any(r["dataset"] and r["proxy"] not in ("synflow", "params", "flops") for r in rows) \
            and bench.name.startswith("nb201/"):
        notes.append("data-dependent proxies ran on the dataset named above; the benchmark's "
                     "accuracies come from CIFAR / ImageNet16 training, which naslab does not have")
    for line in notes:
        typer.echo(line)
