"""The supernet estimator on digits: inherited-weight accuracy after BN recalibration,
deterministic, picklable, usable by every black-box strategy; bad input refused."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from naslab.errors import ConfigError, DataError  # noqa: E402
from naslab.estimators.supernet import SupernetEstimator  # noqa: E402
from naslab.nn.supernets import build_supernet  # noqa: E402
from naslab.spaces import DEFAULT_SPACE  # noqa: E402
from naslab.spaces.base import get_space  # noqa: E402

SPACE = get_space(DEFAULT_SPACE)
ROOT = Path(__file__).resolve().parents[2]
META = {"data": {"dataset": "digits", "split_seed": 0}}


def train_uniform_supernet(path: Path, *, epochs: int = 4, seed: int = 0,
                           in_channels: int = 1) -> Path:
    """A few epochs of uniform single-path training on digits (a test fixture, not a method)."""
    from naslab.data import load_dataset

    ds = load_dataset("digits", seed=0)
    g = torch.Generator().manual_seed(seed)
    net = build_supernet(SPACE, C=8, N=1, num_classes=10, in_channels=in_channels, generator=g)
    x = torch.from_numpy(np.array(ds.x_train))
    y = torch.from_numpy(np.array(ds.y_train))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    rng = np.random.default_rng(seed)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(len(y), generator=g)
        for i in range(0, len(y), 64):
            idx = perm[i:i + 64]
            loss = torch.nn.functional.cross_entropy(net(x[idx], arch=net.sample_arch(rng)),
                                                     y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.save(path, meta=META)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return train_uniform_supernet(tmp_path_factory.mktemp("sn") / "digits.pt")


@pytest.fixture(scope="module")
def untrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    g = torch.Generator().manual_seed(0)
    net = build_supernet(SPACE, C=4, N=1, num_classes=10, in_channels=1, generator=g)
    return net.save(tmp_path_factory.mktemp("sn") / "untrained.pt", meta=META)


@pytest.mark.slow
def test_inherited_accuracy_is_real_and_deterministic(trained: Path) -> None:
    est = SupernetEstimator(str(trained), recalibration_batches=5, batch_size=64)
    assert est.dataset_name == "digits"  # from the checkpoint's meta
    rng = np.random.default_rng(0)
    archs = [SPACE.sample(rng) for _ in range(6)]
    evs = [est.evaluate(a) for a in archs]
    for ev in evs:
        assert set(ev.metrics) == {"val_acc", "val_loss", "test_acc", "test_loss"}
        assert ev.cost.wall_s > 0 and ev.cost.simulated_s == ev.cost.wall_s
        assert ev.info["recalibration_batches"] == 5
    vals = [ev.metrics["val_acc"] for ev in evs]
    assert np.mean(vals) > 30.0  # well above chance (10 %) after a few epochs
    assert len(set(vals)) > 1
    # same arch -> same answer, whatever was evaluated in between and whatever the seed
    assert est.evaluate(archs[0], seed=5).metrics == evs[0].metrics
    fresh = pickle.loads(pickle.dumps(est))
    assert fresh._net is None and fresh._data is None  # loads lazily in the worker
    assert fresh.evaluate(archs[1]).metrics == evs[1].metrics
    # recalibration matters: without it the checkpoint's statistics are used
    plain = SupernetEstimator(str(trained), recalibration_batches=0, batch_size=64)
    assert plain.evaluate(archs[2]).metrics != evs[2].metrics
    d = est.describe()
    assert d["estimator"] == "supernet" and d["supernet"]["space"] == SPACE.name
    assert d["recalibration"] == {"batches": 5, "batch_size": 64, "seed": 0}


@pytest.mark.slow
def test_every_black_box_strategy_can_search_on_inherited_weights(trained: Path,
                                                                  tmp_path: Path) -> None:
    from naslab import registry
    from naslab.runner import Experiment, MaxTrials

    est = SupernetEstimator(str(trained), recalibration_batches=2, batch_size=128)
    for name in ("rs", "re"):
        res = Experiment(SPACE, registry.create("strategy", name), est,
                         termination=MaxTrials(4), seed=0).run()
        assert res.n_trials == 4 and all(t.status == "complete" for t in res.trials)
        assert res.best_arch is not None and res.test_acc is not None
    cmd = [sys.executable, "-m", "naslab", "search", "--estimator", "supernet", "-e",
           f"checkpoint={trained}", "-e", "recalibration_batches=2", "--dataset", "digits",
           "--strategy", "rs", "--budget", "3", "--storage", str(tmp_path / "s.db"),
           "--output", "json", "--no-progress"]
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["trials"] == 3 and out["val_acc"] > 0


def test_bad_input(untrained: Path, tmp_path: Path) -> None:
    from toy_spaces import ToyGrid

    with pytest.raises(DataError, match="does not exist"):
        SupernetEstimator(str(tmp_path / "missing.pt"))
    (tmp_path / "junk.pt").write_text("junk")
    with pytest.raises(DataError, match="not a readable"):
        SupernetEstimator(str(tmp_path / "junk.pt"))
    with pytest.raises(ConfigError, match="checkpoint=PATH"):
        SupernetEstimator("")
    est = SupernetEstimator(str(untrained), recalibration_batches=1)
    with pytest.raises(ConfigError, match="supernet of space"):
        est.check_space(ToyGrid())
    with pytest.raises(ConfigError, match="no fidelities"):
        est.evaluate(SPACE.sample(np.random.default_rng(0)), fidelity=3)
    with pytest.raises(ConfigError, match="recalibration_batches"):
        SupernetEstimator(str(untrained), recalibration_batches=-1)
    # a checkpoint without data meta needs a dataset
    g = torch.Generator().manual_seed(0)
    rgb = build_supernet(SPACE, C=4, N=1, num_classes=10, in_channels=3, generator=g)
    p = rgb.save(tmp_path / "rgb.pt")
    with pytest.raises(ConfigError, match="needs dataset"):
        SupernetEstimator(str(p))
    # another shape: 3-channel supernet on 1-channel digits
    wrong = SupernetEstimator(str(p), dataset="digits", recalibration_batches=1)
    with pytest.raises(ConfigError, match="3-channel images"):
        wrong.evaluate(SPACE.sample(np.random.default_rng(0)))
    ok = SupernetEstimator(str(p), dataset="digits", channels=3, recalibration_batches=1)
    assert "val_acc" in ok.evaluate(SPACE.sample(np.random.default_rng(0))).metrics


def test_cli_search_with_a_bad_checkpoint_exits_2(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "naslab", "search", "--estimator", "supernet", "-e",
           f"checkpoint={tmp_path / 'nope.pt'}", "--dataset", "digits", "--budget", "2",
           "--storage", str(tmp_path / "s.db"), "--no-progress"]
    p = subprocess.run(cmd, capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert p.returncode == 2 and "does not exist" in p.stderr and "Traceback" not in p.stderr
