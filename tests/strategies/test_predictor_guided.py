"""Neural Predictor search and BANANAS: dedup, resume with pending results, predictor choice,
and (slow) search quality on real NB201 data."""

from __future__ import annotations

import numpy as np
import pytest

from naslab import registry
from naslab.errors import ConfigError, NaslabError
from naslab.estimators.base import Objective
from naslab.spaces.base import get_space
from naslab.testing.strategies import SyntheticEstimator, run_trajectory

SP = get_space("nb201")
CHEAP = {
    "bananas": {"predictor_params": {"epochs": 30, "ensemble": 3}},
    "neural_predictor": {"predictor_params": {"epochs": 30}, "n_candidates": 300},
}


@pytest.mark.parametrize("name", sorted(CHEAP))
def test_never_asks_isomorphic_twice(name: str) -> None:
    make = lambda: registry.create("strategy", name, **CHEAP[name])  # noqa: E731
    traj = run_trajectory(make(), SP, SyntheticEstimator(), n=70, seed=0)
    keys = [SP.canonical(_arch(c)).choices for c, _ in traj]
    assert len(set(keys)) == len(keys)


def _arch(choices):  # type: ignore[no-untyped-def]
    from naslab.spaces.base import Architecture

    return Architecture("nb201", tuple(choices))


@pytest.mark.parametrize("name", sorted(CHEAP))
def test_resume_with_pending_results(name: str) -> None:
    make = lambda: registry.create("strategy", name, **CHEAP[name])  # noqa: E731
    est = SyntheticEstimator()
    ref = run_trajectory(make(), SP, est, n=45, seed=7, batch=3)
    for k in (13, 25):  # mid-queue, with 2 results pending (told in reverse order)
        got = run_trajectory(make(), SP, est, n=45, seed=7, batch=3, state_roundtrip_at=k, make=make)
        assert got == ref, f"restoring after {k} results changed the trajectory"


def test_predictor_choices() -> None:
    est = SyntheticEstimator(noise=0.0)
    with pytest.raises(ConfigError, match="uncertainty"):
        s = registry.create("strategy", "bananas", predictor="lgb")
        s.setup(SP, Objective(), seed=0)
    # acquisition on the mean works with any predictor; rf has an uncertainty for ITS
    for params in ({"predictor": "lgb", "acquisition": "mean"}, {"predictor": "rf"},
                   {"predictor": registry.create("predictor", "gp"), "acquisition": "ucb"}):
        traj = run_trajectory(registry.create("strategy", "bananas", **params), SP, est, n=30, seed=1)
        assert len(traj) == 30
    traj = run_trajectory(registry.create("strategy", "neural_predictor", predictor="rf",
                                          n_init=10, n_candidates=200), SP, est, n=30, seed=1)
    assert len(traj) == 30
    with pytest.raises(ConfigError, match="did you mean 'its'"):
        registry.create("strategy", "bananas", acquisition="itss").setup(SP, Objective(), seed=0)
    with pytest.raises(NaslabError, match="unknown predictor"):
        registry.create("strategy", "neural_predictor", predictor="nope").setup(SP, Objective(), seed=0)


@pytest.mark.slow
def test_search_quality_on_nb201(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    """On real data, both beat random search on the same seeds (60 queries, 3 seeds)."""
    from naslab.runner import Experiment, MaxTrials

    def mean_test(name: str, **params: object) -> float:
        out = []
        for seed in range(3):
            s = registry.create("strategy", name, **params)
            res = Experiment(SP, s, tabular_c10, termination=MaxTrials(60), seed=seed).run()
            out.append(res.test_acc)
        return float(np.mean(out))

    rs = mean_test("rs")
    assert mean_test("bananas") > rs + 0.2
    assert mean_test("neural_predictor", predictor_params={"epochs": 60}) > rs + 0.2
