"""Every hyper-parameter changes behaviour: option checks for strategies and predictors.

``check_strategy_options(name, options)`` and ``check_predictor_options(name, options)`` take
one :class:`Option` per constructor parameter of the registered component (a parameter without
one, or an entry for a parameter that does not exist, fails the check) and verify that setting
it to the option's value changes what the component does: the trajectory of a strategy on the
synthetic estimator (:func:`naslab.testing.strategies.run_trajectory`), or the predictions of a
predictor fitted on the synthetic target of the predictor suite. Execution options that must
*not* change results (threads, devices, caches) are declared ``same=True`` and checked the
other way round. An option that changes nothing has no reason to exist.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from naslab import registry
from naslab.estimators.base import Estimator
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import get_space


@dataclass(frozen=True)
class Option:
    """An alternative value of one hyper-parameter and the context in which it matters.

    value: the alternative (the other run uses the default, or ``params``' value).
    extra: other parameters the alternative needs (set in the alternative run only, e.g. an
        encoding that includes the zero-cost features being switched on).
    base: parameters set in both runs (e.g. ``entropy_weight`` for an option that only
        matters with an entropy bonus).
    n: trajectory length (strategies; default: the check's ``n``).
    estimator: a factory of the estimator to run on (strategies; default: the synthetic one).
    same: an execution option: the value must leave the result unchanged.
    """

    value: Any
    extra: Mapping[str, Any] = field(default_factory=dict)
    base: Mapping[str, Any] = field(default_factory=dict)
    n: int | None = None
    estimator: Callable[[], Estimator] | None = None
    same: bool = False


def constructor_params(kind: str, name: str) -> list[str]:
    """Names of the constructor parameters of registered component ``name`` of ``kind``."""
    cls = registry.get(kind, name)
    return [p for p, v in inspect.signature(cls.__init__).parameters.items()
            if p != "self" and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD)]


def _check_coverage(kind: str, name: str, options: Mapping[str, Option]) -> None:
    params = constructor_params(kind, name)
    missing = [p for p in params if p not in options]
    stale = [p for p in options if p not in params]
    if missing:
        raise AssertionError(
            f"{kind} {name!r}: no Option for {', '.join(missing)}: add an alternative value "
            f"that must change its behaviour (or same=True for an execution option), or remove "
            f"the parameter if no value changes anything")
    if stale:
        raise AssertionError(f"{kind} {name!r} has no parameter {', '.join(stale)} (stale Option)")


def check_strategy_options(name: str, options: Mapping[str, Option], *,
                           params: Mapping[str, Any] | None = None, n: int = 60,
                           space: str = DEFAULT_SPACE, seed: int = 0,
                           only: Collection[str] | None = None) -> None:
    """Each option of strategy ``name`` changes its trajectory (``same`` ones do not).
    ``only``: check these options (coverage of the constructor is checked regardless)."""
    from naslab.testing.strategies import SyntheticEstimator, run_trajectory

    _check_coverage("strategy", name, options)
    sp = get_space(space)
    base_params = dict(params or {})
    cache: dict[str, list[Any]] = {}

    def traj(p: dict[str, Any], opt: Option) -> list[Any]:
        length = opt.n or n
        key = repr((sorted(p.items()), opt.estimator, length))
        if key not in cache:
            est = opt.estimator() if opt.estimator is not None else SyntheticEstimator()
            cache[key] = run_trajectory(registry.create("strategy", name, **p), sp, est,
                                        n=length, seed=seed)
        return cache[key]

    for opt_name, opt in options.items():
        if only is not None and opt_name not in only:
            continue
        length = opt.n or n
        ref_params = {**base_params, **opt.base}
        alt_params = {**ref_params, **opt.extra, opt_name: opt.value}
        ref, alt = traj(ref_params, opt), traj(alt_params, opt)
        if opt.same and ref != alt:
            raise AssertionError(f"strategy {name!r}: {opt_name}={opt.value!r} changed the "
                                 f"trajectory, but it is declared an execution option")
        if not opt.same and ref == alt:
            raise AssertionError(
                f"strategy {name!r}: {opt_name}={opt.value!r} gave the same {length} proposals "
                f"as {ref_params.get(opt_name, 'the default')!r}: the option changes nothing here")


def check_predictor_options(name: str, options: Mapping[str, Option], *,
                            params: Mapping[str, Any] | None = None, n_train: int = 60,
                            n_test: int = 50, only: Collection[str] | None = None) -> None:
    """Each option of predictor ``name`` changes its predictions (mean, or the uncertainty
    where the option is about it); ``same`` ones do not (to 1e-5 relative).
    ``only``: check these options (coverage of the constructor is checked regardless)."""
    from naslab.testing.predictors import synthetic_target

    _check_coverage("predictor", name, options)
    sp = get_space(DEFAULT_SPACE)
    order = np.random.default_rng(1).permutation(len(sp))
    train = [sp.from_index(int(i)) for i in order[:n_train]]
    test = [sp.from_index(int(i)) for i in order[n_train:n_train + n_test]]
    y = synthetic_target(train)
    base_params = dict(params or {})
    cache: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}

    def predictions(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
        key = repr(sorted(p.items()))
        if key not in cache:
            m = registry.create("predictor", name, **p).fit(train, y)
            cache[key] = (m.predict(test), m.predict_std(test))
        return cache[key]

    def close(a: np.ndarray | None, b: np.ndarray | None) -> bool:
        if a is None or b is None:
            return a is None and b is None
        return bool(np.allclose(a, b, rtol=1e-5, atol=1e-8))

    for opt_name, opt in options.items():
        if only is not None and opt_name not in only:
            continue
        ref_params = {**base_params, **opt.base}
        alt_params = {**ref_params, **opt.extra, opt_name: opt.value}
        (m0, s0), (m1, s1) = predictions(ref_params), predictions(alt_params)
        unchanged = close(m0, m1) and close(s0, s1)
        if opt.same and not unchanged:
            raise AssertionError(f"predictor {name!r}: {opt_name}={opt.value!r} changed the "
                                 f"predictions, but it is declared an execution option")
        if not opt.same and unchanged:
            raise AssertionError(
                f"predictor {name!r}: {opt_name}={opt.value!r} gave the same predictions as "
                f"{ref_params.get(opt_name, 'the default')!r}: the option changes nothing here")
