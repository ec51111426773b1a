"""Search-space analysis of a tabular benchmark: the evidence for "the space does the work".

``analyze_space(bench)`` puts together, for one benchmark target (e.g. ``nb201/cifar10``):
the accuracy distribution and its quantiles; the exact expected best-of-N curves of random
search (see :mod:`naslab.analysis.best_of_n` for the definitions) with an optional Monte-Carlo
check; the exact functional ANOVA over the space's declared decisions (NB201: the edge
operations; per-decision importance, pairwise interactions, marginal means); fitness-distance
correlation, random-walk autocorrelation and local optima; isomorphism statistics. It works on
any tabular benchmark whose space is finite with decisions forming a full factorial grid, and
reads the benchmark through its public methods only. ``compare_to_random`` adds, for the runs of a stored
comparison, how far each strategy beats the exact random best-of-N at the same budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from naslab.analysis import best_of_n as bon
from naslab.analysis.fanova import Anova, anova, grid_table, space_grid
from naslab.analysis.isomorphism import class_ids, class_stats, expected_distinct_classes
from naslab.analysis.landscape import (
    autocorrelation_exact,
    correlation_length,
    fitness_distance,
    local_optima,
    simulate_walks,
)
from naslab.errors import ConfigError, DataError, check_int
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import SearchSpace, get_space

QUANTILES = (0.0, 0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99, 0.999, 1.0)


@dataclass
class SpaceAnalysis:
    target: str
    n_max: int
    n_archs: int
    metric: str
    edges: list[str]                    # one label per decision (cell edges as "src->dst")
    ops: list[str]                      # the options shared by every decision ([] if they differ)
    values: np.ndarray                  # the metric per arch (official order)
    quantiles: dict[str, float]
    near_optimum: dict[str, int]        # archs within 0.1 / 0.5 / 1 / 2 points of the optimum
    optimum: dict[str, Any]
    best_of_n: dict[str, np.ndarray]    # name -> E[value of incumbent] for N = 1..n_max
    best_of_n_check: dict[str, Any]     # Monte-Carlo comparison (when requested)
    anova: Anova
    fdc: dict[str, Any] = field(default_factory=dict)
    autocorr: dict[str, Any] = field(default_factory=dict)
    local_optima: dict[str, Any] = field(default_factory=dict)
    isomorphism: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    options: list[list[str]] = field(default_factory=list)  # the options of each decision

    def to_json(self) -> dict[str, Any]:
        """Everything but the per-arch values, as JSON-able data."""
        an = self.anova
        return {
            "target": self.target, "metric": self.metric, "n_archs": self.n_archs,
            "n_max": self.n_max, "quantiles": self.quantiles, "near_optimum": self.near_optimum,
            "optimum": self.optimum,
            "best_of_n": {k: v.tolist() for k, v in self.best_of_n.items()},
            "best_of_n_check": self.best_of_n_check,
            "anova": {
                "mean": an.mean, "variance": an.variance,
                "main_fraction": dict(zip(self.edges, an.main_fraction.tolist())),
                "pair_fraction": {f"{self.edges[i]} x {self.edges[j]}": float(an.pair_fraction[i, j])
                                  for i in range(len(self.edges)) for j in range(i + 1, len(self.edges))},
                "order_fraction": {str(k + 1): float(f) for k, f in enumerate(an.order_fraction)},
                "marginal_means": {e: dict(zip(self.options[i] if self.options else self.ops,
                                               m.tolist()))
                                   for i, (e, m) in enumerate(zip(self.edges, an.marginal_means))},
            },
            "fdc": self.fdc, "autocorrelation": self.autocorr, "local_optima": self.local_optima,
            "isomorphism": self.isomorphism, "timings_s": self.timings,
        }


def decision_labels(space: SearchSpace) -> list[str]:
    """One label per decision: ``"src->dst"`` where the decision picks the op of one cell edge
    (``graph_spec``), else the decision's name."""
    labels = [d.name for d in space.decisions]
    spec = space.graph_spec
    if spec is not None and sorted(spec.edge_decisions) == list(range(len(labels))):
        for (src, dst), d in zip(spec.edges, spec.edge_decisions):
            labels[d] = f"{src}->{dst}"
    return labels


def zero_output(choices: np.ndarray, space: SearchSpace | str = DEFAULT_SPACE) -> np.ndarray:
    """Per arch (rows of decision indices of ``space``): True when its cell output is always
    zero - every path from the input to the output passes an edge whose op is one of the
    space's zero ops (``graph_spec.zero_ops``, NB201: ``none``). (NB201's isomorphism key does
    not show this: an op applied to a zero sum keeps its name in the key.)"""
    sp = get_space(space) if isinstance(space, str) else space
    spec = sp.graph_spec
    if spec is None:
        raise ConfigError(f"space {sp.name!r} declares no cell graph (graph_spec); the zero-output "
                          f"test needs one")
    c = np.asarray(choices)
    zero = [np.zeros(c.shape[0], dtype=bool)] + [np.ones(c.shape[0], dtype=bool)
                                                  for _ in range(spec.n_nodes - 1)]
    is_zero = [np.array([o in spec.zero_ops for o in d.options]) for d in sp.decisions]
    # edges in order of their target node: every node is final before an edge leaves it
    for e in sorted(range(len(spec.edges)), key=lambda k: spec.edges[k][1]):
        src, dst = spec.edges[e]
        d = spec.edge_decisions[e]
        zero[dst] &= is_zero[d][c[:, d]] | zero[src]
    return zero[-1]


def analyze_space(bench: Any, *, n_max: int = 150, metric: str = "test_acc",
                  mc_runs: int = 0, seed: int = 0, walks: int = 10000, walk_steps: int = 30,
                  max_lag: int = 10) -> SpaceAnalysis:
    """Analyse one tabular benchmark target (e.g. ``nb201/cifar10``).

    The benchmark's space must be finite, its declared decisions forming a full factorial grid
    (ConfigError otherwise). ``metric``: the value analysed (``test_acc`` or ``val_acc``, the
    mean over runs).
    ``mc_runs`` > 0 also simulates random search that many times (seeded) and reports the
    largest deviation of the exact best-of-N curves from the simulation.
    """
    space = get_space(bench.space_name)
    if metric not in ("test_acc", "val_acc"):
        raise ConfigError(f"metric must be 'test_acc' or 'val_acc', got {metric!r}")
    if not bench.has_test:
        raise DataError(bench.test_unavailable_reason)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        choices, sizes = space_grid(space)
    except ConfigError as e:
        raise ConfigError(f"the space analysis of {bench.name!r} needs a finite space whose "
                          f"decisions form a full factorial grid: {e}") from None
    edges = decision_labels(space)
    options = [list(d.options) for d in space.decisions]
    ops = options[0] if all(o == options[0] for o in options) else []
    test = bench.column("test_acc")
    val_runs = bench.run_table("val_acc")
    val_mean = bench.column("val_acc")
    y = test if metric == "test_acc" else val_mean
    M = y.size
    n_max = check_int("n_max (budget)", n_max, minimum=1, maximum=M)

    # distribution ------------------------------------------------------------------------
    qs = {f"q{q * 100:g}": float(np.quantile(y, q)) for q in QUANTILES}
    top = float(y.max())
    near = {f"within_{d:g}": int((y >= top - d).sum()) for d in (0.1, 0.5, 1.0, 2.0)}
    opt_all = np.nonzero(y == top)[0]  # archs can tie at the top
    opt_i = int(opt_all[0])
    cls = class_ids(space)
    optimum = {"index": opt_i, "arch": str(space.from_index(opt_i)), "value": top,
               "n_archs": int(opt_all.size),
               "all": [str(space.from_index(int(i))) for i in opt_all],
               "classes": int(np.unique(cls[opt_all]).size)}
    timings["distribution"] = time.perf_counter() - t0

    # best-of-N -----------------------------------------------------------------------------
    t1 = time.perf_counter()
    curves = {
        "oracle_max_test": bon.expected_max_of_n(test, n_max),
        "rs_val_run": bon.expected_best_of_n(val_runs, test, n_max).mean,
        "rs_val_mean": bon.expected_best_of_n(val_mean, test, n_max).mean,
    }
    timings["best_of_n"] = time.perf_counter() - t1
    check: dict[str, Any] = {}
    if mc_runs:
        t1 = time.perf_counter()
        check = best_of_n_check(val_runs, val_mean, test, n_max, curves, runs=mc_runs, seed=seed)
        timings["best_of_n_monte_carlo"] = time.perf_counter() - t1

    # ANOVA -----------------------------------------------------------------------------------
    t1 = time.perf_counter()
    table = grid_table(y, choices, sizes)
    an = anova(table)
    timings["anova"] = time.perf_counter() - t1

    # landscape -------------------------------------------------------------------------------
    t1 = time.perf_counter()
    fd = fitness_distance(table)
    members = choices[np.isin(cls, cls[opt_all])]
    fd_cls = fitness_distance(table, targets=members)
    rho = autocorrelation_exact(an, table.shape, max_lag)
    rho_sim = simulate_walks(table, walks=walks, steps=walk_steps, max_lag=max_lag, seed=seed)
    lo = local_optima(table)
    lo_flat = lo.ravel()
    flat_index = np.ravel_multi_index(tuple(choices.T), table.shape)
    lo_arch = lo_flat[flat_index]  # per arch in official order
    timings["landscape"] = time.perf_counter() - t1

    # isomorphism -------------------------------------------------------------------------------
    t1 = time.perf_counter()
    iso = class_stats(cls, y)
    distinct = expected_distinct_classes(cls, n_max)
    zero_out = (int(zero_output(choices, space).sum()) if space.graph_spec is not None
                else None)
    timings["isomorphism"] = time.perf_counter() - t1

    return SpaceAnalysis(
        target=bench.name, n_max=int(n_max), n_archs=M, metric=metric, edges=edges, ops=ops,
        values=y, quantiles=qs, near_optimum=near, optimum=optimum, best_of_n=curves,
        best_of_n_check=check, anova=an,
        fdc={"to_optimum": fd.fdc, "to_optimum_class": fd_cls.fdc, "optima": optimum["all"],
             "by_distance": fd.by_distance, "by_distance_class": fd_cls.by_distance},
        autocorr={"exact": rho.tolist(), "simulated": rho_sim.tolist(),
                  "max_abs_diff": float(np.max(np.abs(rho - rho_sim))),
                  "correlation_length": correlation_length(float(rho[1])),
                  "walks": walks, "steps": walk_steps, "seed": seed},
        local_optima={"count": int(lo_arch.sum()),
                      "classes": int(np.unique(cls[lo_arch]).size),
                      "best": float(y[lo_arch].max()), "worst": float(y[lo_arch].min()),
                      "median": float(np.median(y[lo_arch]))},
        options=options,
        isomorphism={"n_classes": iso.n_classes, "singletons": iso.singletons,
                     "size_counts": {str(k): v for k, v in iso.size_counts.items()},
                     "largest_classes": [{"arch": str(space.from_index(r)), "size": s}
                                         for r, s in iso.largest],
                     "within_class_var_fraction": iso.within_class_var_fraction,
                     "within_class_sd": iso.within_class_sd,
                     "zero_output_archs": zero_out,
                     "expected_distinct_classes": distinct.tolist()},
        timings=timings,
    )


def best_of_n_check(val_runs: np.ndarray, val_mean: np.ndarray, test: np.ndarray, n_max: int,
                    curves: dict[str, np.ndarray], *, runs: int, seed: int) -> dict[str, Any]:
    """Monte-Carlo random search (``runs`` runs per variant, seeded) against the exact curves.

    Reports, per variant, the largest absolute deviation over N, where it occurs, the largest
    deviation in units of the simulation's standard error, and the deviation after a control
    variate: the oracle maximum of the *same* sampled archs, whose exact mean is known, removes
    most of the sampling noise (at N = 1 all of it, where both equal the first arch's test value).
    """
    out: dict[str, Any] = {"runs": int(runs), "seed": int(seed)}
    # the oracle variant: val = test, one column
    sims = {
        "oracle_max_test": (test, 0),
        "rs_val_run": (val_runs, 1),
        "rs_val_mean": (val_mean, 2),
    }
    for name, (v, k) in sims.items():
        sim, oracle = bon.simulate_random_search(v, test, n_max, runs=runs, seed=seed + k,
                                                 return_oracle=True)
        exact = curves[name]
        mc = sim.mean(axis=0)
        se = sim.std(axis=0, ddof=1) / np.sqrt(runs)
        dev = mc - exact
        z = np.abs(dev) / np.where(se > 0, se, np.inf)
        row: dict[str, Any] = {
            "max_abs_dev": float(np.max(np.abs(dev))), "at_n": int(np.argmax(np.abs(dev)) + 1),
            "max_z": float(np.max(z)), "se_at_1": float(se[0]), "se_at_n_max": float(se[-1]),
        }
        if name != "oracle_max_test":
            # control variate: Y - beta (Z - E[Z]) with Z the oracle max of the same draws
            zc = oracle - oracle.mean(axis=0)
            yc = sim - mc
            with np.errstate(invalid="ignore", divide="ignore"):
                beta = np.where((zc**2).sum(0) > 0, (yc * zc).sum(0) / (zc**2).sum(0), 0.0)
            cv = mc - beta * (oracle.mean(axis=0) - curves["oracle_max_test"])
            row["cv_max_abs_dev"] = float(np.max(np.abs(cv - exact)))
            row["cv_at_n"] = int(np.argmax(np.abs(cv - exact)) + 1)
        out[name] = row
    return out
