"""The MobileNet block-space builder: exact counts, determinism, options, latency kernels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naslab.errors import ConfigError
from naslab.nn import build_network
from naslab.nn.counting import count_flops, count_params
from naslab.nn.latency_parts import latency_model
from naslab.nn.mobilenet import MBConv, _mbconv_counts, make_divisible, mobilenet_counts
from naslab.spaces.base import get_space

SP = get_space("mobilenet")
SMALL = {"width_mult": 0.25, "in_channels": 1, "num_classes": 10}


def g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_make_divisible() -> None:
    assert [make_divisible(v) for v in (4, 6, 10, 20, 28, 40, 48, 12)] == [8, 8, 16, 24, 32, 40,
                                                                          48, 16]


def test_mbconv_with_se_matches_a_hand_count() -> None:
    # C_in 16 -> C_out 24, k5, e3, stride 2, SE, 8x8 input: mid 48, SE reduced 16
    # params: 1x1 16*48 + BN 96 | dw 25*48 + BN 96 | SE 48*16+16 + 16*48+48 | 1x1 48*24 + BN 48
    params = (768 + 96) + (1200 + 96) + (768 + 16 + 768 + 48) + (1152 + 48)
    # MACs: 8*8*768 | 4*4*1200 | 1600 (1x1 on pooled) | 4*4*1152
    macs = 64 * 768 + 16 * 1200 + 1600 + 16 * 1152
    assert (params, macs) == (4960, 88384)
    m = MBConv(16, 24, 5, 3, 2, act="h_swish", se=True)
    assert round(count_params(m) * 1e6) == params
    assert round(count_flops(m, (16, 8, 8)) * 1e6) == macs
    assert _mbconv_counts(16, 24, 5, 3, 2, True, 8, 8, 8)[:2] == (params, macs)
    assert not m.residual and MBConv(24, 24, 3, 4, 1).residual


def test_skeleton_matches_a_hand_count() -> None:
    # width 0.25 -> stem 8, first block 8, stages 8/16/24/32/40, final expand 240, mix 320;
    # 1x32x32 input, stem stride 1 -> the head runs at 2x2
    model = latency_model("mobilenet", image_size=32, **SMALL)
    ks = model.kernels()
    stem, first, head = (ks[k] for k in model.fixed_kernels())
    hand = {"stem": (9 * 8 + 16, 32 * 32 * 9 * 8),
            "first": (9 * 8 + 16 + 8 * 8 + 16, 32 * 32 * (9 * 8 + 8 * 8)),
            "head": (40 * 240 + 480 + 240 * 320 + 320 * 10 + 10,
                     4 * 40 * 240 + 240 * 320 + 320 * 10 + 10)}
    for name, kern in (("stem", stem), ("first", first), ("head", head)):
        m = kern.build()
        assert round(count_params(m) * 1e6) == hand[name][0], name
        assert round(count_flops(m, kern.input_shapes[0]) * 1e6) == hand[name][1], name


@pytest.mark.parametrize("opts, size", [({"stem_stride": 2, "C": 8}, 224), (SMALL, 32),
                                        ({"se": "all", "width_mult": 1.2, "C": 4}, 20),
                                        ({"se": "none", "N": 5, "C": 8}, 28)])
def test_closed_form_counts_equal_the_built_network(opts: dict, size: int) -> None:
    rng = np.random.default_rng(1)
    for _ in range(2):
        a = SP.sample(rng)
        net = build_network(a, generator=g(), **opts)
        c = mobilenet_counts(a, image_size=size, **opts)
        assert count_params(net) == pytest.approx(c["params_m"], abs=1e-12)
        assert count_flops(net, (opts.get("in_channels", 3), size, size)) == pytest.approx(
            c["flops_m"], abs=1e-9)


def test_largest_and_smallest_nets() -> None:
    big = SP.parse("|".join(["k7e6-k7e6-k7e6-k7e6"] * 5))
    small = SP.parse("|".join(["k3e3-k3e3"] * 5))
    cb, cs = mobilenet_counts(big, image_size=224, stem_stride=2), mobilenet_counts(small)
    assert cb["params_m"] > 3 * cs["params_m"] / 1.1 and cb["flops_m"] > 4 * cs["flops_m"]
    # with OFA's 1000 classes the largest net has about 7.7 M parameters (OFA: 7.7 M)
    assert mobilenet_counts(big, num_classes=1000)["params_m"] == pytest.approx(7.67, abs=0.05)


def test_builder_is_seeded_and_checks_options() -> None:
    a = SP.sample(np.random.default_rng(0))
    s1 = build_network(a, generator=g(3), **SMALL).state_dict()
    assert not torch.equal(s1["stem.0.weight"],
                           build_network(a, generator=g(4), **SMALL).state_dict()["stem.0.weight"])
    s2 = build_network(a, generator=g(3), **SMALL).state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    net = build_network(a, generator=g(3), **SMALL)
    assert net(torch.zeros(2, 1, 16, 16)).shape == (2, 10)
    with pytest.raises(ConfigError, match="no option"):
        build_network(a, generator=g(), layers=16)
    # C scales the widths as C / 16 (the protocol's width)
    assert (mobilenet_counts(a, C=8)["params_m"]
            == mobilenet_counts(a, width_mult=0.5)["params_m"])
    # a non-canonical arch builds the same network as its canonical form
    ch = list(a.choices)
    ch[2], ch[3] = 9, ch[2] if ch[2] != 9 else 0
    b = SP.validate(type(a)(a.space, tuple(ch)))
    assert mobilenet_counts(b) == mobilenet_counts(SP.canonical(b))


def test_latency_model_is_additive_over_the_decisions() -> None:
    model = latency_model("mobilenet", image_size=32, **SMALL)
    ks = model.kernels()
    dk = model.decision_kernels()
    assert len(dk) == 20 and all(len(opts) == d.size for opts, d in zip(dk, SP.decisions))
    assert dk[2][9] == [] and len(dk[2][0]) == 1
    assert all(k in ks for opts in dk for keys in opts for k in keys)
    # blocks 2..4 of a stage share keys; the first block differs (stride / width change)
    assert dk[1][4] == dk[2][4] == dk[3][4] != dk[0][4]
    # a kernel's module is the network's block
    a = SP.parse("k5e4-k3e6|k7e6-k3e3-k5e4|k3e3-k3e3-k3e3-k3e3|k5e6-k5e6|k7e4-k7e4-k7e4")
    net = build_network(a, generator=g(), **SMALL)
    keys = model.arch_kernels(a)
    assert len(keys) == 14
    blk = ks[keys[1]].build()
    assert count_params(blk) == count_params(net.stages[0][1])
    with pytest.raises(ConfigError, match="no option"):
        latency_model("mobilenet", N=5)
