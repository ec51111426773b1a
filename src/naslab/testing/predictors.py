"""Predictor conformance suite.

``check_predictor(name)`` runs every check below on the registered predictor ``name`` with
architectures of the default space (``naslab.spaces.DEFAULT_SPACE``, or ``space=``) and a
synthetic, learnable target (no data files needed)::

    from naslab.testing.predictors import check_predictor
    check_predictor("my_predictor", params={"epochs": 20})
"""

from __future__ import annotations

from typing import Any

import numpy as np

from naslab import registry
from naslab.errors import NaslabError
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import get_space


def synthetic_target(archs: list[Any], seed: int = 0) -> np.ndarray:
    """A target every predictor should rank well: additive over the path encoding plus a
    smaller additive term over the edge ops (so both invariant and per-edge views can fit it)."""
    from naslab.predictors.encodings import encode

    sp = get_space(archs[0].space)
    rng = np.random.default_rng(seed)
    path = encode(sp, archs, "path")
    onehot = encode(sp, archs, "onehot")
    return path @ np.abs(rng.normal(size=path.shape[1])) + 0.3 * onehot @ rng.normal(size=onehot.shape[1])


def _distinct_archs(space_name: str, n: int) -> list[Any]:
    """``n`` archs of distinct isomorphism classes, seeded: a random order of a finite indexed
    space, else the canonical forms of distinct sampled classes."""
    sp = get_space(space_name)
    try:
        size = len(sp)
    except TypeError:
        size = None
    if size is not None:
        order = np.random.default_rng(0).permutation(size)
        return [sp.from_index(int(i)) for i in order[:n]]
    rng = np.random.default_rng(0)
    out: dict[Any, Any] = {}
    for _ in range(100 * n):
        a = sp.sample(rng)
        c = sp.canonical(a)
        out.setdefault(c, c)
        if len(out) == n:
            break
    return list(out.values())


def check_predictor(name: str, *, params: dict[str, Any] | None = None, n_train: int = 60,
                    min_tau: float | None = 0.3, space: str = DEFAULT_SPACE) -> None:
    """Run the conformance checks on registered predictor ``name``; raises AssertionError.

    ``min_tau``: the Kendall tau the predictor must reach on held-out archs of the synthetic
    target (None for predictors that learn nothing from labels, such as ``zc``). ``space``:
    the space whose architectures it is fitted on (default :data:`~naslab.spaces.DEFAULT_SPACE`;
    any space with a graph works, finite or not).
    """
    from scipy.stats import kendalltau

    from naslab.predictors.base import NotFittedError, Predictor

    params = dict(params or {})
    archs = _distinct_archs(space, n_train + 100)
    train, test = archs[:n_train], archs[n_train:]
    y = synthetic_target(train)

    def make(**extra: Any) -> Predictor:
        made: Predictor = registry.create("predictor", name, **{**params, **extra})
        return made

    # 1. scikit-learn conventions: __init__ stores arguments, clone, fit returns self
    p = make()
    assert isinstance(p, Predictor), f"{name}: not a Predictor"
    before = p.get_params()
    for k, v in params.items():
        assert before[k] == v, f"{name}: __init__ did not store {k}={v!r}"
    try:
        p.predict(test)
    except NotFittedError:
        pass
    else:
        raise AssertionError(f"{name}: predict before fit did not raise NotFittedError")
    attrs = set(vars(p))
    assert p.fit(train, y) is p, f"{name}: fit must return self"
    assert p.get_params() == before, f"{name}: fit changed hyper-parameters"
    learned = [a for a in set(vars(p)) - attrs if not a.startswith("_")]
    bad = [a for a in learned if not a.endswith("_")]
    assert not bad, f"{name}: learned attributes must end in '_': {bad}"
    c = p.clone()
    assert type(c) is type(p) and c.get_params() == before and not hasattr(c, "space_")

    # 2. predictions: shape, finite, std when promised
    pred = p.predict(test)
    assert pred.shape == (len(test),) and not np.isnan(pred).any(), f"{name}: bad predictions"
    assert p.predict([]).shape == (0,)
    sd = p.predict_std(test)
    if p.has_std():
        assert sd is not None and sd.shape == (len(test),), f"{name}: predict_std shape"
        assert np.isfinite(sd).all() and (sd >= 0).all(), f"{name}: predict_std must be >= 0"
    else:
        assert sd is None, f"{name}: predict_std must be None when has_std() is False"

    # 3. determinism: same seed, same predictions
    seeded = "seed" in before
    again = (make(seed=before["seed"]) if seeded else make()).fit(train, y).predict(test)
    np.testing.assert_array_equal(pred, again, err_msg=f"{name}: same seed, different predictions")

    # 4. it learns: held-out rank correlation with the synthetic target
    if min_tau is not None:
        tau = kendalltau(pred, synthetic_target(test)).statistic
        assert tau >= min_tau, f"{name}: Kendall tau {tau:.3f} < {min_tau} on a learnable target"

    # 5. bad input and unknown hyper-parameters are clear errors
    for bad_call in (lambda: make().fit(train[:5], y[:4]), lambda: make().fit([], [])):
        try:
            bad_call()
        except NaslabError:
            pass
        else:  # pragma: no cover
            raise AssertionError(f"{name}: bad training data was accepted")
    try:
        registry.create("predictor", name, no_such_parameter=1)
    except NaslabError:
        pass
    else:  # pragma: no cover
        raise AssertionError(f"{name}: an unknown hyper-parameter was accepted silently")

    # 6. warm start (where supported): no new rows = no change; same seed = same update
    if p.supports_update():
        half = n_train // 2
        base = make().fit(train[:half], y[:half])
        before_update = base.predict(test)
        base.update(train[:half], y[:half], seed=1)
        np.testing.assert_array_equal(base.predict(test), before_update,
                                      err_msg=f"{name}: update without new rows changed it")
        base.update(train, y, seed=1)
        assert base.n_train_ == n_train, f"{name}: update did not record the rows"
        twin = make().fit(train[:half], y[:half]).update(train, y, seed=1)
        np.testing.assert_array_equal(base.predict(test), twin.predict(test),
                                      err_msg=f"{name}: same update, different predictions")
