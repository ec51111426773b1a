"""The benchmark scripts' sentences about targets are computed from the measurement: the same
code says "met" or "not met" as the figures say (benchmarks/comparison.py, executors.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import comparison  # noqa: E402
import executors  # noqa: E402

BLACK_BOX = ["re", "ls", "reinforce", "sh", "hyperband"]


def _runs(*totals: float) -> list[dict]:
    names = ("cifar10", "cifar100", "imagenet16")
    return [{"dataset": d, "compare_s": t - 1.0, "report_s": 1.0} for d, t in zip(names, totals)]


def test_comparison_time_target() -> None:
    ok = comparison.time_verdict(_runs(11.8, 8.8, 7.8), BLACK_BOX)
    assert ok.startswith("The 60 s target is met by the 6 black-box strategies")
    assert "at most 11.8 s compare + report (cifar10)" in ok
    bad = comparison.time_verdict(_runs(11.8, 64.0, 61.5), BLACK_BOX)
    assert "**not met**" in bad and "met by" not in bad
    assert "64.0 s on cifar100, 61.5 s on imagenet16" in bad
    assert "not measured" in comparison.time_verdict([], BLACK_BOX)
    # the predictor paragraph no longer claims the target either way
    note = comparison.note_predictors([{"new": 2, "compare_s": 10.0}], ["bananas"])
    assert "met" not in note and "5.0 s of wall time per run" in note


@pytest.mark.parametrize("process, ray, control, want", [
    (1.87, 1.75, 1.99, "met (process 1.87x, ray 1.75x)."),
    (1.87, 1.41, 1.99, "**not met** by ray 1.41x (met by process 1.87x), with the machine "
                       "offering 1.99x to plain processes at the same time."),
    (1.20, 1.10, 1.30, "**not met** by process 1.20x, ray 1.10x, with the machine offering 1.30x "
                       "to plain processes at the same time: with other processes on the cores, "
                       "two workers cannot get two."),
])
def test_executor_speedup_target(process: float, ray: float, control: float, want: str) -> None:
    rows = [("serial", 1, {"speedup": 1.0}), ("process", 1, {"speedup": 0.9}),
            ("process", 2, {"speedup": process}), ("ray", 2, {"speedup": ray})]
    assert executors.speedup_verdict(rows, control) == (
        "The target is a speed-up >= 1.6x with 2 workers: " + want)
