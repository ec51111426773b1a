"""Multi-objective checks of a strategy (beside :func:`naslab.testing.check_strategy`).

``check_mo_strategy(name)`` drives the registered strategy ``name`` with two objectives (a
validation accuracy to maximise and a latency to minimise) and a constraint, on a synthetic
estimator over the default space (no data files; deterministic), and checks:

1. determinism: same seed, same trajectory; another seed, another one;
2. a JSON round trip of ``state_dict()`` mid-run (also with proposals pending) continues
   exactly;
3. through the runner, ``tell`` sees validation metrics only, with the vector objective;
4. the front it finds beats multi-objective random search (``rs``): mean hypervolume over
   ``seeds`` runs of ``quality_n`` trials above random search's (the quality bar every
   multi-objective strategy must clear; :data:`MO_REFERENCE`), and within the constraint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from naslab import registry
from naslab.estimators.base import TEST_PREFIX, Evaluation, Objectives, as_objectives
from naslab.seeding import mix64
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import Architecture, SearchSpace, get_space
from naslab.strategies.base import Strategy, Suggestion
from naslab.testing.strategies import SyntheticEstimator, _flat

#: the objectives every check uses: accuracy up, latency down, a latency bound
MO_OBJECTIVES = ("val_acc", "latency_ms:min")
MO_CONSTRAINT = "latency_ms<=60"
#: the reference point of the quality check: a good accuracy and the latency bound, so that
#: the hypervolume measures the interesting part of the front
MO_REFERENCE = (85.0, 60.0)


class SyntheticLatencyEstimator(SyntheticEstimator):
    """:class:`SyntheticEstimator` plus a ``latency_ms`` that conflicts with accuracy: each
    decision's option adds a fixed cost, and the options that add accuracy cost more."""

    def latency(self, arch: Architecture) -> float:
        ch = [int(c) for c in _flat(arch.choices)]
        lat = 5.0
        for i, c in enumerate(ch):
            acc_term = (mix64(17, i, c) % 1000) / 1000.0
            lat += 12.0 * acc_term + 3.0 * ((mix64(41, i, c) % 1000) / 1000.0)
        return lat

    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        ev = super().evaluate(arch, fidelity=fidelity, seed=seed)
        return Evaluation({**ev.metrics, "latency_ms": self.latency(arch)}, ev.cost, ev.fidelity)

    def metric_range(self, metric: str) -> tuple[float, float] | None:
        if metric == "latency_ms":
            return (0.0, 100.0)
        if metric == "val_acc":
            return (70.0, 100.0)
        return None


def _objectives() -> Objectives:
    return as_objectives(list(MO_OBJECTIVES), constraints=[MO_CONSTRAINT])


def mo_trajectory(strategy: Strategy, space: SearchSpace, estimator: SyntheticEstimator, *,
                  n: int, seed: int, batch: int = 1, roundtrip_at: int | None = None,
                  make: Callable[[], Strategy] | None = None) -> list[tuple[Any, float | None]]:
    """An ask/tell loop with the multi-objective :data:`MO_OBJECTIVES` (and the constraint),
    independent of the runner; ``roundtrip_at=k`` replaces the strategy after the k-th result
    by a fresh one restored from a JSON round trip of its state."""
    obj = _objectives()
    strategy.bind_fidelities(estimator.fidelities, estimator.max_fidelity)
    strategy.setup(space, obj, seed=seed)
    out: list[tuple[Any, float | None]] = []
    told, stalls = 0, 0
    while len(out) < n:
        asked = strategy.ask(min(batch, n - len(out)))
        if not asked:
            stalls += 1
            if stalls > 3:
                raise AssertionError("strategy asked nothing while nothing was pending")
            continue
        stalls = 0
        res = []
        for s in asked:
            arch, fid = (s.arch, s.fidelity) if isinstance(s, Suggestion) else (s, None)
            space.validate(arch)
            res.append((arch, estimator.evaluate(arch, fidelity=fid,
                                                 seed=mix64(seed, len(out)) & 0x7FFFFFFF)))
            out.append((arch.choices, fid))
        for arch, ev in reversed(res):
            strategy.tell(arch, ev.without_test())
            told += 1
            if roundtrip_at is not None and told == roundtrip_at:
                assert make is not None
                state = json.loads(json.dumps(strategy.state_dict(), allow_nan=False))
                strategy = make()
                strategy.bind_fidelities(estimator.fidelities, estimator.max_fidelity)
                strategy.setup(space, obj, seed=seed)
                strategy.load_state_dict(state)
    return out


def check_mo_strategy(name: str, *, space: str = DEFAULT_SPACE, n: int = 80,
                      quality_n: int = 150, seeds: int = 8,
                      params: dict[str, Any] | None = None,
                      baseline: str = "rs") -> dict[str, float]:
    """Run the multi-objective checks on registered strategy ``name``; raises AssertionError.
    Returns the mean final hypervolumes (check 4: ``seeds`` runs of ``quality_n`` trials,
    against the reference point :data:`MO_REFERENCE`) of ``name`` and of ``baseline``."""
    from naslab.runner import Experiment, MaxTrials

    params = dict(params or {})
    sp = get_space(space)

    def make() -> Strategy:
        made: Strategy = registry.create("strategy", name, **params)
        return made

    est = SyntheticLatencyEstimator()
    # 1. determinism
    a = mo_trajectory(make(), sp, est, n=n, seed=3)
    assert a == mo_trajectory(make(), sp, est, n=n, seed=3), \
        f"{name}: same seed gave different multi-objective trajectories"
    assert a != mo_trajectory(make(), sp, est, n=n, seed=4), \
        f"{name}: seeds 3 and 4 gave identical multi-objective trajectories"
    # 2. state round trips (strict JSON: no infinities or NaN in the state)
    for k in (1, n // 3, n // 2 + 1):
        r = mo_trajectory(make(), sp, est, n=n, seed=3, roundtrip_at=k, make=make)
        assert r == a, f"{name}: restoring the multi-objective state after {k} results changed the trajectory"
    b4 = mo_trajectory(make(), sp, est, n=n, seed=5, batch=4)
    assert b4 == mo_trajectory(make(), sp, est, n=n, seed=5, batch=4, roundtrip_at=n // 2 + 2,
                               make=make), f"{name}: state round trip with pending results diverged"

    # 3. through the runner: validation metrics only
    seen: list[Evaluation] = []
    s = make()
    orig = s.tell

    def spy(arch: Architecture, ev: Evaluation) -> None:
        seen.append(ev)
        orig(arch, ev)

    setattr(s, "tell", spy)
    res = Experiment(sp, s, est, termination=MaxTrials(n), seed=1, objective=list(MO_OBJECTIVES),
                     constraints=[MO_CONSTRAINT]).run()
    assert res.n_trials == n and seen, f"{name}: the runner did not complete {n} trials"
    leaked = sorted({k for ev in seen for k in ev.metrics if k.startswith(TEST_PREFIX)})
    assert not leaked, f"{name}: strategy was shown test metrics {leaked}"
    assert all(t.feasible for t in res.front), f"{name}: an infeasible trial is on the front"

    # 4. front quality against multi-objective random search
    def mean_hv(strategy: str, p: dict[str, Any]) -> float:
        hv = []
        for seed in range(seeds):
            r = Experiment(sp, registry.create("strategy", strategy, **p), est,
                           termination=MaxTrials(quality_n), seed=100 + seed,
                           objective=list(MO_OBJECTIVES), constraints=[MO_CONSTRAINT],
                           reference=MO_REFERENCE).run()
            assert r.hypervolume is not None
            hv.append(r.hypervolume)
        return sum(hv) / len(hv)

    mine, base = mean_hv(name, params), mean_hv(baseline, {})
    if registry.get("strategy", name) is not registry.get("strategy", baseline):
        assert mine > base, (f"{name}: mean hypervolume {mine:.2f} over {seeds} runs of {quality_n} "
                             f"trials does not beat {baseline}'s {base:.2f}")
    return {name: mine, baseline: base}


__all__ = ["MO_CONSTRAINT", "MO_OBJECTIVES", "MO_REFERENCE", "SyntheticLatencyEstimator", "check_mo_strategy",
           "mo_trajectory"]
