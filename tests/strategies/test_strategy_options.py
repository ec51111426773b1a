"""Every option of every strategy changes what it proposes, and the main ones do what they say.

``STRATEGY_OPTIONS`` holds one alternative value per constructor parameter of every registered
strategy; a new strategy or parameter without an entry fails ``test_every_option_matters``.
The tests below it check the options' meaning: RS's dedup, RE's tournament and aging, LS's
random starts and first-improvement moves, REINFORCE's learning rate, baseline and entropy
bonus, the guided strategies' dedup.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from naslab import registry
from naslab.estimators.base import Objective
from naslab.seeding import mix64
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import Architecture, get_space
from naslab.testing.options import Option, check_strategy_options, constructor_params
from naslab.testing.strategies import SyntheticEstimator, run_trajectory

SP = get_space(DEFAULT_SPACE)


class NoMaxFidelity(SyntheticEstimator):
    """An estimator that declares no highest fidelity (so max_fidelity= is needed)."""

    max_fidelity = None  # type: ignore[assignment]


_RANGE = {"min_fidelity": 9, "max_fidelity": 81}
_GUIDED = {"predictor": "rf", "predictor_params": {"n_estimators": 30}}
# warm start matters with a predictor that can be updated (rf is refitted from scratch)
_NEURAL = {"predictor": "bananas", "predictor_params": {"epochs": 20, "ensemble": 2},
           "n_init": 5, "k": 5}
_WARM = {"warm_start": Option(False, base=_NEURAL, n=30),
         "refit_ratio": Option(1.2, base=_NEURAL, n=30),
         "warm_effort": Option(3.0, base=_NEURAL, n=30)}

class TwoObjectives(SyntheticEstimator):
    """The synthetic estimator with a second metric that varies by architecture (params_m)."""

    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Any:
        ev = super().evaluate(arch, fidelity=fidelity, seed=seed)
        ev.metrics["params_m"] = float(sum(c * (i + 1) for i, c in enumerate(
            SP.decision_indices(arch))))
        return ev


_MO = ("val_acc", "params_m:min")  # two objectives of TwoObjectives

#: strategy -> (parameters of both runs, {option: alternative})
STRATEGY_OPTIONS: dict[str, tuple[dict[str, Any], dict[str, Option]]] = {
    # 400 draws from 15,625 archs repeat one ~5 times: without dedup the repeats stay
    "rs": ({}, {"dedup": Option(False, n=400)}),
    "re": ({}, {"population_size": Option(5), "sample_size": Option(10)}),
    "ls": ({}, {"num_init": Option(5), "first_improvement": Option(True)}),
    "reinforce": ({}, {"learning_rate": Option(0.1), "baseline_momentum": Option(0.5),
                       "entropy_weight": Option(0.05), "baseline_update": Option("before")}),
    "sh": ({}, {"min_fidelity": Option(50), "eta": Option(2), "n_configs": Option(5),
                "fidelities": Option([50.0, 200.0]),
                "max_fidelity": Option(162, base=_RANGE, estimator=NoMaxFidelity)}),
    "hyperband": ({}, {"min_fidelity": Option(50), "eta": Option(2),
                       "fidelities": Option([50.0, 200.0]),
                       "max_fidelity": Option(162, base=_RANGE, estimator=NoMaxFidelity)}),
    "bohb": ({}, {"min_fidelity": Option(50), "eta": Option(2),
                  "fidelities": Option([50.0, 200.0]),
                  "max_fidelity": Option(162, base=_RANGE, estimator=NoMaxFidelity),
                  "num_samples": Option(8, n=200), "random_fraction": Option(0.9),
                  "min_bandwidth": Option(0.9, n=200),
                  "top_n_percent": Option(40, n=200),
                  "min_points_in_model": Option(20, n=200)}),
    "nsga2": ({}, {"population_size": Option(8), "crossover_prob": Option(0.2),
                   "mutation_prob": Option(0.2)}),
    "mo_re": ({}, {"population_size": Option(10), "sample_size": Option(3, n=150),
                   "rho": Option(1.0, objectives=_MO, estimator=TwoObjectives, n=150)}),
    "bananas": (_GUIDED, {
        "predictor": Option("gp", extra={"predictor_params": None}),
        "predictor_params": Option({"n_estimators": 30, "min_samples_leaf": 4}),
        "n_init": Option(5), "k": Option(5), "n_candidates": Option(30),
        "n_parents": Option(3), "mutations": Option(2), "acquisition": Option("mean"),
        "ucb_beta": Option(3.0, base={"acquisition": "ucb"}), "dedup": Option("exact"),
        **_WARM}),
    "neural_predictor": ({**_GUIDED, "n_candidates": 300}, {
        "predictor": Option("gp", extra={"predictor_params": None}),
        "predictor_params": Option({"n_estimators": 30, "min_samples_leaf": 4}),
        "n_init": Option(5), "k": Option(5), "n_candidates": Option(50),
        "dedup": Option("exact"), **_WARM}),
}


def test_the_table_covers_the_registry() -> None:
    assert sorted(STRATEGY_OPTIONS) == sorted(registry.names("strategy"))


@pytest.mark.parametrize("name", registry.names("strategy"))
def test_every_option_matters(name: str) -> None:
    assert name in STRATEGY_OPTIONS, f"add strategy {name!r} to STRATEGY_OPTIONS"
    params, options = STRATEGY_OPTIONS[name]
    check_strategy_options(name, options, params=params, n=40)


def test_a_missing_or_ignored_option_fails_the_check() -> None:
    with pytest.raises(AssertionError, match="no Option for sample_size"):
        check_strategy_options("re", {"population_size": Option(5)})
    with pytest.raises(AssertionError, match="has no parameter tournament"):
        check_strategy_options("re", {"population_size": Option(5), "sample_size": Option(2),
                                      "tournament": Option(1)})
    # dedup on 40 draws: no repeat happens, so nothing can differ
    with pytest.raises(AssertionError, match="dedup=False gave the same 40 proposals"):
        check_strategy_options("rs", {"dedup": Option(False)}, n=40)
    assert constructor_params("strategy", "re") == ["population_size", "sample_size"]


# --- what the options mean ------------------------------------------------------------------

def _drive(strategy: Any, n: int, seed: int = 0, est: SyntheticEstimator | None = None
           ) -> list[tuple[Architecture, float]]:
    """Ask one, evaluate, tell, n times: [(arch, val_acc told)]."""
    est = est or SyntheticEstimator()
    strategy.bind_fidelities(est.fidelities, est.max_fidelity)
    strategy.setup(SP, Objective("val_acc"), seed=seed)
    out = []
    for i in range(n):
        (arch,) = strategy.ask(1)
        ev = est.evaluate(arch, seed=mix64(seed, i) & 0x7FFFFFFF)
        strategy.tell(arch, ev.without_test())
        out.append((arch, float(ev.metrics["val_acc"])))
    return out


def test_rs_dedup() -> None:
    with_ = [c for c, _ in run_trajectory(registry.create("strategy", "rs"), SP,
                                          SyntheticEstimator(), n=600, seed=0)]
    without = [c for c, _ in run_trajectory(registry.create("strategy", "rs", dedup=False), SP,
                                            SyntheticEstimator(), n=600, seed=0)]
    assert len(set(with_)) == 600
    # sampling with replacement: about 600^2 / (2 * 15625) = 11.5 repeats expected
    assert 3 <= 600 - len(set(without)) <= 25


@pytest.mark.parametrize("population, sample", [(5, 100), (8, 100)])
def test_re_mutates_the_tournament_winner_of_the_last_population(population: int,
                                                                 sample: int) -> None:
    """After ``population_size`` random archs, every proposal is one mutation of a member of
    the last ``population_size`` results (aging); with a tournament far larger than the
    population (drawn with replacement) the parent is the best of them."""
    traj = _drive(registry.create("strategy", "re", population_size=population,
                                  sample_size=sample), 80)
    for i in range(population, len(traj)):
        pop = traj[i - population:i]
        best = max(pop, key=lambda t: t[1])[0]
        assert traj[i][0] in set(SP.neighbors(best)), i


def test_re_with_a_tournament_of_one_picks_any_member() -> None:
    traj = _drive(registry.create("strategy", "re", population_size=5, sample_size=1), 300)
    of_best = of_member = 0
    for i in range(5, len(traj)):
        pop = traj[i - 5:i]
        best = max(pop, key=lambda t: t[1])[0]
        of_best += traj[i][0] in set(SP.neighbors(best))
        of_member += any(traj[i][0] in set(SP.neighbors(a)) for a, _ in pop)
    n = len(traj) - 5
    assert of_member == n  # still aging: a child of the last five
    assert of_best < 0.5 * n  # but of the best only about a fifth of the time


@pytest.mark.parametrize("num_init", [1, 6])
def test_ls_starts_from_the_best_of_num_init_random_archs(num_init: int) -> None:
    traj = _drive(registry.create("strategy", "ls", num_init=num_init), 30)
    start = max(traj[:num_init], key=lambda t: t[1])[0]
    nbrs = set(SP.neighbors(start))
    # best improvement: the whole neighbourhood of the start (24 archs) comes next
    assert all(a in nbrs for a, _ in traj[num_init:num_init + len(nbrs)])


@pytest.mark.parametrize("first", [False, True])
def test_ls_first_improvement_moves_at_once(first: bool) -> None:
    traj = _drive(registry.create("strategy", "ls", first_improvement=first), 60)
    centre, centre_val = traj[0]
    nbrs = set(SP.neighbors(centre))
    i = 1
    while traj[i][1] <= centre_val:  # neighbours not better than the start
        assert traj[i][0] in nbrs
        i += 1
    better = traj[i][0]
    assert better in nbrs
    nxt = traj[i + 1][0]
    if first:  # the next proposal already explores around the better neighbour
        assert nxt in set(SP.neighbors(better)) and nxt not in nbrs - set(SP.neighbors(better))
    else:  # the neighbourhood of the start is finished first
        assert nxt in nbrs and i + 1 < len(nbrs)


def _entropy(p: np.ndarray) -> float:
    q = np.where(p > 0, p, 1.0)
    return float(-(p * np.log(q)).sum())


def test_reinforce_learning_rate_and_entropy_weight_shape_the_policy() -> None:
    def final(**params: Any) -> Any:
        s = registry.create("strategy", "reinforce", **params)
        _drive(s, 150)
        return s

    h = {lr: _entropy(final(learning_rate=lr).probs()) for lr in (0.003, 0.03, 0.3)}
    assert h[0.003] > h[0.03] > h[0.3]  # larger steps: a more decided policy
    h_w = {w: _entropy(final(learning_rate=0.1, entropy_weight=w).probs()) for w in (0.0, 1.0)}
    assert h_w[1.0] > h_w[0.0] + 0.5  # the entropy bonus keeps the policy spread out


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_reinforce_baseline_is_the_moving_average_of_rewards(momentum: float) -> None:
    s = registry.create("strategy", "reinforce", baseline_momentum=momentum)
    told = _drive(s, 25)
    b = told[0][1]
    for _, r in told[1:]:
        b = momentum * b + (1 - momentum) * r
    assert s.baseline == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("name", ["neural_predictor", "bananas"])
def test_guided_dedup_exact_allows_isomorphs_but_never_repeats(name: str) -> None:
    """canonical (default) never proposes two members of one isomorphism class
    (test_predictor_guided.py); exact only never proposes one arch twice."""
    params = {**STRATEGY_OPTIONS[name][0], "dedup": "exact"}
    traj = [c for c, _ in run_trajectory(registry.create("strategy", name, **params), SP,
                                         SyntheticEstimator(), n=60, seed=0)]
    assert len(set(traj)) == len(traj)
    classes = {SP.canonical(Architecture(SP.name, tuple(c))).choices for c in traj}
    assert len(classes) < len(traj)  # isomorphic pairs: the predictor scores them alike


def test_rs_dedup_passes_over_a_finite_space_and_resumes_mid_pass() -> None:
    """On a 12-arch space every 12 consecutive proposals are the whole space (sampling
    without replacement, pass after pass, results told or not yet), and a strategy restored
    from a checkpoint taken mid-pass proposes what the uninterrupted one does."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from toy_spaces import ToyGrid, registered

    with registered(ToyGrid):
        space = ToyGrid()
        n = len(space)

        def fresh() -> Any:
            s = registry.create("strategy", "rs")
            s.setup(space, Objective("val_acc"), seed=3)
            return s

        a = fresh()
        first = []  # the first pass and 6 proposals of the second, every third one failed
        for i in range(n + 6):
            (arch,) = a.ask(1)
            first.append(arch)
            if i % 3 == 0:
                a.tell_failed(arch, "x")
        snap = a.state_dict()
        rest = [a.ask(1)[0] for _ in range(2 * n - 6)]  # the second pass's end, a third pass
        passes = [first[:n], first[n:] + rest[:n - 6], rest[n - 6:]]
        for p in passes:
            assert len({x.choices for x in p}) == n
        b = fresh()
        b.load_state_dict(snap)
        assert [b.ask(1)[0] for _ in range(2 * n - 6)] == rest
