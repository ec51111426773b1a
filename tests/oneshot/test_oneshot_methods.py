"""The one-shot method interface (oneshot/base.py) and the conformance suite over every
registered method (naslab.testing.check_oneshot)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import torch

from naslab import registry
from naslab.errors import ConfigError
from naslab.oneshot import OneShotMethod, resolve_device
from naslab.testing import check_oneshot


#: CI-sized hyper-parameters per method (the defaults are the papers' / a CPU benchmark's)
CI_PARAMS: dict[str, dict[str, Any]] = {
    "spos": {"population": 4, "generations": 2, "parents": 2, "mutations": 2, "crossovers": 2,
             "recalibration_batches": 2, "eval_batches": 2},
    "rsws": {"candidates": 4, "eval_batches": 1, "final_candidates": 2},
    "enas": {"controller_steps": 2, "controller_aggregate": 2, "candidates": 4},
    "smash": {"candidates": 4, "recalibration_batches": 2, "eval_batches": 2, "embed_dim": 4,
              "hidden": 8},
    # differentiable methods: the eigenvalue every epoch (3 power iterations), so that its
    # state and the rules reading it are resumed too
    "darts": {"eig_every": 1, "eig_iters": 3},
    "gdas": {"eig_every": 1, "eig_iters": 3},
    "darts-plus": {"stop": "either", "patience": 1, "eig_every": 1, "eig_iters": 3},
    "rdarts-es": {"window": 1, "eig_iters": 3},
    "rdarts-l2": {"window": 1, "eig_iters": 3},
    "sdarts-rs": {"eig_every": 1, "eig_iters": 3},
    "sdarts-adv": {"attack_steps": 1, "eig_every": 1, "eig_iters": 3},
}
#: a digits subset: a few mini-batches per epoch
CI_DATA = {"n_train": 256, "n_val": 128}
#: methods whose every step runs all ops of every edge (the differentiable ones): a narrower
#: supernet and two mini-batches per epoch -> (protocol overrides, dataset options)
CI_SMALL = ({"C": 4, "batch_size": 32}, {"n_train": 64, "n_val": 32})
SMALL = {"darts", "gdas", "darts-plus", "rdarts-es", "rdarts-l2", "sdarts-rs", "sdarts-adv"}
CI_PARAMS.update({
    "proxylessnas": {"candidates": "k3e3,k5e6"}, "fbnet": {"candidates": "k3e3,k5e6"},
    "ofa": {"largest_epochs": 1, "kernel_epochs": 1, "depth_epochs": 0, "expand_epochs": 1,
            "predictor_samples": 5, "population": 4, "generations": 1, "parents": 2,
            "recalibration_batches": 1}})
#: smaller runs for the block-space methods (20 slots of MBConvs): one batch per epoch
CI_RUN: dict[str, dict[str, Any]] = {
    n: {"data_kw": {"n_train": 32, "n_val": 32},
        "protocol_overrides": {"C": 4, "batch_size": 32}} for n in ("proxylessnas", "fbnet", "ofa")}
CI_RUN.update({n: {"data_kw": CI_SMALL[1], "protocol_overrides": CI_SMALL[0]} for n in SMALL})


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow) if n in CI_PARAMS else n
    for n in registry.names("oneshot")])
def test_every_registered_method_passes_the_conformance_suite(name: str) -> None:
    check_oneshot(name, params=CI_PARAMS.get(name), **CI_RUN.get(name, {"data_kw": CI_DATA}))


def test_the_suite_catches_a_method_that_does_not_resume_exactly() -> None:
    """A method whose load_state_dict forgets its generator: the suite must fail."""
    from naslab.oneshot.random_standalone import RandomStandalone

    class Forgetful(RandomStandalone):
        def load_state_dict(self, state: dict[str, Any]) -> None:
            super().load_state_dict(state)
            import numpy as np

            self.rng = np.random.default_rng(12345)

    registry.register("oneshot", "forgetful-test")(Forgetful)
    try:
        with pytest.raises(AssertionError, match="resumed"):
            check_oneshot("forgetful-test", epochs=3)
    finally:
        registry._entries["oneshot"].pop("forgetful-test")


def test_the_interface_is_abstract_and_describes_itself() -> None:
    with pytest.raises(TypeError):
        OneShotMethod()  # type: ignore[abstract]
    m = registry.create("oneshot", "random", top_k=3)
    assert m.describe() == {"method": "random", "params": {"arch_epochs": 1, "top_k": 3}}
    assert registry.get("oneshot", "random-standalone") is type(m)
    with pytest.raises(ConfigError, match="top_k must be a positive integer"):
        registry.create("oneshot", "random", top_k=0)


def test_resolve_device() -> None:
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    for bad in ("tpu", "cpu:0", "", "cuda0"):
        with pytest.raises(ConfigError, match="device must be"):
            resolve_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="sees no CUDA device"):
            resolve_device("cuda:0")


def test_discovering_oneshot_methods_does_not_import_torch() -> None:
    code = ("import sys, naslab.registry as r; import naslab.runner.oneshot; "
            "assert 'random' in r.names('oneshot'); r.get('oneshot', 'random')(); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
