"""The paired quality check itself: it covers the registry, it fails loudly for a strategy
without an expectation, and it fails for strategies that degrade to random search (RE with a
uniform parent choice, LS replaced by random sampling, any strategy shown noise instead of its
objective). Multi-objective hook: objectives and score reach the runs.

The check on every registered strategy is tests/test_conformance.py::test_strategy_quality.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from naslab import registry
from naslab.estimators.base import Evaluation, Objective, Objectives
from naslab.strategies.base import Strategy
from naslab.testing.quality import (
    DAY,
    QUALITY,
    QualitySpec,
    check_strategy_quality,
    compare_to_baseline,
    hypervolume,
    quality_spec,
)


class Blindfolded(Strategy):
    """``inner`` shown noise instead of its objective: its search signal is gone, so whatever
    it does is random search in disguise (a sign error or an ignored score would do the same)."""

    def __init__(self, inner: Strategy) -> None:
        self.inner = inner

    def bind_fidelities(self, fidelities: tuple[float, ...] | None,
                        max_fidelity: float | None) -> None:
        super().bind_fidelities(fidelities, max_fidelity)
        self.inner.bind_fidelities(fidelities, max_fidelity)

    def _setup(self) -> None:
        self.inner.setup(self.space, self.objective, seed=self.seed)

    def ask(self, n: int = 1) -> list[Any]:
        return list(self.inner.ask(n))

    def tell(self, arch: Any, evaluation: Evaluation) -> None:
        noise = {o.metric: float(self.rng.normal(90.0, 1.0)) for o in self.objective}
        self.inner.tell(arch, Evaluation({**evaluation.metrics, **noise}, evaluation.cost,
                                         evaluation.fidelity, evaluation.info))

    def tell_failed(self, arch: Any, error: str) -> None:
        self.inner.tell_failed(arch, error)

    def describe(self) -> dict[str, Any]:
        return {"strategy": "blindfolded", "params": {"inner": self.inner.describe()}}


def test_every_registered_strategy_has_an_expectation_and_no_entry_is_stale() -> None:
    assert sorted(QUALITY) == sorted(registry.names("strategy"))
    assert quality_spec("regularized_evolution") is QUALITY["re"]  # aliases resolve


def test_a_strategy_without_an_expectation_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(QUALITY, "re")
    with pytest.raises(AssertionError, match="strategy 're' has no quality expectation: add a "
                                             "QualitySpec for it to naslab.testing.quality.QUALITY"):
        check_strategy_quality("re")


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="budget must be one of"):
        QualitySpec(budgets=(10,), evidence="-", budget="epochs")
    with pytest.raises(ValueError, match="trial budgets only"):
        QualitySpec(budgets=(DAY,), evidence="-", budget="simulated_s", expect="exact")
    with pytest.raises(ValueError, match="at least 6 seeds"):
        QualitySpec(budgets=(10,), evidence="-", seeds=5)


def test_re_with_uniform_parent_choice_fails(data_dir) -> None:  # type: ignore[no-untyped-def]
    """sample_size=1: the tournament picks a uniformly random member (no selection left)."""
    with pytest.raises(AssertionError) as exc:
        check_strategy_quality("re", data_dir=str(data_dir),
                               make=lambda: registry.create("strategy", "re", sample_size=1))
    msg = str(exc.value)
    for n in QUALITY["re"].budgets:
        assert f"does not beat rs at {n:g} trials" in msg, msg
    assert "expected from the benchmark: tabular_search: RE ahead of RS" in msg


def test_ls_replaced_by_random_sampling_fails(data_dir) -> None:  # type: ignore[no-untyped-def]
    rep = compare_to_baseline("ls", make=lambda: registry.create("strategy", "rs"),
                              data_dir=str(data_dir))
    assert rep.p_values == [1.0] * len(QUALITY["ls"].budgets) and not rep.passed, rep
    # with replacement (a different sequence of archs than the baseline's): still no win
    rep = compare_to_baseline("ls", make=lambda: registry.create("strategy", "rs", dedup=False),
                              data_dir=str(data_dir))
    assert not rep.passed and min(rep.p_values) > 0.05, rep


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(n for n, s in QUALITY.items()
                                        if s.expect == "beats" and not s.slow))
def test_a_blindfolded_strategy_fails(name: str, data_dir) -> None:  # type: ignore[no-untyped-def]
    spec = QUALITY[name]
    rep = compare_to_baseline(
        name, make=lambda: Blindfolded(registry.create("strategy", name, **dict(spec.params))),
        data_dir=str(data_dir))
    assert not rep.passed, rep


def test_random_search_off_the_exact_curve_fails(data_dir) -> None:  # type: ignore[no-untyped-def]
    """The 'exact' expectation has teeth: a random walk (each proposal a mutation of the last)
    is not uniform sampling and misses the exact best-of-N curve; rs with replacement (on a
    space this large, nearly the same protocol) stays on it."""
    from naslab.strategies.random_search import RandomSearch

    class Walk(RandomSearch):
        def ask(self, n: int = 1) -> list[Any]:
            out = []
            for _ in range(n):
                last = getattr(self, "_last", None)
                self._last = (self.space.sample(self.rng) if last is None
                              else self.space.mutate(last, self.rng))
                out.append(self._last)
            return out

    spec = QualitySpec(budgets=(50, 150), expect="exact", seeds=100, evidence="-")
    rep = compare_to_baseline("rs", spec=spec, make=Walk, data_dir=str(data_dir))
    assert not rep.passed and "mean at 50 trials is" in rep.failures[0], rep
    rep = compare_to_baseline("rs", spec=spec, make=lambda: RandomSearch(dedup=False),
                              data_dir=str(data_dir))
    assert rep.passed, rep


def test_multi_objective_hook(data_dir) -> None:  # type: ignore[no-untyped-def]
    """A multi-objective run: the baseline gets the same objectives, the reference point is the
    benchmark's worst value of each objective, and ``score`` picks what is compared. RE
    optimises its primary objective only: it beats random search there and loses on the
    front's hypervolume (random search spreads over the params axis)."""
    obj = Objectives((Objective("val_acc"), Objective("params_m", "min")))
    primary = QualitySpec(budgets=(100, 150), seeds=50, objectives=obj, evidence="-")
    rep = check_strategy_quality("re", spec=primary, data_dir=str(data_dir))
    assert rep.passed
    on_hv = QualitySpec(budgets=(100, 150), seeds=50, objectives=obj, score=hypervolume,
                        evidence="-")
    rep = compare_to_baseline("re", spec=on_hv, data_dir=str(data_dir))
    assert not rep.passed and np.all(rep.gains < 0), rep
    # what is compared: the hypervolume of every trial's (val_acc, params_m) against the
    # benchmark's worst point, computed here with pymoo from the trials of the same run
    from pymoo.indicators.hv import HV

    from naslab.runner import Experiment, InMemoryStorage, MaxTrials
    from naslab.spaces.base import get_space
    from naslab.testing.quality import default_estimator

    est = default_estimator(str(data_dir))
    bench = est.bench  # type: ignore[attr-defined]
    ref = (float(bench.column("val_acc").min()), float(bench.column("params_m").max()))
    res = Experiment(get_space(bench.space_name), registry.create("strategy", "rs"), est,
                     termination=MaxTrials(150), objective=obj, storage=InMemoryStorage(),
                     seed=0).run()
    pts = np.array([(-t.metrics["val_acc"], t.metrics["params_m"]) for t in res.trials])
    want = float(HV(ref_point=np.array([-ref[0], ref[1]]))(pts))
    assert rep.baseline_scores is not None and want > 0
    assert rep.baseline_scores[0, 1] == pytest.approx(want, rel=1e-9)
