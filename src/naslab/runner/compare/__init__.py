"""Fair comparisons: strategies x seeds x targets under one budget, all trials in storage.

A comparison is described by a YAML/JSON config (:func:`load_config`, in ``config``) and run by
:func:`run_comparison` (``run``), which returns a :class:`ComparisonResult` of
:class:`RunSummary` rows (``result``). Every (strategy, seed, target) is one ordinary
experiment with the deterministic default id, so a rerun of the same config reuses every
finished run, resumes interrupted ones and runs only what is missing. Random search (``rs``)
is always part of a comparison: it is added as the baseline when absent. The experiments are
collected in a storage group (id = the comparison's name) with labels ``{"strategy", "seed",
"target"}``; reports read that group. The final training of each run's incumbent
(``retrain``) is :mod:`naslab.runner.retrain`'s.
"""

from naslab.runner.compare.config import (
    BASELINE,
    COMMIT_MODES,
    LEVELS,
    CompareConfig,
    RetrainSpec,
    StrategySpec,
    TargetSpec,
    budget_termination,
    check_run_level,
    load_config,
    resolve_commit,
)
from naslab.runner.compare.result import (
    SUMMARY_COLS,
    ComparisonResult,
    RunSummary,
    columns,
    summarize,
)
from naslab.runner.compare.run import RunJobs, make_estimator, run_comparison

#: the old private name of :func:`check_run_level`
_check_run_level = check_run_level

__all__ = [
    "BASELINE", "COMMIT_MODES", "LEVELS", "SUMMARY_COLS", "CompareConfig", "ComparisonResult",
    "RetrainSpec", "RunJobs", "RunSummary", "StrategySpec", "TargetSpec", "budget_termination",
    "check_run_level", "columns", "load_config", "make_estimator", "resolve_commit",
    "run_comparison", "summarize",
]
