"""Once-for-All: kernel transform and channel sorting keep sliced sub-networks exact,
progressive shrinking resumes across phases, search under a latency budget, the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from naslab import registry
from naslab.data import load_dataset
from naslab.errors import ConfigError
from naslab.nn.mobilenet import MobileNetNetwork
from naslab.nn.ofa import DynamicMBConv, center_crop
from naslab.nn.protocol import get_protocol
from naslab.nn.supernets import build_block_supernet
from naslab.spaces.base import get_space

from block_space_luts import synthetic_lut

SP = get_space("mobilenet")
OPTS = {"C": 4, "in_channels": 1, "num_classes": 10}
SMALL = {"largest_epochs": 1, "kernel_epochs": 1, "depth_epochs": 1, "expand_epochs": 1,
         "predictor_samples": 6, "population": 4, "generations": 2, "parents": 2,
         "recalibration_batches": 1}


def elastic(seed: int = 0) -> torch.nn.Module:
    net = build_block_supernet("mobilenet", kind="elastic",
                               generator=torch.Generator().manual_seed(seed), **OPTS)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():  # trained-looking transforms and BN statistics
        for st in net.stages:
            for m in st:
                m.trans_7to5.add_(0.1 * torch.randn(25, 25, generator=g))
                m.trans_5to3.add_(0.1 * torch.randn(9, 9, generator=g))
                for bn in (m.ib_bn, m.dw_bn, m.pl_bn):
                    bn.running_mean.normal_(generator=g)
                    bn.running_var.uniform_(0.5, 2.0, generator=g)
                    bn.weight.normal_(generator=g)
    return net.eval()


def test_kernel_transform_is_centre_crop_then_the_matrix() -> None:
    m = DynamicMBConv(8, 8, 1, act="relu", se=False, divisor=8)
    torch.nn.init.normal_(m.dw_conv.weight, generator=torch.Generator().manual_seed(0))
    mid = m.mid(4)
    w = m.dw_conv.weight[:mid]
    # identity matrices: plain centre cropping
    assert torch.equal(m.kernel_weight(5, mid), center_crop(w, 5))
    assert torch.equal(m.kernel_weight(3, mid), center_crop(w, 3))
    with torch.no_grad():
        m.trans_7to5.copy_(torch.randn(25, 25, generator=torch.Generator().manual_seed(1)))
    want5 = (center_crop(w, 5).reshape(mid, 25) @ m.trans_7to5.t()).reshape(mid, 1, 5, 5)
    assert torch.allclose(m.kernel_weight(5, mid), want5)
    assert torch.allclose(m.kernel_weight(3, mid),
                          (center_crop(want5, 3).reshape(mid, 9) @ m.trans_5to3.t()).reshape(
                              mid, 1, 3, 3))
    # the transform is learned: gradients reach it from a 3x3 sub-kernel
    m.kernel_weight(3, mid).sum().backward()
    assert m.trans_7to5.grad is not None and m.trans_5to3.grad is not None


def test_sliced_subnetworks_equal_the_net_built_with_the_sliced_weights() -> None:
    net = elastic()
    x = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    rng = np.random.default_rng(0)
    archs = [SP.sample(rng), SP.parse("|".join(["k3e3-k5e4"] * 5))]
    for a in archs:
        sub = net.extract(a).eval()
        assert isinstance(sub, MobileNetNetwork) and sub.arch == a
        assert torch.allclose(net(x, a), sub(x), atol=1e-5), a
        # the same net built from the sliced state dict (a file round trip)
        buf = io.BytesIO()
        torch.save(sub.state_dict(), buf)
        fresh = MobileNetNetwork(a, **OPTS)
        fresh.load_state_dict(torch.load(io.BytesIO(buf.getvalue()), weights_only=True))
        assert torch.allclose(fresh.eval()(x), net(x, a), atol=1e-5)


def test_channel_sorting_keeps_the_function_and_puts_important_channels_first() -> None:
    net = elastic(3)
    x = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(4))
    a = SP.parse("k5e3-k3e4-k7e6|k3e3-k3e3|k5e4-k5e4-k5e4-k5e4|k7e3-k3e6|k3e4-k5e6-k7e3")
    before_big = net(x)
    net.sort_channels()
    assert torch.allclose(net(x), before_big, atol=1e-5)
    for st in net.stages:
        for m in st:
            imp = m.pl_conv.weight.abs().sum((0, 2, 3))
            assert (imp[:-1] >= imp[1:]).all()
            if m.use_se:
                r = m.se_expand.weight.abs().sum((0, 2, 3))
                assert (r[:-1] >= r[1:]).all()
    sub = net.extract(a).eval()
    assert torch.allclose(net(x, a), sub(x), atol=1e-5)


def test_progressive_shrinking_schedule() -> None:
    m = registry.create("oneshot", "ofa", largest_epochs=2, kernel_epochs=1, depth_epochs=2,
                        expand_epochs=3)
    names = [(p["name"], p["start"], p["epochs"]) for p in m.schedule()]
    assert names == [("largest", 0, 2), ("kernel", 2, 1), ("depth-1", 3, 1), ("depth-2", 4, 1),
                     ("expand-1", 5, 1), ("expand-2", 6, 2)]
    ph = m.schedule()
    assert ph[0]["kernels"] == [7] and ph[1]["kernels"] == [3, 5, 7] and ph[1]["depths"] == [4]
    assert ph[2]["depths"] == [3, 4] and ph[3]["depths"] == [2, 3, 4]
    assert ph[4]["expansions"] == [4, 6] and ph[5]["expansions"] == [3, 4, 6]
    with pytest.raises(ConfigError, match="latency LUT"):
        registry.create("oneshot", "ofa", latency_ms=5.0)
    with pytest.raises(ConfigError, match="latency_source"):
        registry.create("oneshot", "ofa", latency_source="guess")


def _setup(**params: object) -> object:
    data = load_dataset("digits", n_train=32, n_val=32)
    proto = get_protocol("cpu", C=4, batch_size=32)
    m = registry.create("oneshot", "ofa", **{**SMALL, **params})
    m.setup(SP, data, proto, seed=0)
    return m


@pytest.mark.slow
def test_progressive_shrinking_resumes_after_a_checkpoint_in_every_phase() -> None:
    """Train 4 epochs (largest, kernel, depth, expand) straight, and stopped after each
    epoch -> state_dict -> torch.save/load -> a fresh method: the same weights at the end."""
    from naslab.oneshot.base import dump_state, load_state

    ref = _setup()
    for e in range(4):
        ref.train_epoch(e)
    want = ref.net.state_dict()
    for stop in (1, 2, 3):
        m = _setup()
        for e in range(stop):
            m.train_epoch(e)
        state = load_state(dump_state(m.state_dict()))
        m2 = _setup()
        m2.load_state_dict(state)
        assert (m2.teacher is None) == (stop == 1)
        for e in range(stop, 4):
            m2.train_epoch(e)
        got = m2.net.state_dict()
        assert all(torch.equal(got[k], want[k]) for k in want), f"resumed after epoch {stop}"
    assert ref.sorted and ref.teacher is not None


@pytest.mark.slow
def test_search_under_a_latency_budget_meets_it(tmp_path: Path) -> None:
    lut = synthetic_lut(tmp_path / "lut.json")
    m = _setup(latency_lut=str(lut))
    for e in range(2):
        m.train_epoch(e)
    free = m.search_under(None)
    lat_free = m.lut.predict(free)
    budget = 0.8 * lat_free
    tight = m.search_under(budget)
    assert m.lut.predict(tight) <= budget
    log = m.search_info()
    assert log["latency_ms"] == budget and len(log["predictor_samples"]) == SMALL["predictor_samples"]
    assert log["best_latency_ms"] == pytest.approx(m.lut.predict(tight))
    with pytest.raises(ConfigError, match="meets latency_ms"):
        m.search_under(0.01)


@pytest.mark.slow
def test_cli_train_search_export(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from naslab.cli.main import _load_command_modules, app
    from naslab.nn.export import load_network

    _load_command_modules()
    db = tmp_path / "o.db"
    lut = synthetic_lut(tmp_path / "lut.json")
    r = CliRunner().invoke(app, [
        "ofa", "train", "--storage", str(db), "-s", "C=4", "-s", "batch_size=32",
        "--data-param", "n_train=32", "--data-param", "n_val=32", "--no-progress",
        "--estimator", "training", "-e", "epochs=1", "--output", "json",
        *[a for k, v in SMALL.items() for a in ("-m", f"{k}={v}")]])
    assert r.exit_code == 0, r.output
    run = json.loads(r.output.strip().splitlines()[-1])["experiment_id"]
    r = CliRunner().invoke(app, ["ofa", "search", run, "--storage", str(db), "--latency-ms",
                                 "60", "--latency-lut", str(lut), "--output", "json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["latency_ms"] <= 60
    out = tmp_path / "sub.pt"
    r = CliRunner().invoke(app, ["ofa", "export", run, "--storage", str(db), "--out", str(out)])
    assert r.exit_code == 0, r.output
    net, info = load_network(out)
    assert info["arch_text"] == rec["arch"] and net(torch.zeros(1, 1, 8, 8)).shape == (1, 10)
    r = CliRunner().invoke(app, ["ofa", "search", run, "--storage", str(db), "--latency-ms", "5"])
    assert r.exit_code == 2 or "no latency LUT" in str(r.exception)


def test_cli_errors(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from naslab.cli.main import main

    def run(*args: str) -> tuple[int, str]:
        import contextlib
        import io as _io

        err = _io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                return int(exc.code or 0), err.getvalue()
        return 0, err.getvalue()

    assert CliRunner  # the CLI's own error path (exit 2, no traceback) is what is tested
    code, msg = run("ofa", "search", "nope", "--storage", str(tmp_path / "none.db"))
    assert code == 2 and "does not exist" in msg
    code, msg = run("ofa", "train", "--space", "nb201", "--storage", str(tmp_path / "x.db"))
    assert code == 2 and "block space" in msg
    code, msg = run("oneshot", "--method", "fbnet", "--space", "mobilenet", "--latency-weight",
                    "1", "--storage", str(tmp_path / "x.db"))
    assert code == 2 and "needs a latency LUT of this device" in msg
    code, msg = run("oneshot", "--method", "spos", "--latency-lut", "x.json", "--storage",
                    str(tmp_path / "x.db"))
    assert code == 2 and "has no latency term" in msg
