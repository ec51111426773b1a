"""Strategy conformance suite.

``check_strategy(name)`` runs every check below on the registered strategy ``name``, against
a synthetic estimator on the default space (``naslab.spaces.DEFAULT_SPACE``; no data files
needed, deterministic, with a rugged but learnable landscape and a ``test_acc`` metric that
strategies must never see).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from naslab import registry
from naslab.errors import NaslabError
from naslab.estimators.base import (TEST_PREFIX, Cost, Estimator, Evaluation, Objective,
                                    ObjectiveLike, as_objectives)
from naslab.seeding import mix64
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import Architecture, SearchSpace, get_space
from naslab.strategies.base import Strategy, Suggestion


class SyntheticEstimator(Estimator):
    """A cheap deterministic landscape over a space with index-able choices.

    val_acc = additive per-(edge, op) terms + a pairwise interaction + seed-dependent noise;
    test_acc = the noiseless value + 1. Fidelity ``f`` (any positive number, max 200) shrinks
    the value by ``5 * (1 - f/200)``. ``fail_every=k`` makes every k-th distinct architecture
    raise (for failure handling checks).
    """

    fidelities = None
    max_fidelity = 200.0

    def __init__(self, noise: float = 0.3, fail_every: int = 0) -> None:
        self.noise = noise
        self.fail_every = fail_every
        self.calls = 0

    def true_value(self, arch: Architecture) -> float:
        ch = [int(c) for c in _flat(arch.choices)]
        v = 80.0
        for i, c in enumerate(ch):
            v += ((mix64(17, i, c) % 1000) / 1000.0) * 2.0
        for i in range(len(ch) - 1):
            v += ((mix64(29, i, ch[i], ch[i + 1]) % 1000) / 1000.0) * 1.0
        return v

    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        self.calls += 1
        key = mix64(5, *(int(c) for c in _flat(arch.choices)))
        if self.fail_every and key % self.fail_every == 0:
            raise RuntimeError(f"synthetic failure for {arch.choices}")
        f = 200.0 if fidelity is None else float(fidelity)
        true = self.true_value(arch) - 5.0 * (1.0 - f / 200.0)
        u = (mix64(seed, key) % 10_000) / 10_000.0 - 0.5
        val = true + self.noise * 2.0 * u
        return Evaluation({"val_acc": val, "test_acc": true + 1.0, "params_m": 1.0},
                          Cost(0.0, 100.0 * f / 200.0), f)

    def optimum(self, metric: str = "test_acc") -> float | None:
        return None


def _flat(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        out: list[Any] = []
        for v in x:
            out.extend(_flat(v))
        return out
    return [x]


def run_trajectory(strategy: Strategy, space: SearchSpace, estimator: Estimator, *, n: int,
                   seed: int, batch: int = 1, state_roundtrip_at: int | None = None,
                   make: Callable[[], Strategy] | None = None,
                   objectives: ObjectiveLike = "val_acc") -> list[tuple[Any, float | None]]:
    """A minimal ask/tell loop (independent of the runner) returning [(choices, fidelity)].
    ``objectives``: what the strategy optimises (default the validation accuracy alone).

    ``batch`` > 1 asks for several at once and tells them in reverse order (as parallel
    workers would). With ``state_roundtrip_at=k`` the strategy is replaced, after the k-th
    result, by a fresh one restored from a JSON round trip of ``state_dict()``.
    """
    obj = as_objectives(objectives)
    fids = (estimator.fidelities, estimator.max_fidelity)
    strategy.bind_fidelities(*fids)  # as the runner does
    strategy.setup(space, obj, seed=seed)
    out: list[tuple[Any, float | None]] = []
    told = 0
    stalls = 0
    while len(out) < n:
        want = min(batch, n - len(out))
        asked = strategy.ask(want)
        if len(asked) > want:
            raise AssertionError(f"ask({want}) returned {len(asked)} suggestions")
        if not asked:
            stalls += 1
            if stalls > 3:
                raise AssertionError("strategy asked nothing while nothing was pending")
            continue
        stalls = 0
        results = []
        for s in asked:
            arch, fid = (s.arch, s.fidelity) if isinstance(s, Suggestion) else (s, None)
            if not isinstance(arch, Architecture):
                raise AssertionError(f"ask() must return Architecture or Suggestion, got {type(s)}")
            space.validate(arch)
            if fid is not None and not (0 < fid <= (estimator.max_fidelity or math.inf)
                                        and (estimator.fidelities is None
                                             or float(fid) in estimator.fidelities)):
                raise AssertionError(f"suggested fidelity {fid!r} is not one the estimator "
                                     f"accepts (max {estimator.max_fidelity})")
            ev = estimator.evaluate(arch, fidelity=fid, seed=mix64(seed, len(out)) & 0x7FFFFFFF)
            results.append((arch, ev))
            out.append((arch.choices, fid))
        for arch, ev in reversed(results):
            strategy.tell(arch, ev.without_test())
            told += 1
            if state_roundtrip_at is not None and told == state_roundtrip_at:
                assert make is not None
                state = json.loads(json.dumps(strategy.state_dict()))
                strategy = make()
                strategy.bind_fidelities(*fids)
                strategy.setup(space, obj, seed=seed)
                strategy.load_state_dict(state)
    return out


def check_strategy(name: str, *, space: str = DEFAULT_SPACE, n: int = 60,
                   params: dict[str, Any] | None = None) -> None:
    """Run the conformance checks on registered strategy ``name``; raises AssertionError."""
    params = dict(params or {})
    sp = get_space(space)

    def make() -> Strategy:
        made: Strategy = registry.create("strategy", name, **params)
        return made

    est = SyntheticEstimator()

    # 1. determinism: same seed, same trajectory; another seed, another trajectory
    a = run_trajectory(make(), sp, est, n=n, seed=3)
    b = run_trajectory(make(), sp, est, n=n, seed=3)
    assert a == b, f"{name}: same seed gave different trajectories"
    c = run_trajectory(make(), sp, est, n=n, seed=4)
    assert a != c, f"{name}: seeds 3 and 4 gave identical trajectories"

    # 2. JSON state round trip mid-run continues exactly
    for k in (1, n // 3, n // 2 + 1):
        r = run_trajectory(make(), sp, est, n=n, seed=3, state_roundtrip_at=k, make=make)
        assert r == a, f"{name}: restoring state_dict() after {k} results changed the trajectory"

    # 3. batched asks (pending results) stay valid and within bounds
    run_trajectory(make(), sp, est, n=n, seed=5, batch=4)

    # 4. tell never sees test metrics when driven by the runner, and failures are survivable
    from naslab.runner import Experiment, MaxTrials

    seen: list[Evaluation] = []
    s = make()
    orig_tell = s.tell

    def spy_tell(arch: Architecture, ev: Evaluation) -> None:
        seen.append(ev)
        orig_tell(arch, ev)

    setattr(s, "tell", spy_tell)  # spy on what the runner tells the strategy
    res = Experiment(sp, s, SyntheticEstimator(fail_every=7), termination=MaxTrials(n), seed=1).run()
    assert res.n_trials == n, f"{name}: run stopped at {res.n_trials} of {n} trials"
    assert any(t.status == "failed" for t in res.trials), "synthetic failures did not happen"
    assert seen, f"{name}: tell() was never called"
    for ev in seen:
        leaked = [k for k in ev.metrics if k.startswith(TEST_PREFIX)]
        assert not leaked, f"{name}: strategy was shown test metrics {leaked}"

    # 5. the incumbent beats the median architecture of the space
    import numpy as np

    clean = SyntheticEstimator(noise=0.0)
    rng = np.random.default_rng(0)
    median = float(np.median([clean.true_value(sp.sample(rng)) for _ in range(500)]))
    res = Experiment(sp, make(), clean, termination=MaxTrials(n), seed=2).run()
    assert res.best_objective is not None and math.isfinite(res.best_objective)
    assert res.best_objective > median, (
        f"{name}: best of {n} trials ({res.best_objective:.2f}) is below the space median {median:.2f}")

    # 6. ask(0) returns nothing and hyper-parameter errors are clear
    s = make()
    s.bind_fidelities(est.fidelities, est.max_fidelity)
    s.setup(sp, Objective("val_acc"), seed=0)
    assert s.ask(0) == [], f"{name}: ask(0) must return []"
    try:
        registry.create("strategy", name, no_such_parameter=1)
    except NaslabError:
        pass
    else:  # pragma: no cover
        raise AssertionError(f"{name}: an unknown hyper-parameter was accepted silently")
