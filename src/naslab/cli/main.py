"""``naslab`` command-line interface.

Every user error (unknown component, bad value, missing data, unknown experiment) is printed as
one paragraph on stderr, without a traceback, and the command exits with status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from collections.abc import Callable
from typing import Any, Optional

import typer

from naslab.benchmarks import DEFAULT_BENCHMARK
from naslab.errors import ConfigError, NaslabError, check_float, check_int, check_limit
from naslab.spaces import DEFAULT_SPACE

app = typer.Typer(
    name="naslab",
    help="Neural Architecture Search, measured honestly.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    suggest_commands=False,  # click's own "Did you mean" is kept (typer's would repeat it)
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)

STORAGE_HELP = "SQLite file holding all experiments."
DATA_HELP = "Benchmark data directory (default: $NASLAB_DATA, then the per-user data dir)."


def _err_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _out_console() -> Any:
    """stdout console; wide when not a terminal so that arch strings are never cut."""
    from rich.console import Console

    c = Console()
    return c if c.is_terminal else Console(width=240)


def parse_params(items: list[str] | None, what: str) -> dict[str, Any]:
    """``["k=v", ...]`` -> dict, values read as YAML scalars (numbers, booleans, lists)."""
    if not items:
        return {}
    import yaml

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{what} must be KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


def parse_list(text: str, what: str) -> list[Any]:
    """``"10,20,50"`` -> ``[10, 20, 50]``: comma-separated values read as YAML scalars (the
    library validates them); at least one."""
    import yaml

    out: list[Any] = []
    for item in text.split(","):
        if item.strip():
            try:
                out.append(yaml.safe_load(item))
            except yaml.YAMLError:
                out.append(item.strip())
    if not out:
        raise ConfigError(f"{what} must name at least one value, got {text!r}")
    return out


def check_output(output: str, choices: tuple[str, ...] = ("text", "json")) -> str:
    """``--output``: one of ``choices``."""
    if output not in choices:
        quoted = [repr(c) for c in choices]
        listing = ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]
        raise ConfigError(f"--output must be {listing}, got {output!r}")
    return output


def check_budget(budget: int | None, max_simulated_hours: float | None,
                 max_wall_s: float | None) -> None:
    """``--budget``, ``--max-simulated-hours`` and ``--max-wall-s``: positive, finite and within
    naslab's limits (checked before anything is loaded)."""
    if budget is not None:
        check_int("max trials (budget)", budget, minimum=1, expected=">= 1")
        check_limit("trials", budget, "--budget")
    if max_simulated_hours is not None:
        check_float("--max-simulated-hours", max_simulated_hours, minimum=0, strict_min=True,
                    finite=True, expected="a positive finite number")
        check_limit("simulated_hours", max_simulated_hours, "--max-simulated-hours")
    if max_wall_s is not None:
        check_float("--max-wall-s", max_wall_s, minimum=0, strict_min=True, finite=True,
                    expected="a positive finite number")
        check_limit("wall_s", max_wall_s, "--max-wall-s")


def duration(seconds: float) -> str:
    """``42.0 s``, ``12.5 min`` or ``82.1 h``."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _fmt(x: float | None, spec: str = ".2f", none: str = "n/a") -> str:
    return none if x is None else format(x, spec)


#: how the CLI spells the common estimator options (for messages)
ESTIMATOR_OPTION_FLAGS = {"benchmark": "--benchmark", "dataset": "--dataset",
                          "data_dir": "--data-dir", "val": "--val", "fidelity": "--fidelity"}


@app.command()
def search(
    space: Optional[str] = typer.Option(
        None, help="Search space (see `naslab list spaces`; default: the benchmark's space with "
                   "--estimator tabular, else naslab.spaces.DEFAULT_SPACE)."),
    strategy: str = typer.Option("re", help="Search strategy (see `naslab list strategies`)."),
    estimator: str = typer.Option("tabular", help="Estimator: tabular (a benchmark) or another registered one."),
    benchmark: Optional[str] = typer.Option(
        None, help=f"Benchmark as NAME/DATASET, for estimators that take one (tabular; default "
                   f"{DEFAULT_BENCHMARK})."),
    dataset: Optional[str] = typer.Option(
        None, help="Dataset, for estimators that take one (e.g. train: digits)."),
    budget: Optional[int] = typer.Option(None, help="Maximum number of trials (queries)."),
    max_simulated_hours: Optional[float] = typer.Option(
        None, help="Stop when the simulated search cost reaches this many hours."),
    max_wall_s: Optional[float] = typer.Option(None, help="Stop after this many wall-clock seconds."),
    seed: int = typer.Option(0, help="Seed of the whole run (strategy and queries)."),
    objective: Optional[list[str]] = typer.Option(
        None, "--objective", help="Objective METRIC[:max|min] (repeatable; default val_acc:max). "
        "Several make a multi-objective search (the first ranks the incumbent), e.g. "
        "--objective val_acc:max --objective latency_ms@pixel3:min."),
    constraint: Optional[list[str]] = typer.Option(
        None, "--constraint", help="Constraint METRIC OP BOUND, OP one of <= >= < > (repeatable), "
        "e.g. 'latency_ms<=5': the best architecture is the best feasible one, for every strategy."),
    reference: str = typer.Option(
        "auto", help="Hypervolume reference point of a multi-objective search: one raw value per "
        "objective ('0,40'), 'none', or 'auto' = each objective's worst value over the space "
        "(known for tabular benchmarks)."),
    val: Optional[str] = typer.Option(
        None, help="Tabular validation accuracy: 'run' (one recorded run, drawn with the query "
                   "seed, as NB201; the default) or 'mean' over runs."),
    param: Optional[list[str]] = typer.Option(
        None, "--param", "-p", help="Strategy hyper-parameter KEY=VALUE (repeatable)."),
    estimator_param: Optional[list[str]] = typer.Option(
        None, "--estimator-param", "-e", help="Estimator parameter KEY=VALUE (repeatable)."),
    latency_lut: Optional[Path] = typer.Option(
        None, help="Answer latency_ms from this latency LUT (`naslab latency build-lut`), "
                   "composed with the estimator."),
    latency_device: Optional[str] = typer.Option(
        None, help="Answer latency_ms from this device's column of the benchmark "
                   "(e.g. pixel3), composed with the estimator."),
    latency_measure: bool = typer.Option(
        False, help="Answer latency_ms by measuring each arch's network on this machine."),
    latency_param: Optional[list[str]] = typer.Option(
        None, "--latency-param", help="Hardware estimator parameter KEY=VALUE (repeatable; "
                                      "e.g. threads=1, clock=cpu, force=true)."),
    storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
    data_dir: Optional[Path] = typer.Option(None, help=DATA_HELP),
    experiment_id: Optional[str] = typer.Option(
        None, help="Experiment id (default: derived from the configuration; an existing id resumes)."),
    output: str = typer.Option("text", help="text | json"),
    progress: bool = typer.Option(True, help="Show a live progress bar (on stderr)."),
    executor: str = typer.Option("serial", help="Where evaluations run: serial | process | ray."),
    workers: Optional[int] = typer.Option(
        None, help="Parallel workers of --executor process/ray (default 2), one torch thread each."),
    ray_address: Optional[str] = typer.Option(
        None, help="Join a running Ray cluster ('auto', 'ray://host:10001'); default: start a local one."),
    fidelity: Optional[float] = typer.Option(
        None, help="Fixed search fidelity, e.g. 12 (epochs): queries answered and "
                   "charged by that training, the found arch's test accuracy still at the "
                   "highest fidelity."),
    over_budget: Optional[str] = typer.Option(
        None, help="The query whose cost would exceed --max-simulated-hours: 'keep' (recorded, "
                   "the run may overshoot; the default) or 'discard' (dropped, as NB201's scripts)."),
    protocol: Optional[str] = typer.Option(
        None, help="A published search protocol (see `naslab list protocols`): its fidelity, "
                   "budget, budget rule and the authors' hyper-parameters for --strategy; "
                   "--benchmark picks one of its search targets."),
) -> None:
    """Run (or resume) a search and print the best architecture found.

    Strategies see validation accuracy only; the summary reports the incumbent's test accuracy,
    its regret to the best test accuracy in the space, and the simulated search cost.
    --benchmark, --dataset, --data-dir, --val and --fidelity go to the estimator if it takes
    them (an estimator that does not take one given is an error).
    """
    from naslab import registry
    from naslab.estimators import make_estimator
    from naslab.estimators.base import Constraint, Objective, Objectives
    from naslab.runner import Experiment, SQLiteStorage, make_termination, parse_reference
    from naslab.runner.executors import make_executor
    from naslab.spaces.base import get_space

    check_output(output)
    meta = {"command": "naslab search"}
    objectives = Objectives(tuple(Objective.parse(o) for o in objective or ["val_acc"]),
                            tuple(Constraint.parse(c) for c in constraint or []))
    ref = parse_reference(reference)
    if protocol is not None:
        from naslab.runner.protocols import check_protocol_options, protocol_experiment

        check_protocol_options(protocol, {
            "--budget": budget, "--max-simulated-hours": max_simulated_hours,
            "--max-wall-s": max_wall_s, "--val": val, "--fidelity": fidelity,
            "--over-budget": over_budget, "--param": param, "--estimator-param": estimator_param,
            "--dataset": dataset, "--objective": None if not objective or objective == ["val_acc"] else objective,
            "--constraint": constraint or None,
            "--reference": None if reference == "auto" else reference,
            "--estimator": None if estimator == "tabular" else estimator,
            "--space": space, "--latency-lut": latency_lut, "--latency-device": latency_device,
            "--latency-measure": latency_measure or None, "--latency-param": latency_param})
        ex = make_executor(executor, workers=workers, address=ray_address)
        store = SQLiteStorage(storage)
        exp = protocol_experiment(protocol, strategy, target=benchmark, seed=seed,
                                  data_dir=None if data_dir is None else str(data_dir),
                                  storage=store, executor=ex, experiment_id=experiment_id,
                                  meta=meta)
        term = exp.termination
    else:
        if budget is None and max_simulated_hours is None and max_wall_s is None:
            budget = 150
        check_budget(budget, max_simulated_hours, max_wall_s)
        term = make_termination(
            budget, None if max_simulated_hours is None else max_simulated_hours * 3600.0,
            max_wall_s, over_budget=over_budget or "keep")
        strat = registry.create("strategy", strategy, **parse_params(param, "--param"))
        est = make_estimator(estimator, parse_params(estimator_param, "--estimator-param"),
                             labels=ESTIMATOR_OPTION_FLAGS, benchmark=benchmark, dataset=dataset,
                             data_dir=None if data_dir is None else str(data_dir), val=val,
                             fidelity=fidelity,
                             offered={"devices": list(objectives.devices()) or None})
        if space is None:  # a benchmark's own space, else the default space
            space = getattr(est, "space_name", None) or DEFAULT_SPACE
        sp = get_space(registry.get("space", space).name)
        ex = make_executor(executor, workers=workers, address=ray_address)
        est = _with_latency(est, latency_lut, latency_device, latency_measure, latency_param,
                            benchmark=benchmark, data_dir=data_dir)
        store = SQLiteStorage(storage)
        exp = Experiment(sp, strat, est, termination=term, objective=objectives, reference=ref,
                         storage=store, seed=seed, experiment_id=experiment_id, meta=meta,
                         executor=ex)
    try:
        result = _run_with_progress(exp, term, progress and output == "text" or progress and sys.stderr.isatty())
    finally:
        ex.shutdown()
        store.close()
    from naslab.runner.protocols import run_card_lines

    card = run_card_lines(exp, result, protocol, data_dir=None if data_dir is None else str(data_dir))
    if output == "json":
        typer.echo(json.dumps({**result.to_json(), "run_card": card}))
    else:
        _print_summary(result, store.path)
        typer.echo("\n".join(f"{k:<14s} {v}" for k, v in card.items()))


def _with_latency(est: Any, lut: Path | None, device: str | None, measure: bool,
                  params: list[str] | None, *, benchmark: str | None,
                  data_dir: Path | None) -> Any:
    """``est`` composed with the hardware estimator the --latency-* options choose (or ``est``
    itself when none is given)."""
    chosen = [f for f, v in (("--latency-lut", lut), ("--latency-device", device),
                             ("--latency-measure", measure or None)) if v is not None]
    kw = parse_params(params, "--latency-param")
    if not chosen:
        if kw:
            raise ConfigError("--latency-param needs a latency source: --latency-lut PATH, "
                              "--latency-device NAME or --latency-measure")
        return est
    if len(chosen) > 1:
        raise ConfigError(f"choose one latency source, got {' and '.join(chosen)}")
    from naslab.estimators.hardware import with_latency

    if device is not None:
        if benchmark is not None:
            kw.setdefault("benchmark", benchmark)
        if data_dir is not None:
            kw.setdefault("data_dir", str(data_dir))
    return with_latency(est, lut=None if lut is None else str(lut), device=device,
                        measure=measure, **kw)


def _run_with_progress(exp: Any, term: Any, show: bool) -> Any:
    if not show:
        return exp.run()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    total = term.describe().get("max_trials")
    cols = [TextColumn("[bold]{task.fields[label]}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[best]}"), TimeElapsedColumn()]
    with Progress(*cols, console=_err_console(), transient=False) as prog:
        task = prog.add_task("search", total=total, label=exp.id, best="")

        def on_trial(rec: Any) -> None:
            best = ""
            if rec.incumbent_objective is not None:
                best = f"best val {rec.incumbent_objective:.2f}"
                if rec.incumbent_test is not None:
                    best += f" | test {rec.incumbent_test:.2f}"
            if rec.front is not None:
                best += f" | front {len(rec.front)}"
                if rec.hypervolume is not None:
                    best += f" hv {rec.hypervolume:.5g}"
            prog.update(task, completed=rec.number + 1, best=best)

        result = exp.run(on_trial=on_trial)
        prog.update(task, completed=result.n_trials)
    return result


def _print_summary(result: Any, storage_path: Path) -> None:
    d = result.to_json()
    lines = [
        f"experiment     {d['experiment_id']}  ({storage_path})",
        f"best arch      {d['best_arch']}",
        f"val acc        {_fmt(d['val_acc'])}  (what the search saw: {d['objective']})",
        f"test acc       {_fmt(d['test_acc'])}"
        + (f"  ({d['test_unavailable']})" if d["test_unavailable"] else ""),
        f"regret         {_fmt(d['regret'])}  (to the best test acc in the space, "
        f"{_fmt(d['optimum_test_acc'])})",
        f"trials         {d['trials']}  ({d['reused_trials']} answered from the run's record, "
        f"{d['failed_trials']} failed"
        + (f", {d['resumed_trials']} recorded earlier" if d["resumed_trials"] else "") + ")",
        f"search cost    {duration(d['simulated_cost_s'])} simulated, {d['wall_s']:.2f} s wall",
    ]
    if d.get("note"):
        lines.append(f"note           {d['note']}")
    if "constraints" in d:
        lines.append(f"constraints    {', '.join(d['constraints'])}  ({d['infeasible_trials']} "
                     f"infeasible trials; the best arch is the best feasible one)")
    if "front" in d:
        names = [o["metric"] for o in d["objectives"]]
        hv = ("" if d["hypervolume"] is None else f", hypervolume {d['hypervolume']:.6g} against "
              f"({', '.join(format(x, '.4g') for x in d['reference'])})")
        lines.append(f"pareto front   {len(d['front'])} arch(s) on ({', '.join(names)}){hv}")
        for f in d["front"]:
            vals = "  ".join(f"{k} {_fmt(v, '.4g')}" for k, v in f["objectives"].items())
            lines.append(f"  #{f['trial']:<5d} {vals}  {f['arch']}")
    typer.echo("\n".join(lines))


def _name_of(config: dict[str, Any]) -> str:
    """The strategy (or one-shot method) of an experiment config."""
    for key in ("strategy", "method", "oneshot"):
        v = config.get(key)
        if isinstance(v, str):
            return v
        if isinstance(v, dict):
            for k in (key, "strategy", "method", "name"):
                if isinstance(v.get(k), str):
                    return str(v[k])
    return "?"


@app.command()
def runs(storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
         output: str = typer.Option("text", help="text | json")) -> None:
    """List the experiments in a storage file."""
    from naslab.runner import SQLiteStorage
    from naslab.runner.storage import DamagedStorageError

    store = SQLiteStorage(storage, readonly=True)
    try:
        infos: dict[str, Any] | None = {e.id: e for e in store.experiments()}
    except DamagedStorageError:
        infos = None  # list what can still be read, experiment by experiment
    rows = []
    damaged: list[str] = []
    last_error: Exception | None = None
    for exp_id in list(infos) if infos is not None else store.experiment_ids():
        try:
            rows.append(_runs_row(store, infos[exp_id] if infos else store.experiment(exp_id)))
        except DamagedStorageError as exc:
            damaged.append(exp_id)
            last_error = exc
            rows.append({"id": exp_id, "status": "damaged", "strategy": "?", "target": None,
                         "seed": None, "trials": None, "best_val": None, "best_test": None,
                         "kind": "search"})
    store.close()
    if output == "json":
        typer.echo(json.dumps(rows))
    elif not rows:
        typer.echo(f"no experiments in {storage}")
    else:
        _print_runs(rows)
    if damaged:
        raise DamagedStorageError(
            f"{len(damaged)} of the {len(rows)} experiments in {str(storage)!r} cannot be read "
            f"(listed as damaged: {', '.join(damaged[:5])}{' ...' if len(damaged) > 5 else ''}); "
            f"the others are intact. {last_error}")


def _runs_row(store: Any, e: Any) -> dict[str, Any]:
    """One experiment of `naslab runs`."""
    from naslab.estimators.base import Objectives

    cols = store.trial_columns(e.id, ("incumbent_objective", "incumbent_test", "front"))
    n = len(cols["front"])
    est = e.config.get("estimator") or {}
    target = est.get("benchmark") or est.get("estimator") or e.config.get("dataset")
    if e.kind == "oneshot":  # the data the method trained on (the estimator only scores)
        target = (e.config.get("dataset") or {}).get("dataset")
    row: dict[str, Any] = {
        "id": e.id, "status": e.status, "strategy": _name_of(e.config), "target": target,
        "seed": e.config.get("seed"), "trials": e.n_trials,
        "best_val": cols["incumbent_objective"][-1] if n else None,
        "best_test": cols["incumbent_test"][-1] if n else None,
        "kind": e.kind,
    }
    obj = Objectives.from_describe(e.config.get("objective"))
    if obj.is_multi:
        row["objectives"] = [o.metric for o in obj]
        row["front"] = len(cols["front"][-1] or []) if n else 0
    if e.kind == "oneshot":  # trials = the derived archs scored; epochs = the trace
        row["epochs"] = len(store.records(e.id, "oneshot_epoch"))
    return row


def _print_runs(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    kinds = any(r["kind"] != "search" for r in rows)
    fronts = any("front" in r for r in rows)
    t = Table("id", "status", *(["kind"] if kinds else []), "strategy", "target", "seed",
              "trials", "best val", "test", *(["front"] if fronts else []))
    for r in rows:
        t.add_row(r["id"], r["status"], *([r["kind"]] if kinds else []), r["strategy"],
                  str(r["target"]), str(r["seed"]),
                  str(r["trials"]) if "epochs" not in r else f"{r['trials']} ({r['epochs']} ep)",
                  _fmt(r["best_val"]),
                  _fmt(r["best_test"]), *([str(r.get("front", ""))] if fronts else []))
    _out_console().print(t)


#: how ``naslab show`` prints an experiment of another kind than a search (a ``cmd_*`` module
#: that adds such a kind registers its printer here: main never imports the command modules)
SHOW_BY_KIND: dict[str, Callable[[Any, str, Path, str], None]] = {}


@app.command()
def show(experiment_id: str = typer.Argument(..., help="Experiment id (see `naslab runs`)."),
         storage: Path = typer.Option(Path("naslab.db"), help=STORAGE_HELP),
         output: str = typer.Option("text", help="text | json")) -> None:
    """Print an experiment's trajectory: every trial and the incumbent after it (and, for a
    multi-objective run, the Pareto front)."""
    from naslab.runner import SQLiteStorage, load_result

    store = SQLiteStorage(storage, readonly=True)
    try:
        shower = SHOW_BY_KIND.get(store.experiment(experiment_id).kind)
        if shower is not None:
            return shower(store, experiment_id, storage, output)
        result = load_result(store, experiment_id)
    finally:
        store.close()
    multi = result.objectives.is_multi
    others = [o.metric for o in result.objectives.objectives[1:]]
    if output == "json":
        d = result.to_json()
        traj = []
        for tr in result.trials:
            row = {
                "trial": tr.number, "arch": str(tr.arch), "status": tr.status, "reused": tr.reused,
                "metrics": tr.metrics, "incumbent_trial": tr.incumbent_number,
                "incumbent_val": tr.incumbent_objective, "incumbent_test": tr.incumbent_test,
                "simulated_cost_s": tr.cum_simulated_s, "error": tr.error}
            if result.objectives.constraints:
                row["feasible"] = tr.feasible
            if multi:
                row["objectives"] = (None if tr.objectives is None else
                                     dict(zip((o.metric for o in result.objectives), tr.objectives)))
                row["front"] = tr.front
                row["hypervolume"] = tr.hypervolume
            traj.append(row)
        d["trajectory"] = traj
        typer.echo(json.dumps(d))
        return
    from rich.table import Table

    t = Table("#", "arch", "val", *others, "test", "inc. val", "inc. test", "cost h",
              title=f"{experiment_id} ({result.status}, {result.n_trials} trials)")
    for r in result.trials:
        val = "failed" if r.status == "failed" else _fmt(r.objective) + (" (r)" if r.reused else "")
        if r.feasible is False:
            val += " (infeasible)"
        extra = [_fmt(v, ".4g") for v in (r.objectives or ())[1:]] if others else []
        if others and len(extra) < len(others):
            extra += ["-"] * (len(others) - len(extra))
        t.add_row(str(r.number), str(r.arch), val, *extra, _fmt(r.metrics.get("test_acc")),
                  _fmt(r.incumbent_objective), _fmt(r.incumbent_test), f"{r.cum_simulated_s / 3600:.1f}")
    _out_console().print(t)
    _print_summary(result, storage)


@app.command()
def query(arch: str = typer.Argument(..., help="Architecture in the space's notation, or an index."),
          benchmark: str = typer.Option(DEFAULT_BENCHMARK, help="Tabular benchmark as NAME/DATASET."),
          data_dir: Optional[Path] = typer.Option(None, help=DATA_HELP),
          output: str = typer.Option("text", help="text | json")) -> None:
    """Look an architecture up in a tabular benchmark (all runs, test accuracy, cost, hardware)."""
    from naslab.benchmarks import load_benchmark

    from naslab.errors import DataError

    bench = load_benchmark(benchmark, data_dir=None if data_dir is None else str(data_dir))
    sp = bench.space
    # an index is a row of the benchmark (the space's index for a benchmark of a whole space)
    a = bench.arch(int(arch)) if arch.strip().isdigit() else sp.parse(arch)
    i = bench.index(a)   # raises when a sample benchmark lacks the arch
    d: dict[str, Any] = {"arch": str(a), "index": i, "benchmark": bench.name}
    try:
        d["canonical_index"] = bench.index(sp.canonical(a))
    except DataError:  # a sample benchmark may hold another member of the class
        d["canonical_index"] = None
    if not bench.covers_space:
        d["row"] = i
    if not bench.has_test:
        d["test_acc"] = None
    for m in bench.metrics:
        if m.startswith("test_") and not bench.has_test:
            d[m] = None
            continue
        try:
            runs = bench.runs(a, m)
        except DataError:  # a metric the benchmark lists but lacks for this arch
            d[m] = None
            continue
        if len(runs) > 1:
            d[f"{m}_runs"] = runs
            d[f"{m}_mean"] = sum(runs) / len(runs)
        else:
            d[m] = runs[0]
    for m in bench.device_metrics:  # None: the benchmark records no such measurement
        d.setdefault(m, None)
    d["cost_s"] = bench.cost(a)
    if output == "json":
        typer.echo(json.dumps(d))
        return
    for k, v in d.items():
        typer.echo(f"{k:16s} {v if v is not None else bench.test_unavailable_reason}")


@app.command("list")
def list_components(kind: str = typer.Argument(..., help="spaces | strategies | estimators | "
                                                         "benchmarks | executors | ...")) -> None:
    """List the registered components of a kind."""
    from naslab import registry

    k = kind[:-1] if kind.endswith("s") and kind[:-1] in registry.KIND_PACKAGES else kind
    if kind.endswith("ies") and kind[:-3] + "y" in registry.KIND_PACKAGES:
        k = kind[:-3] + "y"  # strategies, proxies
    for n in registry.names(k):
        obj = registry.get(k, n)
        doc = (obj.__doc__ or "").strip().splitlines()
        typer.echo(f"{n:14s} {doc[0] if doc else ''}")


def _load_command_modules() -> None:
    """Import ``naslab.cli.cmd_*`` modules: each adds its commands to ``app``."""
    import importlib
    import pkgutil

    import naslab.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"naslab.cli.{info.name}")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: user errors exit 2 without a traceback.

    Usage errors (unknown option, value of the wrong type) are click's: also exit 2.
    """
    import warnings

    words = sys.argv[1:] if argv is None else argv
    # a command of this module that needs nothing the cmd_* modules add (``show`` does: their
    # per-kind views) runs without importing them
    one = _app_for(words) if words[:1] and words[0] in _STANDALONE else app
    if one is app:
        _load_command_modules()
        one = _app_for(words)
    with warnings.catch_warnings():
        _print_notices()
        try:
            one(args=argv, prog_name="naslab")
        except NaslabError as exc:
            sys.stderr.write(f"error: {exc}\n")
            raise SystemExit(2) from None


#: commands of this module that use nothing the ``cmd_*`` modules register
_STANDALONE = frozenset({"search", "query", "runs"})


def _app_for(argv: list[str]) -> Any:
    """The click group to run ``argv`` with: when its first word names a command (or a
    command group), a group of that one command, else the whole app.

    Typer builds a click command, with every option's converter, for each registered command
    on every call: ~5 ms each, 0.1 CPU-s for a command line that runs one of them. The
    one-command group is the same group (name, help, settings) holding only what runs, so
    usage, errors and ``--help`` of the command read the same; ``naslab``, ``naslab --help``
    and an unknown command get the whole app.
    """
    import copy

    from typer.main import get_command_name, get_group

    word = argv[0] if argv else ""
    if word and not word.startswith("-"):
        for info in app.registered_commands:
            name = info.name or (get_command_name(info.callback.__name__)
                                 if info.callback is not None else None)
            if name == word:
                one = copy.copy(app)
                one.registered_commands, one.registered_groups = [info], []
                return get_group(one)
        for group in app.registered_groups:
            name = group.name or (group.typer_instance.info.name if group.typer_instance else None)
            if name == word:
                one = copy.copy(app)
                one.registered_commands, one.registered_groups = [], [group]
                return get_group(one)
    return app


def _print_notices() -> None:
    """Print each distinct :class:`~naslab.errors.NaslabNotice` once, as ``note: ...`` on
    stderr (call inside ``warnings.catch_warnings()``, which restores the handler)."""
    import warnings

    from naslab.errors import NaslabNotice

    shown: set[str] = set()
    other = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        if not issubclass(category, NaslabNotice):
            other(message, category, filename, lineno, file, line)
            return
        text = str(message)
        if text not in shown:
            shown.add(text)
            sys.stderr.write(f"note: {text}\n")

    warnings.showwarning = show
    warnings.simplefilter("always", NaslabNotice)


if __name__ == "__main__":  # pragma: no cover - use the canonical module, not __main__'s copy
    from naslab.cli.main import main as _main

    _main()
