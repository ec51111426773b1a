"""Paired quality check: a search strategy against random search on the tabular benchmark.

``check_strategy_quality(name)`` runs the registered strategy ``name`` and its baseline (random
search) on the default tabular benchmark (``naslab.benchmarks.DEFAULT_BENCHMARK``) with the
same seeds ``0..seeds-1`` and compares a score of each pair of runs at every budget of the
strategy's entry in :data:`QUALITY`:

* ``expect="beats"``: at every budget the strategy's score is higher than the baseline's on
  the same seed, significantly: a one-sided Wilcoxon signed-rank test on the paired
  differences gives ``p < alpha`` and the mean gain is at least ``min_gain``;
* ``expect="exact"`` (random search itself, which cannot be paired with itself): at every
  budget the mean score is within ``z_max`` standard errors of the exact expected best-of-N
  of random search computed from the benchmark's table (:mod:`naslab.analysis.best_of_n`),
  an independent reference.

The default score is the test accuracy of the incumbent (best validation objective among
full-fidelity trials) once the budget is spent; a budget is a number of trials
(``budget="trials"``) or of simulated seconds (``budget="simulated_s"``, the trial at which the
cumulative simulated cost reaches it, as ``MaxSimulatedSeconds`` would stop).

Every registered strategy needs an entry: a strategy without one fails the check with a message
saying what to add (the test suite runs the check over the whole registry, so a new strategy
cannot pass unnoticed). Budgets go where the benchmark (``docs/benchmarks.md``) shows the
strategy winning; ``evidence`` says where.

Multi-objective strategies use the same check: give ``objectives`` (the run's objectives; the
baseline runs with the same ones; a missing hypervolume reference point is filled in with the
benchmark's worst value of each objective) and a ``score``: :func:`incumbent_test` (the primary
objective's incumbent, the default), :func:`hypervolume` (the run's recorded hypervolume of its
front after the budget), or any ``score(result, k) -> float`` of the first ``k`` trials. The
baseline can be another registered strategy (``baseline=``), e.g. a multi-objective random
search.

The seeds are fixed, so the check is deterministic: it either always passes or always fails
for a given strategy and benchmark.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from naslab import registry
from naslab.benchmarks import DEFAULT_BENCHMARK
from naslab.estimators.base import Estimator, Objective, ObjectiveLike, Objectives, as_objectives
from naslab.runner import Experiment, InMemoryStorage, MaxSimulatedSeconds, MaxTrials
from naslab.runner.experiment import RunResult
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import SearchSpace, get_space
from naslab.strategies.base import Strategy

DAY = 86400.0
BUDGET_KINDS = ("trials", "simulated_s")
EXPECTATIONS = ("beats", "exact")

#: score(result, k): a figure of merit of the first ``k`` trials of a run (higher is better)
Score = Callable[[RunResult, int], float]


def incumbent_test(result: RunResult, k: int) -> float:
    """Test accuracy of the incumbent (primary objective) after the first ``k`` trials; NaN
    when there is none yet (e.g. no full-fidelity trial)."""
    t = result.trials[k - 1].incumbent_test
    return math.nan if t is None else float(t)


def hypervolume(result: RunResult, k: int) -> float:
    """The run's recorded hypervolume of its (validation) front after the first ``k`` trials
    (multi-objective runs with a reference point); NaN without one."""
    hv = result.trials[k - 1].hypervolume
    return math.nan if hv is None else float(hv)


@dataclass(frozen=True)
class QualitySpec:
    """What a strategy must show against its baseline on the tabular benchmark.

    budgets: where the comparison is made, in ``budget`` units (trials or simulated seconds).
    expect: ``beats`` (paired Wilcoxon, see the module) or ``exact`` (random search itself).
    evidence: where the benchmark shows it (quoted in failure messages).
    params: the strategy's hyper-parameters for the check (e.g. cheaper predictor training).
    seeds: seeds ``0..seeds-1``, each run by the strategy and by the baseline.
    alpha, min_gain: ``beats`` needs p < alpha and a mean paired gain >= min_gain at every budget.
    z_max: ``exact`` needs |mean - exact| <= z_max standard errors at every budget.
    objectives, score: see the module (multi-objective strategies).
    baseline, baseline_params: the strategy compared against (default: random search).
    slow: the check takes more than a few seconds (the test suite marks it slow).
    """

    budgets: tuple[float, ...]
    evidence: str
    budget: str = "trials"
    expect: str = "beats"
    params: Mapping[str, Any] = field(default_factory=dict)
    seeds: int = 100
    alpha: float = 0.01
    min_gain: float = 0.0
    z_max: float = 4.0
    objectives: ObjectiveLike | None = None
    score: Score = incumbent_test
    baseline: str = "rs"
    baseline_params: Mapping[str, Any] = field(default_factory=dict)
    slow: bool = False

    def __post_init__(self) -> None:
        if self.budget not in BUDGET_KINDS:
            raise ValueError(f"budget must be one of {BUDGET_KINDS}, got {self.budget!r}")
        if self.expect not in EXPECTATIONS:
            raise ValueError(f"expect must be one of {EXPECTATIONS}, got {self.expect!r}")
        if not self.budgets or any(not b > 0 for b in self.budgets):
            raise ValueError(f"budgets must be positive numbers, got {self.budgets!r}")
        if self.expect == "exact" and self.budget != "trials":
            raise ValueError("expect='exact' compares with best-of-N curves: trial budgets only")
        if self.seeds < 6:
            raise ValueError(f"a paired test needs at least 6 seeds, got {self.seeds}")


#: The expectation of every registered strategy (canonical registry names). Figures from
#: docs/benchmarks.md (NB201 cifar10, 100 seeds; search on one recorded run's validation
#: accuracy, incumbent reported by its 200-epoch test accuracy).
QUALITY: dict[str, QualitySpec] = {
    "rs": QualitySpec(
        budgets=(10, 50, 150, 300), expect="exact",
        evidence="rs is the protocol of analysis.best_of_n.expected_best_of_n (docs/benchmarks.md, "
                 "space_analysis: exactness of best-of-N)"),
    "re": QualitySpec(
        budgets=(50, 100, 150, 300),
        evidence="tabular_search: RE ahead of RS at every budget from 50 to 300 queries "
                 "(cifar10 93.83 vs 93.63 at 50, 94.25 vs 93.91 at 300)"),
    "ls": QualitySpec(
        budgets=(100, 150, 300),
        evidence="tabular_search: LS ahead of RS from 100 queries (cifar10 94.01 vs 93.79 at "
                 "100, 94.27 vs 93.91 at 300); level with RS at 50 (93.64 vs 93.63)"),
    "reinforce": QualitySpec(
        budgets=(300,),
        evidence="tabular_search: REINFORCE 94.09 vs RS 93.91 at 300 queries on cifar10; at "
                 "150 queries only +0.07 (comparison: p = 0.14)"),
    "sh": QualitySpec(
        budgets=(0.5 * DAY, 1 * DAY, 2 * DAY, 5 * DAY), budget="simulated_s",
        evidence="early_stopping: sh eta=3 beats RS by more than two paired standard errors "
                 "at 0.5, 1, 2, 5 and 10 simulated GPU-days (+0.21 at 0.5 d)"),
    "hyperband": QualitySpec(
        budgets=(0.5 * DAY, 1 * DAY), budget="simulated_s", seeds=200,
        evidence="early_stopping: hyperband eta=3 beats RS by more than two paired standard "
                 "errors at 0.5 d and 1 d (+0.09, +0.10), not at 2 d"),
    "bananas": QualitySpec(
        budgets=(100,), seeds=12, slow=True,
        params={"predictor_params": {"epochs": 20, "ensemble": 3}, "k": 20},
        evidence="predictors: BANANAS 94.26 vs RS 93.79 at 100 queries on cifar10 (here with "
                 "cheaper predictor training and refits every 20 queries)"),
    "neural_predictor": QualitySpec(
        budgets=(100,), seeds=12, slow=True,
        params={"predictor_params": {"epochs": 20}, "n_candidates": 300, "k": 20},
        evidence="predictors: Neural Predictor 94.32 vs RS 93.79 at 100 queries on cifar10 "
                 "(here with cheaper predictor training, 300 candidates, refits every 20)"),
}


def quality_spec(name: str) -> QualitySpec:
    """The :data:`QUALITY` entry of registered strategy ``name`` (aliases resolved); an
    AssertionError saying what to add when there is none."""
    canonical = registry.get("strategy", name).registry_name
    spec = QUALITY.get(canonical)
    if spec is None:
        raise AssertionError(
            f"strategy {canonical!r} has no quality expectation: add a QualitySpec for it to "
            f"naslab.testing.quality.QUALITY (the budgets where the benchmark shows it beating "
            f"random search, with the figures in docs/benchmarks.md as evidence), or pass "
            f"spec= to check_strategy_quality")
    return spec


@dataclass
class QualityReport:
    """The comparison of one strategy with its baseline (or with the exact curve)."""

    name: str
    spec: QualitySpec
    scores: np.ndarray                  # (seeds, budgets)
    baseline_scores: np.ndarray | None  # (seeds, budgets); None for expect="exact"
    p_values: list[float]               # beats: one-sided Wilcoxon p per budget
    exact: list[float]                  # exact: expected best-of-N per budget
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def gains(self) -> np.ndarray:
        assert self.baseline_scores is not None
        return np.asarray(np.mean(self.scores - self.baseline_scores, axis=0))

    def budget_label(self, b: float) -> str:
        return f"{b:g} trials" if self.spec.budget == "trials" else f"{b / DAY:g} d"

    def table(self) -> str:
        s = self.spec
        lines = []
        for j, b in enumerate(s.budgets):
            mean = float(np.mean(self.scores[:, j]))
            if s.expect == "exact":
                se = float(np.std(self.scores[:, j], ddof=1) / np.sqrt(len(self.scores)))
                lines.append(f"  {self.budget_label(b)}: {self.name} {mean:.3f} ± {se:.3f} "
                             f"(se), exact {self.exact[j]:.3f}")
            else:
                assert self.baseline_scores is not None
                d = self.scores[:, j] - self.baseline_scores[:, j]
                lines.append(f"  {self.budget_label(b)}: {self.name} {mean:.3f} vs {s.baseline} "
                             f"{float(np.mean(self.baseline_scores[:, j])):.3f}, gain "
                             f"{float(np.mean(d)):+.3f}, better on {int(np.sum(d > 0))} / worse "
                             f"on {int(np.sum(d < 0))} of {len(d)} seeds, p = "
                             f"{self.p_values[j]:.2g}")
        return "\n".join(lines)

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED: " + "; ".join(self.failures)
        return f"{self.name} vs {self.spec.baseline} ({verdict})\n{self.table()}"


# ---------------------------------------------------------------------------------------------
def default_estimator(data_dir: str | None = None) -> Estimator:
    """The tabular estimator on the default benchmark (needs its data files)."""
    from naslab.estimators.tabular import TabularEstimator

    key = ("default", data_dir)
    if key not in _ESTIMATORS:
        _ESTIMATORS[key] = TabularEstimator(DEFAULT_BENCHMARK, data_dir=data_dir)
    return _ESTIMATORS[key]


_ESTIMATORS: dict[tuple[str, str | None], Estimator] = {}
#: baseline runs, reused across checks: key -> {seed: (budget it ran to, result)}
_BASELINE_RUNS: dict[str, dict[int, tuple[float, RunResult]]] = {}


def _objectives(spec: QualitySpec, estimator: Estimator) -> Objectives:
    obj = as_objectives(spec.objectives if spec.objectives is not None else Objective("val_acc"))
    if obj.is_multi and obj.reference is None:
        bench = getattr(estimator, "bench", None)
        if bench is None:
            raise AssertionError("a multi-objective quality check needs a reference point: give "
                                 "one in the objectives (the estimator has no table to take "
                                 "the worst values from)")
        ref = tuple(float(np.nanmin(bench.column(o.metric)) if o.mode == "max"
                          else np.nanmax(bench.column(o.metric))) for o in obj)
        obj = Objectives(obj.objectives, obj.constraints, ref)
    return obj


def _run(space: SearchSpace, strategy: Strategy, estimator: Estimator, spec: QualitySpec,
         objectives: Objectives, seed: int, budget: float) -> RunResult:
    term = MaxTrials(int(budget)) if spec.budget == "trials" else MaxSimulatedSeconds(budget)
    return Experiment(space, strategy, estimator, termination=term, objective=objectives,
                      storage=InMemoryStorage(), seed=seed).run()


def _trials_at(result: RunResult, spec: QualitySpec, budget: float) -> int:
    """How many trials the run had when ``budget`` was reached."""
    if spec.budget == "trials":
        if result.n_trials < budget:
            raise AssertionError(f"{result.experiment_id}: ran {result.n_trials} of "
                                 f"{budget:g} trials")
        return int(budget)
    for t in result.trials:
        if t.cum_simulated_s >= budget:
            return t.number + 1
    raise AssertionError(f"{result.experiment_id}: stopped at {result.simulated_cost_s:.0f} "
                         f"simulated s, before the budget of {budget:.0f} s")


def _scores(results: list[RunResult], spec: QualitySpec) -> np.ndarray:
    return np.array([[spec.score(r, _trials_at(r, spec, b)) for b in spec.budgets]
                     for r in results], dtype=np.float64)


def _baseline_results(space: SearchSpace, estimator: Estimator, spec: QualitySpec,
                      objectives: Objectives) -> list[RunResult]:
    key = json.dumps({"space": space.name, "estimator": estimator.describe(),
                      "baseline": spec.baseline, "params": dict(spec.baseline_params),
                      "objectives": objectives.describe(), "budget": spec.budget},
                     sort_keys=True, default=str)
    runs = _BASELINE_RUNS.setdefault(key, {})
    top = max(spec.budgets)
    out = []
    for seed in range(spec.seeds):
        have = runs.get(seed)
        if have is None or have[0] < top:  # a longer run holds every shorter one as its prefix
            strat = registry.create("strategy", spec.baseline, **dict(spec.baseline_params))
            runs[seed] = (top, _run(space, strat, estimator, spec, objectives, seed, top))
        out.append(runs[seed][1])
    return out


def _exact_curve(estimator: Estimator, budgets: tuple[float, ...]) -> list[float]:
    from naslab.analysis.best_of_n import expected_best_of_n

    bench = getattr(estimator, "bench", None)
    if bench is None or not getattr(bench, "has_test", False):
        raise AssertionError("expect='exact' needs a tabular estimator with test accuracy")
    n = int(max(budgets))
    val = (bench.column("val_acc") if getattr(bench, "val", "run") == "mean"
           else bench.run_table("val_acc"))
    mean = expected_best_of_n(val, bench.column("test_acc"), n).mean
    return [float(mean[int(b) - 1]) for b in budgets]


def paired_p_value(diffs: np.ndarray) -> float:
    """One-sided Wilcoxon signed-rank p-value of ``diffs > 0`` (zero differences split
    between the signs; 1.0 when every difference is zero)."""
    from scipy.stats import wilcoxon

    d = np.asarray(diffs, dtype=np.float64)
    if not np.any(d != 0):
        return 1.0
    return float(wilcoxon(d, alternative="greater", zero_method="zsplit").pvalue)


def compare_to_baseline(name: str, *, spec: QualitySpec | None = None,
                        make: Callable[[], Strategy] | None = None,
                        estimator: Estimator | None = None,
                        data_dir: str | None = None) -> QualityReport:
    """Run the comparison of ``name``'s :data:`QUALITY` entry (or ``spec``) and report it.

    ``make`` builds the strategy instead of the registry (to check the check: a strategy that
    degrades to random search must fail). ``estimator`` defaults to the tabular estimator on
    ``DEFAULT_BENCHMARK`` (its data files are needed).
    """
    spec = spec if spec is not None else quality_spec(name)
    est = estimator if estimator is not None else default_estimator(data_dir)
    space = get_space(getattr(est, "space_name", None) or DEFAULT_SPACE)
    objectives = _objectives(spec, est)

    def build() -> Strategy:
        if make is not None:
            return make()
        s: Strategy = registry.create("strategy", name, **dict(spec.params))
        return s

    results = [_run(space, build(), est, spec, objectives, seed, max(spec.budgets))
               for seed in range(spec.seeds)]
    scores = _scores(results, spec)
    failures: list[str] = []
    p_values: list[float] = []
    exact: list[float] = []
    base_scores = None
    nan_seeds = np.isnan(scores).any(axis=1)
    if nan_seeds.any():
        failures.append(f"{int(nan_seeds.sum())} runs have no score at some budget (no "
                        f"full-fidelity incumbent?)")
    if spec.expect == "exact":
        exact = _exact_curve(est, spec.budgets)
        for j, b in enumerate(spec.budgets):
            col = scores[:, j]
            se = float(np.std(col, ddof=1) / np.sqrt(len(col)))
            z = abs(float(np.mean(col)) - exact[j]) / se if se > 0 else math.inf
            if not z <= spec.z_max:
                failures.append(f"mean at {b:g} trials is {z:.1f} standard errors from the exact "
                                f"expected best-of-N ({exact[j]:.3f})")
    else:
        base_scores = _scores(_baseline_results(space, est, spec, objectives), spec)
        for j, b in enumerate(spec.budgets):
            d = scores[:, j] - base_scores[:, j]
            p = paired_p_value(np.nan_to_num(d, nan=-math.inf))
            p_values.append(p)
            gain = float(np.mean(d))
            lab = f"{b:g} trials" if spec.budget == "trials" else f"{b / DAY:g} d"
            if not (p < spec.alpha and gain >= spec.min_gain and gain > 0):
                failures.append(f"does not beat {spec.baseline} at {lab} (mean gain {gain:+.3f}, "
                                f"one-sided Wilcoxon p = {p:.2g}, needed p < {spec.alpha:g}"
                                + (f" and gain >= {spec.min_gain:g}" if spec.min_gain else "")
                                + ")")
    return QualityReport(name, spec, scores, base_scores, p_values, exact, failures)


def check_strategy_quality(name: str, *, spec: QualitySpec | None = None,
                           make: Callable[[], Strategy] | None = None,
                           estimator: Estimator | None = None,
                           data_dir: str | None = None) -> QualityReport:
    """:func:`compare_to_baseline`, raising AssertionError (with the figures and the
    benchmark's evidence) when the expectation is not met; returns the report otherwise."""
    spec = spec if spec is not None else quality_spec(name)
    rep = compare_to_baseline(name, spec=spec, make=make, estimator=estimator, data_dir=data_dir)
    if not rep.passed:
        raise AssertionError(f"{rep}\nexpected from the benchmark: {spec.evidence}")
    return rep
