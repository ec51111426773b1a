"""`naslab compare` and `naslab search --executor` end to end (subprocesses, real NB201 data)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

NASLAB = [sys.executable, "-m", "naslab"]


def cli(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([*NASLAB, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"naslab {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
    return p


CONFIG = """\
name: c10-small
strategies: [re, {name: ls, label: local}]
seeds: 2
targets: [nb201/cifar10]
budget: {trials: 25}
storage: cmp.db
"""


def test_compare_runs_then_reuses(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CONFIG)
    p = cli("compare", "c.yaml", "--output", "json", "--data-dir", str(data_dir), cwd=tmp_path)
    d = json.loads(p.stdout)
    assert d["group"] == "c10-small" and d["runs"] == 6 and d["new"] == 6
    assert {r["strategy"] for r in d["table"]} == {"rs", "re", "local"}
    assert all(r["seeds"] == 2 and r["trials_mean"] == 25 for r in d["table"])
    # each strategy's mean is over its runs' incumbents, at their recorded test accuracy
    from naslab.benchmarks.nb201 import NB201Benchmark
    from naslab.runner import SQLiteStorage, load_result

    bench = NB201Benchmark("cifar10", data_dir=str(data_dir))
    store = SQLiteStorage(tmp_path / "cmp.db", readonly=True)
    try:
        by_strategy: dict[str, list[float]] = {}
        _, members = store.group("c10-small")
        for exp_id, labels in members:
            res = load_result(store, exp_id)
            best = max((t for t in res.trials if t.status == "complete"),
                       key=lambda t: t.metrics["val_acc"])  # first of equal ones, as the runner
            by_strategy.setdefault(labels["strategy"], []).append(
                bench.query(best.arch, "test_acc"))
    finally:
        store.close()
    want = {k: np.mean(v) for k, v in by_strategy.items()}
    assert {r["strategy"]: r["test_mean"] for r in d["table"]} == pytest.approx(want, abs=1e-9)
    text = cli("compare", "c.yaml", "--data-dir", str(data_dir), cwd=tmp_path)
    assert "6 runs: 0 new, 0 resumed, 6 reused from storage" in text.stdout
    assert "local" in text.stdout and "6/6" in text.stderr  # table and progress bar
    runs = json.loads(cli("runs", "--storage", "cmp.db", "--output", "json", cwd=tmp_path).stdout)
    assert len(runs) == 6 and all(r["trials"] == 25 for r in runs)


def test_compare_check_prints_the_plan(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CONFIG)
    p = cli("compare", "c.yaml", "--check", "--output", "json", "--executor", "process",
            "--workers", "2", cwd=tmp_path)
    plan = json.loads(p.stdout)
    assert plan["runs"] == 6 and plan["strategies"] == ["rs", "re", "local"]
    assert plan["commit"] == "experiment" and plan["executor"] == "process"
    assert plan["level"] == "trials"
    plan = json.loads(cli("compare", "c.yaml", "--check", "--output", "json", "--executor",
                          "process", "--level", "runs", cwd=tmp_path).stdout)
    assert plan["level"] == "runs"
    bad = cli("compare", "c.yaml", "--check", "--executor", "ray", "--level", "runs",
              cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "process executor only" in bad.stderr
    assert not (tmp_path / "cmp.db").exists()


def test_compare_bad_config_exits_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CONFIG.replace("budget:", "budgt:"))
    p = cli("compare", "c.yaml", cwd=tmp_path, check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "unknown key 'budgt' (did you mean 'budget'?)" in p.stderr
    (tmp_path / "c.yaml").write_text(CONFIG.replace("[re,", "[regularised,"))
    p = cli("compare", "c.yaml", cwd=tmp_path, check=False)
    assert p.returncode == 2 and "unknown strategy 'regularised'" in p.stderr
    p = cli("compare", "nope.yaml", cwd=tmp_path, check=False)
    assert p.returncode == 2 and "does not exist" in p.stderr
    (tmp_path / "c.yaml").write_text(CONFIG)
    p = cli("compare", "c.yaml", "--workers", "2", cwd=tmp_path, check=False)
    assert p.returncode == 2 and "--workers 2 needs a parallel executor" in p.stderr


def test_search_with_process_executor(data_dir: Path, tmp_path: Path) -> None:
    p = cli("search", "--strategy", "rs", "--budget", "20", "--executor", "process",
            "--workers", "2", "--data-dir", str(data_dir), "--output", "json", cwd=tmp_path)
    d = json.loads(p.stdout)
    assert d["trials"] == 20 and d["failed_trials"] == 0
    serial = json.loads(cli("search", "--strategy", "rs", "--budget", "20", "--storage", "s.db",
                            "--data-dir", str(data_dir), "--output", "json", cwd=tmp_path).stdout)
    # RS asks do not depend on results: the same archs, so the same best
    assert d["experiment_id"] == serial["experiment_id"] and d["test_acc"] == serial["test_acc"]
    bad = cli("search", "--executor", "ray", "--workers", "0", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "workers (--workers) must be >= 1, got 0" in bad.stderr


@pytest.mark.slow
def test_search_trains_on_digits_with_two_worker_processes(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    p = cli("search", "--estimator", "train", "--dataset", "digits", "-e", "epochs=1",
            "--strategy", "rs", "--budget", "4", "--executor", "process", "--workers", "2",
            "--output", "json", cwd=tmp_path)
    d = json.loads(p.stdout)
    assert d["trials"] == 4 and d["failed_trials"] == 0 and 10 < d["val_acc"] <= 100
    assert d["test_acc"] is not None and d["simulated_cost_s"] > 0
