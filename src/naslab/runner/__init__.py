"""Experiment loop, termination rules, storage (SQLite) and executors."""

from naslab.runner.experiment import Experiment, RunResult, load_result
from naslab.runner.storage import InMemoryStorage, SQLiteStorage, Storage, TrialRecord
from naslab.runner.termination import (
    AnyOf,
    MaxSimulatedSeconds,
    MaxTrials,
    MaxWallSeconds,
    Progress,
    Termination,
    make_termination,
)

__all__ = [
    "AnyOf", "Experiment", "InMemoryStorage", "MaxSimulatedSeconds", "MaxTrials", "MaxWallSeconds",
    "Progress", "RunResult", "SQLiteStorage", "Storage", "Termination", "TrialRecord",
    "load_result", "make_termination",
]
