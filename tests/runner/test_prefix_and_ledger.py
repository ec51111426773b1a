"""The budget prefix (one function for the replay, comparisons and reports) and the cost ledger."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from naslab import registry
from naslab.runner import (
    Experiment,
    InMemoryStorage,
    MaxSimulatedSeconds,
    MaxTrials,
    MaxWallSeconds,
    Progress,
    SQLiteStorage,
    prefix_length,
)
from naslab.runner.ledger import PHASES, cost_ledger
from naslab.runner.termination import Termination
from naslab.spaces import get_space
from naslab.testing import SyntheticEstimator

SPACE = get_space("nb201")


def _linear(term: Termination, sim: list[float], wall: list[float]) -> int | None:
    """The replay loop as the runner always wrote it."""
    for k in range(len(sim)):
        if term.done(Progress(k, 0, sim[k - 1] if k else 0.0, wall[k])):
            return k
    n = len(sim)
    return n if term.done(Progress(n, 0, sim[-1] if n else 0.0, wall[-1] if n else 0.0)) else None


def test_prefix_length_equals_the_linear_replay() -> None:
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(0, 40))
        sim = np.cumsum(rng.choice([0.0, 1.0, 2.5], n)).tolist()
        wall = np.cumsum(rng.uniform(0, 0.1, n)).tolist()
        rules = [MaxTrials(int(rng.integers(1, 50))), MaxSimulatedSeconds(float(rng.uniform(0.5, 60))),
                 MaxWallSeconds(float(rng.uniform(0.05, 3)))]
        term = rules[int(rng.integers(0, 3))]
        if rng.random() < 0.5:
            term = term | rules[int(rng.integers(0, 3))]
        assert prefix_length(term, sim, wall) == _linear(term, sim, wall)


def test_a_smaller_budget_replays_the_prefix_of_a_cost_budget(tmp_path: Path) -> None:
    st = SQLiteStorage(tmp_path / "p.db")
    exp = Experiment(SPACE, registry.create("strategy", "re"), SyntheticEstimator(),
                     termination=MaxSimulatedSeconds(3000), storage=st, seed=1)
    full = exp.run()
    small = Experiment(SPACE, registry.create("strategy", "re"), SyntheticEstimator(),
                       termination=MaxSimulatedSeconds(1234), storage=st, seed=1).run()
    k = prefix_length(MaxSimulatedSeconds(1234), [t.cum_simulated_s for t in full.trials],
                      [t.cum_wall_s for t in full.trials])
    assert k is not None and small.n_trials == k < full.n_trials
    assert [t.arch for t in small.trials] == [t.arch for t in full.trials[:k]]


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_cost_ledger_keeps_the_phases_apart(tmp_path: Path, kind: str) -> None:
    st = SQLiteStorage(tmp_path / "l.db") if kind == "sqlite" else InMemoryStorage()
    res = Experiment(SPACE, registry.create("strategy", "rs"), SyntheticEstimator(fail_every=5),
                     termination=MaxTrials(30), storage=st, seed=0).run()
    led = cost_ledger(st, res.experiment_id)
    assert tuple(led) == PHASES
    s = led["search"]
    assert s["simulated_s"] == res.simulated_cost_s and s["wall_s"] == res.trials[-1].cum_wall_s
    assert s["n"] == 30 and s["failed"] == sum(t.status == "failed" for t in res.trials) > 0
    assert all(led[p]["n"] == 0 and led[p]["wall_s"] == 0.0 for p in PHASES[1:])
    for i, (sim, wall) in enumerate(((100.0, 10.0), (300.0, 30.5))):
        st.add_record(res.experiment_id, "final_training",
                      {"status": "complete", "cost": {"simulated_s": sim, "wall_s": wall},
                       "estimator": {"estimator": "train", "device": "cuda"}})
    st.add_record(res.experiment_id, "final_training", {"status": "failed", "cost": {}})
    ft = cost_ledger(st, res.experiment_id)["final_training"]
    assert (ft["simulated_s"], ft["wall_s"], ft["n"], ft["failed"], ft["device"]) == (400.0, 40.5, 2, 1, "cuda")
    cut = cost_ledger(st, res.experiment_id, n_trials=10)["search"]
    assert cut["n"] == 10 and cut["simulated_s"] == res.trials[9].cum_simulated_s

    # a one-shot run: epochs and supernet search from records, its trials are the final scoring
    st.open_experiment("os", {"method": {"method": "random"}}, {"device": "cpu"}, kind="oneshot")
    for e in range(3):
        st.add_record("os", "oneshot_epoch", {"epoch": e, "cost": {"wall_s": 2.0, "simulated_s": 2.0}},
                      blob=b"ckpt")
    st.add_record("os", "oneshot_search", {"cost": {"wall_s": 0.5, "simulated_s": 0.5}})
    led = cost_ledger(st, "os")
    assert led["supernet_training"]["wall_s"] == 6.0 and led["supernet_training"]["n"] == 3
    assert led["supernet_search"]["wall_s"] == 0.5 and led["search"]["n"] == 0
    assert led["supernet_training"]["device"] == "cpu"
