"""Storage of experiments and trials.

``base``: the narrow :class:`TrialStore` (what one experiment's loop needs) and the full
:class:`Storage`; ``sqlite``: :class:`SQLiteStorage` (schema version 2, migrates version-1
files); ``memory``: :class:`InMemoryStorage` and :class:`BufferedTrialStore`. The records
(:class:`TrialRecord`, :class:`ExperimentInfo`) live in :mod:`naslab.runner.records`.
"""

from naslab.runner.records import ExperimentInfo, TrialRecord
from naslab.runner.storage.base import (
    TRIAL_COLUMNS,
    Storage,
    TrialStore,
    _canon,
    _check_same_config,
)
from naslab.runner.storage.memory import BufferedTrialStore, InMemoryStorage
from naslab.runner.storage.sqlite import (
    SCHEMA_VERSION,
    DamagedStorageError,
    ExperimentBusyError,
    SQLiteStorage,
)

__all__ = [
    "SCHEMA_VERSION", "TRIAL_COLUMNS", "BufferedTrialStore", "DamagedStorageError",
    "ExperimentBusyError", "ExperimentInfo", "InMemoryStorage",
    "SQLiteStorage", "Storage", "TrialRecord", "TrialStore", "_canon", "_check_same_config",
]
