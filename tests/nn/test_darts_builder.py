"""The DARTS evaluation network: parameter counts against DARTS's own and NB301's recorded
numbers, seeding, auxiliary head, drop-path, options."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import require_file  # noqa: E402
from naslab.errors import ConfigError  # noqa: E402
from naslab.nn import build_network  # noqa: E402
from naslab.nn.darts import DartsNetwork  # noqa: E402
from naslab.spaces.base import get_space  # noqa: E402

SPACE = get_space("darts")
DARTS_V2 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
            "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
            "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
            "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
            "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
            "reduce_concat=[2, 3, 4, 5])")


def _count(net: torch.nn.Module, skip_aux: bool = False) -> int:
    return sum(p.numel() for k, p in net.named_parameters()
               if not (skip_aux and k.startswith("auxiliary_head")))


def _meta(arch: object, **kw: object) -> DartsNetwork:
    with torch.device("meta"):
        return DartsNetwork(arch, **kw)  # type: ignore[arg-type]


def test_darts_v2_has_the_published_parameter_count() -> None:
    """DARTS's train.py logs 'param size = 3.349342MB' for DARTS_V2 at C=36, 20 layers (its
    count leaves the auxiliary head out)."""
    net = _meta(SPACE.parse(DARTS_V2), C=36, layers=20, auxiliary=True)
    assert _count(net, skip_aux=True) == 3_349_342
    assert _count(net) > 3_349_342 and net.auxiliary_head is not None
    assert _count(_meta(SPACE.parse(DARTS_V2), C=36, layers=20)) == 3_349_342


def test_nb301_recorded_params_at_c32_8_layers_without_op_affine() -> None:
    from naslab.benchmarks import load_benchmark

    require_file("nb301/zc_nasbench301.json")
    b = load_benchmark("nb301/cifar10")
    rec = np.round(b.column("params_m") * 1e6).astype(int)
    rows = range(0, 725, 145)      # 5 genotypes spread over the file (all 725: the benchmark)
    for r in rows:
        a = b.archs()[r]
        assert _count(_meta(a, C=32, layers=8, affine=False)) == rec[r]
        # DARTS's affine ops add 2 C per op BatchNorm: never equal
        assert _count(_meta(a, C=32, layers=8)) > rec[r]
    # through the registered builder, with N (cells per stage) for the depth
    a = b.archs()[0]
    net = build_network(a, generator=torch.Generator().manual_seed(0), C=32, N=2, affine=False)
    assert _count(net) == rec[0] and len(net.cells) == 8


def test_structure_reductions_and_forward() -> None:
    a = SPACE.sample(np.random.default_rng(5))
    net = build_network(a, generator=torch.Generator().manual_seed(0), C=4, layers=5,
                        auxiliary=True, drop_path_prob=0.2)
    assert net.reductions == (1, 3) and [c.reduction for c in net.cells] == [False, True, False, True, False]
    x = torch.randn(3, 3, 32, 32)   # the auxiliary head expects 8x8 after two reductions
    net.train()
    y, aux = net.forward_aux(x)
    assert y.shape == (3, 10) and aux is not None and aux.shape == (3, 10)
    assert net(x).shape == (3, 10) and net.logits_aux is not None
    net.eval()
    with torch.no_grad():
        assert net(x).shape == (3, 10) and net.logits_aux is None
    assert build_network(a, C=4, N=1, num_classes=7, in_channels=1)(torch.randn(2, 1, 8, 8)).shape == (2, 7)


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_seeded_weights_and_drop_path() -> None:
    a = SPACE.parse(DARTS_V2)
    torch.manual_seed(11)
    state = torch.get_rng_state()
    n1 = build_network(a, generator=torch.Generator().manual_seed(3), C=4, N=1, drop_path_prob=0.5)
    n2 = build_network(a, generator=torch.Generator().manual_seed(3), C=4, N=1, drop_path_prob=0.5)
    n3 = build_network(a, generator=torch.Generator().manual_seed(4), C=4, N=1, drop_path_prob=0.5)
    assert torch.equal(torch.get_rng_state(), state)
    assert _same(n1, n2) and not _same(n1, n3)
    x = torch.randn(4, 3, 16, 16)
    n1.train(), n2.train()
    assert torch.equal(n1(x), n2(x))                    # masks drawn from the same generator
    first, second = n1(x), n1(x)
    assert not torch.equal(first, second)               # the next masks differ
    # drop-path scales kept outputs by 1/(1-p) and zeroes dropped ones, per sample
    from naslab.nn.darts import DropPath

    dp = next(m for m in n1.modules() if isinstance(m, DropPath))
    z = torch.ones(64, 2, 3, 3)
    out = dp(z)
    vals = set(out.flatten().tolist())
    assert vals <= {0.0, 2.0} and 0 < (out[:, 0, 0, 0] == 0).sum() < 64
    assert all(torch.unique(out[i]).numel() == 1 for i in range(64))
    n1.eval()
    assert torch.equal(dp(z), z)
    n1.drop_path_prob = 0.0
    n1.train()
    assert torch.equal(dp(z), z)


def test_options_and_errors() -> None:
    a = SPACE.parse(DARTS_V2)
    with pytest.raises(ConfigError, match="no option.*N_cells.*options: num_classes"):
        build_network(a, N_cells=2)
    with pytest.raises(ConfigError, match="N=2 means layers=8, got layers=9"):
        build_network(a, N=2, layers=9)
    with pytest.raises(ConfigError, match="C must be even"):
        build_network(a, C=7, N=1)
    assert len(_meta(a).cells) == 20          # DARTS's evaluation depth by default
