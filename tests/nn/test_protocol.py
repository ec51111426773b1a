"""Training protocols live in naslab.nn.protocol (torch-free); the training estimator
re-exports them; the training loop and the estimator import each other without a cycle."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_protocol_module_is_torch_free_and_reexported() -> None:
    code = ("import sys\n"
            "import naslab.nn.protocol as p, naslab.estimators.training as t\n"
            "for n in ('Protocol', 'PROTOCOLS', 'get_protocol', 'load_protocol_file', "
            "'TrainResult'):\n"
            "    assert getattr(t, n) is getattr(p, n), n\n"
            "assert p.get_protocol('cpu', epochs=3).epochs == 3\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_training_loop_imports_first_without_a_cycle() -> None:
    code = ("import naslab.estimators._train_loop as loop\n"
            "from naslab.nn.protocol import lr_at, get_protocol\n"
            "assert loop.lr_at is lr_at and loop.train.__module__ == loop.__name__\n"
            "import naslab.estimators.training as t\n"
            "assert t.get_protocol is get_protocol\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cosine_iter_anneals_within_epochs_and_cosine_stays_per_epoch() -> None:
    from naslab.nn.protocol import get_protocol, lr_at

    step = get_protocol("cpu", schedule="cosine_iter", epochs=3)
    assert lr_at(step, 0, 0.0, 3) == step.lr
    assert lr_at(step, 1, 0.5, 3) == pytest.approx(step.lr / 2)  # the schedule's midpoint
    last = [lr_at(step, 2, f, 3) for f in (0.0, 0.5, 0.99)]
    assert last[0] > last[1] > last[2] and last[2] < 0.001 * step.lr
    epoch = get_protocol("cpu", epochs=3)  # NB201's: constant within an epoch
    assert lr_at(epoch, 2, 0.0, 3) == lr_at(epoch, 2, 0.99, 3) == pytest.approx(step.lr / 4)
    assert epoch.hash != step.hash
