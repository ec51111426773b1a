"""``naslab train ARCH``: final training of an architecture under a named protocol.

The final-training cost is reported on its own line, apart from the search cost; with
``--experiment ID`` the result is recorded in that experiment's storage as a record of kind
``final_training`` (the format ``naslab compare`` writes and reports read), and the search
cost of that experiment is printed beside it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from naslab.cli.main import STORAGE_HELP, _err_console, app, check_output, parse_params
from naslab.errors import check_int
from naslab.nn.protocol import PROTOCOLS

#: ``--data-param`` keys (the dataset options of the training estimator)
DATA_OPTIONS = ("split_seed", "val_fraction", "test_fraction", "n_train", "n_val", "n_test")


@app.command()
def train(
    arch: Optional[str] = typer.Argument(
        None, help="Arch string or index in the space (default with --experiment: that "
                   "search's best architecture)."),
    space: Optional[str] = typer.Option(
        None, help="Search space of ARCH (default: the experiment's, else "
                   "naslab.spaces.DEFAULT_SPACE)."),
    dataset: Optional[str] = typer.Option(
        None, help="Dataset (digits, fashion-mnist, mnist5k, mnist, cifar10); default: the "
                   "experiment's training dataset, else digits."),
    protocol: str = typer.Option(
        "cpu", help=f"Training protocol: {' | '.join(PROTOCOLS)}, or a YAML file with 'name' "
                    f"and fields."),
    epochs: Optional[int] = typer.Option(None, help="Epochs (default: the protocol's)."),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", "-s", help="Protocol field KEY=VALUE (repeatable), e.g. -s C=16 -s N=5."),
    data_param: Optional[list[str]] = typer.Option(
        None, "--data-param", help="Dataset option KEY=VALUE: split_seed, val_fraction, "
                                   "test_fraction, n_train, n_val, n_test."),
    seed: int = typer.Option(0, help="Seed of initialisation, shuffling and augmentation."),
    device: str = typer.Option("cpu", help="cpu | cuda"),
    threads: int = typer.Option(
        1, help="torch CPU threads while training (0 = torch's default; small networks train "
                "as fast on 1)."),
    data_dir: Optional[Path] = typer.Option(None, help="Dataset directory."),
    experiment: Optional[str] = typer.Option(
        None, "--experiment", help="Search experiment id: record the result there and show "
                                   "its search cost beside the final-training cost."),
    storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
    output: str = typer.Option("text", help="text | json"),
    progress: bool = typer.Option(True, help="Show per-epoch progress (on stderr)."),
) -> None:
    """Train one architecture under a protocol and report its final-training cost.

    The final-training cost (wall time of the training epochs) is reported separately from the
    search cost; with --experiment the result is stored with that search.
    """
    from naslab import registry
    from naslab.errors import ConfigError, did_you_mean
    from naslab.estimators.training import TrainingEstimator, load_protocol_file
    from naslab.runner.retrain import (record_final_training, resolve_arch, search_of_record,
                                       train_architecture)
    from naslab.spaces import DEFAULT_SPACE
    from naslab.spaces.base import get_space

    check_output(output)
    store = None
    found = None
    if experiment is not None:
        from naslab.runner import SQLiteStorage

        if not Path(storage).exists():
            raise ConfigError(f"--storage {storage} does not exist (needed by --experiment "
                              f"{experiment!r})")
        store = SQLiteStorage(storage)
        found = search_of_record(store, experiment)  # StorageError with suggestions when unknown
        dataset = dataset or found.dataset
        space = space or found.space
    sp = get_space(registry.get("space", space or DEFAULT_SPACE).name)
    a = resolve_arch(arch, sp, found)
    overrides = parse_params(set_, "--set")
    if epochs is not None:
        overrides["epochs"] = epochs
    proto: Any = protocol
    if protocol not in PROTOCOLS and Path(protocol).is_file():
        proto = load_protocol_file(protocol)
    dkw = parse_params(data_param, "--data-param")
    for k in dkw:
        if k not in DATA_OPTIONS:
            raise ConfigError(f"--data-param {k!r} is not a dataset option"
                              f"{did_you_mean(k, DATA_OPTIONS)}; options: "
                              f"{', '.join(DATA_OPTIONS)}")
    threads = check_int("--threads", threads, minimum=0)
    est = TrainingEstimator(dataset or "digits", proto,
                            data_dir=None if data_dir is None else str(data_dir), device=device,
                            num_threads=threads or None, **dkw, **overrides)
    est.check_space(sp)
    p = est.protocol
    if progress and output == "text":
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn)

        with Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                      console=_err_console()) as prog:
            task = prog.add_task("train", total=p.epochs, info="")

            def on_epoch(rec: dict[str, float]) -> None:
                prog.update(task, completed=rec["epoch"],
                            info=f"loss {rec['train_loss']:.3f} | train acc {rec['train_acc']:.1f}")

            record, r = train_architecture(a, est, seed=seed, on_epoch=on_epoch)
    else:
        record, r = train_architecture(a, est, seed=seed)
    data = est.data
    wall = record["cost"]["wall_s"]
    search = None if found is None else found.cost()
    if store is not None and experiment is not None:
        record_final_training(store, experiment, record)
        store.close()
    if output == "json":
        typer.echo(json.dumps({**record, "search": search}))
        return
    m = r.metrics
    sz = data.sizes
    ov = f", overrides: {', '.join(p.overrides)}" if p.overrides else ""
    lines = [
        f"arch                 {a}",
        f"dataset              {data.name} (train {sz['train']}, val {sz['val']}, test "
        f"{sz['test']}; input {'x'.join(map(str, data.input_shape))})",
        f"protocol             {p.name} v{p.version} [{p.hash}] ({p.epochs} epochs, batch "
        f"{p.batch_size}, lr {p.lr:g}, C={p.C}, N={p.N}{ov})",
        f"accuracy             train {m['train_acc']:.2f}  val {m['val_acc']:.2f}  "
        f"test {m['test_acc']:.2f}",
        f"params / FLOPs       {m['params_m']:.6f} M / {m['flops_m']:.4f} MFLOPs",
        f"final-training cost  {r.train_s:.1f} s training ({r.epochs} epochs on {est.device}), "
        f"{wall:.1f} s wall",
    ]
    if search is not None:
        lines.append(f"search cost          {search['simulated_s']:.1f} s simulated, "
                     f"{search['wall_s']:.1f} s wall ({search['trials']} trials of "
                     f"{search['experiment_id']}; recorded as final_training in {storage})")
    else:
        lines.append("search cost          not counted here (give --experiment ID to record "
                     "this training with its search)")
    typer.echo("\n".join(lines))
    sys.stdout.flush()
