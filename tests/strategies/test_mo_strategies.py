"""The multi-objective strategies: the multi-objective checks of the conformance suite (the
single-objective suite runs over every registered strategy in tests/test_conformance.py), and
the operators they are built from."""

from __future__ import annotations

import numpy as np
import pytest

from naslab import registry
from naslab.errors import ConfigError
from naslab.estimators.base import Evaluation, as_objectives
from naslab.spaces import get_space
from naslab.strategies._multi import crossover, min_vector, rank_and_crowding
from naslab.testing.mo_strategies import check_mo_strategy

MO_STRATEGIES = ["nsga2", "mo_re", "mo_rs"]


@pytest.mark.parametrize("name", MO_STRATEGIES)
def test_multi_objective_conformance(name: str) -> None:
    hv = check_mo_strategy(name)
    if name != "mo_rs":
        assert hv[name] > hv["rs"]


def test_mo_rs_is_random_search() -> None:
    assert registry.get("strategy", "mo_rs") is registry.get("strategy", "rs")


def test_survival_equals_pymoos_rank_and_crowding() -> None:
    from pymoo.core.population import Population
    from pymoo.core.problem import Problem
    from pymoo.operators.survival.rank_and_crowding import RankAndCrowding

    for t in range(150):
        r = np.random.default_rng(t)
        n, k = int(r.integers(3, 50)), int(r.integers(1, 4))
        F = np.round(r.random((n, k)) * 5) / 5 if t % 2 else r.random((n, k))
        cv = np.where(r.random(n) < 0.3, r.random(n), 0.0) if t % 3 == 0 else None
        keep = int(r.integers(1, n + 1))
        pop = Population.new("F", F, "G", cv[:, None]) if cv is not None else Population.new("F", F)
        problem = Problem(n_var=1, n_obj=k, n_ieq_constr=0 if cv is None else 1)
        want = RankAndCrowding().do(problem, pop, n_survive=keep, random_state=np.random.default_rng(7),
                                    return_indices=True)
        got, ranks, crowd = rank_and_crowding(F, cv, keep, np.random.default_rng(7))
        assert got == [int(i) for i in want]
        assert ranks == [pop[i].get("rank") for i in got]
        if cv is None:  # the crowding distances pymoo assigned the survivors, too
            assert crowd == [pytest.approx(float(pop[i].get("crowding")), nan_ok=True)
                             for i in got]


def test_crossover_keeps_shared_decisions_and_mixes_the_others() -> None:
    sp = get_space("nb201")
    rng = np.random.default_rng(0)
    a, b = sp.from_decision_indices([0, 1, 2, 3, 4, 0]), sp.from_decision_indices([0, 2, 2, 1, 4, 3])
    kids = [crossover(sp, a, b, rng) for _ in range(300)]
    for c in kids:
        idx = sp.decision_indices(c)
        assert idx[0] == 0 and idx[2] == 2 and idx[4] == 4
        assert all(x in (y, z) for x, y, z in zip(idx, sp.decision_indices(a), sp.decision_indices(b)))
    assert len({k.choices for k in kids}) == 2 ** 3  # every mix of the 3 differing decisions


def test_min_vector_and_infeasible_order() -> None:
    o = as_objectives(["val_acc", "latency_ms:min"], constraints=["latency_ms<5"])
    f, cv = min_vector(o, Evaluation({"val_acc": 90.0, "latency_ms": 4.0}))
    assert f == [-90.0, 4.0] and cv == 0.0
    assert min_vector(o, Evaluation({"val_acc": 90.0, "latency_ms": 5.0}))[1] > 0  # strict bound
    assert min_vector(o, Evaluation({"val_acc": 90.0, "latency_ms": 7.5}))[1] == pytest.approx(0.5)


@pytest.mark.parametrize("name, params, fragment", [
    ("nsga2", {"population_size": 1}, "population_size"),
    ("nsga2", {"crossover_prob": 1.5}, "crossover_prob"),
    ("mo_re", {"sample_size": 0}, "sample_size"),
    ("mo_re", {"rho": -1}, "rho"),
])
def test_bad_hyper_parameters_are_named(name: str, params: dict, fragment: str) -> None:  # type: ignore[type-arg]
    s = registry.create("strategy", name, **params)
    with pytest.raises(ConfigError, match=fragment):
        s.setup(get_space("nb201"), as_objectives("val_acc"), seed=0)


def test_nsga2_generations_are_synchronous_and_never_repeat_an_arch() -> None:
    from naslab.testing.mo_strategies import SyntheticLatencyEstimator

    sp, est = get_space("nb201"), SyntheticLatencyEstimator()
    s = registry.create("strategy", "nsga2", population_size=6)
    s.setup(sp, as_objectives(["val_acc", "latency_ms:min"]), seed=0)
    first = s.ask(10)
    assert len(first) == 6 and s.ask(3) == []  # generation 0 out: wait for it
    for a in first[:5]:
        s.tell(a, est.evaluate(a))
    assert s.ask(1) == []
    s.tell_failed(first[5], "boom")
    seen = {a.choices for a in first}
    for _ in range(20):  # 20 generations
        kids = s.ask(6)
        assert len(kids) == 6 and not seen & {k.choices for k in kids}
        seen |= {k.choices for k in kids}
        for k in kids:
            s.tell(k, est.evaluate(k))
