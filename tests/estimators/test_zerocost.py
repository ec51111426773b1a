"""Zero-cost proxies: math on small networks with known answers, known NB201 orderings,
determinism, bad input, and synflow's rank correlation on the real NB201 data."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from naslab import registry  # noqa: E402
from naslab.errors import ConfigError, NaslabError  # noqa: E402
from naslab.estimators.zerocost import (  # noqa: E402
    DATA_DEPENDENT,
    PROXY_NAMES,
    ZeroCostEstimator,
    arch_seed,
    score_archs,
)
from naslab.nn import zerocost as zc  # noqa: E402
from naslab.spaces.base import get_space  # noqa: E402

SPACE = get_space("nb201")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():  # type: ignore[no-untyped-def]
    """One torch thread: these small networks gain nothing from more, and on a busy 2-core
    machine intra-op threads contend (grasp ran 20x slower with two threads)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def arch(ops: str):  # type: ignore[no-untyped-def]
    """NB201 arch from 6 op names separated by spaces (official edge order)."""
    o = ops.split()
    return SPACE.parse(f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|")


NONE = arch("none " * 6)
SKIP = arch("skip_connect " * 6)
CONV1 = arch("nor_conv_1x1 " * 6)
CONV3 = arch("nor_conv_3x3 " * 6)
POOL = arch("avg_pool_3x3 " * 6)


# --- the math, on small networks with answers derived by hand -----------------------------

def _mlp(bn: bool = False) -> nn.Module:
    torch.manual_seed(0)
    layers: list[nn.Module] = [nn.Flatten(), nn.Linear(4, 3)]
    if bn:
        layers.append(nn.BatchNorm1d(3))
    layers += [nn.ReLU(), nn.Linear(3, 2)]
    return nn.Sequential(*layers)


def test_synflow_equals_the_path_norm_formula() -> None:
    net = _mlp()
    W1, b1 = net[1].weight.detach().abs().double(), net[1].bias.detach().abs().double()
    W2 = net[3].weight.detach().abs().double()
    # R = 1^T (|W2| (|W1| 1 + |b1|) + |b2|) with an all-ones input of 4 values:
    # dR/dW1[i, j] = sum_k |W2|[k, i];  dR/dW2[k, i] = (|W1| 1 + |b1|)_i
    h = W1.sum(1) + b1
    want = float((W1 * W2.sum(0)[:, None]).sum() + (W2 * h[None, :]).sum())
    assert zc.synflow(net, (1, 2, 2)) == pytest.approx(want, rel=1e-12)
    # BatchNorm is removed: the same weights with a BN layer give the same score
    bn = _mlp(bn=True)
    bn[1].load_state_dict(net[1].state_dict())
    bn[4].load_state_dict(net[3].state_dict())
    with torch.no_grad():
        bn[2].weight.fill_(5.0)
    assert zc.synflow(bn, (1, 2, 2)) == pytest.approx(want, rel=1e-12)


def test_proxies_leave_the_model_untouched_unless_inplace() -> None:
    net = _mlp(bn=True)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x, y = torch.randn(8, 1, 2, 2), torch.randint(0, 2, (8,))
    zc.synflow(net, (1, 2, 2))
    for name in DATA_DEPENDENT:
        zc.PROXIES[name](net, x, y)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert next(net.parameters()).dtype == torch.float32 and net.training


def _snip_by_masks(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """SNIP as Lee et al. define it: the gradient of the loss w.r.t. multiplicative masks."""
    lin = [m for m in net.modules() if isinstance(m, nn.Linear)]
    masks = [torch.ones_like(m.weight, requires_grad=True) for m in lin]
    h = x.flatten(1)
    h = torch.relu(nn.functional.linear(h, lin[0].weight * masks[0], lin[0].bias))
    out = nn.functional.linear(h, lin[1].weight * masks[1], lin[1].bias)
    g = torch.autograd.grad(nn.functional.cross_entropy(out, y), masks)
    return float(sum(gi.abs().sum() for gi in g))


def test_snip_grad_norm_grasp_match_independent_derivations() -> None:
    net = _mlp()
    torch.manual_seed(1)
    x, y = torch.randn(16, 1, 2, 2), torch.randint(0, 2, (16,))
    assert zc.snip(net, x, y) == pytest.approx(_snip_by_masks(net, x, y), rel=1e-5)

    params = [net[1].weight, net[3].weight]

    def grads(ps: list[torch.Tensor]) -> list[torch.Tensor]:
        return list(torch.autograd.grad(nn.functional.cross_entropy(net(x), y), ps))

    g = grads(params)
    assert zc.grad_norm(net, x, y) == pytest.approx(float(sum(t.norm() for t in g)), rel=1e-5)
    # GraSP: -theta . (H g), with H g by central finite differences of the gradient
    net64 = _mlp().double()
    x64 = x.double()
    p64 = [net64[1].weight, net64[3].weight]

    def g64() -> list[torch.Tensor]:
        return list(torch.autograd.grad(nn.functional.cross_entropy(net64(x64), y), p64))

    g0 = [t.detach().clone() for t in g64()]
    eps = 1e-5
    with torch.no_grad():
        for p, d in zip(p64, g0):
            p.add_(eps * d)
    gp = g64()
    with torch.no_grad():
        for p, d in zip(p64, g0):
            p.sub_(2 * eps * d)
    gm = g64()
    with torch.no_grad():
        for p, d in zip(p64, g0):
            p.add_(eps * d)
    hg = [(a - b) / (2 * eps) for a, b in zip(gp, gm)]
    want = float(sum((-p.detach() * h).sum() for p, h in zip(p64, hg)))
    assert zc.grasp(net64, x64, y) == pytest.approx(want, rel=1e-4, abs=1e-9)


def test_fisher_is_the_channel_saliency_summed_per_weight() -> None:
    net = _mlp()
    torch.manual_seed(2)
    x, y = torch.randn(16, 1, 2, 2), torch.randint(0, 2, (16,))
    acts: list[torch.Tensor] = []

    def keep(_m: nn.Module, _i: object, out: torch.Tensor) -> None:
        out.retain_grad()
        acts.append(out)

    hooks = [m.register_forward_hook(keep) for m in net.modules() if isinstance(m, nn.Linear)]
    nn.functional.cross_entropy(net(x), y).backward()
    for h in hooks:
        h.remove()
    fan_in = [4, 3]
    want = sum(float((0.5 * (a.detach() * a.grad).pow(2).mean(0)).sum()) * f
               for a, f in zip(acts, fan_in))
    net.zero_grad()
    assert zc.fisher(net, x, y) == pytest.approx(want, rel=1e-5)


def test_jacob_cov_of_a_linear_map_has_a_closed_form() -> None:
    # every sample has the same input Jacobian W^T 1: correlation matrix of ones, eigenvalues
    # (n, 0, ..., 0)
    torch.manual_seed(3)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 5))
    n, k = 8, 1e-5
    x, y = torch.randn(n, 3, 2, 2), torch.randint(0, 5, (n,))
    want = -((math.log(n + k) + 1 / (n + k)) + (n - 1) * (math.log(k) + 1 / k))
    assert zc.jacob_cov(net, x, y) == pytest.approx(want, rel=1e-6)


def test_nwot_is_the_log_det_of_the_hamming_kernel() -> None:
    net = nn.Sequential(nn.Flatten(), nn.ReLU(), nn.Linear(6, 2))
    x = torch.tensor([[1., -1, 1, -1, 1, 1], [1, 1, -1, -1, 1, -1], [-1, -1, -1, 1, 1, 1],
                      [1, -1, -1, 1, -1, 1]]).reshape(4, 1, 2, 3)
    c = (x.reshape(4, -1) > 0).double().numpy()
    K = c @ c.T + (1 - c) @ (1 - c).T  # number of positions where two codes agree
    assert zc.nwot(net, x, torch.zeros(4, dtype=torch.long)) == pytest.approx(
        np.linalg.slogdet(K)[1], rel=1e-12)
    # identical codes: a singular kernel, the lowest score
    same = x[:1].repeat(4, 1, 1, 1)
    assert zc.nwot(net, same, torch.zeros(4, dtype=torch.long)) == -math.inf


# --- NB201 networks: known orderings ------------------------------------------------------

@pytest.mark.parametrize("proxy", PROXY_NAMES)
def test_all_none_cell_scores_lowest(proxy: str) -> None:
    kw = {"dataset": "digits", "batch_size": 16} if proxy in DATA_DEPENDENT else {}
    est = registry.create("proxy", proxy, C=8, N=1, **kw)
    scores = {a: est.evaluate(a, seed=0).metrics["score"] for a in (NONE, SKIP, CONV1, CONV3, POOL)}
    others = {a: v for a, v in scores.items() if a != NONE}
    if proxy == "grasp":
        # GraSP is signed (-theta . Hg): the degenerate network's 0 is not a minimum, and
        # an all-skip network scores below it; the convolutions still score above it
        assert scores[NONE] == 0.0 and scores[CONV3] > 0 and scores[CONV1] > 0, scores
    elif proxy in ("params", "flops"):  # skip / pooling cells add nothing to either count
        assert scores[NONE] == scores[SKIP] <= min(others.values()), scores
    else:
        assert all(v > scores[NONE] for v in others.values()), scores


def test_synflow_params_flops_order_convolutions() -> None:
    for proxy in ("synflow", "params", "flops"):
        est = registry.create("proxy", proxy, C=8, N=1)
        s = {a: est.evaluate(a, seed=0).metrics[proxy] for a in (NONE, SKIP, CONV1, CONV3)}
        assert s[CONV3] > s[CONV1] > s[NONE], (proxy, s)
        assert s[CONV3] > s[SKIP] >= s[NONE], (proxy, s)
    assert registry.create("proxy", "synflow", C=8, N=1).evaluate(NONE).metrics["score"] == 0.0


def test_params_and_flops_match_the_benchmark_table(nb201_c10) -> None:  # type: ignore[no-untyped-def]
    est = registry.create("proxy", "params")
    for a in (NONE, CONV3, arch("nor_conv_3x3 skip_connect none avg_pool_3x3 nor_conv_1x1 none")):
        assert est.evaluate(a).metrics["params"] == pytest.approx(
            nb201_c10.query(a, "params_m"), abs=1e-4)


# --- estimator behaviour --------------------------------------------------------------------

def test_same_seed_same_score_other_seed_other_score() -> None:
    mixed = arch("nor_conv_3x3 skip_connect nor_conv_1x1 avg_pool_3x3 nor_conv_3x3 skip_connect")
    for proxy, kw in (("synflow", {}), ("snip", {"dataset": "digits", "batch_size": 16})):
        est = registry.create("proxy", proxy, C=8, N=1, **kw)
        a, b = est.evaluate(mixed, seed=7), est.evaluate(mixed, seed=7)
        c = est.evaluate(mixed, seed=8)
        assert a.metrics == b.metrics and a.metrics != c.metrics
        assert a.cost.wall_s > 0 and a.cost.simulated_s == a.cost.wall_s
        assert a.fidelity is None and a.metrics["score"] == a.metrics[proxy]
    # the thread setting is restored after an evaluation
    torch.set_num_threads(2)
    registry.create("proxy", "synflow", C=4, N=1, num_threads=1).evaluate(mixed)
    assert torch.get_num_threads() == 2
    torch.set_num_threads(1)
    # the global torch RNG is not touched by building networks
    torch.manual_seed(123)
    r1 = torch.rand(1)
    torch.manual_seed(123)
    registry.create("proxy", "synflow", C=4, N=1).evaluate(mixed, seed=1)
    assert torch.equal(torch.rand(1), r1)


def test_network_shape_without_a_dataset() -> None:
    est = ZeroCostEstimator("params", input_shape=(3, 16, 16), num_classes=120)
    net = est.build(CONV3)
    assert net(torch.zeros(2, 3, 16, 16)).shape == (2, 120)
    # the ImageNet16-120 network's classifier is larger than CIFAR-10's: 64 * 110 more weights
    diff = est.evaluate(CONV3).metrics["params"] - ZeroCostEstimator("params").evaluate(
        CONV3).metrics["params"]
    assert diff == pytest.approx((64 + 1) * 110 / 1e6)


def test_data_dependent_batch_is_fixed_by_data_seed() -> None:
    a = ZeroCostEstimator("snip", dataset="digits", batch_size=32, data_seed=0)
    b = ZeroCostEstimator("nwot", dataset="digits", batch_size=32, data_seed=0)
    c = ZeroCostEstimator("snip", dataset="digits", batch_size=32, data_seed=1)
    assert np.array_equal(a.batch()[0], b.batch()[0])
    assert not np.array_equal(a.batch()[0], c.batch()[0])
    assert a.batch()[0].shape == (32, 1, 8, 8) and a.num_classes == 10
    up = ZeroCostEstimator("snip", dataset="digits", channels=3, image_size=16, batch_size=4)
    assert up.input_shape == (3, 16, 16)


def test_runs_inside_an_experiment() -> None:
    from naslab.runner import Experiment, MaxTrials

    est = ZeroCostEstimator("synflow", C=4, N=1)
    res = Experiment(SPACE, registry.create("strategy", "rs"), est, termination=MaxTrials(4),
                     objective="score", seed=0).run()
    assert res.n_trials == 4 and res.best is not None
    assert res.best.objective == max(t.objective for t in res.trials)
    assert res.config["estimator"]["proxy"] == "synflow"
    # the estimator pickles (process / Ray workers)
    import pickle

    est2 = pickle.loads(pickle.dumps(registry.create("proxy", "snip", dataset="digits")))
    assert est2.proxy == "snip" and est2._data is None


@pytest.mark.parametrize("make, match", [
    (lambda: ZeroCostEstimator("synflw"), "unknown zero-cost proxy 'synflw' .*did you mean 'synflow'"),
    (lambda: ZeroCostEstimator("snip"), "needs data"),
    (lambda: ZeroCostEstimator("synflow", channels=3), "reshape a dataset"),
    (lambda: ZeroCostEstimator("snip", dataset="digits", batch_size=1), "batch_size must be >= 2"),
    (lambda: ZeroCostEstimator("synflow", batch_size=0), "batch_size must be a positive integer"),
    (lambda: ZeroCostEstimator("synflow", C=0), "C must be a positive integer"),
    (lambda: ZeroCostEstimator("synflow", input_shape=(3, 30, 30)), "multiples of 4"),
    (lambda: ZeroCostEstimator("synflow", input_shape=32), r"input_shape must be \(channels"),
    (lambda: ZeroCostEstimator("synflow", dataset="digits", num_classes=5), "come from dataset"),
    (lambda: ZeroCostEstimator("synflow", device="tpu"), "device must be"),
    (lambda: ZeroCostEstimator("synflow", num_threads=0), "num_threads must be a positive"),
    (lambda: registry.create("proxy", "synflow", proxy="snip"), "cannot compute proxy 'snip'"),
    (lambda: registry.create("proxy", "synflow", no_such=1), "has no parameter 'no_such'"),
    (lambda: ZeroCostEstimator("synflow").evaluate(NONE, fidelity=12), "no fidelity"),
    (lambda: ZeroCostEstimator("snip", dataset="digits", batch_size=5000).evaluate(NONE),
     r"exceeds the \d+ training images"),
    (lambda: ZeroCostEstimator("snip", dataset="nodata"), "unknown dataset"),
    (lambda: registry.get("proxy", "snipp"), "unknown proxy 'snipp'"),
])
def test_bad_input_raises_clear_errors(make, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NaslabError, match=match):
        make()


def test_other_spaces_are_refused() -> None:
    from naslab.spaces.base import Architecture

    with pytest.raises(ConfigError, match="space"):
        ZeroCostEstimator("synflow").evaluate(Architecture("no_builder_space", (1, 2)))


def test_importing_the_estimator_does_not_import_torch() -> None:
    code = ("import sys, naslab.estimators.zerocost as z, naslab.registry as r; "
            "r.names('proxy'); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_score_archs_caches_and_resumes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    est = ZeroCostEstimator("synflow", C=4, N=1)
    path = tmp_path / "s.jsonl"
    s1, w1 = score_archs(est, [5, 17, 300], seed=3, cache=str(path))
    assert len(path.read_text().splitlines()) == 4
    # scores do not depend on which archs are scored together
    s2, _ = score_archs(est, [300], seed=3)
    assert s2[0] == s1[2]
    assert s1[0] == est.evaluate(SPACE.from_index(5), seed=arch_seed(3, 5)).metrics["score"]
    # a resumed run reads the file back (no new lines for known archs)
    s3, w3 = score_archs(est, [17, 5, 301], seed=3, cache=str(path))
    assert list(s3[:2]) == [s1[1], s1[0]] and list(w3[:2]) == [w1[1], w1[0]]
    assert len(path.read_text().splitlines()) == 5
    with pytest.raises(ConfigError, match="another configuration"):
        score_archs(ZeroCostEstimator("synflow", C=8, N=1), [5], seed=3, cache=str(path))
    with pytest.raises(ConfigError, match="another configuration"):
        score_archs(est, [5], seed=4, cache=str(path))


# --- the published result: synflow ranks NB201 archs (Abdelfattah et al.: rho 0.737) ----------

@pytest.mark.slow
def test_synflow_ranks_nb201_cifar10_archs(nb201_c10) -> None:  # type: ignore[no-untyped-def]
    from naslab.analysis.rank_correlation import rank_correlation

    idx = np.sort(np.random.default_rng(0).choice(len(SPACE), 150, replace=False))
    scores, _ = score_archs(ZeroCostEstimator("synflow"), idx, seed=0)
    c = rank_correlation(scores, nb201_c10.column("test_acc")[idx])
    # all 15,625 archs: rho 0.779, tau 0.582 (docs/benchmarks.md); over random subsets of 150
    # archs rho has a standard deviation of about 0.035
    assert c["spearman"] > 0.65 and c["kendall"] > 0.45, c


def test_score_archs_method_matches_the_module_function(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from naslab.estimators.zerocost import cache_file

    est = registry.create("proxy", "synflow", C=4, N=1)
    archs = [SPACE.from_index(i) for i in (5, 17, 300)]
    want, _ = score_archs(est, [5, 17, 300], seed=3)
    got = est.score_archs(archs, seed=3, space=SPACE)
    assert got.dtype == np.float64 and list(got) == list(want)
    assert not list(tmp_path.iterdir())
    got2 = est.score_archs(archs[::-1], seed=3, space=SPACE, cache_dir=str(tmp_path))
    assert list(got2) == list(want[::-1])
    path = cache_file(tmp_path, est, space=SPACE.name, seed=3)
    assert [p.name for p in tmp_path.iterdir()] == [path.rsplit("/", 1)[-1]]
    assert len(open(path).read().splitlines()) == 4
