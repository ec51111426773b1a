"""``naslab oneshot``: run (or resume, or report) a one-shot NAS method.

The command parses, looks up and calls :class:`naslab.runner.oneshot.OneShotRun`; it prints a
progress bar per epoch (loss, one-shot accuracy, the current derived architecture) on stderr
and a summary (derived architecture, its score by the final estimator, the cost of each phase,
the run id) or ``--output json``. ``oneshot`` is a command group: ``naslab oneshot --method
NAME ...`` runs a method, and later sub-commands (``naslab oneshot fidelity``) add to
:data:`oneshot_app`. :func:`show_oneshot` is what ``naslab show`` prints for a one-shot run.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, Optional

import typer

from naslab.cli.main import (
    DATA_HELP,
    SHOW_BY_KIND,
    STORAGE_HELP,
    _err_console,
    _fmt,
    _out_console,
    app,
    duration,
    parse_params,
)
from naslab.errors import ConfigError, DataError, check_int, did_you_mean
from naslab.nn.protocol import PROTOCOLS

oneshot_app = typer.Typer(help="One-shot NAS: train once, derive architectures.",
                          add_completion=False, rich_markup_mode="markdown")
app.add_typer(oneshot_app, name="oneshot")

DATA_OPTIONS = ("split_seed", "val_fraction", "test_fraction", "n_train", "n_val", "n_test")


@oneshot_app.callback(invoke_without_command=True)
def oneshot(
    ctx: typer.Context,
    method: Optional[str] = typer.Option(
        None, help="One-shot method (see `naslab list oneshot`)."),
    method_param: Optional[list[str]] = typer.Option(
        None, "--method-param", "-m", help="Method hyper-parameter KEY=VALUE (repeatable)."),
    order: Optional[int] = typer.Option(
        None, help="Order of the architecture gradient of the DARTS-style methods: 1 or 2 "
                   "(the same as -m order=N)."),
    space: Optional[str] = typer.Option(
        None, help="Search space (default: naslab.spaces.DEFAULT_SPACE)."),
    dataset: str = typer.Option(
        "digits", help="Dataset the method trains on (digits, fashion-mnist, mnist5k, mnist, "
                       "cifar10)."),
    image_size: Optional[int] = typer.Option(
        None, help="Resize the images to N x N (default: the protocol's, else native)."),
    epochs: Optional[int] = typer.Option(None, help="Training epochs (default: the protocol's)."),
    seed: int = typer.Option(0, help="Seed of the whole run (method, final scoring)."),
    protocol: str = typer.Option(
        "cpu", help=f"Training protocol: {' | '.join(PROTOCOLS)}, or a YAML file with 'name' "
                    f"and fields."),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", "-s", help="Protocol field KEY=VALUE (repeatable), e.g. -s C=16 -s N=5."),
    data_param: Optional[list[str]] = typer.Option(
        None, "--data-param", help=f"Dataset option KEY=VALUE: {', '.join(DATA_OPTIONS)}."),
    estimator: str = typer.Option(
        "auto", help="Final estimator scoring the derived architecture(s): auto (the space's "
                     "tabular benchmark when its data is present, else stand-alone training "
                     "on --dataset) or a registered estimator."),
    estimator_param: Optional[list[str]] = typer.Option(
        None, "--estimator-param", "-e", help="Final estimator parameter KEY=VALUE (repeatable)."),
    reference: str = typer.Option(
        "none", help="Look the derived architecture up after every epoch, for the trace only: "
                     "none, auto (the space's tabular benchmark) or NAME/DATASET."),
    device: str = typer.Option(
        "cpu", help="cpu | cuda | cuda:N | auto (CUDA: a real code path, untested without a GPU)."),
    threads: int = typer.Option(
        1, help="torch CPU threads (0 = torch's default; resumes are bit-identical at a fixed count)."),
    data_dir: Optional[Path] = typer.Option(None, help=DATA_HELP),
    dataset_dir: Optional[Path] = typer.Option(
        None, help="Directory of the dataset's files (default: the dataset's own lookup)."),
    storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
    experiment_id: Optional[str] = typer.Option(
        None, help="Experiment id (default: derived from the configuration; an existing id resumes)."),
    export: Optional[Path] = typer.Option(
        None, help="After the run, write its supernet (the last checkpoint) to this file, for "
                   "`--estimator supernet -e checkpoint=PATH` and `naslab oneshot fidelity`."),
    latency_lut: Optional[Path] = typer.Option(
        None, help="Latency LUT of this device (`naslab latency build-lut`) for the "
                   "hardware-aware methods' expected-latency loss (proxylessnas, fbnet)."),
    latency_weight: Optional[float] = typer.Option(
        None, help="Weight of the latency term (proxylessnas: lambda per ms; fbnet: the "
                   "exponent beta); needs --latency-lut."),
    output: str = typer.Option("text", help="text | json"),
    progress: bool = typer.Option(True, help="Show a live progress bar (on stderr)."),
) -> None:
    """Run (or resume) a one-shot method and print the architecture it derived.

    Trains epoch by epoch with a checkpoint after every epoch (kill it and run the same command
    again: it continues), searches, then scores the derived architecture(s) with the final
    estimator. The costs of training, search on the trained model and final scoring are kept
    apart. A finished run is reported from storage.
    """
    if ctx.invoked_subcommand is not None:
        return
    from naslab import registry
    from naslab.runner import SQLiteStorage
    from naslab.runner.oneshot import OneShotRun

    if output not in ("text", "json"):
        raise ConfigError(f"--output must be 'text' or 'json', got {output!r}")
    if method is None:
        raise ConfigError(f"--method is required: one of {', '.join(registry.names('oneshot'))}")
    if epochs is not None:
        check_int("--epochs", epochs, minimum=1)
    if image_size is not None:
        check_int("--image-size", image_size, minimum=4)
    threads = check_int("--threads", threads, minimum=0)
    registry.get("oneshot", method)  # unknown names: suggestions before anything loads
    mparams = parse_params(method_param, "--method-param")
    if order is not None:
        if "order" in mparams and mparams["order"] != order:
            raise ConfigError(f"--order {order} and -m order={mparams['order']} disagree; give "
                              f"one of them")
        mparams["order"] = order
    mparams.update(_latency_params(method, latency_lut, latency_weight))
    meth = registry.create("oneshot", method, **mparams)
    sp = _space(space)
    proto = _protocol(protocol, parse_params(set_, "--set"), epochs, image_size)
    dkw = parse_params(data_param, "--data-param")
    for k in dkw:
        if k not in DATA_OPTIONS:
            raise ConfigError(f"--data-param {k!r} is not a dataset option"
                              f"{did_you_mean(k, DATA_OPTIONS)}; options: {', '.join(DATA_OPTIONS)}")
    from naslab.oneshot.base import resolve_device

    dev = resolve_device(device)
    import torch

    if threads:
        torch.set_num_threads(threads)
    from naslab.data import load_dataset

    split_seed = dkw.pop("split_seed", 0)
    ddir = None if dataset_dir is None else str(dataset_dir)
    bdir = None if data_dir is None else str(data_dir)
    try:
        data = load_dataset(dataset, data_dir=ddir, seed=split_seed, channels=proto.channels,
                            image_size=proto.image_size, **dkw)
    except DataError as exc:  # the sources say --data-dir; here that is the benchmark's
        raise DataError(f"{exc} (naslab oneshot takes the dataset's directory as "
                        f"--dataset-dir)") from None
    est, why = _final_estimator(estimator, parse_params(estimator_param, "--estimator-param"),
                                sp, dataset, proto, bdir, ddir, dev, split_seed, dkw)
    ref = _reference(reference, sp, bdir)
    if export is not None and "supernet" not in _state_keys(meth):
        raise ConfigError(f"--export: one-shot method {method!r} keeps no weight-sharing "
                          f"supernet; export works for the supernet methods "
                          f"({', '.join(_supernet_methods())})")
    store = SQLiteStorage(storage)
    exported = None
    try:
        run = OneShotRun(sp, meth, dataset=data, protocol=proto, estimator=est, storage=store,
                         seed=seed, experiment_id=experiment_id, device=dev, reference=ref,
                         meta={"command": "naslab oneshot", "final_estimator_choice": why,
                               "threads": torch.get_num_threads()})
        result = _run_with_progress(run, progress and output == "text")
        if export is not None:
            from naslab.runner.oneshot import export_supernet

            exported = export_supernet(store, result.experiment_id, export)
    finally:
        store.close()
    if output == "json":
        d = result.to_json()
        d["supernet_checkpoint"] = None if exported is None else str(exported)
        typer.echo(json.dumps(d))
    else:
        _print_summary(result, storage, why)
        if exported is not None:
            typer.echo(f"supernet       {exported}  (naslab oneshot fidelity --checkpoint "
                       f"{exported} -r local:REF.json)")


def _latency_params(method: str, lut: Optional[Path], weight: Optional[float]) -> dict[str, Any]:
    """--latency-lut / --latency-weight as the method's ``latency_lut`` / ``latency_weight``
    parameters; refused for a method without them."""
    from naslab import registry

    given = {k: v for k, v in (("latency_lut", None if lut is None else str(lut)),
                               ("latency_weight", weight)) if v is not None}
    if not given:
        return {}
    accepted = set(inspect.signature(registry.get("oneshot", method)).parameters)
    if not set(given) <= accepted:
        takes = [n for n in registry.names("oneshot")
                 if "latency_lut" in inspect.signature(registry.get("oneshot", n)).parameters]
        raise ConfigError(f"--latency-lut / --latency-weight: one-shot method {method!r} has no "
                          f"latency term; methods with one: {', '.join(takes) or 'none'}")
    if lut is not None and not lut.is_file():
        raise ConfigError(f"--latency-lut {str(lut)!r}: no such file; build a LUT of this "
                          f"device with `naslab latency build-lut --out {lut}`")
    return given


def _supernet_methods() -> list[str]:
    """Registered one-shot methods whose state holds an exportable cell supernet."""
    from naslab import registry

    return [n for n in registry.names("oneshot")
            if getattr(registry.get("oneshot", n), "exports_supernet", False)]


def _state_keys(method: Any) -> set[str]:
    return {"supernet"} if getattr(method, "exports_supernet", False) else set()


@oneshot_app.command("export")
def export_cmd(
    experiment_id: str = typer.Argument(..., help="A one-shot run (see `naslab runs`)."),
    out: Path = typer.Option(..., "--out", help="Supernet checkpoint file to write."),
    storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
) -> None:
    """Write a one-shot run's supernet (its last checkpoint) to a supernet checkpoint file,
    with the run's data options, for the supernet estimator and `naslab oneshot fidelity`."""
    from naslab.runner import SQLiteStorage
    from naslab.runner.oneshot import export_supernet

    if not storage.is_file():
        raise DataError(f"storage file {storage} does not exist (--storage)")
    store = SQLiteStorage(storage, readonly=True)
    try:
        path = export_supernet(store, experiment_id, out)
    finally:
        store.close()
    typer.echo(f"supernet of {experiment_id} written to {path}")


@oneshot_app.command("fidelity")
def fidelity_cmd(
    checkpoint: Optional[str] = typer.Option(
        None, help="Supernet checkpoint file (naslab oneshot --export / naslab oneshot export)."),
    run: Optional[str] = typer.Option(
        None, help="Or a one-shot run id: its supernet is exported first (--export-to, else a "
                   "temporary file)."),
    export_to: Optional[Path] = typer.Option(None, help="Where --run's supernet is written."),
    storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
    reference: list[str] = typer.Option(
        [], "--reference", "-r", help="Reference benchmark: local:PATH or NAME/DATASET (repeatable)."),
    estimator_param: Optional[list[str]] = typer.Option(
        None, "--estimator-param", "-e",
        help="Supernet estimator parameter KEY=VALUE, e.g. -e recalibration_batches=20."),
    dataset: Optional[str] = typer.Option(None, help="Dataset (default: the checkpoint's)."),
    metric: str = typer.Option("test_acc", help="Reference metric (mean over its runs)."),
    n_archs: int = typer.Option(100, help="Architectures when no reference is a local benchmark."),
    arch_seed: int = typer.Option(0, help="Seed of that architecture draw."),
    top: float = typer.Option(0.1, help="Fraction for precision@top."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    partial: bool = typer.Option(False, help="Accept unfinished local benchmarks."),
    figure_dir: Optional[Path] = typer.Option(None, help="Write one scatter figure per reference here."),
    out: Optional[Path] = typer.Option(None, help="Write the full result (JSON) here."),
    data_dir: Optional[Path] = typer.Option(None, help="Benchmark data directory."),
    output: str = typer.Option("text", help="text | json"),
    progress: bool = typer.Option(True, help="Show a progress bar (on stderr)."),
) -> None:
    """How far a one-shot supernet's ranking can be trusted: Kendall tau, Spearman rho and
    precision@top-10 % of inherited-weight accuracy (after BN recalibration) against reference
    benchmarks, with bootstrap 95 % intervals and each reference's noise ceiling (the body of
    `naslab bench fidelity`)."""
    import tempfile

    from naslab.cli.cmd_bench import run_fidelity

    if (checkpoint is None) == (run is None):
        raise ConfigError("give the supernet as --checkpoint PATH or as --run RUN_ID (one of "
                          "them)")
    with tempfile.TemporaryDirectory(prefix="naslab-fidelity-") as tmp:
        if run is not None:
            from naslab.runner import SQLiteStorage
            from naslab.runner.oneshot import export_supernet

            if not storage.is_file():
                raise DataError(f"storage file {storage} does not exist (--storage)")
            store = SQLiteStorage(storage, readonly=True)
            try:
                checkpoint = str(export_supernet(store, run, export_to or
                                                 Path(tmp) / f"{run}.supernet.pt"))
            finally:
                store.close()
        run_fidelity(checkpoint=checkpoint, estimator="supernet",
                     estimator_param=estimator_param, dataset=dataset, reference=reference,
                     metric=metric, proxy_metric="val_acc", n_archs=n_archs,
                     arch_seed=arch_seed, top=top, n_boot=n_boot, seed=seed, partial=partial,
                     figure_dir=figure_dir, out=out, data_dir=data_dir, output=output,
                     progress=progress)


def _space(name: Optional[str]) -> Any:
    from naslab import registry
    from naslab.spaces import DEFAULT_SPACE
    from naslab.spaces.base import get_space

    return get_space(registry.get("space", name or DEFAULT_SPACE).name)


def _protocol(name: str, overrides: dict[str, Any], epochs: Optional[int],
              image_size: Optional[int]) -> Any:
    from naslab.nn.protocol import PROTOCOLS, get_protocol, load_protocol_file

    base = (load_protocol_file(name) if name not in PROTOCOLS and Path(name).is_file()
            else get_protocol(name))
    if epochs is not None:
        overrides["epochs"] = epochs
    if image_size is not None:
        overrides["image_size"] = image_size
    return base.override(**overrides) if overrides else base


def _final_estimator(name: str, params: dict[str, Any], space: Any, dataset: str, proto: Any,
                     bench_dir: Optional[str], dataset_dir: Optional[str], device: str,
                     split_seed: int, data_kw: dict[str, Any]) -> tuple[Any, str]:
    """``auto`` -> :func:`~naslab.runner.oneshot.default_final_estimator`; a registered name
    -> that estimator, with the run's benchmark / dataset options given to whichever
    parameters its constructor takes (``-e`` values win)."""
    from naslab import registry
    from naslab.runner.oneshot import default_final_estimator, space_benchmark

    if name == "auto" and not params:
        return default_final_estimator(space, dataset, proto, data_dir=bench_dir,
                                       dataset_dir=dataset_dir, device=device,
                                       split_seed=split_seed, **data_kw)
    if name == "auto":
        raise ConfigError("--estimator-param needs --estimator NAME (auto chooses the estimator "
                          "and its parameters itself)")
    cls = registry.get("estimator", name)
    accepted = set(inspect.signature(cls).parameters)
    defaults: dict[str, Any] = {}
    if "benchmark" in accepted:
        bench = space_benchmark(space.name)
        if bench is not None:
            defaults["benchmark"] = bench
        defaults["data_dir"] = bench_dir
    elif "dataset" in accepted:
        defaults.update(dataset=dataset, data_dir=dataset_dir)
        for k, v in (("protocol", proto), ("device", device), ("split_seed", split_seed),
                     *data_kw.items()):
            if k in accepted:
                defaults[k] = v
    est = registry.create("estimator", name, **{**defaults, **params})
    return est, f"--estimator {name}"


def _reference(spec: str, space: Any, bench_dir: Optional[str]) -> Any:
    if spec == "none":
        return None
    from naslab.estimators.tabular import TabularEstimator
    from naslab.runner.oneshot import space_benchmark

    if spec == "auto":
        bench = space_benchmark(space.name)
        if bench is None:
            raise ConfigError(f"--reference auto: no tabular benchmark is registered for space "
                              f"{space.name!r}; use --reference none")
        spec = bench
    return TabularEstimator(spec, data_dir=bench_dir)


def _arch_text(rec: dict[str, Any]) -> str:
    d = rec.get("derived") or []
    return d[0] if d else ""


def _epoch_info(rec: dict[str, Any]) -> str:
    m = rec["metrics"]
    parts = []
    if "loss" in m:
        parts.append(f"loss {m['loss']:.3f}")
    for k, label in (("train_acc", "train"), ("val_acc", "val")):
        if k in m:
            parts.append(f"{label} {m[k]:.1f}")
    ref = rec.get("reference")
    if ref and "test_acc" in ref[0]:
        parts.append(f"ref test {ref[0]['test_acc']:.1f}")
    return " | ".join(parts + [_arch_text(rec)])


def _run_with_progress(run: Any, show: bool) -> Any:
    if not show:
        return run.run()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Column

    # the epoch count and time stay whole; the metrics and the derived arch are cut to fit
    cols = [TextColumn("[bold]{task.fields[label]}"), BarColumn(bar_width=20),
            MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[info]}",
                       table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1))]
    with Progress(*cols, console=_err_console(), transient=False, expand=True) as prog:
        done = len(run.storage.records(run.id, "oneshot_epoch"))  # recorded before (a resume)
        task = prog.add_task("epochs", total=run.epochs, completed=done, label=run.name, info="")

        def on_epoch(rec: dict[str, Any]) -> None:
            prog.update(task, completed=int(rec["epoch"]) + 1, info=_epoch_info(rec))

        def on_score(trial: Any) -> None:
            val = _fmt(trial.metrics.get("val_acc")) if trial.status == "complete" else "failed"
            prog.update(task, info=f"scored #{trial.number}: val {val} | {trial.arch}")

        result = run.run(on_epoch=on_epoch, on_score=on_score)
        prog.update(task, completed=result.epochs_run)
    return result


def _ledger_line(ledger: dict[str, Any]) -> list[str]:
    labels = {"supernet_training": "one-shot training", "supernet_search": "search on it",
              "final_training": "final scoring"}
    out = []
    for phase, label in labels.items():
        p = ledger[phase]
        dev = f", {p['device']}" if p.get("device") else ""
        extra = (f", {duration(p['simulated_s'])} simulated" if phase == "final_training" else "")
        out.append(f"  {label:18s} {p['wall_s']:.2f} s wall{extra} ({p['n']} "
                   f"{'epochs' if phase == 'supernet_training' else 'runs' if phase == 'supernet_search' else 'archs'}"
                   f"{dev}{', ' + str(p['failed']) + ' failed' if p.get('failed') else ''})")
    return out


def _print_summary(result: Any, storage_path: Path, why: Optional[str] = None) -> None:
    d = result.to_json()
    cfg = result.config
    ds = cfg.get("dataset") or {}
    proto = cfg.get("protocol") or {}
    params = ", ".join(f"{k}={v}" for k, v in (d["method_params"] or {}).items())
    sizes = ds.get("sizes") or {}
    shape = "x".join(str(s) for s in ds.get("input_shape") or [])
    early = "; stopped early by the method" if d["stopped_early"] else ""
    resumed = f"; {d['resumed_epochs']} recorded earlier" if d["resumed_epochs"] else ""
    est = cfg.get("estimator") or {}
    lines = [
        f"experiment     {d['experiment_id']}  ({storage_path}, {d['status']})",
        f"method         {d['method']}" + (f"  ({params})" if params else ""),
        f"data           {d['dataset']} (train {sizes.get('train')}, val {sizes.get('val')}, "
        f"test {sizes.get('test')}; input {shape}); protocol {proto.get('name')} "
        f"[{proto.get('hash')}], C={proto.get('C')}, N={proto.get('N')}",
        f"epochs         {d['epochs_run']} of {d['epochs']}{early}{resumed}",
        f"derived arch   {d['derived_arch']}",
        f"score          val {_fmt(d['val_acc'])}  test {_fmt(d['test_acc'])}"
        + (f"  ({d['test_unavailable']})" if d["test_unavailable"] else "")
        + f"  by {d['estimator']}" + (f" {est.get('dataset')}" if est.get("dataset") and
                                       not est.get("benchmark") else "")
        + (f"  [{why}]" if why else ""),
    ]
    if d["optimum_test_acc"] is not None:
        lines.append(f"regret         {_fmt(d['regret'])}  (to the best test acc in the space, "
                     f"{_fmt(d['optimum_test_acc'])})")
    if len(d["derived_archs"]) > 1:
        lines.append(f"scored archs   {len(d['derived_archs'])} (the best by {d['objective']} "
                     f"is the derived arch)")
    lines.append("costs")
    lines += _ledger_line(d["ledger"])
    typer.echo("\n".join(lines))


def show_oneshot(store: Any, experiment_id: str, storage_path: Path, output: str) -> None:
    """``naslab show`` of a one-shot run: the per-epoch trace, the scored archs, the summary."""
    from naslab.runner.oneshot import load_oneshot_result

    result = load_oneshot_result(store, experiment_id)
    if output == "json":
        typer.echo(json.dumps(result.to_json()))
        return
    from rich.table import Table

    keys: list[str] = []
    for r in result.trace:
        keys += [k for k in r["metrics"] if k not in keys]
    t = Table("epoch", *keys, "derived arch", "wall s",
              title=f"{experiment_id} ({result.status}, {result.epochs_run} of {result.epochs} "
                    f"epochs)")
    for r in result.trace:
        t.add_row(str(int(r["epoch"]) + 1), *(_fmt(r["metrics"].get(k), ".4g", "-") for k in keys),
                  _arch_text(r), f"{r['cost']['wall_s']:.2f}")
    console = _out_console()
    console.print(t)
    if result.evaluations:
        s = Table("#", "arch", "val", "test", "wall s", title="final scoring")
        for tr in result.evaluations:
            s.add_row(str(tr.number), str(tr.arch),
                      "failed" if tr.status == "failed" else _fmt(tr.metrics.get("val_acc")),
                      _fmt(tr.metrics.get("test_acc")), f"{tr.cost.wall_s:.2f}")
        console.print(s)
    _print_summary(result, storage_path)


SHOW_BY_KIND["oneshot"] = show_oneshot
