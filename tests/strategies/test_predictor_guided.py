"""Neural Predictor search and BANANAS: dedup, resume with pending results, predictor choice and
acquisition. Their search quality on real NB201 data is the paired check of
naslab.testing.quality (tests/test_conformance.py::test_strategy_quality)."""

from __future__ import annotations

import numpy as np
import pytest

from naslab import registry
from naslab.errors import ConfigError, NaslabError
from naslab.estimators.base import Objective
from naslab.predictors.base import Predictor
from naslab.seeding import mix64
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


EXACT = SyntheticEstimator(noise=0.0)


def _spread(a) -> float:  # type: ignore[no-untyped-def]
    """An 'uncertainty' unrelated to the value: a hash of the arch, 0..10."""
    return (mix64(11, *a.choices) % 1000) / 100.0


class Oracle(Predictor):
    """Predicts the synthetic landscape's true value (times ``sign``), with ``_spread`` as its
    uncertainty: what the strategies do with a prediction is then visible in what they ask."""

    def __init__(self, sign: float = 1.0) -> None:
        self.sign = sign

    def has_std(self) -> bool:
        return True

    def _fit(self, archs, y) -> None:  # type: ignore[no-untyped-def]
        pass

    def _predict(self, archs):  # type: ignore[no-untyped-def]
        return np.array([self.sign * EXACT.true_value(a) for a in archs])

    def _predict_std(self, archs):  # type: ignore[no-untyped-def]
        return np.array([_spread(a) for a in archs])


def _asked(name: str, n: int = 50, seed: int = 1, **params: object) -> list:
    return [_arch(c) for c, _ in run_trajectory(registry.create("strategy", name, **params), SP,
                                                EXACT, n=n, seed=seed)]


def test_the_chosen_predictor_is_the_one_fitted() -> None:
    for name in ("bananas", "neural_predictor"):
        s = registry.create("strategy", name, predictor="rf", predictor_params={"n_estimators": 7},
                            n_init=10, k=5)
        run_trajectory(s, SP, EXACT, n=32, seed=0)
        m = s.model()
        assert isinstance(m, registry.get("predictor", "rf"))
        assert m.get_params()["n_estimators"] == 7 and m.n_train_ == 30  # refitted every 5
    # another predictor, another search: the choice is not ignored
    for name, others in (("bananas", ({"predictor": "gp"}, {"predictor": "lgb",
                                                            "acquisition": "mean"})),
                         ("neural_predictor", ({"predictor": "gp"}, {"predictor": "lgb"}))):
        base = _asked(name, predictor="rf", n_init=10, n_candidates=200)
        for params in others:
            assert _asked(name, n_init=10, n_candidates=200, **params) != base, (name, params)


def test_neural_predictor_evaluates_the_predicted_best() -> None:
    """With a perfect predictor every proposal after the random start is near the top of the
    space; with the predictor's sign flipped, near the bottom."""
    good = _asked("neural_predictor", predictor=Oracle(), n_init=10, k=10, n_candidates=500)
    bad = _asked("neural_predictor", predictor=Oracle(-1.0), n_init=10, k=10, n_candidates=500)
    assert good[:10] == bad[:10]  # the same random start
    top = np.quantile([EXACT.true_value(SP.sample(np.random.default_rng(i))) for i in range(2000)],
                      [0.05, 0.95])
    assert min(EXACT.true_value(a) for a in good[10:]) > top[1]
    assert max(EXACT.true_value(a) for a in bad[10:]) < top[0]


def test_bananas_acquisitions_use_mean_and_uncertainty() -> None:
    """``mean`` ranks candidates by the prediction, ``ucb`` by mean + beta * std (beta 0: the
    mean exactly), ``its`` by one draw from N(mean, std) per candidate."""
    kw = dict(predictor=Oracle(), n_init=10, k=10)
    mean = _asked("bananas", acquisition="mean", **kw)
    ucb0 = _asked("bananas", acquisition="ucb", ucb_beta=0.0, **kw)
    ucb = _asked("bananas", acquisition="ucb", ucb_beta=100.0, **kw)
    its = _asked("bananas", acquisition="its", **kw)
    assert ucb0 == mean
    assert ucb != mean and its != mean and its != ucb

    def avg(f, archs):  # type: ignore[no-untyped-def]
        return float(np.mean([f(a) for a in archs[10:]]))

    # the prediction drives 'mean'; the uncertainty drives 'ucb' with a large beta
    assert avg(EXACT.true_value, mean) > avg(EXACT.true_value, its) > avg(EXACT.true_value, ucb)
    assert avg(_spread, ucb) > avg(_spread, its) > avg(_spread, mean)


def test_predictor_errors() -> None:
    with pytest.raises(ConfigError, match="uncertainty"):
        s = registry.create("strategy", "bananas", predictor="lgb")
        s.setup(SP, Objective(), seed=0)
    with pytest.raises(ConfigError, match="did you mean 'its'"):
        registry.create("strategy", "bananas", acquisition="itss").setup(SP, Objective(), seed=0)
    with pytest.raises(NaslabError, match="unknown predictor"):
        registry.create("strategy", "neural_predictor", predictor="nope").setup(SP, Objective(), seed=0)


# warm start -----------------------------------------------------------------------------------
WARM = {"predictor_params": {"epochs": 20, "ensemble": 2}, "n_init": 10, "k": 5}


def _fits_from_scratch(s) -> list[int]:  # type: ignore[no-untyped-def]
    """Wrap the strategy's fit-from-scratch to record the data size of each."""
    sizes: list[int] = []
    orig = s._fresh_fit

    def fresh(fit: int, m: int):  # type: ignore[no-untyped-def]
        sizes.append(m)
        return orig(fit, m)

    s._fresh_fit = fresh
    return sizes


def test_warm_start_follows_the_geometric_schedule() -> None:
    """From scratch at 10 results, then updates until the data has doubled (20, 40, ...);
    warm_start=False fits from scratch every round; the chain is stored run-length encoded."""
    warm = registry.create("strategy", "bananas", **WARM)
    warm.setup(SP, Objective(), seed=0)
    sizes = _fits_from_scratch(warm)
    run_trajectory(warm, SP, SyntheticEstimator(), n=62, seed=0)
    assert sizes == [10, 20, 40]
    assert warm._chain == [40, 45, 50, 55, 60]
    assert warm.state_dict()["chain"] == [[40, 5, 5]]
    cold = registry.create("strategy", "bananas", warm_start=False, **WARM)
    cold.setup(SP, Objective(), seed=0)
    sizes = _fits_from_scratch(cold)
    run_trajectory(cold, SP, SyntheticEstimator(), n=62, seed=0)
    assert sizes == list(range(10, 61, 5))
    ratio = registry.create("strategy", "bananas", refit_ratio=1.5, **WARM)
    ratio.setup(SP, Objective(), seed=0)
    sizes = _fits_from_scratch(ratio)
    run_trajectory(ratio, SP, SyntheticEstimator(), n=62, seed=0)
    assert sizes == [10, 15, 25, 40, 60]


@pytest.mark.parametrize("name", ["bananas", "neural_predictor"])
def test_warm_start_resumes_mid_chain(name: str) -> None:
    """Restored between two updates of a chain, the model is rebuilt (fit, then each update
    with its own seed) exactly: the trajectory is that of the uninterrupted run."""
    params = dict(WARM, predictor_params={"epochs": 20}) if name == "neural_predictor" else WARM
    if name == "neural_predictor":
        params = dict(params, n_candidates=200)
    make = lambda: registry.create("strategy", name, **params)  # noqa: E731
    est = SyntheticEstimator()
    ref = run_trajectory(make(), SP, est, n=50, seed=3)
    for k in (33, 47):  # chains [20, 25, 30] and [40, 45]
        got = run_trajectory(make(), SP, est, n=50, seed=3, state_roundtrip_at=k, make=make)
        assert got == ref, f"restoring after {k} results changed the trajectory"
    cold = run_trajectory(registry.create("strategy", name, warm_start=False, **params), SP,
                          est, n=50, seed=3)
    assert cold[:15] == ref[:15] and cold != ref  # same start, then other models


def test_warm_start_checkpoint_stays_small() -> None:
    """The history checkpoint holds the chain as one run: its size does not grow with trials."""
    s = registry.create("strategy", "bananas", **WARM)
    est = SyntheticEstimator()
    sizes = []
    s.setup(SP, Objective(), seed=0)
    for _ in range(75):
        (a,) = s.ask(1)
        s.tell(a, est.evaluate(a, seed=1))
        if len(s._data) in (45, 75):
            import json

            sizes.append(len(json.dumps(s._history_state())))
    assert abs(sizes[0] - sizes[1]) < 20, sizes


def test_warm_start_errors() -> None:
    with pytest.raises(ConfigError, match="warm_start=True needs a predictor that can be updated"):
        registry.create("strategy", "bananas", predictor="rf", warm_start=True).setup(
            SP, Objective(), seed=0)
    with pytest.raises(ConfigError, match="warm_start must be true, false or 'auto'"):
        registry.create("strategy", "bananas", warm_start="yes").setup(SP, Objective(), seed=0)
    with pytest.raises(ConfigError, match="refit_ratio"):
        registry.create("strategy", "neural_predictor", refit_ratio=0.5).setup(
            SP, Objective(), seed=0)
    with pytest.raises(ConfigError, match="warm_effort"):
        registry.create("strategy", "bananas", warm_effort=0).setup(SP, Objective(), seed=0)
    # 'auto' with a predictor that cannot be updated: fits from scratch (rf is cheap to refit)
    s = registry.create("strategy", "bananas", predictor="rf")
    s.setup(SP, Objective(), seed=0)
    assert not s._warm
