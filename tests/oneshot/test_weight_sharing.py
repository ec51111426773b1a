"""The weight-sharing methods (SPOS, RS-WS, ENAS, SMASH) beyond the conformance suite:
uniform (and fair) single-path sampling, deterministic evaluation with BN recalibration,
seeds, the search procedures, and the exported supernet read by the supernet estimator."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from naslab import registry  # noqa: E402
from naslab.data import load_dataset  # noqa: E402
from naslab.errors import ConfigError  # noqa: E402
from naslab.nn.protocol import get_protocol  # noqa: E402
from naslab.spaces import DEFAULT_SPACE  # noqa: E402
from naslab.spaces.base import get_space  # noqa: E402

SPACE = get_space(DEFAULT_SPACE)
PROTO = get_protocol("cpu", epochs=2)
FAST: dict[str, dict[str, Any]] = {
    "spos": {"population": 4, "generations": 2, "parents": 2, "mutations": 2, "crossovers": 2,
             "recalibration_batches": 2, "eval_batches": 2},
    "rsws": {"candidates": 4, "eval_batches": 1, "final_candidates": 2},
    "enas": {"controller_steps": 2, "controller_aggregate": 2, "candidates": 4},
    "smash": {"candidates": 4, "recalibration_batches": 2, "eval_batches": 2, "embed_dim": 4,
              "hidden": 8},
}


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Any:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def data() -> Any:
    return load_dataset("digits", n_train=192, n_val=96)


def _method(name: str, data: Any, seed: int = 0, **kw: Any) -> Any:
    m = registry.create("oneshot", name, **{**FAST[name], **kw})
    m.setup(SPACE, data, PROTO, seed=seed)
    return m


@pytest.mark.slow
def test_spos_samples_paths_uniformly_and_fair_sampling_trains_every_option_equally(
        data: Any) -> None:
    from scipy import stats

    m = _method("spos", data)
    n = 1500
    counts = np.zeros((len(m.sizes), max(m.sizes)))
    for _ in range(n):
        for d, k in enumerate(SPACE.decision_indices(m.uniform_arch(m.rng))):
            counts[d, k] += 1
    for d, s in enumerate(m.sizes):
        assert stats.chisquare(counts[d, :s]).pvalue > 1e-3, counts[d]
    # what training really ran: one path per step, every decision counted once per step
    m.train_epoch(0)
    steps = int(np.ceil(len(data.y_train) / PROTO.batch_size))
    assert (m.counts.sum(axis=1) == steps).all()
    fair = _method("spos", data, sampling="fair")
    fair.train_epoch(0)
    assert (fair.counts[:, :max(fair.sizes)] == steps).all()  # each option once per step
    assert fair.diagnostics()["op_counts"][0] == [steps] * fair.sizes[0]


@pytest.mark.parametrize("name", ["spos", "smash"])
def test_evaluation_recalibrates_bn_and_is_deterministic(name: str, data: Any) -> None:
    m = _method(name, data, recalibration_batches=3)
    m.train_epoch(0)
    rng = np.random.default_rng(3)
    a, b = m.uniform_arch(rng), m.uniform_arch(rng)

    def running() -> dict[str, torch.Tensor]:
        return {k: v.clone() for k, v in m.net.state_dict().items() if "running_mean" in k}

    before = running()
    first = m.evaluate(a)
    after_a = running()
    assert any(not torch.equal(before[k], after_a[k]) for k in before)
    m.evaluate(b)
    assert m.evaluate(a) == first
    assert all(torch.equal(after_a[k], v) for k, v in running().items())
    assert 0.0 <= first <= 100.0 and m.net.training  # evaluation leaves train mode on


def test_other_seed_other_supernet_and_trace(data: Any) -> None:
    m0, m0b, m1 = (_method("rsws", data, seed=s) for s in (0, 0, 1))
    r0, r0b, r1 = (m.train_epoch(0) for m in (m0, m0b, m1))
    assert r0 == r0b and r0 != r1
    w = [torch.cat([p.detach().flatten() for p in m.net.parameters()]) for m in (m0, m0b, m1)]
    assert torch.equal(w[0], w[1]) and not torch.equal(w[0], w[2])


@pytest.mark.slow
def test_spos_evolution_scores_each_candidate_once_and_returns_the_best(data: Any) -> None:
    m = _method("spos", data, population=4, generations=3, parents=2, mutations=2,
                crossovers=2, top_k=3, eval_batches=1)
    m.train_epoch(0)
    best = m.search()
    log = m.search_info()
    scored = dict((a, v) for a, v in log["scored"])
    assert len(scored) == len(log["scored"]) == log["evaluations"]  # no candidate twice
    assert 4 < log["evaluations"] <= 4 * 3 and len(log["generations"]) == 3
    values = sorted(scored.values(), reverse=True)
    assert [scored[str(a)] for a in best] == values[:3]
    assert m.search() == best  # the search depends on the trained state only


def test_random_search_two_stages_and_enas_controller_learns(data: Any) -> None:
    m = _method("rsws", data, candidates=6, eval_batches=1, final_candidates=3)
    m.train_epoch(0)
    best = m.search()[0]
    log = m.search_info()
    assert log["candidates"] == 6 and len(log["final_stage"]) == 3
    assert str(best) == max(log["final_stage"], key=lambda r: r[1])[0]
    e = _method("enas", data, controller_steps=4, controller_aggregate=3)
    before = [p.detach().clone() for p in e.controller.parameters()]
    rec = e.train_epoch(0)
    assert {"val_acc", "reward", "entropy", "baseline"} <= set(rec)
    assert any(not torch.equal(p, q) for p, q in zip(before, e.controller.parameters()))
    policy = e.diagnostics()["policy"]
    assert len(policy) == len(SPACE.decisions)
    assert all(abs(sum(row) - 1) < 1e-4 for row in policy)
    assert SPACE.validate(e.derive()[0])


@pytest.mark.slow
def test_exported_supernets_are_read_by_the_supernet_estimator(data: Any, tmp_path: Any) -> None:
    from naslab.estimators.supernet import SupernetEstimator
    from naslab.nn.supernet import load_supernet
    from naslab.runner.oneshot import OneShotRun, export_supernet, read_checkpoint
    from naslab.runner.storage import InMemoryStorage
    from naslab.testing.strategies import SyntheticEstimator

    for name in ("spos", "smash"):
        store = InMemoryStorage()
        method = registry.create("oneshot", name, **FAST[name])
        run = OneShotRun(SPACE, method, dataset=data, protocol=PROTO.override(epochs=1),
                         estimator=SyntheticEstimator(), storage=store, experiment_id=name)
        run.run()
        path = export_supernet(store, name, tmp_path / f"{name}.pt")
        net, meta = load_supernet(path)
        assert meta["data"]["dataset"] == "digits" and meta["data"]["n_train"] == 192
        assert meta["data"]["split_seed"] == 0 and meta["run"] == name
        assert (net.hypernet is not None) == (name == "smash")
        a = SPACE.from_decision_indices([3] * len(SPACE.decisions))
        x = torch.from_numpy(np.array(data.x_val[:16]))
        # the checkpoint after the last epoch (the search recalibrated BNs since)
        state = read_checkpoint(store, name)["method"]["supernet"]["state_dict"]
        ref = run.method.net
        ref.load_state_dict(state)
        ref.eval()
        net.eval()
        with torch.no_grad():
            torch.testing.assert_close(net(x, arch=a), ref(x, arch=a))
        est = SupernetEstimator(str(path), recalibration_batches=2, test=False)
        ev = est.evaluate(a)
        assert 0 <= ev.metrics["val_acc"] <= 100 and est.data.sizes["train"] == 192
        assert est.evaluate(a).metrics == ev.metrics
    # a method without a supernet has nothing to export
    store = InMemoryStorage()
    OneShotRun(SPACE, registry.create("oneshot", "random"), dataset=data,
               protocol=PROTO.override(epochs=1), estimator=SyntheticEstimator(), storage=store,
               experiment_id="r").run()
    with pytest.raises(ConfigError, match="keeps no cell supernet"):
        export_supernet(store, "r", tmp_path / "r.pt")


def test_bad_hyper_parameters() -> None:
    for name, kw, msg in [("spos", {"sampling": "greedy"}, "sampling must be"),
                          ("spos", {"population": 1}, "population"),
                          ("spos", {"mutation_prob": 0.0}, "mutation_prob"),
                          ("rsws", {"bn": "frozen"}, "bn must be"),
                          ("enas", {"temperature": 0}, "temperature"),
                          ("smash", {"embed_dim": 0}, "embed_dim"),
                          ("enas", {"lstm": 3}, "lstm_size")]:
        with pytest.raises(ConfigError, match=msg):
            registry.create("oneshot", name, **kw)
    # a space without a supernet builder is refused at setup
    from toy_spaces import ToyCell

    m = registry.create("oneshot", "spos")
    with pytest.raises(ConfigError, match="has no supernet builder"):
        m.check_space(ToyCell())
