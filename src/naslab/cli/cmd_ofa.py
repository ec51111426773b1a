"""``naslab ofa``: Once-for-All -- ``train`` the elastic supernet (a one-shot run of method
``ofa``), ``search`` it under a latency budget without retraining, ``export`` a sub-network
as a stand-alone module."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, cast

import typer

from naslab.cli.main import STORAGE_HELP, app
from naslab.errors import ConfigError, DataError, check_float

ofa_app = typer.Typer(help="Once-for-All: train once, slice sub-networks for any latency budget.",
                      add_completion=False, rich_markup_mode="markdown")
app.add_typer(ofa_app, name="ofa")

METHOD = "ofa"


class _NoSubcommand:
    invoked_subcommand = None


def _block_space(space: Optional[str]) -> str:
    from naslab.nn.supernets import block_supernet_spaces

    have = block_supernet_spaces()
    if space is None:
        if not have:
            raise ConfigError("no search space has a block supernet")
        return have[0]
    from naslab import registry

    name = str(registry.get("space", space).name)
    if name not in have:
        raise ConfigError(f"--space {space!r}: Once-for-All needs a block space with an elastic "
                          f"supernet; spaces with one: {', '.join(have)}")
    return name


@ofa_app.command("train")
def train_cmd(
    space: Optional[str] = typer.Option(None, help="Block space (default: the first with a "
                                                   "block supernet)."),
    dataset: str = typer.Option("digits", help="Dataset to train on."),
    image_size: Optional[int] = typer.Option(None, help="Resize the images to N x N."),
    protocol: str = typer.Option("cpu", help="Training protocol (its C sets the width)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", "-s", help="Protocol field KEY=VALUE."),
    method_param: Optional[list[str]] = typer.Option(
        None, "--method-param", "-m", help="OFA parameter KEY=VALUE, e.g. -m largest_epochs=4 "
                                           "-m predictor_samples=100."),
    latency_ms: Optional[float] = typer.Option(None, help="Latency budget of the search after "
                                                          "training (ms)."),
    latency_lut: Optional[Path] = typer.Option(None, help="Latency LUT of this device."),
    data_param: Optional[list[str]] = typer.Option(None, "--data-param",
                                                   help="Dataset option KEY=VALUE."),
    estimator: str = typer.Option("auto", help="Final estimator of the searched sub-network."),
    estimator_param: Optional[list[str]] = typer.Option(None, "--estimator-param", "-e"),
    seed: int = typer.Option(0, help="Seed of the run."),
    device: str = typer.Option("cpu", help="cpu | cuda | cuda:N | auto"),
    threads: int = typer.Option(1, help="torch CPU threads."),
    dataset_dir: Optional[Path] = typer.Option(None, help="Directory of the dataset's files."),
    storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
    experiment_id: Optional[str] = typer.Option(None, help="Experiment id (an existing one resumes)."),
    output: str = typer.Option("text", help="text | json"),
    progress: bool = typer.Option(True, help="Show a live progress bar (on stderr)."),
) -> None:
    """Train the elastic supernet by progressive shrinking (largest, kernel, depth,
    expansion; distillation from the largest), then search it (under --latency-ms when
    given) and score the result: `naslab oneshot --method ofa` with these options."""
    from naslab.cli.cmd_oneshot import oneshot

    params = list(method_param or [])
    if latency_ms is not None:
        check_float("--latency-ms", latency_ms, minimum=0.0, strict_min=True, finite=True)
        params.append(f"latency_ms={latency_ms}")
    oneshot(cast(Any, _NoSubcommand()), method=METHOD, method_param=params, space=_block_space(space),
            dataset=dataset, image_size=image_size, epochs=None, seed=seed, protocol=protocol,
            set_=set_, data_param=data_param, estimator=estimator,
            estimator_param=estimator_param, reference="none", device=device, threads=threads,
            data_dir=None, dataset_dir=dataset_dir, storage=storage,
            experiment_id=experiment_id, export=None, latency_lut=latency_lut,
            latency_weight=None, order=None, output=output, progress=progress)


def _restore(storage: Path, run: str, dataset_dir: Optional[Path], writable: bool,
             **overrides: Any) -> tuple[Any, Any, dict[str, Any]]:
    from naslab.runner import SQLiteStorage
    from naslab.runner.restore import restore_method

    if not storage.is_file():
        raise DataError(f"storage file {storage} does not exist (--storage)")
    store = SQLiteStorage(storage, readonly=not writable)
    try:
        info = store.experiment(run)
        name = (info.config.get("method") or {}).get("method")
        if name != METHOD:
            raise ConfigError(f"run {run!r} is a {name!r} run; `naslab ofa` works on runs of "
                              f"`naslab ofa train` (method {METHOD!r})")
        method, cfg = restore_method(store, run, dataset_dir=None if dataset_dir is None
                                     else str(dataset_dir), **overrides)
    except BaseException:
        store.close()
        raise
    return method, store, cfg


@ofa_app.command("search")
def search_cmd(
    run: str = typer.Argument(..., help="A run of `naslab ofa train`."),
    latency_ms: Optional[float] = typer.Option(None, help="Latency budget (ms); none: the most "
                                                          "accurate sub-network."),
    latency_lut: Optional[Path] = typer.Option(None, help="Latency LUT of this device (default: "
                                                          "the run's)."),
    latency_source: str = typer.Option("lut", help="lut | measure (time each candidate here)."),
    storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
    dataset_dir: Optional[Path] = typer.Option(None, help="Directory of the dataset's files."),
    output: str = typer.Option("text", help="text | json"),
) -> None:
    """Search the trained supernet under a latency budget, no retraining: the accuracy
    predictor on sliced sub-networks, evolution under the budget; records the result in the
    run (record kind `ofa_search`)."""
    if output not in ("text", "json"):
        raise ConfigError(f"--output must be 'text' or 'json', got {output!r}")
    if latency_ms is not None:
        check_float("--latency-ms", latency_ms, minimum=0.0, strict_min=True, finite=True)
    over: dict[str, Any] = {"latency_source": latency_source}
    if latency_lut is not None:
        over["latency_lut"] = str(latency_lut)
    method, store, _cfg = _restore(storage, run, dataset_dir, True, **over)
    try:
        best = method.search_under(latency_ms, latency_source)
        log = dict(method.search_info())
        rec = {"arch": str(best), "choices": list(best.choices), "latency_ms_budget": latency_ms,
               "latency_source": latency_source,
               "predicted_val_acc": log.get("best_predicted_acc"),
               "sliced_val_acc": log.get("best_sliced_val_acc"),
               "latency_ms": log.get("best_latency_ms"),
               "predictor_holdout_spearman": log.get("predictor_holdout_spearman"),
               "generations": log.get("generations")}
        store.add_record(run, "ofa_search", rec)
    finally:
        store.close()
    if output == "json":
        typer.echo(json.dumps(rec))
        return
    lat = rec["latency_ms"]
    typer.echo("\n".join([
        f"run            {run}",
        f"budget         {'none' if latency_ms is None else f'{latency_ms} ms'} "
        f"({latency_source})",
        f"sub-network    {best}",
        f"latency        {'-' if lat is None else f'{lat:.3f} ms'}",
        f"accuracy       predicted {rec['predicted_val_acc']:.2f}, sliced (val) "
        f"{rec['sliced_val_acc']:.2f}",
        f"export         naslab ofa export {run} --arch '{best}' --out SUBNET.pt"]))


@ofa_app.command("export")
def export_cmd(
    run: str = typer.Argument(..., help="A run of `naslab ofa train`."),
    out: Path = typer.Option(..., "--out", help="File to write the stand-alone network to."),
    arch: Optional[str] = typer.Option(None, help="Sub-network (notation of the space); "
                                                  "default: the last `naslab ofa search` result."),
    storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
    dataset_dir: Optional[Path] = typer.Option(None, help="Directory of the dataset's files."),
) -> None:
    """Write a sub-network with the supernet's sliced weights and recalibrated BN statistics
    as a stand-alone module (load it with `naslab.nn.export.load_network`)."""
    from naslab.nn.export import save_network

    method, store, cfg = _restore(storage, run, dataset_dir, False)
    try:
        if arch is None:
            recs = store.records(run, "ofa_search") or store.records(run, "oneshot_search")
            if not recs:
                raise ConfigError(f"run {run!r} has no search result yet; give --arch or run "
                                  f"`naslab ofa search {run}`")
            from naslab.spaces.base import Architecture

            last = recs[-1]
            choices = last["choices"] if "arch" in last else last["choices"][0]
            a = method.space.validate(Architecture(method.space.name, tuple(choices)))
        else:
            a = method.space.parse(arch)
        net = method.subnet(a)
        path = save_network(net, a, method.net_options, out,
                            meta={"run": run, "dataset": (cfg.get("dataset") or {}).get("dataset"),
                                  "protocol": (cfg.get("protocol") or {}).get("hash")})
    finally:
        store.close()
    typer.echo(f"sub-network {a} of {run} written to {path} "
               f"(naslab.nn.export.load_network({str(path)!r}))")

