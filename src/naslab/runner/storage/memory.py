"""Storage that lives in the process: :class:`InMemoryStorage` (throw-away runs, tests) and
:class:`BufferedTrialStore` (one experiment's new trials held back until it finishes)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from naslab.errors import StorageError, did_you_mean
from naslab.runner.records import ExperimentInfo, TrialRecord
from naslab.runner.storage.base import (
    Storage,
    TrialStore,
    check_kind,
    check_same_config,
    check_same_experiment,
)


class InMemoryStorage(Storage):
    """Storage that lives in the process (benchmarks, tests); never computes checkpoints."""

    persistent = False

    def __init__(self) -> None:
        self._exps: dict[str, ExperimentInfo] = {}
        self._trials: dict[str, list[TrialRecord]] = {}
        self._ckpt: dict[str, dict[str, Any]] = {}
        self._records: dict[str, list[dict[str, Any]]] = {}
        self._blobs: dict[tuple[str, str], bytes] = {}
        self._groups: dict[str, dict[str, Any]] = {}

    def open_experiment(self, exp_id: str, config: dict[str, Any], meta: dict[str, Any], *,
                        kind: str = "search") -> bool:
        check_kind(kind)
        if exp_id in self._exps:
            e = self._exps[exp_id]
            check_same_experiment(exp_id, e.config, config, e.kind, kind)
            return False
        now = time.time()
        self._exps[exp_id] = ExperimentInfo(exp_id, now, now, "running", config, meta, kind=kind)
        self._trials[exp_id] = []
        return True

    def record_trial(self, exp_id: str, trial: TrialRecord,
                     checkpoint: Callable[[], dict[str, Any]] | None = None) -> None:
        self._trials[exp_id].append(trial)

    def trials(self, exp_id: str) -> list[TrialRecord]:
        return list(self._trials.get(exp_id, []))

    def checkpoint(self, exp_id: str) -> dict[str, Any] | None:
        return self._ckpt.get(exp_id)

    def set_status(self, exp_id: str, status: str) -> None:
        self._exps[exp_id].status = status
        self._exps[exp_id].updated = time.time()

    def experiments(self) -> list[ExperimentInfo]:
        out = []
        for e in self._exps.values():
            e.n_trials = len(self._trials[e.id])
            out.append(e)
        return out

    def experiment(self, exp_id: str) -> ExperimentInfo:
        e = self._exps.get(exp_id)
        if e is None:
            raise self._unknown_experiment(exp_id)
        e.n_trials = len(self._trials[exp_id])
        return e

    def add_record(self, exp_id: str, kind: str, data: dict[str, Any], *,
                   blob: bytes | None = None, blob_key: str = "checkpoint") -> None:
        self._records.setdefault(exp_id, []).append({"kind": kind, "created": time.time(), **data})
        if blob is not None:
            self._blobs[(exp_id, blob_key)] = bytes(blob)

    def records(self, exp_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self._records.get(exp_id, []) if kind is None or r["kind"] == kind]

    def blob(self, exp_id: str, key: str = "checkpoint") -> bytes | None:
        return self._blobs.get((exp_id, key))

    def open_group(self, group_id: str, config: dict[str, Any]) -> bool:
        g = self._groups
        if group_id in g:
            check_same_config(group_id, g[group_id]["config"], config)
            return False
        g[group_id] = {"config": config, "created": time.time(), "members": {}}
        return True

    def add_to_group(self, group_id: str, exp_id: str, labels: dict[str, Any]) -> None:
        self._groups[group_id]["members"][exp_id] = dict(labels)

    def groups(self) -> list[dict[str, Any]]:
        return [{"id": k, "created": v["created"], "config": v["config"],
                 "n_experiments": len(v["members"])} for k, v in self._groups.items()]

    def group(self, group_id: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        g = self._groups
        if group_id not in g:
            raise StorageError(f"no group {group_id!r} in {self.location}{did_you_mean(group_id, g)}")
        return g[group_id]["config"], list(g[group_id]["members"].items())

    def __repr__(self) -> str:
        return "InMemoryStorage()"


class BufferedTrialStore(TrialStore):
    """One experiment's new trials held in memory until the run ends (``commit: experiment``).

    It answers ``trials``/``checkpoint`` from ``prior`` and ``ckpt`` (what the real storage
    already holds, so an experiment recorded earlier resumes), keeps the new trials in
    ``new``, and computes the checkpoint once, when the run has finished (``final_ckpt``).
    Nothing reaches the real storage until :meth:`write_to` writes all of it in one
    transaction; a run that does not finish writes no trials.
    """

    persistent = True

    def __init__(self, prior: list[TrialRecord], ckpt: dict[str, Any] | None) -> None:
        self.prior, self.ckpt = prior, ckpt
        self.new: list[TrialRecord] = []
        self.final_ckpt_fn: Callable[[], dict[str, Any]] | None = None
        self.final_ckpt: dict[str, Any] | None = None
        self.status = "running"
        self.config: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        self.kind = "search"

    def open_experiment(self, exp_id: str, config: dict[str, Any], meta: dict[str, Any], *,
                        kind: str = "search") -> bool:
        check_kind(kind)
        self.config, self.meta, self.kind = config, meta, kind
        return not self.prior

    def record_trial(self, exp_id: str, trial: TrialRecord,
                     checkpoint: Callable[[], dict[str, Any]] | None = None) -> None:
        self.new.append(trial)
        self.final_ckpt_fn = checkpoint

    def trials(self, exp_id: str) -> list[TrialRecord]:
        return self.prior + self.new

    def checkpoint(self, exp_id: str) -> dict[str, Any] | None:
        return self.ckpt

    def set_status(self, exp_id: str, status: str) -> None:
        self.status = status
        if status == "finished" and self.final_ckpt_fn is not None:
            self.final_ckpt = self.final_ckpt_fn()  # the state after the last trial

    def write_to(self, storage: TrialStore, exp_id: str,
                 config: dict[str, Any] | None = None) -> None:
        """Open the experiment in ``storage`` (with ``config`` when the run never opened it),
        write the new trials and the final checkpoint in one transaction if the run finished,
        and set its status."""
        storage.open_experiment(exp_id, self.config or dict(config or {}), self.meta,
                                kind=self.kind)
        try:
            if self.status == "finished":
                storage.record_trials(exp_id, self.new, self.final_ckpt)
        except BaseException:  # e.g. Ctrl-C during the write: the transaction rolled back
            storage.set_status(exp_id, "interrupted")
            raise
        storage.set_status(exp_id, self.status)
