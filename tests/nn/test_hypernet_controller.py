"""SMASH's hypernetwork attached to a supernet (generated weights everywhere a single path runs,
exact extraction, checkpoints) and ENAS's LSTM controller (seeded draws, REINFORCE terms)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from naslab.errors import ConfigError  # noqa: E402
from naslab.nn.controller import build_controller  # noqa: E402
from naslab.nn.hypernet import ArchHyperNet  # noqa: E402
from naslab.nn.init import materialize  # noqa: E402
from naslab.nn.supernet import CellSupernet, load_supernet, read_checkpoint  # noqa: E402
from naslab.nn.supernets import build_supernet  # noqa: E402
from naslab.spaces import DEFAULT_SPACE  # noqa: E402
from naslab.spaces.base import get_space  # noqa: E402

SPACE = get_space(DEFAULT_SPACE)


def _smash(seed: int = 0, **kw: int) -> CellSupernet:
    g = torch.Generator().manual_seed(seed)
    net = build_supernet(SPACE, C=4, N=1, num_classes=7, in_channels=3, generator=g)
    net.attach_hypernet(materialize(lambda: ArchHyperNet(net, embed_dim=kw.get("embed_dim", 6),
                                                         hidden=8), g))
    return net


def _x(n: int = 5) -> torch.Tensor:
    return torch.randn(n, 3, 8, 8, generator=torch.Generator().manual_seed(1))


def test_generated_weights_depend_on_the_architecture_and_are_trained() -> None:
    net = _smash()
    h = net.hypernet
    assert h is not None
    conv = net.op_names.index("nor_conv_3x3")
    a = SPACE.from_decision_indices([conv] * len(SPACE.decisions))
    b = SPACE.from_decision_indices([conv] * (len(SPACE.decisions) - 1) + [0])
    ga, gb = (h.generate([net.arch_to_path(x)] * net.n_cells) for x in (a, b))
    assert set(ga) == set(net.generated_shapes(a))  # every conv on the path, nothing else
    for key, named in ga.items():
        for name, w in named.items():
            assert w.shape == net.generated_shapes(a)[key][name]
    shared = (0, 0)  # edge 0 runs a conv in both archs, with other weights for each
    assert not torch.allclose(ga[shared]["op.1.weight"], gb[shared]["op.1.weight"])
    # the forward uses them: the ops' own conv weights play no part
    x = _x()
    net.eval()
    y = net(x, arch=a)
    with torch.no_grad():
        for cell in net.search_cells:
            for edge in cell.edges:
                for op in edge.ops:
                    for m in op.modules():
                        if isinstance(m, torch.nn.Conv2d):
                            m.weight.mul_(0.0)
    torch.testing.assert_close(net(x, arch=a), y)
    y.sum().backward()
    assert all(p.grad is not None for p in h.encoder.parameters())
    bad: Any = torch.nn.Linear(2, 2)
    with pytest.raises(ConfigError, match="ArchHyperNet"):
        net.attach_hypernet(bad)


def test_extract_copies_generated_weights_and_checkpoints_round_trip(tmp_path) -> None:  # noqa: ANN001
    net = _smash(seed=3)
    rng = np.random.default_rng(0)
    x = _x()
    net.recalibrate_bn(net.sample_arch(rng), [x * 2 + 1, x])
    for _ in range(4):
        a = net.sample_arch(rng)
        net.eval()
        torch.testing.assert_close(net.extract(a).eval()(x), net(x, arch=a))
    path = net.save(tmp_path / "smash.pt", meta={"data": {"dataset": "digits"}})
    assert read_checkpoint(path)["config"]["hypernet"] == {"kind": "smash-linear",
                                                           "embed_dim": 6, "hidden": 8}
    back, meta = load_supernet(path)
    back.eval()
    torch.testing.assert_close(back(x, arch=a), net(x, arch=a))
    assert meta == {"data": {"dataset": "digits"}}
    plain = build_supernet(SPACE, C=4, N=1, num_classes=7, in_channels=3,
                           generator=torch.Generator().manual_seed(0))
    with pytest.raises(ConfigError, match="hypernet"):
        plain.load(path)  # a plain supernet is not the SMASH one


def test_controller_is_seeded_and_gives_reinforce_terms() -> None:
    sizes = [d.size for d in SPACE.decisions]
    state = torch.random.get_rng_state()
    c1 = build_controller(sizes, generator=torch.Generator().manual_seed(0))
    c2 = build_controller(sizes, generator=torch.Generator().manual_seed(0))
    assert torch.equal(state, torch.random.get_rng_state())  # global RNG untouched
    assert all(torch.equal(p, q) for p, q in zip(c1.parameters(), c2.parameters()))
    assert all(float(p.detach().abs().max()) <= 0.1 for p in c1.parameters())
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    d1 = [c1.sample(g1)[0] for _ in range(20)]
    assert d1 == [c2.sample(g2)[0] for _ in range(20)]
    assert len({tuple(d) for d in d1}) > 1
    choices, logp, ent = c1.sample(torch.Generator().manual_seed(1))
    assert len(choices) == len(sizes) and all(0 <= k < s for k, s in zip(choices, sizes))
    # near-uniform at initialisation: entropy close to sum of log(sizes)
    assert 0.9 * sum(np.log(sizes)) < float(ent.detach()) <= sum(np.log(sizes)) + 1e-5
    (-logp).backward()
    assert all(p.grad is not None for p in c1.heads.parameters())
    greedy = c1.greedy()
    assert greedy == c1.greedy() and len(greedy) == len(sizes)
    probs = c1.probabilities()
    assert [int(np.argmax(p)) for p in probs] == greedy
