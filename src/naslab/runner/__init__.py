"""Experiment loop, one-shot runs, termination rules, storage (SQLite) and executors."""

from naslab.runner.experiment import Experiment, RunResult, load_result
from naslab.runner.oneshot import OneShotResult, OneShotRun, load_oneshot_result
from naslab.runner.records import ExperimentInfo, TrialRecord
from naslab.runner.storage import (
    BufferedTrialStore,
    InMemoryStorage,
    SQLiteStorage,
    Storage,
    TrialStore,
)
from naslab.runner.termination import (
    AnyOf,
    MaxSimulatedSeconds,
    MaxTrials,
    MaxWallSeconds,
    Progress,
    Termination,
    make_termination,
    prefix_length,
)

__all__ = [
    "AnyOf", "BufferedTrialStore", "Experiment", "ExperimentInfo", "InMemoryStorage",
    "MaxSimulatedSeconds", "MaxTrials", "MaxWallSeconds", "OneShotResult", "OneShotRun",
    "Progress", "RunResult",
    "SQLiteStorage", "Storage", "Termination", "TrialRecord", "TrialStore", "load_result",
    "load_oneshot_result", "make_termination", "prefix_length",
]
