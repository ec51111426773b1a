"""A hand-written local benchmark file whose every number is known (for benchmark, harness and
CLI tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from naslab.runner.bench_build import select_archs
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import get_space

SPACE = get_space(DEFAULT_SPACE)
N, SEEDS, E = 8, [0, 1, 2], 3


def val_of(i: int, s: int, epoch: int = E) -> float:
    return 50.0 + 3 * i + 0.5 * s - 2.0 * (E - epoch)


def write_doc(path: Path, *, complete: bool = True, drop: int = 0, **extra: Any) -> Path:
    archs = select_archs(SPACE, N, 0)
    runs = []
    for i in range(N):
        for s in SEEDS:
            if len(runs) >= N * len(SEEDS) - drop:
                break
            curve = {"epoch": [1.0, 2.0, 3.0],
                     "val_acc": [val_of(i, s, e) for e in (1, 2, 3)],
                     "val_loss": [1.0, 0.9, 0.8], "train_acc": [40.0, 50.0, 60.0 + i],
                     "train_loss": [1.0, 0.8, 0.6], "time_s": [1.0 + i, 2.0 + i, 3.0 + i]}
            runs.append({"arch": i, "seed": s, "val_acc": val_of(i, s), "val_loss": 0.8,
                         "test_acc": 40.0 + 2 * i + s, "test_loss": 0.9,
                         "train_acc": 60.0 + i, "train_loss": 0.6, "params_m": 0.1 * (i + 1),
                         "flops_m": 1.0, "train_time_s": 3.0 + i + 0.1 * s, "curve": curve})
    doc = {"format": "naslab-local-benchmark", "version": 1, "complete": complete,
           "space": SPACE.name, "dataset": {"dataset": "toy", "fingerprint": "x"},
           "protocol": {"name": "cpu", "hash": "h"}, "epochs": E, "seeds": SEEDS,
           "archs": [str(a) for a in archs], "choices": [list(a.choices) for a in archs],
           "runs": runs, "noise_ceiling": {"val_acc": None}, **extra}
    path.write_text(json.dumps(doc))
    return path
