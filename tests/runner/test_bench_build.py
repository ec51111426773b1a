"""naslab bench build: architecture selection, resumption after an interruption (never
retraining a finished pair), refusal of another configuration, and kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from naslab.errors import ConfigError
from naslab.runner.bench_build import BuildLocked, build_benchmark, select_archs
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import get_space

SPACE = get_space(DEFAULT_SPACE)
ROOT = Path(__file__).resolve().parents[2]
#: tiny training: digits (8x8), 1 epoch, C=4
KW: dict[str, Any] = {"space": DEFAULT_SPACE, "dataset": "digits", "protocol": "cpu",
                      "epochs": 1, "C": 4, "n_boot": 50}


def test_select_archs_one_per_class_seeded_and_prefix_stable() -> None:
    a = select_archs(SPACE, 40, seed=3)
    assert len(a) == 40 and len({x.choices for x in a}) == 40
    assert all(SPACE.canonical(x) == x for x in a)
    assert select_archs(SPACE, 40, seed=3) == a
    assert select_archs(SPACE, 60, seed=3)[:40] == a  # more archs extend the list
    assert select_archs(SPACE, 40, seed=4) != a


@pytest.fixture()
def count_training(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, int]]:
    """Every (arch, seed) the training estimator trains (serial executor: in this process)."""
    from naslab.estimators.training import TrainingEstimator

    calls: list[tuple[Any, int]] = []
    orig = TrainingEstimator.evaluate

    def spy(self: TrainingEstimator, arch: Any, **kw: Any) -> Any:
        calls.append((arch, kw.get("seed", 0)))
        return orig(self, arch, **kw)

    monkeypatch.setattr(TrainingEstimator, "evaluate", spy)
    return calls


@pytest.mark.slow
def test_interrupted_build_resumes_without_retraining(tmp_path: Path,
                                                      count_training: list) -> None:
    out = tmp_path / "bench.json"

    def stop_after_two(run: dict, done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_benchmark(out, n_archs=3, seeds=2, on_result=stop_after_two, **KW)
    doc = json.loads(out.read_text())  # valid after the interruption
    assert not doc["complete"] and len(doc["runs"]) == 2
    first = {(r["arch"], r["seed"]): r for r in doc["runs"]}
    trained_before = list(count_training)
    assert len(trained_before) == 2

    res = build_benchmark(out, n_archs=3, seeds=2, **KW)
    assert res.complete and res.trained == 4 and res.recorded == 6
    again = count_training[2:]
    assert {(str(a), s) for a, s in again}.isdisjoint({(str(a), s) for a, s in trained_before})
    doc = json.loads(out.read_text())
    assert doc["complete"] and doc["noise_ceiling"]["val_acc"]["n_runs"] == 2
    for r in doc["runs"]:
        if (r["arch"], r["seed"]) in first:
            assert r == first[(r["arch"], r["seed"])]  # recorded runs are kept verbatim
        assert len(r["curve"]["val_acc"]) == 1 and r["params_m"] > 0
    assert doc["build"]["sessions"] == 2 and doc["build"]["wall_s"] > 0

    # the same command again trains nothing; more seeds train only the new pairs
    assert build_benchmark(out, n_archs=3, seeds=2, **KW).trained == 0
    res = build_benchmark(out, n_archs=3, seeds=3, max_runs=1, **KW)
    assert res.trained == 1 and not res.complete and res.seeds == [0, 1, 2]
    assert count_training[-1][1] == 2

    from naslab.benchmarks.local import LocalBenchmark

    b = LocalBenchmark(str(out), partial=True)
    assert len(b.space) == 3 and b.fidelities == (1.0,)


def test_another_configuration_is_refused(tmp_path: Path, count_training: list) -> None:
    out = tmp_path / "bench.json"
    build_benchmark(out, n_archs=2, seeds=1, max_runs=1, **KW)
    with pytest.raises(ConfigError, match="protocol hash"):
        build_benchmark(out, n_archs=2, seeds=1, **{**KW, "epochs": 2})
    with pytest.raises(ConfigError, match="drop recorded runs"):
        build_benchmark(out, n_archs=1, seeds=1, **KW)
    with pytest.raises(ConfigError, match="selection_seed"):
        build_benchmark(out, n_archs=2, seeds=1, selection_seed=5, **KW)
    with pytest.raises(ConfigError, match="directory"):
        build_benchmark(tmp_path, n_archs=2, seeds=1, **KW)
    assert len(count_training) == 1


def test_a_second_builder_of_the_same_file_is_refused(tmp_path: Path) -> None:
    import fcntl

    out = tmp_path / "bench.json"
    with open(tmp_path / "bench.json.lock", "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BuildLocked, match="another process is building"):
            build_benchmark(out, n_archs=2, seeds=1, **KW)


@pytest.mark.slow
def test_kill_9_then_the_same_command_continues(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    cmd = [sys.executable, "-m", "naslab", "bench", "build", "--out", str(out), "--dataset",
           "digits", "--archs", "2", "--seeds", "2", "--epochs", "1", "-s", "C=4",
           "--no-progress", "--output", "json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first: dict = {}
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        if out.exists():
            runs = json.loads(out.read_text())["runs"]
            if runs:
                first = runs[0]
                break
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert first, "the build recorded no run before the deadline"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    res = json.loads(done.stdout)
    assert res["complete"] and res["recorded"] == 4 and res["trained"] <= 3
    runs = json.loads(out.read_text())["runs"]
    assert first in runs
