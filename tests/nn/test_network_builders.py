"""Network builders (registry kind "network") and initialisation from a torch.Generator:
same seed same weights, the global RNG untouched, PyTorch's default init reproduced exactly,
parameter counts unchanged, clear errors."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from naslab import registry  # noqa: E402
from naslab.errors import ConfigError  # noqa: E402
from naslab.nn import build_network, init_parameters, network_spaces  # noqa: E402
from naslab.nn.counting import count_params  # noqa: E402
from naslab.nn.init import materialize  # noqa: E402
from naslab.nn.nb201 import NB201Network  # noqa: E402
from naslab.spaces.base import Architecture, get_space  # noqa: E402

SPACE = get_space("nb201")
ARCHS = [SPACE.from_index(i) for i in (0, 11, 284, 9999, 15624)]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _equal(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_every_space_with_a_builder_is_listed() -> None:
    assert "nb201" in network_spaces()
    assert network_spaces() == registry.names("network")
    for name in network_spaces():
        assert name in registry.names("space")


def test_discovering_builders_does_not_import_torch() -> None:
    code = ("import sys, naslab.registry as r; from naslab.nn import network_spaces; "
            "assert 'nb201' in network_spaces() and r.names('network'); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_same_generator_seed_same_weights_other_seed_other_weights() -> None:
    a = build_network(ARCHS[1], generator=_gen(3), C=8, N=2)
    b = build_network(ARCHS[1], generator=_gen(3), C=8, N=2)
    c = build_network(ARCHS[1], generator=_gen(4), C=8, N=2)
    assert _equal(a, b) and not _equal(a, c)
    assert all(p.device.type == "cpu" and p.dtype == torch.float32 for p in a.parameters())
    out = a(torch.zeros(2, 3, 16, 16))
    assert out.shape == (2, 10) and torch.isfinite(out).all()


def test_building_leaves_the_global_rng_untouched() -> None:
    torch.manual_seed(123)
    state = torch.get_rng_state()
    build_network(ARCHS[2], generator=_gen(0))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("arch", ARCHS, ids=str)
def test_weights_equal_pytorchs_default_init(arch: Architecture) -> None:
    """Same schemes, same order: seeding the generator as torch.manual_seed would gives
    exactly the weights of default construction (so every figure of the old init stands)."""
    for kw in ({}, {"C": 4, "N": 1, "num_classes": 120, "in_channels": 1}):
        torch.manual_seed(7)
        ref = NB201Network(arch, **kw)
        assert _equal(build_network(arch, generator=_gen(7), **kw), ref)


def test_distribution_is_the_default_one() -> None:
    """Independent of the order: bounds and moments of kaiming_uniform(a=sqrt(5)) + bias."""
    conv = materialize(lambda: nn.Conv2d(64, 128, 3), _gen(1))
    lin = materialize(lambda: nn.Linear(400, 300), _gen(2))
    for m, fan_in in ((conv, 64 * 9), (lin, 400)):
        bound = 1 / math.sqrt(fan_in)
        for t in (m.weight, m.bias):
            v = t.detach().double()
            assert float(v.abs().max()) <= bound
            assert float(v.abs().max()) > 0.95 * bound
        w = m.weight.detach().double()
        assert float(w.std()) == pytest.approx(bound / math.sqrt(3), rel=0.02)
        assert abs(float(w.mean())) < 0.02 * bound
    bn = build_network(ARCHS[3], generator=_gen(0), C=4, N=1).stem[1]
    assert torch.equal(bn.weight, torch.ones(4)) and torch.equal(bn.bias, torch.zeros(4))
    assert torch.equal(bn.running_mean, torch.zeros(4))
    assert torch.equal(bn.running_var, torch.ones(4)) and int(bn.num_batches_tracked) == 0


def test_parameter_counts_unchanged() -> None:
    for a in ARCHS:
        for ncls in (10, 100, 120):
            assert count_params(build_network(a, generator=_gen(0), num_classes=ncls)) == \
                count_params(NB201Network(a, num_classes=ncls))
    # the published NB201 count of arch 0 (cifar10-valid): 0.129306 M
    assert count_params(build_network(SPACE.from_index(0), generator=_gen(0))) == \
        pytest.approx(0.129306, abs=1e-6)


def test_no_generator_draws_from_the_global_rng_like_default_construction() -> None:
    torch.manual_seed(5)
    ref = NB201Network(ARCHS[1], C=4, N=1)
    torch.manual_seed(5)
    assert _equal(build_network(ARCHS[1], C=4, N=1), ref)


def test_init_parameters_covers_common_layers_and_refuses_unknown_ones() -> None:
    class Custom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.alpha = nn.Parameter(torch.empty(3))

    class Own(Custom):
        def reset_parameters_from(self, generator: torch.Generator | None) -> None:
            nn.init.normal_(self.alpha, std=1e-3, generator=generator)

    with pytest.raises(ConfigError, match="cannot initialise Custom.*alpha.*reset_parameters_from"):
        init_parameters(nn.Sequential(nn.Linear(2, 2), Custom()), _gen(0))
    a = materialize(Own, _gen(0))
    assert torch.equal(a.alpha, materialize(Own, _gen(0)).alpha) and float(a.alpha.detach().abs().max()) < 0.01

    def mixed() -> nn.Module:
        return nn.Sequential(nn.Embedding(5, 4, padding_idx=1), nn.Bilinear(4, 4, 2),
                             nn.LayerNorm(2), nn.GroupNorm(1, 2), nn.ConvTranspose2d(2, 3, 2),
                             nn.BatchNorm1d(3, affine=False))

    torch.manual_seed(9)
    ref = mixed()
    torch.manual_seed(0)
    state = torch.get_rng_state()
    got = materialize(mixed, _gen(9))
    assert torch.equal(torch.get_rng_state(), state) and _equal(got, ref)
    assert float(got[0].weight[1].detach().abs().sum()) == 0.0
    with pytest.raises(ConfigError, match="generator must be a torch.Generator"):
        init_parameters(nn.Linear(2, 2), 3)


def test_bad_input() -> None:
    with pytest.raises(ConfigError, match="space 'no_builder_space' has no network builder.*nb201"):
        build_network(Architecture("no_builder_space", (0, 1)))
    with pytest.raises(ConfigError, match="no option.*affine"):
        build_network(ARCHS[0], affine=False)
    with pytest.raises(ConfigError, match="needs an Architecture"):
        build_network(str(ARCHS[0]))
    with pytest.raises(ConfigError, match="C must be"):
        build_network(ARCHS[0], C=0)


def test_estimators_accept_exactly_the_spaces_with_builders() -> None:
    from naslab.estimators.training import TrainingEstimator
    from naslab.estimators.zerocost import ZeroCostEstimator

    class Other(type(SPACE)):
        name = "nowhere"

    for est in (TrainingEstimator("digits"), ZeroCostEstimator("synflow")):
        est.check_space(SPACE)
        with pytest.raises(ConfigError, match="'nowhere' has no network builder; spaces with "
                                              "network builders: " + ", ".join(network_spaces())):
            est.check_space(Other())


def test_training_and_zero_cost_build_through_the_builder() -> None:
    from naslab.data import load_dataset
    from naslab.estimators._train_loop import build_model
    from naslab.estimators.training import get_protocol
    from naslab.estimators.zerocost import ZeroCostEstimator
    from naslab.seeding import derive_seed

    ds = load_dataset("digits", seed=0)
    p = get_protocol("cpu")
    m = build_model(ARCHS[1], ds, p, seed=4)
    ref = build_network(ARCHS[1], generator=_gen(derive_seed(4, 1)), C=p.C, N=p.N,
                        num_classes=10, in_channels=1)
    assert _equal(m, ref)
    est = ZeroCostEstimator("synflow", C=4, N=1)
    assert _equal(est.build(ARCHS[1], seed=6),
                  build_network(ARCHS[1], generator=_gen(6), C=4, N=1))
    assert np.isfinite(est.score(ARCHS[1], seed=6))


def test_materialize_keeps_shared_parameters_shared() -> None:
    def tied() -> nn.Module:
        a, b = nn.Linear(3, 3), nn.Linear(3, 3)
        b.weight = a.weight
        return nn.Sequential(a, b)

    m = materialize(tied, _gen(0))
    assert m[0].weight is m[1].weight and m[0].weight.device.type == "cpu"
    assert len(list(m.parameters())) == 3
