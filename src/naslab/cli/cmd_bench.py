"""``naslab bench``: build a local reference benchmark, inspect it, and measure how well a cheap
ranking (a supernet's inherited weights) agrees with a reference.

* ``naslab bench build``: train sampled architectures stand-alone, several seeds each, into a
  versioned benchmark file (:mod:`naslab.runner.bench_build`); resumable.
* ``naslab bench info PATH``: what a benchmark file holds and its noise ceiling.
* ``naslab bench fidelity``: Kendall tau / Spearman rho / precision@top-10 % of an estimator
  (by default the supernet estimator on a checkpoint) against one or more references
  (:mod:`naslab.runner.fidelity`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from naslab.cli.main import _err_console, app, duration, parse_params

bench_app = typer.Typer(help="Local reference benchmarks and ranking fidelity.",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")


def _check_output(output: str) -> None:
    from naslab.errors import ConfigError

    if output not in ("text", "json"):
        raise ConfigError(f"--output must be 'text' or 'json', got {output!r}")


def _ceiling_text(c: Optional[dict[str, Any]]) -> str:
    if not c or not c.get("kendall"):
        return "n/a (needs at least two seeds)"
    k = c["kendall"]
    return f"tau {k['value']:.3f} [{k['lo']:.3f}, {k['hi']:.3f}] (mean over {len(c['pairs'])} seed pair(s))"


@bench_app.command("build")
def build(
    out: Path = typer.Option(..., "--out", help="Benchmark file to write (JSON; an existing "
                                                "file of the same configuration is continued)."),
    space: Optional[str] = typer.Option(None, help="Search space (default: naslab.spaces.DEFAULT_SPACE)."),
    dataset: str = typer.Option("digits", help="Dataset (digits, fashion-mnist, mnist, ...)."),
    image_size: Optional[int] = typer.Option(None, help="Resize images to this size (default: native)."),
    channels: Optional[int] = typer.Option(None, help="Image channels given to the network (default: native)."),
    archs: int = typer.Option(100, help="Number of architectures (one per isomorphism class)."),
    seeds: int = typer.Option(3, help="Training seeds per architecture (0..SEEDS-1)."),
    epochs: Optional[int] = typer.Option(None, help="Training epochs (default: the protocol's)."),
    protocol: str = typer.Option("cpu", help="Training protocol name or YAML file."),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", "-s", help="Protocol field KEY=VALUE (repeatable), e.g. -s C=8 -s N=1."),
    n_train: Optional[int] = typer.Option(None, help="Training images (stratified subset)."),
    n_val: Optional[int] = typer.Option(None, help="Validation images."),
    n_test: Optional[int] = typer.Option(None, help="Test images."),
    split_seed: int = typer.Option(0, help="Seed of the train / validation / test split."),
    selection_seed: int = typer.Option(0, help="Seed of the architecture draw."),
    executor: str = typer.Option("serial", help="serial | process | ray"),
    workers: Optional[int] = typer.Option(None, help="Workers of --executor process/ray (one torch thread each)."),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster address (--executor ray)."),
    device: str = typer.Option("cpu", help="cpu | cuda"),
    data_dir: Optional[Path] = typer.Option(None, help="Dataset directory."),
    output: str = typer.Option("text", help="text | json"),
    progress: bool = typer.Option(True, help="Show a progress bar (on stderr)."),
) -> None:
    """Train architectures stand-alone (several seeds each) into a local benchmark file.

    Resumable: run the same command again after an interruption and it continues; finished
    (architecture, seed) pairs are never retrained. The finished file reports its noise
    ceiling (Kendall tau between seeds). Query it with `--benchmark local:PATH`.
    """
    from naslab.errors import ConfigError
    from naslab.nn.protocol import PROTOCOLS, load_protocol_file
    from naslab.runner.bench_build import build_benchmark
    from naslab.runner.executors import make_executor
    from naslab.spaces import DEFAULT_SPACE

    _check_output(output)
    overrides = parse_params(set_, "--set")
    for k, v in (("epochs", epochs), ("image_size", image_size), ("channels", channels)):
        if v is not None:
            if k in overrides:
                raise ConfigError(f"--{k.replace('_', '-')} and --set {k}=... both given; use one")
            overrides[k] = v
    proto: Any = protocol
    if protocol not in PROTOCOLS and Path(protocol).is_file():
        proto = load_protocol_file(protocol)
    from naslab import registry

    sp_name = registry.get("space", space or DEFAULT_SPACE).name
    ex = make_executor(executor, workers=workers, address=ray_address)
    show = progress and output == "text"
    try:
        if show:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn)

            with Progress(TextColumn("[bold]bench build"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                          console=_err_console()) as prog:
                task = prog.add_task("build", total=None, info="")

                def on_result(run: dict[str, Any], done: int, total: int) -> None:
                    prog.update(task, completed=done, total=total,
                                info=f"arch {run['arch']} seed {run['seed']}: val "
                                     f"{run['val_acc']:.2f} ({run['train_time_s']:.1f} s)")

                res = build_benchmark(out, space=sp_name, dataset=dataset, n_archs=archs,
                                      seeds=seeds, protocol=proto, selection_seed=selection_seed,
                                      data_dir=None if data_dir is None else str(data_dir),
                                      split_seed=split_seed, n_train=n_train, n_val=n_val,
                                      n_test=n_test, device=device, executor=ex,
                                      on_result=on_result, **overrides)
        else:
            res = build_benchmark(out, space=sp_name, dataset=dataset, n_archs=archs,
                                  seeds=seeds, protocol=proto, selection_seed=selection_seed,
                                  data_dir=None if data_dir is None else str(data_dir),
                                  split_seed=split_seed, n_train=n_train, n_val=n_val,
                                  n_test=n_test, device=device, executor=ex, **overrides)
    finally:
        ex.shutdown()
    if output == "json":
        typer.echo(json.dumps(res.to_json()))
        return
    c = res.noise_ceiling or {}
    lines = [
        f"benchmark      {res.path}  ({'complete' if res.complete else 'INCOMPLETE'})",
        f"runs           {res.recorded} of {res.n_archs * len(res.seeds)} recorded "
        f"({res.n_archs} archs x seeds {res.seeds}); {res.trained} trained now"
        + (f", {len(res.failed)} failed (run the command again to retry them)" if res.failed else ""),
        f"build time     {duration(res.wall_s)} wall over all sessions",
        f"noise ceiling  val acc: {_ceiling_text(c.get('val_acc'))}",
        f"               test acc: {_ceiling_text(c.get('test_acc'))}",
        f"query it       --benchmark local:{res.path}",
    ]
    typer.echo("\n".join(lines))


@bench_app.command("info")
def info(
    path: Path = typer.Argument(..., help="A local benchmark file (naslab bench build --out)."),
    output: str = typer.Option("text", help="text | json"),
) -> None:
    """Show what a local benchmark file holds: data, protocol, runs, build time and its noise
    ceiling (Kendall tau between seeds, recomputed from the runs)."""
    from naslab.benchmarks.local import LocalBenchmark
    from naslab.runner.bench_build import noise_ceilings, read_benchmark_file

    import numpy as np

    _check_output(output)
    doc = read_benchmark_file(path)
    bench = LocalBenchmark(str(path), partial=True)
    ceiling = noise_ceilings(doc)
    n_total = len(doc["archs"]) * len(doc["seeds"])
    test = bench.column("test_acc")
    d = {"path": str(bench.path), "complete": bool(doc.get("complete")), "space": doc["space"],
         "dataset": doc.get("dataset"), "protocol": doc.get("protocol"),
         "epochs": doc["epochs"], "seeds": doc["seeds"], "n_archs": len(doc["archs"]),
         "runs": len(doc["runs"]), "runs_expected": n_total,
         "build_wall_s": (doc.get("build") or {}).get("wall_s"),
         "train_time_s": float(sum(r["train_time_s"] for r in doc["runs"])),
         "test_acc": {"min": float(test.min()), "median": float(np.median(test)),
                      "max": float(test.max())},
         "noise_ceiling": ceiling}
    if output == "json":
        typer.echo(json.dumps(d))
        return
    ds, p = d["dataset"] or {}, d["protocol"] or {}
    sizes = ds.get("sizes", {})
    lines = [
        f"benchmark      {d['path']}  ({'complete' if d['complete'] else 'INCOMPLETE'})",
        f"space          {d['space']}: {d['n_archs']} archs (one per isomorphism class)",
        f"dataset        {ds.get('dataset')} train {sizes.get('train')} / val {sizes.get('val')}"
        f" / test {sizes.get('test')}, input {'x'.join(map(str, ds.get('input_shape', [])))}",
        f"protocol       {p.get('name')} [{p.get('hash')}] {d['epochs']} epochs, batch "
        f"{p.get('batch_size')}, lr {p.get('lr')}, C={p.get('C')}, N={p.get('N')}",
        f"runs           {d['runs']} of {n_total} (seeds {d['seeds']})",
        f"time           {duration(d['train_time_s'])} training, "
        f"{duration(d['build_wall_s'] or 0.0)} build wall",
        f"test acc       min {d['test_acc']['min']:.2f}  median {d['test_acc']['median']:.2f}  "
        f"max {d['test_acc']['max']:.2f} (mean over seeds)",
        f"noise ceiling  val acc: {_ceiling_text(ceiling['val_acc'])}",
        f"               test acc: {_ceiling_text(ceiling['test_acc'])}",
    ]
    typer.echo("\n".join(lines))


def run_fidelity(*, checkpoint: Optional[str], estimator: str, estimator_param: Optional[list[str]],
                 dataset: Optional[str], reference: list[str], metric: str, proxy_metric: str,
                 n_archs: int, arch_seed: int, top: float, n_boot: int, seed: int,
                 partial: bool, figure_dir: Optional[Path], out: Optional[Path],
                 data_dir: Optional[Path], output: str, progress: bool) -> None:
    """The fidelity command's body (shared with ``naslab oneshot fidelity``)."""
    from naslab import registry
    from naslab.benchmarks import load_benchmark
    from naslab.errors import ConfigError
    from naslab.runner.fidelity import estimator_fidelity

    _check_output(output)
    if not reference:
        raise ConfigError("give at least one --reference: a local benchmark (local:PATH) or a "
                          "tabular benchmark NAME/DATASET")
    params = parse_params(estimator_param, "--estimator-param")
    if checkpoint is not None:
        params.setdefault("checkpoint", checkpoint)
    if dataset is not None:
        params.setdefault("dataset", dataset)
    est = registry.create("estimator", estimator, **params)
    refs = []
    for spec in reference:
        kw: dict[str, Any] = {}
        if partial and spec.split("/", 1)[0].partition(":")[1]:
            kw["partial"] = True
        refs.append(load_benchmark(spec, data_dir=None if data_dir is None else str(data_dir),
                                   **kw))
    show = progress and output == "text"
    if show:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(TextColumn("[bold]fidelity"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[info]}"), console=_err_console()) as prog:
            task = prog.add_task("fidelity", total=None, info="")

            def on_arch(k: int, n: int, arch: Any, score: float) -> None:
                prog.update(task, completed=k, total=n, info=f"{proxy_metric} {score:.2f}")

            rep = estimator_fidelity(est, refs, n_archs=n_archs, arch_seed=arch_seed,
                                     proxy_metric=proxy_metric, metric=metric, top=top,
                                     n_boot=n_boot, seed=seed, figure_dir=figure_dir,
                                     on_arch=on_arch)
    else:
        rep = estimator_fidelity(est, refs, n_archs=n_archs, arch_seed=arch_seed,
                                 proxy_metric=proxy_metric, metric=metric, top=top,
                                 n_boot=n_boot, seed=seed, figure_dir=figure_dir)
    d = rep.to_json()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(d))
    if output == "json":
        typer.echo(json.dumps(d))
        return
    lines = [f"architectures  {len(rep.archs)} scored by {rep.estimator.get('estimator')} "
             f"({proxy_metric}) in {duration(rep.wall_s)}"]
    for r in rep.references:
        s = r.stats
        c = s.ceiling
        lines += [
            f"reference      {r.name} ({r.metric}, mean over runs)",
            f"  Kendall tau  {s.kendall}",
            f"  Spearman rho {s.spearman}",
            f"  P@top{s.top:.0%}     {s.precision.value:.3f} [{s.precision.lo:.3f}, "
            f"{s.precision.hi:.3f}] (top {s.k})",
            f"  ceiling      {_ceiling_text(c)}"
            + (f" on {r.ceiling_metric}" if r.ceiling_metric and r.ceiling_metric != r.metric else ""),
        ]
        if r.figure:
            lines.append(f"  figure       {r.figure}")
    if out is not None:
        lines.append(f"written        {out}")
    typer.echo("\n".join(lines))


@bench_app.command("fidelity")
def fidelity(
    checkpoint: Optional[str] = typer.Option(None, help="Supernet checkpoint (for --estimator supernet)."),
    reference: list[str] = typer.Option(
        [], "--reference", "-r", help="Reference benchmark: local:PATH or NAME/DATASET (repeatable)."),
    estimator: str = typer.Option("supernet", help="Estimator whose ranking is measured."),
    estimator_param: Optional[list[str]] = typer.Option(
        None, "--estimator-param", "-e", help="Estimator parameter KEY=VALUE (repeatable)."),
    dataset: Optional[str] = typer.Option(None, help="Dataset of the estimator (default: the checkpoint's)."),
    metric: str = typer.Option("test_acc", help="Reference metric (mean over its runs)."),
    proxy_metric: str = typer.Option("val_acc", help="Estimator metric that ranks the architectures."),
    n_archs: int = typer.Option(100, help="Architectures when no reference is a local benchmark."),
    arch_seed: int = typer.Option(0, help="Seed of that architecture draw."),
    top: float = typer.Option(0.1, help="Fraction for precision@top."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples."),
    seed: int = typer.Option(0, help="Seed of the bootstrap and of the estimator's queries."),
    partial: bool = typer.Option(False, help="Accept unfinished local benchmarks."),
    figure_dir: Optional[Path] = typer.Option(None, help="Write one scatter figure per reference here."),
    out: Optional[Path] = typer.Option(None, help="Write the full result (JSON) here."),
    data_dir: Optional[Path] = typer.Option(None, help="Benchmark data directory."),
    output: str = typer.Option("text", help="text | json"),
    progress: bool = typer.Option(True, help="Show a progress bar (on stderr)."),
) -> None:
    """Rank fidelity of an estimator (default: a supernet's inherited weights) against
    references: Kendall tau, Spearman rho, precision@top-10 % with bootstrap 95 % intervals and
    each reference's noise ceiling."""
    run_fidelity(checkpoint=checkpoint, estimator=estimator, estimator_param=estimator_param,
                 dataset=dataset, reference=reference, metric=metric, proxy_metric=proxy_metric,
                 n_archs=n_archs, arch_seed=arch_seed, top=top, n_boot=n_boot, seed=seed,
                 partial=partial, figure_dir=figure_dir, out=out, data_dir=data_dir,
                 output=output, progress=progress)
