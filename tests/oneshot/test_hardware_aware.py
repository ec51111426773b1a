"""ProxylessNAS and FBNet on the block space: sampling statistics, the gradient estimate, the
expected-latency loss, LUT checks."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from naslab import registry
from naslab.data import load_dataset
from naslab.errors import ConfigError
from naslab.nn.lut import current_fingerprint
from naslab.nn.protocol import get_protocol
from naslab.spaces.base import get_space

from block_space_luts import synthetic_lut

SPACE = "mobilenet"
PROTO = get_protocol("cpu", C=4, batch_size=32, epochs=3)
DATA_KW = {"n_train": 32, "n_val": 32}


def make(name: str, **params: Any) -> Any:
    data = load_dataset("digits", **DATA_KW)
    m = registry.create("oneshot", name, **params)
    m.setup(get_space(SPACE), data, PROTO, seed=0)
    return m


@pytest.fixture(scope="module")
def lut_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_lut(tmp_path_factory.mktemp("lut") / "lut.json")


def test_expected_latency_is_the_lut_prediction_of_a_one_hot_and_differentiable(
        lut_path: Path) -> None:
    m = make("proxylessnas", latency_lut=str(lut_path), latency_weight=0.1,
             candidates="k3e3,k5e6,k7e6")
    sp = get_space(SPACE)
    arch = sp.parse("k5e6-k3e3|k7e6-k3e3-k3e3|k3e3-k3e3-k3e3-k3e3|k5e6-k5e6|k7e6-k7e6-k7e6")
    onehot = torch.zeros(m.mask.shape)
    for s, k in enumerate(sp.decision_indices(arch)):
        onehot[s, k] = 1.0
    assert float(m.expected_latency(onehot)) == pytest.approx(m.lut.predict(arch), rel=1e-6)
    with torch.no_grad():
        m.logits.normal_(generator=torch.Generator().manual_seed(1))
    p = m.probs()
    e = m.expected_latency(p)
    (g,) = torch.autograd.grad(e, m.logits)
    # d E / d alpha_k = p_k (lat_k - sum_j p_j lat_j) per slot; masked options get nothing
    pd, t = p.detach(), m.lat_table
    want = pd * (t - (pd * t).sum(1, keepdim=True))
    assert torch.allclose(g, want, atol=1e-6)
    assert float(g[~m.mask].abs().sum()) == 0.0 and float(pd[~m.mask].sum()) == 0.0


def test_binary_gates_sample_paths_by_their_probabilities() -> None:
    m = make("proxylessnas", candidates="k3e3,k5e6,k7e6")
    with torch.no_grad():
        m.logits[0, 0] = 1.0          # slot 0: k3e3 e / (e + 2)
        m.logits[2, 9] = 2.0          # slot 2: skip
    p = m.probs().detach()
    counts = np.zeros(m.mask.shape)
    n = 800
    for _ in range(n):
        for s, k in enumerate(m.sample_path()):
            counts[s, k] += 1
    assert counts[~m.mask.numpy()].sum() == 0
    assert np.abs(counts / n - p.numpy()).max() < 0.055
    assert p[0, 0] == pytest.approx(math.e / (math.e + 2), rel=1e-6)


def test_arch_step_is_the_papers_two_path_estimate_and_keeps_other_paths() -> None:
    m = make("proxylessnas", candidates="k3e3,k5e6,k7e6")
    with torch.no_grad():
        m.logits.normal_(0, 0.5, generator=torch.Generator().manual_seed(2))
    before = m.logits.detach().clone()
    p_before = m.probs().detach()
    state = m.sample_gen.get_state()
    xv, yv = m.val_batch()
    m.arch_step(xv, yv)
    after = m.logits.detach()
    changed = (after != before) & m.mask
    # exactly two options per slot took the step (the two sampled paths) ...
    assert (changed.sum(1) == 2).all()
    # ... and the probability mass of the others is what it was (the paper's rescaling)
    p_after = m.probs().detach()
    keep = ~changed & m.mask
    assert torch.allclose(p_after[keep], p_before[keep], atol=1e-6)
    # the pairs are re-drawn the same way from the same generator state
    m.sample_gen.set_state(state)
    pairs = torch.multinomial(p_before, 2, replacement=False, generator=m.sample_gen)
    assert all(set(torch.nonzero(changed[s]).flatten().tolist()) == set(pairs[s].tolist())
               for s in range(len(pairs)))


def test_two_path_gradient_estimate_formula() -> None:
    """dL/dalpha_i = sum_j dL/dg_j q_j (delta_ij - q_i) is the gradient of the expected loss
    sum_j q_j L_j of the two-path model when dL/dg_j = L_j."""
    a = torch.tensor([0.3, -0.4], requires_grad=True)
    losses = torch.tensor([1.7, 0.2])
    q = torch.softmax(a, 0)
    (exact,) = torch.autograd.grad((q * losses).sum(), a)
    qd = q.detach()
    est = qd * (losses - (losses * qd).sum())
    assert torch.allclose(exact, est)


def test_gumbel_softmax_samples_follow_the_distribution_and_anneal() -> None:
    m = make("fbnet", candidates="k3e3,k5e6,k7e6")
    with torch.no_grad():
        m.logits[0, 0] = 1.5
    p = m.probs().detach()
    n = 800
    hits = np.zeros(m.mask.shape)
    for _ in range(n):
        s = m.gumbel(1.0).detach()
        hits[np.arange(len(s)), s.argmax(1).numpy()] += 1
        assert float(s[~m.mask].abs().sum()) == 0.0
        assert torch.allclose(s.sum(1), torch.ones(len(s)))
    assert np.abs(hits / n - p.numpy()).max() < 0.055      # the Gumbel-max trick
    # a low temperature gives nearly one-hot samples, a high one nearly uniform ones
    cold = torch.stack([m.gumbel(0.05).detach().max(1).values for _ in range(30)])
    hot = torch.stack([m.gumbel(50.0).detach().max(1).values for _ in range(30)])
    assert float(cold.mean()) > 0.95 and float(hot.mean()) < 0.5
    assert m.temperature(0) == 5.0 and m.temperature(10) == pytest.approx(5 * 0.956 ** 10)


def test_fbnet_loss_is_ce_alpha_log_lat_beta(lut_path: Path) -> None:
    m = make("fbnet", latency_lut=str(lut_path), latency_weight=0.6)
    p = m.probs()
    ce = torch.tensor(2.0)
    lat = float(m.expected_latency(p.detach()))
    assert float(m.fbnet_loss(ce, p).detach()) == pytest.approx(2.0 * 0.2 * math.log(lat) ** 0.6, rel=1e-5)
    (g,) = torch.autograd.grad(m.fbnet_loss(ce, p), m.logits)
    assert torch.isfinite(g).all() and float(g.abs().sum()) > 0
    m0 = make("fbnet")
    assert float(m0.fbnet_loss(ce, m0.probs())) == pytest.approx(0.4)


def test_latency_targets_need_a_lut_of_this_device_and_protocol(tmp_path: Path,
                                                                 lut_path: Path) -> None:
    for name in ("proxylessnas", "fbnet"):
        with pytest.raises(ConfigError, match="needs a latency LUT of this device"):
            registry.create("oneshot", name, latency_weight=0.5)
    other = dict(current_fingerprint(threads=1, backend="torch"), cpu_model="Elsewhere 9000")
    with pytest.raises(ConfigError, match="was not built here"):
        make("proxylessnas", latency_lut=str(synthetic_lut(tmp_path / "o.json", device=other)),
             latency_weight=0.1)
    with pytest.raises(ConfigError, match="other networks than the run's"):
        make("proxylessnas", latency_lut=str(synthetic_lut(tmp_path / "w.json", C=8)),
             latency_weight=0.1)
    with pytest.raises(ConfigError, match="image_size"):
        make("fbnet", latency_lut=str(synthetic_lut(tmp_path / "s.json", image_size=16)))
    with pytest.raises(ConfigError, match="block space"):
        registry.create("oneshot", "proxylessnas").setup(
            get_space("nb201"), load_dataset("digits", **DATA_KW), PROTO, seed=0)
    with pytest.raises(ConfigError, match="candidates"):
        make("fbnet", candidates="k3e3,k9e9")


@pytest.mark.slow
@pytest.mark.parametrize("name, weight", [("proxylessnas", 3.0), ("fbnet", 20.0)])
def test_a_latency_weight_moves_the_search_to_faster_networks(name: str, weight: float,
                                                              lut_path: Path) -> None:
    """Same seed, same data: with a strong latency term the derived net's LUT latency (and the
    expected latency) is below the run without one."""
    out = {}
    for w in (0.0, weight):
        m = make(name, latency_lut=str(lut_path), latency_weight=w, warmup_epochs=0,
                 candidates="k3e3,k7e6", arch_lr=0.1)
        metrics = m.train_epoch(0)   # one weight step and one architecture step
        out[w] = (m.lut.predict(m.derive()[0]), metrics["expected_latency_ms"])
    assert out[weight][0] < out[0.0][0] and out[weight][1] < out[0.0][1]
