"""The NB201 supernet: exact weight inheritance, forward modes, sampling, BN recalibration and
checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from naslab.errors import ConfigError, DataError, InvalidArchitectureError  # noqa: E402
from naslab.nn.nb201 import NB201Network  # noqa: E402
from naslab.nn.supernet import (CellSupernet, SearchCell, load_supernet,  # noqa: E402
                                read_checkpoint)
from naslab.nn.supernets import build_supernet, supernet_spaces  # noqa: E402
from naslab.spaces import DEFAULT_SPACE  # noqa: E402
from naslab.spaces.base import get_space  # noqa: E402

SPACE = get_space(DEFAULT_SPACE)
OPTS = {"C": 4, "N": 1, "num_classes": 7, "in_channels": 3}


def _supernet(seed: int = 0, **kw: object) -> CellSupernet:
    g = torch.Generator().manual_seed(seed)
    return build_supernet(SPACE, generator=g, **{**OPTS, **kw})


def _x(n: int = 6, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, 3, 8, 8, generator=torch.Generator().manual_seed(seed))


def _special_archs() -> list:
    ops = SPACE.graph_spec.ops
    k = {o: ops.index(o) for o in ops}
    E = len(SPACE.decisions)
    specials = [[k["none"]] * E, [k["skip_connect"]] * E, [k["nor_conv_3x3"]] * E]
    mixed = [k["none"], k["skip_connect"]] * (E // 2) + [k["none"]] * (E % 2)
    specials.append(mixed)
    return [SPACE.from_decision_indices(s) for s in specials]


def test_registry_lists_the_supernet_builder() -> None:
    assert DEFAULT_SPACE in supernet_spaces()
    with pytest.raises(ConfigError, match="no supernet builder"):
        build_supernet("no-such-space")
    with pytest.raises(ConfigError, match="no option"):
        build_supernet(SPACE, width=3)
    with pytest.raises(ConfigError, match="bn must be one of"):
        build_supernet(SPACE, bn="frozen")


def test_every_edge_holds_every_candidate_op() -> None:
    net = _supernet()
    spec = SPACE.graph_spec
    assert net.n_cells == 3 * OPTS["N"]
    for cell in net.search_cells:
        assert len(cell.edges) == len(spec.edges)
        for edge in cell.edges:
            assert edge.op_names == spec.ops and len(edge.ops) == len(spec.ops)


def test_exact_inheritance_on_random_and_degenerate_archs() -> None:
    """Single-path forward of arch a == build_network(a) with the supernet's weights copied
    in, in eval and train mode, on many random archs and ones with none / skip edges."""
    net = _supernet(seed=3)
    rng = np.random.default_rng(0)
    archs = _special_archs() + [net.sample_arch(rng) for _ in range(25)]
    x = _x()
    # give running statistics non-trivial values first, so eval mode really uses them
    with torch.no_grad():
        net.train()
        for a in archs[:6]:
            net(x * 2 + 1, arch=a)
    ptrs = {q.data_ptr() for q in net.parameters()}
    for a in archs:
        sa = net.extract(a)
        assert isinstance(sa, NB201Network) and sa.arch == a
        assert not any(p.data_ptr() in ptrs for p in sa.parameters())  # copied, not shared
        for mode in (False, True):
            net.train(mode)
            sa.train(mode)
            with torch.no_grad():
                y_net = net(x, arch=a)
                y_sa = sa(x)
            torch.testing.assert_close(y_net, y_sa, rtol=1e-6, atol=1e-6)
        # train mode updated both networks' running statistics identically
        sd = net.standalone_state_dict(a)
        for k, v in sa.state_dict().items():
            torch.testing.assert_close(v, sd[k], rtol=1e-6, atol=1e-6)


def test_weighted_forward_and_one_hot_equal_single_path() -> None:
    net = _supernet(seed=1).eval()
    rng = np.random.default_rng(1)
    a = net.sample_arch(rng)
    path = net.arch_to_path(a)
    x = _x()
    onehot = torch.zeros(net.alpha_shape())
    onehot[torch.arange(net.n_edges), torch.tensor(path)] = 1.0
    with torch.no_grad():
        torch.testing.assert_close(net(x, weights=onehot), net(x, arch=a))
        torch.testing.assert_close(net(x, path=path), net(x, arch=a))
    # a soft mixture is the weighted sum of the ops on every edge
    w = torch.softmax(torch.randn(net.alpha_shape(), generator=torch.Generator().manual_seed(2)), -1)
    cell = net.search_cells[0]
    h = torch.randn(2, OPTS["C"], 8, 8, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        got = cell.edges[0].weighted(h, w[0])
        want = sum(w[0, k] * cell.edges[0].ops[k](h) for k in range(len(net.op_names)))
    torch.testing.assert_close(got, want)
    assert net(x, weights=w).shape == (6, OPTS["num_classes"])
    assert net.arch_from_weights(onehot) == a


def test_gdas_hard_weights_compute_one_op_and_pass_gradients_to_every_logit() -> None:
    net = _supernet(seed=1).train()
    conv = net.op_names.index("nor_conv_3x3")  # argmax on every edge: every edge matters
    logits = 0.1 * torch.randn(net.alpha_shape(), generator=torch.Generator().manual_seed(5))
    logits[:, conv] += 3.0
    alpha = logits.requires_grad_()
    soft = torch.softmax(alpha, -1)
    idx = soft.argmax(-1)
    hard = torch.zeros_like(soft).scatter_(-1, idx[:, None], 1.0)
    weights = hard - soft.detach() + soft
    calls = {}

    def hook(name: str):  # noqa: ANN202
        def f(_m, _i, _o) -> None:  # noqa: ANN001
            calls[name] = calls.get(name, 0) + 1
        return f

    edge = net.search_cells[0].edges[0]
    for k, op in enumerate(edge.ops):
        op.register_forward_hook(hook(str(k)))
    net(_x(), weights=weights).logsumexp(1).mean().backward()
    assert calls == {str(conv): 1}  # only the chosen op of edge 0 ran
    assert alpha.grad is not None and (alpha.grad != 0).all()


def test_per_cell_choices() -> None:
    net = _supernet(seed=2).eval()
    rng = np.random.default_rng(3)
    a = net.sample_arch(rng)
    x = _x()
    with torch.no_grad():
        torch.testing.assert_close(net(x, arch=[a] * net.n_cells), net(x, arch=a))
        archs = net.sample_archs(rng)
        y = net(x, arch=archs)
        w = torch.zeros(net.alpha_shape(per_cell=True))
        for c, b in enumerate(archs):
            w[c, torch.arange(net.n_edges), torch.tensor(net.arch_to_path(b))] = 1.0
        torch.testing.assert_close(net(x, weights=w), y)
        assert net.arch_from_weights(w) == archs
    with pytest.raises(ConfigError, match="per cell needs"):
        net(x, arch=[a, a])
    with pytest.raises(ConfigError, match="exactly one"):
        net(x)
    with pytest.raises(ConfigError, match="weights must have shape"):
        net(x, weights=torch.ones(2, 2))
    with pytest.raises(InvalidArchitectureError):
        net.path_to_arch([99] * net.n_edges)


def test_generated_weights_replace_the_chosen_ops_parameters() -> None:
    """SMASH's hook: per (cell, edge) tensors replace the op's conv weights in that forward,
    and gradients reach them."""
    net = _supernet(seed=4).eval()
    ops = net.op_names
    conv = ops.index("nor_conv_3x3")
    a = SPACE.from_decision_indices([conv] * net.n_edges)
    shapes = net.generated_shapes(a)
    assert len(shapes) == net.n_cells * net.n_edges
    x = _x()
    own = {}
    for (c, e), named in shapes.items():
        op = net.search_cells[c].edges[e].ops[conv]
        own[(c, e)] = {n: op.get_parameter(n).detach().clone() for n in named}
    with torch.no_grad():
        torch.testing.assert_close(net(x, arch=a, generated=own), net(x, arch=a))
    gen = {k: {n: (t * 0.5).requires_grad_() for n, t in v.items()} for k, v in own.items()}
    y = net(x, arch=a, generated=gen)
    with torch.no_grad():
        assert not torch.allclose(y, net(x, arch=a))
    y.sum().backward()
    assert all(t.grad is not None and t.grad.abs().sum() > 0
               for v in gen.values() for t in v.values())
    with pytest.raises(ConfigError, match="single path"):
        net(x, weights=torch.ones(net.alpha_shape()), generated=own)
    with pytest.raises(ConfigError, match="must be \\(cell, edge\\)"):
        net(x, arch=a, generated={(99, 0): {}})


def test_uniform_single_path_sampling_chi_square() -> None:
    from scipy import stats

    net = _supernet()
    rng = np.random.default_rng(7)
    n = 1500
    counts = np.zeros((net.n_edges, len(net.op_names)))
    for _ in range(n):
        for e, k in enumerate(net.arch_to_path(net.sample_arch(rng))):
            counts[e, k] += 1
    for e in range(net.n_edges):
        p = stats.chisquare(counts[e]).pvalue
        assert p > 1e-3, (e, counts[e])
    # and it is seeded: same generator seed, same archs
    r1, r2 = np.random.default_rng(11), np.random.default_rng(11)
    assert [net.sample_arch(r1) for _ in range(5)] == [net.sample_arch(r2) for _ in range(5)]


def test_bn_recalibration_changes_statistics_and_is_deterministic() -> None:
    net = _supernet(seed=5)
    rng = np.random.default_rng(2)
    a, b = net.sample_arch(rng), net.sample_arch(rng)
    batches = [_x(8, seed=s) * 3 + 1 for s in range(4)]

    def stats() -> dict:
        return {k: v.clone() for k, v in net.state_dict().items()
                if "running_mean" in k or "running_var" in k}

    before = stats()
    assert net.recalibrate_bn(a, batches) == 4
    assert not net.training
    after = stats()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    stem = "stem.1.running_mean"
    assert not torch.allclose(after[stem], torch.zeros_like(after[stem]))
    # same inputs -> same statistics, even after another arch's recalibration in between
    net.recalibrate_bn(b, batches)
    other = stats()
    net.recalibrate_bn(a, batches)
    again = stats()
    assert all(torch.equal(after[k], again[k]) for k in after)
    assert any(not torch.equal(after[k], other[k]) for k in after)
    # the statistics are the exact average over the batches (stem BN: per-channel mean)
    with torch.no_grad():
        means = torch.stack([net.stem[0](xb).mean(dim=(0, 2, 3)) for xb in batches]).mean(0)
    torch.testing.assert_close(again[stem], means, rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="at least one batch"):
        net.recalibrate_bn(a, [])


def test_search_bn_mode_uses_batch_statistics() -> None:
    net = _supernet(bn="search")
    bns = [m for c in net.search_cells for m in c.modules()
           if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(not m.affine and not m.track_running_stats for m in bns)
    a = net.sample_arch(np.random.default_rng(0))
    assert net(_x(), arch=a).shape == (6, OPTS["num_classes"])
    with pytest.raises(ConfigError, match="bn='standalone'"):
        net.extract(a)


def test_building_is_seeded_and_leaves_the_global_rng_alone() -> None:
    state = torch.random.get_rng_state()
    n1, n2, n3 = _supernet(seed=9), _supernet(seed=9), _supernet(seed=10)
    assert torch.equal(state, torch.random.get_rng_state())
    p1, p2, p3 = (torch.cat([p.flatten() for p in n.parameters()]) for n in (n1, n2, n3))
    assert torch.equal(p1, p2) and not torch.equal(p1, p3)


def test_checkpoint_round_trip_and_refusals(tmp_path) -> None:  # noqa: ANN001
    net = _supernet(seed=6)
    x = _x()
    a = net.sample_arch(np.random.default_rng(4))
    net.train()
    with torch.no_grad():
        net(x, arch=a)  # running statistics != their reset values
    net.eval()
    path = net.save(tmp_path / "sn.pt", meta={"data": {"dataset": "digits"}, "epochs": 3})
    blob = torch.load(path, weights_only=True)  # plain containers and tensors only
    assert blob["config"]["space"] == SPACE.name
    back, meta = load_supernet(path)
    assert meta == {"data": {"dataset": "digits"}, "epochs": 3}
    back.eval()
    with torch.no_grad():
        torch.testing.assert_close(back(x, arch=a), net(x, arch=a), rtol=0, atol=0)
    fresh = _supernet(seed=99)
    assert fresh.load(path) == meta
    with torch.no_grad():
        torch.testing.assert_close(fresh.eval()(x, arch=a), net(x, arch=a), rtol=0, atol=0)
    # another shape: refused, naming the field
    with pytest.raises(ConfigError, match="C: checkpoint 4, expected 6"):
        _supernet(C=6).load(path)
    with pytest.raises(ConfigError, match="num_classes"):
        load_supernet(path, expect={"num_classes": 10})
    # another space: refused
    blob["config"] = {**blob["config"], "space": "other-space"}
    torch.save(blob, tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="space: checkpoint 'other-space'"):
        fresh.load(tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="no supernet builder"):
        load_supernet(tmp_path / "other.pt")
    # not a checkpoint at all
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="not a readable naslab supernet checkpoint"):
        read_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.ones(1)}, tmp_path / "plain.pt")
    with pytest.raises(DataError, match="not a naslab supernet checkpoint"):
        load_supernet(tmp_path / "plain.pt")
    with pytest.raises(DataError, match="does not exist"):
        load_supernet(tmp_path / "missing.pt")


def test_search_cell_rejects_a_graph_with_an_unreachable_node() -> None:
    from naslab.spaces.base import GraphSpec

    spec = GraphSpec(n_nodes=3, edges=((0, 2),), edge_decisions=(0,), ops=("nor_conv_1x1",))
    with pytest.raises(ConfigError, match="node 1 has no incoming edge"):
        SearchCell(spec, 4, 4)
