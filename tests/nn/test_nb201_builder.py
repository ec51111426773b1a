"""NB201 network builder: skeleton, parameter counts against the published table, FLOPs
against the official NATS-Bench records, every op forward/backward, bad input."""

from __future__ import annotations

import bz2
import csv
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import require_file  # noqa: E402
from naslab.errors import ConfigError, InvalidArchitectureError  # noqa: E402
from naslab.nn.counting import count_flops, count_params  # noqa: E402
from naslab.nn.nb201 import NB201Cell, NB201Network, build_nb201  # noqa: E402
from naslab.nn.ops import OPS, ResNetBasicblock, make_op  # noqa: E402
from naslab.spaces.base import Architecture  # noqa: E402
from naslab.spaces.nb201 import NB201Space  # noqa: E402

SPACE = NB201Space()
DATASETS = (("cifar10_valid_params_mb", 10), ("cifar100_params_mb", 100),
            ("imagenet16_params_mb", 120))


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def published() -> dict[str, np.ndarray]:
    path = require_file("nb201/nb201_val_200ep.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["arch"] for r in rows[:50]] == [str(SPACE.from_index(i)) for i in range(50)]
    return {col: np.array([float(r[col]) for r in rows]) for col, _ in DATASETS}


def test_skeleton_matches_nb201():
    net = NB201Network(SPACE.from_index(11), C=16, N=5, num_classes=10)
    stem_conv, stem_bn = net.stem
    assert isinstance(stem_conv, torch.nn.Conv2d) and stem_conv.kernel_size == (3, 3)
    assert (stem_conv.in_channels, stem_conv.out_channels, stem_conv.bias) == (3, 16, None)
    assert isinstance(stem_bn, torch.nn.BatchNorm2d)
    kinds = [type(m).__name__ for m in net.cells]
    assert kinds == ["NB201Cell"] * 5 + ["ResNetBasicblock"] + ["NB201Cell"] * 5 + \
        ["ResNetBasicblock"] + ["NB201Cell"] * 5
    widths = [m.edges[0].op[1].out_channels if isinstance(m, NB201Cell) and hasattr(m.edges[0], "op")
              else getattr(m, "C_out", None) for m in net.cells]
    assert widths[0] == 16 and widths[5] == 32 and widths[6] == 32 and widths[11] == 64
    # final BN + ReLU before pooling (omitting it cost NASLib 5-6 points)
    assert isinstance(net.lastact[0], torch.nn.BatchNorm2d) and net.lastact[0].num_features == 64
    assert isinstance(net.lastact[1], torch.nn.ReLU)
    assert net.classifier.in_features == 64 and net.classifier.out_features == 10
    red = net.cells[5]
    assert red.conv_a.op[1].stride == (2, 2) and isinstance(red.downsample[0], torch.nn.AvgPool2d)


@pytest.mark.parametrize("num_classes,hw,C,N,in_ch", [(10, 32, 16, 5, 3), (100, 32, 16, 5, 3),
                                                      (120, 16, 16, 5, 3), (10, 8, 8, 1, 1),
                                                      (7, 28, 4, 2, 1)])
def test_output_shape_and_grad(num_classes, hw, C, N, in_ch):
    rng = np.random.default_rng(num_classes + hw)
    arch = SPACE.sample(rng)
    net = build_nb201(arch, C=C, N=N, num_classes=num_classes, in_channels=in_ch)
    x = torch.randn(3, in_ch, hw, hw, requires_grad=True)
    out = net(x)
    assert out.shape == (3, num_classes)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_params_and_flops_match_official_records():
    fx = require_file("nb201/nats-fixtures/NATS-tss-v1_0-3ffb9-simple/000000.pickle.pbz2").parent
    for idx in (0, 11, 284):
        rec = pickle.loads(bz2.BZ2File(fx / f"{idx:06d}.pickle.pbz2").read())
        assert rec["200"]["arch_str"] == str(SPACE.from_index(idx)) if "arch_str" in rec["200"] else True
        res = rec["200"]["all_results"]
        for key, ncls, hw in (("cifar10-valid", 10, 32), ("cifar100", 100, 32),
                              ("ImageNet16-120", 120, 16)):
            net = NB201Network(SPACE.from_index(idx), num_classes=ncls)
            assert count_params(net) == pytest.approx(float(res[(key, 777)]["params"]), abs=1e-6)
            official = float(res[(key, 777)]["flop"])
            assert abs(count_flops(net, (3, hw, hw)) - official) / official < 1e-4
            # pooling counted in the "full" convention only
            assert count_flops(net, (3, hw, hw), convention="full") >= official


def _sampled_indices(n: int) -> list[int]:
    return sorted(np.random.default_rng(2024).choice(len(SPACE), n, replace=False).tolist())


def _params_all_classes(arch: Architecture) -> dict[int, float]:
    """Params for 10, 100 and 120 classes: one build, the classifier rebuilt per class count
    (the skeleton does not depend on it; checked against full builds below)."""
    net = NB201Network(arch, num_classes=10)
    out = {}
    for _col, ncls in DATASETS:
        net.classifier = torch.nn.Linear(net.classifier.in_features, ncls)
        out[ncls] = count_params(net)
    return out


def test_params_match_published_table_on_sampled_archs(published):
    """300 sampled archs x 3 class counts; a mismatch must be an isomorphic twin's count."""
    canon = SPACE.class_ids()
    idx = _sampled_indices(300)
    for i in idx[:3]:  # classifier swap == full build for every class count
        swapped = _params_all_classes(SPACE.from_index(i))
        for _col, ncls in DATASETS:
            assert swapped[ncls] == count_params(NB201Network(SPACE.from_index(i), num_classes=ncls))
    mismatches = 0
    for i in idx:
        mine = _params_all_classes(SPACE.from_index(i))
        for col, ncls in DATASETS:
            pub = published[col][i]
            if abs(mine[ncls] - pub) > 1e-5:
                mismatches += 1
                # a cell edge's parameters depend only on its op (C_in == C_out in cells), so
                # class members with the same number of 1x1 and 3x3 convs have equal counts:
                # build one member per (n_1x1, n_3x3) signature (classes can be large)
                sig: dict[tuple[int, int], int] = {}
                for m in np.flatnonzero(canon == canon[i]):
                    ch = SPACE.from_index(int(m)).choices
                    sig.setdefault((ch.count(2), ch.count(3)), int(m))
                counts = [_params_all_classes(SPACE.from_index(m))[ncls] for m in sig.values()]
                assert any(abs(c - pub) <= 1e-5 for c in counts), (i, col, mine[ncls], pub)
    # the whole table has 150 such archs (~1 %); a sample of 300 should see a handful at most
    assert mismatches <= 0.03 * 3 * len(idx)


def test_published_twin_count(published):
    """Arch 2958 is one of the 150 archs whose published count is an isomorphic twin's: its
    network has one more 1x1 conv per cell than arch 1183, whose count the table gives it."""
    a, twin = SPACE.from_index(2958), SPACE.from_index(1183)
    assert SPACE.unique_key(a) == SPACE.unique_key(twin)
    assert a.choices.count(2) == twin.choices.count(2) + 1
    for col, ncls in DATASETS:
        mine = count_params(NB201Network(a, num_classes=ncls))
        assert abs(mine - published[col][2958]) > 1e-3
        assert count_params(NB201Network(twin, num_classes=ncls)) == pytest.approx(
            published[col][2958], abs=1e-6)
        assert published[col][1183] == pytest.approx(published[col][2958], abs=1e-6)


def test_dead_edges_are_built():
    # node 1 receives only `none`, so the conv on edge 2<-1 can never affect the output;
    # NB201 still builds it (and counts its parameters)
    dead = SPACE.parse("|none~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|")
    alive = SPACE.parse("|none~0|+|skip_connect~0|none~1|+|skip_connect~0|none~1|skip_connect~2|")
    assert SPACE.unique_key(dead) == SPACE.unique_key(alive)
    d, a = NB201Network(dead), NB201Network(alive)
    # 15 cells, each with one 3x3 conv (C*C*9) + BN (2C) more
    extra = sum(5 * (c * c * 9 + 2 * c) for c in (16, 32, 64)) / 1e6
    assert count_params(d) - count_params(a) == pytest.approx(extra, abs=1e-9)
    x = torch.randn(2, 3, 16, 16)
    d.eval(), a.eval()
    a.load_state_dict({k: v for k, v in d.state_dict().items() if k in a.state_dict()})
    assert torch.allclose(d(x), a(x), atol=1e-5)


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("C_in,C_out,stride", [(4, 4, 1), (4, 8, 2), (4, 6, 1)])
def test_every_op_forward_backward(name, C_in, C_out, stride):
    torch.manual_seed(0)
    op = make_op(name, C_in, C_out, stride)
    x = torch.randn(2, C_in, 8, 8, requires_grad=True)
    y = op(x)
    assert y.shape == (2, C_out, 8 // stride, 8 // stride)
    if name == "none":
        assert float(y.detach().abs().sum()) == 0.0
        if y.requires_grad:
            y.sum().backward()
            assert float(x.grad.abs().sum()) == 0.0
    else:
        (y * torch.randn_like(y)).sum().backward()
        assert x.grad is not None and float(x.grad.abs().sum()) > 0
        for p in op.parameters():
            assert p.grad is not None


def test_reduction_block_forward_backward():
    blk = ResNetBasicblock(8, 16, 2)
    x = torch.randn(2, 8, 8, 8, requires_grad=True)
    y = blk(x)
    assert y.shape == (2, 16, 4, 4)
    y.sum().backward()
    assert all(p.grad is not None for p in blk.parameters())
    assert ResNetBasicblock(8, 8, 1)(torch.randn(1, 8, 4, 4)).shape == (1, 8, 4, 4)
    assert ResNetBasicblock(8, 16, 1)(torch.randn(1, 8, 4, 4)).shape == (1, 16, 4, 4)


def test_build_from_string_and_deterministic_init():
    s = str(SPACE.from_index(7))
    torch.manual_seed(1)
    a = NB201Network(s, C=4, N=1)
    torch.manual_seed(1)
    b = NB201Network(SPACE.from_index(7), C=4, N=1)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


def test_bad_input():
    with pytest.raises(InvalidArchitectureError, match="space 'nb201'"):
        NB201Network(Architecture("nb101", (0, 1)))
    with pytest.raises(InvalidArchitectureError, match="op indices"):
        NB201Network(Architecture("nb201", (0, 1, 2, 3, 4, 5)))
    with pytest.raises(InvalidArchitectureError, match="unknown operation"):
        NB201Network("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(ConfigError, match="C must be"):
        NB201Network(SPACE.from_index(0), C=0)
    with pytest.raises(ConfigError, match="num_classes"):
        NB201Network(SPACE.from_index(0), num_classes=0)
    net = NB201Network(SPACE.from_index(0), C=4, N=1, in_channels=1)
    with pytest.raises(ConfigError, match=r"\(batch, 1, H, W\)"):
        net(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ConfigError, match="unknown operation 'nor_conv_3x4'.*nor_conv_3x3"):
        make_op("nor_conv_3x4", 4, 4)
    with pytest.raises(ConfigError, match="input_shape"):
        count_flops(net, (8, 8))
    with pytest.raises(ConfigError, match="convention"):
        count_flops(net, (1, 8, 8), convention="fvcore")
