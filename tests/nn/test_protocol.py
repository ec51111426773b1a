"""Training protocols live in naslab.nn.protocol (torch-free); the training estimator
re-exports them; the training loop and the estimator import each other without a cycle."""

from __future__ import annotations

import subprocess
import sys


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
