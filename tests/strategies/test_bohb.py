"""BOHB: hpbandster's brackets, a statsmodels density per fidelity, conformance."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from naslab import registry
from naslab.errors import ConfigError
from naslab.estimators.base import Objective
from naslab.spaces import get_space
from naslab.strategies.bohb import BOHB, _Density
from naslab.testing import SyntheticEstimator, check_strategy

SPACE = get_space("nb201")


def _setup(**params):  # type: ignore[no-untyped-def]
    s = BOHB(**params)
    s.bind_fidelities(None, 200.0)
    s.setup(SPACE, Objective("val_acc"), seed=0)
    return s


def test_density_equals_statsmodels_kdemultivariate_pdf() -> None:
    rng = np.random.default_rng(1)
    for trial in range(8):
        x = rng.integers(0, 5, (int(rng.integers(8, 40)), 6)).astype(float)
        if trial % 3 == 0:
            x[:, 2] = 1.0  # a one-level column (statsmodels divides by zero there)
        d = _Density(x, 0.3 if trial % 2 else 1e-3)
        pts = rng.integers(0, 5, (12, 6)).astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = np.array([np.asarray(d.kde.pdf(p)).ravel()[0] for p in pts])
        np.testing.assert_allclose(d.pdf(pts), ref, rtol=1e-12, equal_nan=True)
        assert np.all(d.bw >= (0.3 if trial % 2 else 1e-3))


def test_brackets_are_hpbandsters() -> None:
    # NB201's BOHB.py: min_budget 12, max_budget 200, eta 3 -> three rungs (22.2, 66.7, 200),
    # brackets of 9-3-1, 3-1 and 3 configurations (hpbandster: floor((s_max+1)/(s+1)) * eta**s)
    s = _setup(min_fidelity=12, max_fidelity=200)
    assert s.ladder_ == (22.0, 67.0, 200.0)
    assert s.brackets == [([22.0, 67.0, 200.0], [9, 3, 1]), ([67.0, 200.0], [3, 1]),
                          ([200.0], [3])]


def test_proposals_come_from_the_model_once_a_fidelity_has_enough_results() -> None:
    s = _setup(num_samples=8, random_fraction=0.0, min_bandwidth=0.3)
    est = SyntheticEstimator()
    told = 0
    while not s._models:
        for sug in s.ask(1):
            s.tell(sug.arch, est.evaluate(sug.arch, fidelity=sug.fidelity).without_test())
            told += 1
    # 7 = decisions + 1 points in each of the good and bad sets: 14 results at one fidelity
    (fid,) = s._models
    assert len(s._obs[fid]) == 14 and told >= 14
    good, bad = s._models[fid]
    assert good.data.shape == (7, 6) and bad.data.shape == (7, 6)
    # results at a fidelity below the modelled one are no longer kept (as hpbandster)
    low = min(s.ladder_)
    if low < fid:
        n = len(s._obs.get(low, []))
        s._observe(low, SPACE.sample(np.random.default_rng(0)), 1.0)
        assert len(s._obs.get(low, [])) == n


def test_state_round_trip_rebuilds_the_models() -> None:
    s = _setup(num_samples=4, random_fraction=0.0)
    est = SyntheticEstimator()
    for _ in range(40):
        for sug in s.ask(1):
            s.tell(sug.arch, est.evaluate(sug.arch, fidelity=sug.fidelity).without_test())
    state = json.loads(json.dumps(s.state_dict()))
    t = _setup(num_samples=4, random_fraction=0.0)
    t.load_state_dict(state)
    assert set(t._models) == set(s._models)
    for f in s._models:
        np.testing.assert_array_equal(t._models[f][0].bw, s._models[f][0].bw)
    assert [a.arch for a in t.ask(3)] == [a.arch for a in s.ask(3)]


def test_failures_count_as_infinitely_bad() -> None:
    s = _setup()
    sug = s.ask(1)[0]
    s.tell_failed(sug.arch, "boom")
    (obs,) = s._obs.values()
    assert obs[0][1] == math.inf


def test_bohb_conforms() -> None:
    check_strategy("bohb", params={"num_samples": 8})
    check_strategy("bohb", params={"num_samples": 4, "random_fraction": 0.0,
                                   "min_bandwidth": 0.3})


def test_bad_hyper_parameters_are_named() -> None:
    for kw, msg in (({"num_samples": 0}, "num_samples"), ({"random_fraction": 1.5}, "random_fraction"),
                    ({"top_n_percent": 100}, "top_n_percent"), ({"eta": 1}, "eta must be > 1")):
        with pytest.raises(ConfigError, match=msg):
            _setup(**kw)
    with pytest.raises(ConfigError, match="no parameter 'samples'.*num_samples"):
        registry.create("strategy", "bohb", samples=3)
