"""The over-budget rule of a simulated-time budget (keep vs NB201's discard) and reuse=False."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from naslab import registry
from naslab.errors import ConfigError
from naslab.runner import Experiment, MaxSimulatedSeconds, MaxTrials, Progress, SQLiteStorage, prefix_length
from naslab.runner.termination import Termination, make_termination, termination_from_dict
from naslab.spaces import get_space
from naslab.testing import SyntheticEstimator

SPACE = get_space("nb201")


class _Costly(SyntheticEstimator):
    """Synthetic values with per-arch costs between 50 and 150 s (so the budget falls between
    trials at different places)."""

    def evaluate(self, arch, *, fidelity=None, seed=0):  # type: ignore[no-untyped-def]
        from naslab.estimators.base import Cost, Evaluation

        ev = super().evaluate(arch, fidelity=fidelity, seed=seed)
        c = 50.0 + 100.0 * (sum(arch.choices) % 7) / 6.0
        return Evaluation(ev.metrics, Cost(0.0, c), ev.fidelity)


def _run(rule: str, budget: float, seed: int = 3, **kw):  # type: ignore[no-untyped-def]
    return Experiment(SPACE, registry.create("strategy", "re"), _Costly(),
                      termination=MaxSimulatedSeconds(budget, over_budget=rule), seed=seed,
                      **kw).run()


def test_discard_stops_before_the_query_that_would_exceed_the_budget() -> None:
    for budget in (777.0, 1500.0, 4321.0):
        keep, drop = _run("keep", budget), _run("discard", budget)
        # the same trajectory; "keep" records the trial that crosses the budget, "discard" not
        assert [t.arch for t in drop.trials] == [t.arch for t in keep.trials[:-1]]
        assert drop.simulated_cost_s <= budget < keep.simulated_cost_s
        assert drop.discarded == 1 and keep.discarded == 0
        assert drop.to_json()["discarded_trials"] == 1 and "discarded_trials" not in keep.to_json()


def test_prefix_length_knows_the_discard_rule() -> None:
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(0, 30))
        sim = np.cumsum(rng.choice([0.0, 1.0, 2.5, 4.0], n)).tolist()
        wall = np.cumsum(rng.uniform(0, 0.1, n)).tolist()
        budget = float(rng.uniform(0.5, 40))
        term: Termination = MaxSimulatedSeconds(budget, over_budget="discard")
        if rng.random() < 0.3:
            term = term | MaxTrials(int(rng.integers(1, 30)))
        want = None  # the first trial not kept: the rule met before it, or it does not fit
        for k in range(n):
            before = Progress(k, 0, sim[k - 1] if k else 0.0, wall[k])
            if term.done(before) or sim[k] > budget:
                want = k
                break
        if want is None and term.done(Progress(n, 0, sim[-1] if n else 0.0, wall[-1] if n else 0.0)):
            want = n
        assert prefix_length(term, sim, wall) == want


def test_a_discard_run_resumes_and_extends_like_a_fresh_one(tmp_path: Path) -> None:
    st = SQLiteStorage(tmp_path / "d.db")
    first = _run("discard", 1500.0, storage=st)
    again = _run("discard", 1500.0, storage=st)
    assert [t.arch for t in again.trials] == [t.arch for t in first.trials]
    longer = _run("discard", 3000.0, storage=st)
    fresh = _run("discard", 3000.0)
    assert [t.arch for t in longer.trials] == [t.arch for t in fresh.trials]
    assert longer.simulated_cost_s == pytest.approx(fresh.simulated_cost_s)


def test_the_rule_is_described_only_when_it_is_not_the_default() -> None:
    assert MaxSimulatedSeconds(10).describe() == {"max_simulated_s": 10.0}
    d = MaxSimulatedSeconds(10, over_budget="discard").describe()
    assert d == {"max_simulated_s": 10.0, "over_budget": "discard"}
    back = termination_from_dict(d)
    assert back.describe() == d
    assert not back.admits(Progress(0, 0, 8.0, 0.0), 2.5) and back.admits(Progress(0, 0, 8.0, 0.0), 2.0)


def test_bad_over_budget_values_are_named() -> None:
    with pytest.raises(ConfigError, match=r"over_budget .* got 'discrad'.*did you mean 'discard'"):
        MaxSimulatedSeconds(10, over_budget="discrad")
    with pytest.raises(ConfigError, match="rule of the simulated-time budget"):
        make_termination(max_trials=5, over_budget="discard")


def test_reuse_false_charges_repeats_and_is_part_of_the_identity() -> None:
    def run(reuse: bool):  # type: ignore[no-untyped-def]
        return Experiment(SPACE, registry.create("strategy", "rs", dedup=False), _Costly(),
                          termination=MaxTrials(400), seed=2, reuse=reuse)

    a, b = run(True), run(False)
    assert a.id != b.id and b.config["reuse"] is False and "reuse" not in a.config
    ra, rb = a.run(), b.run()
    assert [t.arch for t in ra.trials] == [t.arch for t in rb.trials]
    repeats = sum(t.reused for t in ra.trials)
    assert repeats > 0 and not any(t.reused for t in rb.trials)
    assert rb.simulated_cost_s > ra.simulated_cost_s
    assert rb.simulated_cost_s == pytest.approx(sum(t.cost.simulated_s for t in rb.trials))
