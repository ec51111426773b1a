"""The storage interfaces: the narrow :class:`TrialStore` one experiment's loop needs, and the
full :class:`Storage` (experiments, records with blobs, groups, fast column reads)."""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from naslab.errors import StorageError, did_you_mean
from naslab.runner.records import EXPERIMENT_KINDS, ExperimentInfo, TrialRecord


class TrialStore(ABC):
    """What one experiment's loop reads and writes. Only the driver process writes."""

    #: whether checkpoints are worth computing (False for throw-away in-memory storage)
    persistent = True
    #: where the storage lives, for messages
    location = "storage"

    @abstractmethod
    def open_experiment(self, exp_id: str, config: dict[str, Any], meta: dict[str, Any], *,
                        kind: str = "search") -> bool:
        """Create the experiment, or check that an existing one has the same config (and
        kind). Returns True when it was created."""

    @abstractmethod
    def record_trial(self, exp_id: str, trial: TrialRecord,
                     checkpoint: Callable[[], dict[str, Any]] | None = None) -> None:
        """Append ``trial`` and replace the checkpoint, in one transaction."""

    def record_trials(self, exp_id: str, trials: list[TrialRecord],
                      checkpoint: dict[str, Any] | None = None) -> None:
        """Append several trials and replace the checkpoint (the state after the last one).

        SQLite does it in one transaction (all or nothing); used by comparisons that commit
        a whole experiment at once (``commit: experiment``)."""
        def final_state() -> dict[str, Any]:
            assert checkpoint is not None
            return checkpoint

        for i, t in enumerate(trials):
            last = checkpoint is not None and i == len(trials) - 1
            self.record_trial(exp_id, t, final_state if last else None)

    def drop_unwritten(self, exp_id: str) -> int:
        """Forget the trials of ``exp_id`` held back but not yet written (a run that ends
        with an exception calls it: their checkpoint would be taken from a state the
        exception may have left half-changed). They were recorded faster than the group
        commit's window, so the resumed run evaluates them again at once, with the same
        seeds and results; how many were dropped (0 for storage that holds nothing back)."""
        return 0

    @abstractmethod
    def trials(self, exp_id: str) -> list[TrialRecord]:
        """Every recorded trial of ``exp_id``, in order ([] for an unknown id)."""

    @abstractmethod
    def checkpoint(self, exp_id: str) -> dict[str, Any] | None:
        """The state saved with the last checkpointed trial (None when there is none)."""

    @abstractmethod
    def set_status(self, exp_id: str, status: str) -> None:
        """``running`` | ``finished`` | ``interrupted`` | ``failed``."""

    def flush(self) -> None:
        """Write what a group commit holds (nothing to do for storage that writes at once)."""

    def close(self) -> None:
        """Release the storage (files, connections)."""


class Storage(TrialStore):
    """Where experiments live: trials, checkpoints, records (+ blobs), groups."""

    def trial_columns(self, exp_id: str, columns: tuple[str, ...] | list[str]) -> dict[str, list[Any]]:
        """Per-trial fields (``TRIAL_COLUMNS``) in trial order, without building TrialRecords:
        the fast read that reports use for thousands of runs."""
        check_columns(columns)
        out: dict[str, list[Any]] = {c: [] for c in columns}
        for t in self.trials(exp_id):
            row = {"wall_s": t.cost.wall_s, "simulated_s": t.cost.simulated_s}
            for c in columns:
                out[c].append(row[c] if c in row else getattr(t, c))
        return out

    @abstractmethod
    def experiments(self) -> list[ExperimentInfo]:
        """Every experiment, oldest first."""

    def experiment(self, exp_id: str) -> ExperimentInfo:
        """One experiment; StorageError (with close matches) for an unknown id."""
        for e in self.experiments():
            if e.id == exp_id:
                return e
        raise self._unknown_experiment(exp_id)

    def _unknown_experiment(self, exp_id: str) -> StorageError:
        ids = [e.id for e in self.experiments()]
        return StorageError(f"no experiment {exp_id!r} in {self.location}{did_you_mean(exp_id, ids)}"
                            + ("" if ids else " (it holds no experiments)"))

    # records: JSON attached to an experiment (final training, one-shot traces), with blobs --
    @abstractmethod
    def add_record(self, exp_id: str, kind: str, data: dict[str, Any], *,
                   blob: bytes | None = None, blob_key: str = "checkpoint") -> None:
        """Attach a JSON record to an experiment; with ``blob``, replace the experiment's blob
        ``blob_key`` (e.g. a one-shot checkpoint) in the same transaction."""

    @abstractmethod
    def records(self, exp_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        """``[{"kind", "created", **data}]`` in the order they were added."""

    @abstractmethod
    def blob(self, exp_id: str, key: str = "checkpoint") -> bytes | None:
        """The blob last stored under ``key`` (None when there is none)."""

    # groups: named sets of experiments, e.g. the runs of one comparison -------------------
    @abstractmethod
    def open_group(self, group_id: str, config: dict[str, Any]) -> bool:
        """Create a group (or check the config of an existing one); True when created."""

    @abstractmethod
    def add_to_group(self, group_id: str, exp_id: str, labels: dict[str, Any]) -> None:
        """Add experiment ``exp_id`` with ``labels`` (e.g. strategy, seed, target); idempotent."""

    @abstractmethod
    def groups(self) -> list[dict[str, Any]]:
        """``[{"id", "created", "config", "n_experiments"}]``."""

    @abstractmethod
    def group(self, group_id: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        """``(config, [(experiment_id, labels), ...])``; StorageError for an unknown id."""


# ------------------------------------------------------------------------------------------
# helpers shared by the back-ends

#: per-trial fields that :meth:`Storage.trial_columns` returns (``objectives`` and ``front``
#: are lists, the others scalars)
TRIAL_COLUMNS = ("number", "status", "objective", "fidelity", "seed", "wall_s", "simulated_s",
                 "reused", "error", "started", "finished", "incumbent_number", "incumbent_objective",
                 "incumbent_test", "cum_simulated_s", "cum_wall_s", "feasible", "hypervolume",
                 "objectives", "front")


def check_columns(columns: tuple[str, ...] | list[str]) -> None:
    bad = [c for c in columns if c not in TRIAL_COLUMNS]
    if bad or not columns:
        raise StorageError(f"trial columns must be among {', '.join(TRIAL_COLUMNS)}, got "
                           f"{list(columns)!r}{did_you_mean(bad[0], TRIAL_COLUMNS) if bad else ''}")


def check_kind(kind: str) -> None:
    if kind not in EXPERIMENT_KINDS:
        raise StorageError(f"experiment kind must be one of {', '.join(EXPERIMENT_KINDS)}, got "
                           f"{kind!r}{did_you_mean(str(kind), EXPERIMENT_KINDS)}")


def check_same_experiment(exp_id: str, old: dict[str, Any], new: dict[str, Any],
                          old_kind: str, new_kind: str) -> None:
    if old_kind != new_kind:
        raise StorageError(f"experiment {exp_id!r} already exists as a {old_kind!r} run, not a "
                           f"{new_kind!r} run; choose another experiment id or storage file")
    check_same_config(exp_id, old, new)


def check_same_config(exp_id: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    if _canon(old) != _canon(new):
        diff = sorted(k for k in set(old) | set(new) if _canon(old.get(k)) != _canon(new.get(k)))
        raise StorageError(
            f"experiment {exp_id!r} already exists with a different configuration (differs in: "
            f"{', '.join(diff)}); choose another experiment id or storage file"
        )


#: the old private name (compare.py imports it from naslab.runner.storage)
_check_same_config = check_same_config


def _canon(x: Any) -> str:
    """Canonical JSON of ``x`` (sorted keys): what configs are compared and hashed by."""
    return json.dumps(x, sort_keys=True, default=str)


def dumps(x: Any) -> str:
    """Compact JSON for storage (numpy scalars/arrays and tuples/sets as plain JSON)."""
    return _ENCODE(x)


def _json_default(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


#: one encoder for every write (``json.dumps`` with arguments builds a new one per call)
_ENCODE = json.JSONEncoder(separators=(",", ":"), default=_json_default).encode


def finite_or_none(x: float | None) -> float | None:
    """SQLite stores NaN as NULL; keep infinities out of REAL columns (and JSON) too."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return float(x)
