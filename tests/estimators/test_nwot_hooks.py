"""nwot's hook rule: every nn.ReLU (default) vs the NASWOT reference code's class-name rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from naslab.errors import ConfigError
from naslab.nn import build_network
from naslab.nn import zerocost as zc
from naslab.spaces import get_space

SPACE = get_space("nb201")


@pytest.fixture(autouse=True)
def _one_thread():  # type: ignore[no-untyped-def]
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny nets: threads only add overhead on a shared machine
    yield
    torch.set_num_threads(n)


@pytest.mark.slow
def test_the_reference_rule_counts_conv_edges_twice_same_ranking() -> None:
    rng = np.random.default_rng(3)
    archs = [a for a in (SPACE.sample(rng) for _ in range(40)) if "nor_conv" in str(a)][:5]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 3, 16, 16, generator=g)
    y = torch.zeros(16, dtype=torch.long)
    relu, name = [], []
    for arch in archs:
        net = build_network(arch, generator=torch.Generator().manual_seed(1), C=8, N=1)
        relu.append(zc.nwot(net, x, y))
        name.append(zc.nwot(net, x, y, hooks="name"))
    ratio = np.array(name) / np.array(relu)
    # every ReLUConvBN block is coded on its input besides its inner ReLU: higher scores
    assert np.all(ratio > 1.01) and np.all(ratio < 1.15), ratio
    assert spearmanr(relu, name).statistic == pytest.approx(1.0)
    # a net without modules named *ReLU* other than nn.ReLU scores the same under both rules
    plain = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.ReLU(), torch.nn.Linear(768, 2))
    assert zc.nwot(plain, x, y, hooks="name") == zc.nwot(plain, x, y)
    with pytest.raises(ConfigError, match="nwot hooks must be 'relu'"):
        zc.nwot(plain, x, y, hooks="all")


def test_the_estimator_option() -> None:
    from naslab.estimators.zerocost import ZeroCostEstimator

    a = ZeroCostEstimator("nwot", dataset="digits", batch_size=16, C=8, N=1)
    b = ZeroCostEstimator("nwot", dataset="digits", batch_size=16, C=8, N=1, nwot_hooks="name")
    assert "nwot_hooks" not in a.describe() and b.describe()["nwot_hooks"] == "name"
    arch = SPACE.parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|")
    assert b.score(arch) > a.score(arch)
    with pytest.raises(ConfigError, match="nwot_hooks is an option of proxy 'nwot'"):
        ZeroCostEstimator("synflow", nwot_hooks="name")
