"""The NAS-Bench-101 network builder: trainable parameters equal the 30 real records' exactly,
NB101's channel rule, the skeleton, seeded weights and errors."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from naslab.errors import ConfigError, InvalidArchitectureError  # noqa: E402
from naslab.nn import build_network  # noqa: E402
from naslab.nn.nb101 import NB101Cell, NB101Network, vertex_channels  # noqa: E402
from naslab.spaces.base import Architecture, get_space  # noqa: E402
from tests.conftest import require_file  # noqa: E402

SP = get_space("nb101")


def _params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def test_parameter_counts_equal_the_30_records() -> None:
    from naslab.benchmarks.nb101 import read_records

    recs = read_records(require_file("nb101/nb101_30_records.pkl"))
    got = {}
    for key, r in recs.items():
        with torch.device("meta"):  # counts only: no memory, no initialisation
            got[key] = _params(NB101Network(r.arch))
    assert got == {k: r.trainable_parameters for k, r in recs.items()}  # 30/30 exact
    # a hand-read record: ff92c322...: 7 nodes, 6,315,018 parameters
    assert got["ff92c322c5d9d3d587d9c146a63d0807"] == 6315018


def test_channel_rule() -> None:
    # three nodes feed the output: 128 = 43 + 43 + 42, the remainder to the lowest nodes
    m = [[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    assert vertex_channels(64, 128, m) == [64, 43, 43, 42, 128]
    # node 1 feeds only node 2 (which feeds the output): it takes node 2's channels; the
    # input feeds node 1 and the output
    m = [[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert vertex_channels(16, 32, m) == [16, 32, 32, 32]
    cell = NB101Cell(m, ["input", "conv3x3-bn-relu", "maxpool3x3", "output"], 16, 32)
    assert cell(torch.zeros(2, 16, 8, 8)).shape == (2, 32, 8, 8)
    # 1x1 projections where the input feeds a node, and for the input->output edge
    assert set(cell.proj) == {"1"} and cell.out_proj is not None
    no_skip = NB101Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv1x1-bn-relu", "output"],
                        16, 32)
    assert no_skip.out_proj is None
    two = NB101Cell([[0, 1], [0, 0]], ["input", "output"], 16, 32)
    assert two.out_proj is not None and two(torch.zeros(1, 16, 4, 4)).shape == (1, 32, 4, 4)


def test_skeleton_forward_and_seeded_weights() -> None:
    a = SP.sample(__import__("numpy").random.default_rng(1))
    net = build_network(a, generator=torch.Generator().manual_seed(0), C=8, N=1, in_channels=1)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].in_channels == 1 and convs[0].out_channels == 8
    assert sum(isinstance(m, NB101Cell) for m in net.modules()) == 3  # 3 stacks x N=1
    assert net.classifier.in_features == 32  # 8 -> 16 -> 32 channels
    same = build_network(a, generator=torch.Generator().manual_seed(0), C=8, N=1, in_channels=1)
    other = build_network(a, generator=torch.Generator().manual_seed(1), C=8, N=1, in_channels=1)
    sa, sb, sc = net.state_dict(), same.state_dict(), other.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert net(torch.zeros(3, 1, 8, 8)).shape == (3, 10)  # digits-sized input
    bn = next(m for m in net.modules() if isinstance(m, nn.BatchNorm2d))
    assert bn.momentum == pytest.approx(0.003) and bn.eps == 1e-5
    # pruning removes only modules that never run: the raw spec and its pruned form are one
    # network
    with torch.device("meta"):
        assert _params(NB101Network(a)) == _params(NB101Network(SP.pruned_arch(a)))


def test_isomorphic_specs_can_differ_in_the_remainder_channel() -> None:
    # three nodes feed the output: 128 = 43 + 43 + 42, the 42 to the last of them (NB101's
    # rule). One cell (one NB101 hash), two node orders: the 42 channels go to a conv1x1 or a
    # conv3x3 node, so the networks differ by a few parameters, as NB101's own builder does
    rows = ["0111000", "0000001", "0000001", "0000001", "0000000", "0000000", "0000000"]
    m = [[int(c) for c in r] for r in rows]
    ops_a = ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv1x1-bn-relu"] + ["maxpool3x3"] * 2 + ["output"]
    ops_b = ["input", "conv1x1-bn-relu", "conv1x1-bn-relu", "conv3x3-bn-relu"] + ["maxpool3x3"] * 2 + ["output"]
    a, b = SP.from_spec(m, ops_a), SP.from_spec(m, ops_b)
    assert SP.unique_key(a) == SP.unique_key(b) and SP.canonical(a) == SP.canonical(b)
    with torch.device("meta"):
        pa, pb = _params(NB101Network(a)), _params(NB101Network(b))
    assert pa != pb and abs(pa - pb) < 0.01 * pa


def test_errors() -> None:
    with pytest.raises(ConfigError, match="no option.*affine"):
        build_network(SP.sample(__import__("numpy").random.default_rng(0)), affine=False)
    with pytest.raises(InvalidArchitectureError, match="space 'nb101'"):
        NB101Network(get_space("nb201").from_index(0))
    with pytest.raises(InvalidArchitectureError, match="no path"):
        NB101Network(Architecture("nb101", (0,) * 26))
    with pytest.raises(ConfigError, match="input must be"):
        NB101Network("01|00;input,output", C=4)(torch.zeros(1, 1, 8, 8))
