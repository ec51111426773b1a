"""The differentiable methods (DARTS 1st / 2nd order, GDAS, DARTS+, RobustDARTS-ES / -L2,
SDARTS-RS / -ADV) beyond the conformance suite: the finite-difference hypergradient against the
exact one, power iteration against eigvalsh, Gumbel hard samples against softmax(alpha),
SDARTS' perturbation bounds, alpha's gradient, the derivation rules, the stopping / L2 rules on
scripted traces, second-order DARTS through the runner (resume), and the CLI + report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from naslab import registry  # noqa: E402
from naslab.data import load_dataset  # noqa: E402
from naslab.errors import ConfigError  # noqa: E402
from naslab.nn.protocol import get_protocol  # noqa: E402
from naslab.oneshot._differentiable import (  # noqa: E402
    dominant_eigenvalue,
    es_fires,
    gumbel_hard_sample,
    unrolled_hypergradient,
)
from naslab.spaces import DEFAULT_SPACE  # noqa: E402
from naslab.spaces.base import get_space  # noqa: E402

SPACE = get_space(DEFAULT_SPACE)
PROTO = get_protocol("cpu", epochs=2)


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Any:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def data() -> Any:
    return load_dataset("digits", n_train=128, n_val=64)


def _method(name: str, data: Any, proto: Any = PROTO, **kw: Any) -> Any:
    m = registry.create("oneshot", name, **kw)
    m.setup(SPACE, data, proto, seed=0)
    return m


def _cos(a: Any, b: Any) -> float:
    a, b = a.reshape(-1).double(), b.reshape(-1).double()
    return float((a @ b) / (a.norm() * b.norm()))


def test_finite_difference_hypergradient_matches_the_exact_one(data: Any) -> None:
    """On a tiny supernet (C=2, float64): the FD-HVP hypergradient and autograd through the
    virtual step agree, and so do their second-order corrections (the part FD approximates).
    The difference step is r=1e-6: at DARTS' r=0.01 the supernet's ReLU kinks and batch-norm
    curvature are within the step on this tiny model (cosine about 0.3-0.5; see
    docs/architecture.md)."""
    m = _method("darts", data, get_protocol("cpu", epochs=1, C=2), order=2)
    m.net.double()
    m.net.train()
    alpha = (0.5 * torch.randn(m.alpha.shape, generator=torch.Generator().manual_seed(1))).double()
    (xt, yt), (xv, yv) = m._data["train"], m._data["val"]
    xt, xv = xt[:32].double(), xv[:32].double()
    yt, yv = yt[:32], yv[:32]
    params = [p.detach() for p in m.w_params]

    def loss(ws: Any, a: Any, split: str) -> Any:
        x, y = (xt, yt) if split == "train" else (xv, yv)
        return m._loss(ws, torch.softmax(a, -1), x, y)[0]

    xi = 0.5  # a large virtual step, so that the second-order term matters
    fd, _ = unrolled_hypergradient(loss, params, alpha, xi, weight_decay=5e-4, r=1e-6)
    exact, _ = unrolled_hypergradient(loss, params, alpha, xi, weight_decay=5e-4, exact=True)
    # the first-order part: dL_val(w')/dalpha at the virtual weights
    w = [p.detach().requires_grad_(True) for p in params]
    gw = torch.autograd.grad(loss(w, alpha, "train"), w)
    w1 = [(p - xi * (g + 5e-4 * p)).detach() for p, g in zip(w, gw)]
    a = alpha.clone().requires_grad_(True)
    (first,) = torch.autograd.grad(loss(w1, a, "val"), [a])
    assert _cos(fd, exact) >= 0.99
    corr_fd, corr_exact = fd - first, exact - first
    assert float(corr_exact.norm()) > 0.05 * float(first.norm())  # the correction is not noise
    assert _cos(corr_fd, corr_exact) >= 0.99


def test_power_iteration_matches_eigvalsh() -> None:
    g = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(12, 12, generator=g, dtype=torch.float64))
    lam = torch.tensor([5.0, 3.5, 2.0, 1.0, 0.5, 0.2, 0.1, -0.3, -0.5, -1.0, -1.5, -2.0],
                       dtype=torch.float64)
    A = q @ torch.diag(lam) @ q.T
    val, iters = dominant_eigenvalue(lambda v: A @ v.reshape(-1), (12,), generator=g,
                                     iters=200, tol=1e-8, dtype=torch.float64)
    top = float(torch.linalg.eigvalsh(A)[-1])
    assert abs(val - top) <= 0.01 * abs(top) and iters < 200


def test_method_hessian_eigenvalue_matches_the_explicit_hessian(data: Any) -> None:
    m = _method("darts", data, get_protocol("cpu", epochs=1, C=2), eig_batches=1)
    m.net.double()
    with torch.no_grad():
        m.alpha.data = (torch.randn(m.alpha.shape, generator=torch.Generator().manual_seed(2))
                        ).double()
    m._eig_data = [(x.double(), y) for x, y in m._eig_data]
    x, y = m._eig_data[0]

    def f(a: Any) -> Any:
        return m._loss(None, torch.softmax(a, -1), x, y)[0]

    H = torch.autograd.functional.hessian(f, m.alpha.detach()).reshape(m.alpha.numel(), -1)
    ev = torch.linalg.eigvalsh((H + H.T) / 2)
    dominant = float(ev[ev.abs().argmax()])
    val, _ = m.hessian_eigenvalue(0, iters=500, tol=1e-9)
    assert abs(val - dominant) <= 0.01 * abs(dominant)


def test_gumbel_hard_samples_follow_softmax_alpha() -> None:
    from scipy import stats

    alpha = torch.tensor([[1.0, 0.0, -1.0, 0.5, 2.0], [0.0, 0.0, 0.0, 0.0, 0.0],
                          [-2.0, 1.0, 1.0, 0.0, -0.5]])
    p = torch.softmax(alpha.double(), -1).numpy()
    g = torch.Generator().manual_seed(3)
    n = 4000
    for tau in (10.0, 0.1):
        counts = np.zeros(alpha.shape)
        for _ in range(n):
            w, idx = gumbel_hard_sample(alpha, tau, g)
            counts[np.arange(3), idx.numpy()] += 1
        for row in range(3):
            expected = p[row] / p[row].sum() * counts[row].sum()
            assert stats.chisquare(counts[row], expected).pvalue > 1e-3, (tau, row)
    # one-hot values with the soft sample's gradient
    a = alpha.clone().requires_grad_(True)
    w, idx = gumbel_hard_sample(a, 1.0, g)
    assert torch.equal(w.detach().sum(-1), torch.ones(3))
    assert set(w.detach().unique().tolist()) <= {0.0, 1.0}
    (w * torch.arange(5.0)).sum().backward()
    assert a.grad is not None and float(a.grad.abs().sum()) > 0


def test_sdarts_perturbations_stay_within_eps(data: Any) -> None:
    from naslab.oneshot.sdarts_adv import pgd_perturbation
    from naslab.oneshot.sdarts_rs import random_perturbation

    g = torch.Generator().manual_seed(4)
    w = torch.softmax(torch.randn(6, 5, generator=g), -1)
    deltas = torch.stack([random_perturbation(w, 0.1, g) - w for _ in range(200)])
    assert float(deltas.abs().max()) <= 0.1 + 1e-7
    assert float(deltas.max()) > 0.09 and float(deltas.min()) < -0.09  # uniform over [-eps, eps]
    m = _method("sdarts-adv", data, attack_steps=3)
    xb, yb = m._data["train"][0][:32], m._data["train"][1][:32]
    w0 = torch.softmax(m.alpha.detach(), -1)

    def loss(ww: Any) -> Any:
        return m._loss(None, ww, xb, yb)[0]

    wa = pgd_perturbation(loss, w0, 0.2, 3, 0.1, g)
    assert float((wa - w0).abs().max()) <= 0.2 + 1e-6
    assert float(wa.min()) >= 0.0 and float(wa.max()) <= 1.0
    with torch.no_grad():
        assert float(loss(wa)) > float(loss(w0))  # the attack raises the training loss
    m.begin_epoch(0)
    wt = m.train_weights_of(0, xb, yb)
    assert float((wt - w0).abs().max()) <= m.eps + 1e-6


def test_alpha_receives_gradients_and_moves(data: Any) -> None:
    for name, kw in (("darts", {}), ("darts", {"order": 2}), ("gdas", {})):
        m = _method(name, data, **kw)
        a0 = m.alpha.detach().clone()
        (xt, yt), (xv, yv) = m._data["train"], m._data["val"]
        m.begin_epoch(0)
        m.arch_step(0, xt[:32], yt[:32], xv[:32], yv[:32], 0.025)
        assert m.alpha.grad is not None and float(m.alpha.grad.abs().sum()) > 0, (name, kw)
        assert not torch.equal(m.alpha.detach(), a0), (name, kw)


def test_derivation_rules(data: Any) -> None:
    m = _method("darts", data)
    ops = list(m.net.op_names)
    a = torch.zeros(m.alpha.shape)
    a[:, ops.index("nor_conv_3x3")] = 1.0
    a[0, ops.index("none")] = 2.0
    a[1, ops.index("skip_connect")] = 3.0
    with torch.no_grad():
        m.alpha.copy_(a)
    d = m.diagnostics()
    assert d["derived_ops"][:3] == ["none", "skip_connect", "nor_conv_3x3"]
    assert d["param_free_edges"] == 2 and abs(d["param_free_share"] - 2 / 6) < 1e-12
    assert set(d["param_free_ops"]) == {"none", "skip_connect", "avg_pool_3x3"}
    arch = m.derive()[0]
    assert m.net.arch_to_path(arch) == tuple(int(v) for v in a.argmax(-1))
    m2 = _method("darts", data, derivation="argmax_no_none")
    with torch.no_grad():
        m2.alpha.copy_(a)
    assert m2.diagnostics()["derived_ops"][:2] == ["nor_conv_3x3", "skip_connect"]
    assert abs(sum(d["alpha_softmax"][0]) - 1.0) < 1e-5


def _scripted(m: Any, alpha: Any, epoch: int) -> bool:
    """One scripted epoch: alpha set, the epoch marked trained, the method's rules run."""
    with torch.no_grad():
        m.alpha.copy_(alpha)
    m.derived_history.append(m.arch_state(m.derive()[0]))
    m._trained = epoch
    return bool(m.should_stop())


def test_darts_plus_stops_when_its_criterion_fires(data: Any) -> None:
    m = _method("darts-plus", data, max_skips=2, eig_every=0)
    ops = list(m.net.op_names)
    a = torch.zeros(m.alpha.shape)
    a[:, ops.index("nor_conv_3x3")] = 1.0
    a1 = a.clone()
    a1[0, ops.index("skip_connect")] = 2.0
    a2 = a1.clone()
    a2[3, ops.index("skip_connect")] = 2.0
    assert [_scripted(m, x, e) for e, x in enumerate([a, a1, a2])] == [False, False, True]
    assert m.diagnostics()["stop_rule_fired"] == "skip"
    assert m.search()[0] == m.derive()[0]
    s = _method("darts-plus", data, stop="stable", patience=2, eig_every=0)
    b = a.clone()
    b[:, ops.index("nor_conv_1x1")] = 2.0  # the learnable ops' order flips
    seq = [a, b, b, a, a, a]  # the ranking of the learnable ops changes, then holds
    assert [_scripted(s, x, e) for e, x in enumerate(seq)][-1] is True
    s2 = _method("darts-plus", data, stop="stable", patience=2, eig_every=0)
    assert not any(_scripted(s2, x, e) for e, x in enumerate([a, b, a, b, a]))
    with pytest.raises(ConfigError, match="stop must be one of"):
        registry.create("oneshot", "darts-plus", stop="never")


def test_rdarts_rules_on_a_scripted_eigenvalue_trace(data: Any, monkeypatch: Any) -> None:
    assert es_fires([1, 1, 1, 2, 2, 2], 3, 0.75)
    assert not es_fires([1, 1, 1, 1.1, 1.1, 1.1], 3, 0.75)
    assert not es_fires([1, 2, 4], 3, 0.75)  # fewer than two windows
    eigs = iter([1.0, 1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 3.0])
    es = _method("rdarts-es", data, window=2)
    monkeypatch.setattr(es, "hessian_eigenvalue", lambda epoch, **kw: (next(eigs), 1))
    g = torch.Generator().manual_seed(5)
    alphas = [torch.randn(es.alpha.shape, generator=g) for _ in range(8)]
    stops = [_scripted(es, x, e) for e, x in enumerate(alphas)]
    assert stops.index(True) == 4  # window means 1 then (1 + 3) / 2: 1 / 2 < 0.75
    assert es.search()[0] == es.arch_from_state(es.derived_history[4 - 2])
    eigs2 = iter([1.0, 1.0, 3.0, 3.0, 3.0, 3.0, 9.0, 9.0])
    l2 = _method("rdarts-l2", data, window=2, factor=10.0)
    monkeypatch.setattr(l2, "hessian_eigenvalue", lambda epoch, **kw: (next(eigs2), 1))
    wd0 = l2.weight_decay
    assert not any(_scripted(l2, x, e) for e, x in enumerate(alphas))  # L2 never stops
    assert l2.raises == [3, 7] and abs(l2.weight_decay - 100 * wd0) < 1e-12


def test_bad_hyper_parameters_name_the_input() -> None:
    for name, kw, match in (("darts", {"order": 3}, "order"),
                            ("darts", {"derivation": "max"}, "derivation"),
                            ("gdas", {"tau_min": 20.0}, "tau_min"),
                            ("sdarts-rs", {"eps_min": 0.5, "eps_max": 0.1}, "eps_min"),
                            ("sdarts-adv", {"attack_steps": 0}, "attack_steps"),
                            ("rdarts-es", {"eig_every": 5}, "eig_every"),
                            ("rdarts-l2", {"ratio": 2.0}, "ratio")):
        with pytest.raises(ConfigError, match=match):
            registry.create("oneshot", name, **kw)


@pytest.mark.slow
def test_second_order_darts_passes_the_conformance_suite() -> None:
    from naslab.testing import check_oneshot

    check_oneshot("darts", params={"order": 2, "eig_every": 1, "eig_iters": 3},
                  protocol_overrides={"C": 4, "batch_size": 32},
                  data_kw={"n_train": 64, "n_val": 32})


@pytest.mark.slow
def test_cli_darts_order_2_json_and_report_with_trajectory(data_dir: Path,
                                                           tmp_path: Path) -> None:
    args = [sys.executable, "-m", "naslab", "oneshot", "--method", "darts", "--order", "2",
            "-m", "eig_every=1", "-m", "eig_iters=3", "--epochs", "2", "-s", "C=4", "-s",
            "batch_size=32", "--data-param", "n_train=64", "--data-param", "n_val=32", "--reference", "auto", "--data-dir",
            str(data_dir), "--no-progress", "--output", "json"]
    p = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["method"] == "darts" and d["method_params"]["order"] == 2 and d["epochs_run"] == 2
    diag = d["trace"][-1]["diagnostics"]
    assert len(diag["alpha_softmax"]) == len(diag["edges"]) and diag["eigenvalue"] is not None
    assert d["trace"][-1]["reference"][0]["test_acc"] > 0
    p = subprocess.run([sys.executable, "-m", "naslab", "report", d["experiment_id"], "--out",
                        "rep"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    manifest = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert "trajectory" in manifest["figures"]
    rows = json.loads((tmp_path / "rep" / "tables" / "trajectory.json").read_text())
    assert [r["epoch"] for r in rows] == [1, 2] and rows[-1]["eigenvalue"] is not None
    bad = subprocess.run([sys.executable, "-m", "naslab", "oneshot", "--method", "gdas",
                          "--order", "2", "--no-progress"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert bad.returncode == 2 and "has no parameter 'order'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_darts_run_exports_its_supernet_for_the_supernet_estimator(data: Any,
                                                                    tmp_path: Path) -> None:
    """A differentiable run keeps a cell supernet: exported, the supernet estimator scores
    single paths of it (the discretisation the method's derived cell goes through)."""
    from naslab.estimators.supernet import SupernetEstimator
    from naslab.nn.supernet import load_supernet
    from naslab.runner.oneshot import OneShotRun, export_supernet, read_checkpoint
    from naslab.runner.storage import InMemoryStorage
    from naslab.testing.strategies import SyntheticEstimator

    store = InMemoryStorage()
    run = OneShotRun(SPACE, registry.create("oneshot", "darts"), dataset=data,
                     protocol=PROTO.override(epochs=1), estimator=SyntheticEstimator(),
                     storage=store, experiment_id="d")
    run.run()
    path = export_supernet(store, "d", tmp_path / "d.pt")
    net, meta = load_supernet(path)
    assert meta["run"] == "d" and meta["epochs_trained"] == 1
    state = read_checkpoint(store, "d")["method"]["supernet"]["state_dict"]
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, state[k])
    est = SupernetEstimator(str(path), recalibration_batches=2, test=False)
    a = SPACE.from_decision_indices([3] * len(SPACE.decisions))
    ev = est.evaluate(a)
    assert 0 <= ev.metrics["val_acc"] <= 100 and est.evaluate(a).metrics == ev.metrics
