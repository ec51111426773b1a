"""`naslab oneshot` end to end: JSON and text output, `naslab runs` / `show` of one-shot runs,
bad input (exit 2, no traceback), and a real kill -9 mid-run followed by the same command."""

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

from naslab.benchmarks import DEFAULT_BENCHMARK
from naslab.cli.main import main

NASLAB = [sys.executable, "-m", "naslab"]
RUN = ["oneshot", "--method", "random", "--dataset", "digits", "--no-progress"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    p = subprocess.run([*NASLAB, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError(f"naslab {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
    return p


def test_oneshot_json_then_runs_and_show(data_dir: Path, tmp_path: Path) -> None:
    d = json.loads(cli(*RUN, "--epochs", "2", "--seed", "3", "--data-dir", str(data_dir),
                       "--output", "json", cwd=tmp_path).stdout)
    for k in ("experiment_id", "derived_arch", "val_acc", "test_acc", "ledger", "trace", "evaluations"):
        assert k in d
    assert d["kind"] == "oneshot" and d["method"] == "random" and d["epochs_run"] == 2
    assert d["estimator"] == DEFAULT_BENCHMARK and d["test_acc"] is not None  # the space's table
    assert d["derived_arch"] == d["trace"][-1]["derived"][0] == d["evaluations"][0]["arch"]
    assert d["ledger"]["supernet_training"]["n"] == 2 and d["ledger"]["final_training"]["n"] == 1
    # a black-box search beside it in the same storage
    cli("search", "--budget", "5", "--data-dir", str(data_dir), "--no-progress", cwd=tmp_path)
    runs = json.loads(cli("runs", "--output", "json", cwd=tmp_path).stdout)
    (row,) = [r for r in runs if r["id"] == d["experiment_id"]]
    assert (row["kind"], row["strategy"], row["target"], row["seed"], row["epochs"], row["trials"]) == \
        ("oneshot", "random", "digits", 3, 2, 1)
    assert row["best_val"] == d["val_acc"] and row["best_test"] == d["test_acc"]
    assert {r["kind"] for r in runs} == {"oneshot", "search"}
    table = cli("runs", cwd=tmp_path).stdout
    assert "oneshot" in table and "1 (2 ep)" in table
    show = json.loads(cli("show", d["experiment_id"], "--output", "json", cwd=tmp_path).stdout)
    assert show["trace"] == d["trace"] and show["derived_arch"] == d["derived_arch"]
    text = cli("show", d["experiment_id"], cwd=tmp_path).stdout
    assert d["derived_arch"] in text and "final scoring" in text and "one-shot training" in text


def test_oneshot_text_summary_progress_and_training_fallback(tmp_path: Path) -> None:
    p = subprocess.run([*NASLAB, "oneshot", "--method", "random", "--epochs", "2", "-m", "top_k=2",
                        "--estimator", "train", "-e", "epochs=1", "--storage", "x.db"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "2/2" in p.stderr  # the epoch progress bar's final state
    for word in ("derived arch", "score", "val ", "test ", "by train digits", "one-shot training",
                 "final scoring", "scored archs   2"):
        assert word in p.stdout, word
    again = subprocess.run([*NASLAB, "oneshot", "--method", "random", "--epochs", "2", "-m", "top_k=2",
                            "--estimator", "train", "-e", "epochs=1", "--storage", "x.db",
                            "--output", "json"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    d = json.loads(again.stdout)
    assert d["resumed_epochs"] == 2 and d["estimator"] == "train" and len(d["evaluations"]) == 2


@pytest.mark.parametrize("args, message", [
    (["--method", "rando"], "did you mean 'random'"),
    ([], "--method is required"),
    (["--method", "random", "--epochs", "0"], "--epochs must be a positive integer"),
    (["--method", "random", "--dataset", "cifar10", "--dataset-dir", "/nonexistent"], "cifar"),
    (["--method", "random", "--dataset", "fashion"], "'fashion-mnist'?"),
    (["--method", "random", "-m", "top=2"], "did you mean 'top_k'"),
    (["--method", "random", "--device", "tpu"], "device must be"),
    (["--method", "random", "--output", "yaml"], "--output must be"),
    (["--method", "random", "--data-param", "n_trian=5"], "did you mean 'n_train'"),
    (["--method", "random", "--estimator", "nope"], "unknown estimator"),
    (["--method", "random", "--space", "nb2011"], "unknown space"),
])
def test_bad_input_exits_2_with_a_message(args: list[str], message: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["oneshot", *args, "--storage", str(tmp_path / "x.db")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.startswith("error: ")


def _epochs(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as c:
            return int(c.execute("SELECT COUNT(*) FROM records WHERE kind='oneshot_epoch'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_kill_9_mid_run_then_the_same_command_equals_an_uninterrupted_run(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    epochs = 6
    opts = [*RUN, "--epochs", str(epochs), "--seed", "5", "--data-dir", str(data_dir),
            "--output", "json"]
    args = [*NASLAB, *opts]
    killed = tmp_path / "killed"
    killed.mkdir()
    proc = subprocess.Popen(args, cwd=killed, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while _epochs(killed / "naslab.db") < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n = _epochs(killed / "naslab.db")
    assert 2 <= n < epochs
    done = subprocess.run(args, cwd=killed, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    resumed = json.loads(done.stdout)
    assert resumed["resumed_epochs"] == n and resumed["epochs_run"] == epochs

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    monkeypatch.chdir(fresh)  # the uninterrupted run: the same command, in this process
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(opts)
    assert exit_.value.code in (0, None)
    ref = json.loads(capsys.readouterr().out)
    assert resumed["experiment_id"] == ref["experiment_id"]

    def sig(d: dict) -> list:
        return [(r["epoch"], r["metrics"], r["derived"]) for r in d["trace"]]

    assert sig(resumed) == sig(ref)
    assert resumed["derived_arch"] == ref["derived_arch"] and resumed["test_acc"] == ref["test_acc"]
