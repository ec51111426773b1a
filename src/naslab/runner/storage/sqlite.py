"""Storage of experiments and trials: one SQLite file, written only by the driver.

Every trial is one transaction that also holds the strategy/runner checkpoint, so a run killed
at any point (``kill -9`` included) loses nothing it had recorded and resumes exactly. WAL mode
lets readers (``naslab runs``, reports) read while a run writes. ``synchronous=NORMAL`` keeps
commits durable across process crashes; pass ``durable=True`` for fsync on every commit
(survives power loss too, at a few ms per trial).
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naslab.errors import StorageError, did_you_mean
from naslab.estimators.base import Cost, Evaluation
from naslab.spaces.base import Architecture

SCHEMA_VERSION = 1


@dataclass
class TrialRecord:
    """One evaluated (or failed) architecture, with the incumbent after it."""

    number: int
    arch: Architecture
    status: str  # "complete" | "failed"
    metrics: dict[str, float] = field(default_factory=dict)  # test metrics included
    objective: float | None = None
    fidelity: float | None = None
    seed: int = 0
    cost: Cost = field(default_factory=Cost)
    reused: bool = False
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0
    # incumbent after this trial (best objective among full-fidelity trials so far)
    incumbent_number: int | None = None
    incumbent_objective: float | None = None
    incumbent_test: float | None = None
    cum_simulated_s: float = 0.0
    cum_wall_s: float = 0.0
    #: the evaluation's JSON-able extras (e.g. the training protocol and its hash, learning curves)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def evaluation(self) -> Evaluation:
        return Evaluation(dict(self.metrics), self.cost, self.fidelity, dict(self.info))


@dataclass
class ExperimentInfo:
    id: str
    created: float
    updated: float
    status: str
    config: dict[str, Any]
    meta: dict[str, Any]
    n_trials: int = 0


class Storage(ABC):
    """Where experiments live. Only the driver process writes."""

    @abstractmethod
    def open_experiment(self, exp_id: str, config: dict[str, Any], meta: dict[str, Any]) -> bool:
        """Create the experiment, or check that an existing one has the same config.
        Returns True when it was created."""

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

    @abstractmethod
    def trials(self, exp_id: str) -> list[TrialRecord]: ...

    @abstractmethod
    def checkpoint(self, exp_id: str) -> dict[str, Any] | None: ...

    def trial_columns(self, exp_id: str, columns: tuple[str, ...] | list[str]) -> dict[str, list[Any]]:
        """Scalar per-trial fields (``TRIAL_COLUMNS``) in trial order, without building
        TrialRecords: the fast read that reports use for thousands of runs."""
        _check_columns(columns)
        out: dict[str, list[Any]] = {c: [] for c in columns}
        for t in self.trials(exp_id):
            row = {"wall_s": t.cost.wall_s, "simulated_s": t.cost.simulated_s}
            for c in columns:
                out[c].append(row[c] if c in row else getattr(t, c))
        return out


    @abstractmethod
    def set_status(self, exp_id: str, status: str) -> None: ...

    @abstractmethod
    def experiments(self) -> list[ExperimentInfo]: ...

    @abstractmethod
    def add_record(self, exp_id: str, kind: str, data: dict[str, Any]) -> None:
        """Attach a JSON record (final training, one-shot trace, ...) to an experiment."""

    @abstractmethod
    def records(self, exp_id: str, kind: str | None = None) -> list[dict[str, Any]]: ...

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

    def experiment(self, exp_id: str) -> ExperimentInfo:
        for e in self.experiments():
            if e.id == exp_id:
                return e
        ids = [e.id for e in self.experiments()]
        raise StorageError(f"no experiment {exp_id!r} in {self.location}{did_you_mean(exp_id, ids)}"
                           + ("" if ids else " (it holds no experiments)"))

    def close(self) -> None:
        pass

    #: whether checkpoints are worth computing (False for throw-away in-memory storage)
    persistent = True
    #: where the storage lives, for messages
    location = "storage"


class InMemoryStorage(Storage):
    """Storage that lives in the process (benchmarks, tests); never computes checkpoints."""

    persistent = False

    def __init__(self) -> None:
        self._exps: dict[str, ExperimentInfo] = {}
        self._trials: dict[str, list[TrialRecord]] = {}
        self._ckpt: dict[str, dict[str, Any]] = {}
        self._records: dict[str, list[dict[str, Any]]] = {}
        self._groups: dict[str, dict[str, Any]] = {}

    def open_experiment(self, exp_id: str, config: dict[str, Any], meta: dict[str, Any]) -> bool:
        if exp_id in self._exps:
            _check_same_config(exp_id, self._exps[exp_id].config, config)
            return False
        now = time.time()
        self._exps[exp_id] = ExperimentInfo(exp_id, now, now, "running", config, meta)
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

    def add_record(self, exp_id: str, kind: str, data: dict[str, Any]) -> None:
        self._records.setdefault(exp_id, []).append({"kind": kind, "created": time.time(), **data})

    def records(self, exp_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self._records.get(exp_id, []) if kind is None or r["kind"] == kind]

    def open_group(self, group_id: str, config: dict[str, Any]) -> bool:
        g = self._groups
        if group_id in g:
            _check_same_config(group_id, g[group_id]["config"], config)
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


def _check_same_config(exp_id: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    if _canon(old) != _canon(new):
        diff = sorted(k for k in set(old) | set(new) if _canon(old.get(k)) != _canon(new.get(k)))
        raise StorageError(
            f"experiment {exp_id!r} already exists with a different configuration (differs in: "
            f"{', '.join(diff)}); choose another experiment id or storage file"
        )


#: scalar per-trial fields that :meth:`Storage.trial_columns` returns
TRIAL_COLUMNS = ("number", "status", "objective", "fidelity", "seed", "wall_s", "simulated_s",
                 "reused", "error", "started", "finished", "incumbent_number", "incumbent_objective",
                 "incumbent_test", "cum_simulated_s", "cum_wall_s")


def _check_columns(columns: tuple[str, ...] | list[str]) -> None:
    bad = [c for c in columns if c not in TRIAL_COLUMNS]
    if bad or not columns:
        raise StorageError(f"trial columns must be among {', '.join(TRIAL_COLUMNS)}, got "
                           f"{list(columns)!r}{did_you_mean(bad[0], TRIAL_COLUMNS) if bad else ''}")


def _canon(x: Any) -> str:
    return json.dumps(x, sort_keys=True, default=str)


def _dumps(x: Any) -> str:
    return json.dumps(x, separators=(",", ":"), default=_json_default)


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


def _f(x: float | None) -> float | None:
    """SQLite stores NaN as NULL; keep infinities out of REAL columns too."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return float(x)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS experiments (
    id TEXT PRIMARY KEY, created REAL, updated REAL, status TEXT,
    config TEXT NOT NULL, meta TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    experiment_id TEXT NOT NULL, number INTEGER NOT NULL,
    space TEXT, arch TEXT, choices TEXT, status TEXT, metrics TEXT,
    objective REAL, fidelity REAL, seed INTEGER, wall_s REAL, simulated_s REAL,
    reused INTEGER, error TEXT, started REAL, finished REAL,
    incumbent_number INTEGER, incumbent_objective REAL, incumbent_test REAL,
    cum_simulated_s REAL, cum_wall_s REAL, info TEXT,
    PRIMARY KEY (experiment_id, number)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    experiment_id TEXT PRIMARY KEY, number INTEGER, state TEXT
);
CREATE TABLE IF NOT EXISTS records (
    experiment_id TEXT NOT NULL, kind TEXT NOT NULL, created REAL, data TEXT
);
CREATE TABLE IF NOT EXISTS groups (
    id TEXT PRIMARY KEY, created REAL, config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS group_members (
    group_id TEXT NOT NULL, experiment_id TEXT NOT NULL, labels TEXT,
    PRIMARY KEY (group_id, experiment_id)
);
"""


class SQLiteStorage(Storage):
    """All experiments in one SQLite file (default ``./naslab.db``)."""

    def __init__(self, path: str | Path = "naslab.db", *, durable: bool = False,
                 readonly: bool = False) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        if readonly and not self.path.is_file():
            raise StorageError(f"storage file {str(self.path)!r} does not exist; run a search "
                               f"first or pass --storage PATH of an existing file")
        try:
            if not readonly:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._conn.executescript(_SCHEMA)
            cols = [r[1] for r in self._conn.execute("PRAGMA table_info(trials)")]
            if "info" not in cols:  # files written before trials carried the evaluation's info
                self._conn.execute("ALTER TABLE trials ADD COLUMN info TEXT")
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                               (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open storage file {str(self.path)!r}: {exc} (is it a "
                               f"naslab SQLite file? pass --storage PATH to use another)") from None
        except OSError as exc:
            raise StorageError(f"cannot create storage file {str(self.path)!r}: {exc}") from None

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        else:
            c.execute("COMMIT")

    def open_experiment(self, exp_id: str, config: dict[str, Any], meta: dict[str, Any]) -> bool:
        with self._tx() as c:
            row = c.execute("SELECT config FROM experiments WHERE id=?", (exp_id,)).fetchone()
            if row is not None:
                _check_same_config(exp_id, json.loads(row[0]), config)
                c.execute("UPDATE experiments SET status='running', updated=? WHERE id=?",
                          (time.time(), exp_id))
                return False
            now = time.time()
            c.execute("INSERT INTO experiments VALUES (?,?,?,?,?,?)",
                      (exp_id, now, now, "running", _dumps(config), _dumps(meta)))
            return True

    @staticmethod
    def _trial_row(exp_id: str, t: TrialRecord) -> tuple[Any, ...]:
        return (exp_id, t.number, t.arch.space, str(t.arch), _dumps(t.arch.to_json()["choices"]),
                t.status, _dumps(t.metrics), _f(t.objective), _f(t.fidelity), t.seed,
                t.cost.wall_s, t.cost.simulated_s, int(t.reused), t.error, t.started, t.finished,
                t.incumbent_number, _f(t.incumbent_objective), _f(t.incumbent_test),
                t.cum_simulated_s, t.cum_wall_s, _dumps(t.info) if t.info else None)

    def record_trials(self, exp_id: str, trials: list[TrialRecord],
                      checkpoint: dict[str, Any] | None = None) -> None:
        if not trials:
            return
        rows = [self._trial_row(exp_id, t) for t in trials]
        state = _dumps(checkpoint) if checkpoint is not None else None
        with self._tx() as c:
            c.executemany("INSERT INTO trials VALUES (" + ",".join("?" * len(rows[0])) + ")", rows)
            if state is not None:
                c.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?)",
                          (exp_id, trials[-1].number, state))
            c.execute("UPDATE experiments SET updated=? WHERE id=?", (trials[-1].finished, exp_id))

    def record_trial(self, exp_id: str, t: TrialRecord,
                     checkpoint: Callable[[], dict[str, Any]] | None = None) -> None:
        state = _dumps(checkpoint()) if checkpoint is not None else None
        row = self._trial_row(exp_id, t)
        with self._tx() as c:
            c.execute("INSERT INTO trials VALUES (" + ",".join("?" * len(row)) + ")", row)
            if state is not None:
                c.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?)",
                          (exp_id, t.number, state))
            c.execute("UPDATE experiments SET updated=? WHERE id=?", (t.finished, exp_id))

    def trials(self, exp_id: str) -> list[TrialRecord]:
        rows = self._conn.execute(
            "SELECT number, space, choices, status, metrics, objective, fidelity, seed, wall_s, "
            "simulated_s, reused, error, started, finished, incumbent_number, "
            "incumbent_objective, incumbent_test, cum_simulated_s, cum_wall_s, info "
            "FROM trials WHERE experiment_id=? ORDER BY number", (exp_id,)).fetchall()
        out = []
        for r in rows:
            arch = Architecture.from_json({"space": r[1], "choices": json.loads(r[2])})
            out.append(TrialRecord(
                number=r[0], arch=arch, status=r[3], metrics=json.loads(r[4]), objective=r[5],
                fidelity=r[6], seed=r[7], cost=Cost(r[8], r[9]), reused=bool(r[10]), error=r[11],
                started=r[12], finished=r[13], incumbent_number=r[14], incumbent_objective=r[15],
                incumbent_test=r[16], cum_simulated_s=r[17], cum_wall_s=r[18],
                info=json.loads(r[19]) if r[19] else {}))
        return out

    def trial_columns(self, exp_id: str, columns: tuple[str, ...] | list[str]) -> dict[str, list[Any]]:
        _check_columns(columns)
        rows = self._conn.execute(f"SELECT {', '.join(columns)} FROM trials WHERE experiment_id=? "
                                  f"ORDER BY number", (exp_id,)).fetchall()
        out: dict[str, list[Any]] = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
        if "reused" in out:
            out["reused"] = [bool(x) for x in out["reused"]]
        return out

    def checkpoint(self, exp_id: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT state FROM checkpoints WHERE experiment_id=?",
                                 (exp_id,)).fetchone()
        return None if row is None else json.loads(row[0])  # type: ignore[no-any-return]

    def set_status(self, exp_id: str, status: str) -> None:
        with self._tx() as c:
            c.execute("UPDATE experiments SET status=?, updated=? WHERE id=?",
                      (status, time.time(), exp_id))

    def experiments(self) -> list[ExperimentInfo]:
        rows = self._conn.execute(
            "SELECT e.id, e.created, e.updated, e.status, e.config, e.meta, "
            "(SELECT COUNT(*) FROM trials t WHERE t.experiment_id = e.id) "
            "FROM experiments e ORDER BY e.created").fetchall()
        return [ExperimentInfo(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), r[6])
                for r in rows]

    def add_record(self, exp_id: str, kind: str, data: dict[str, Any]) -> None:
        with self._tx() as c:
            c.execute("INSERT INTO records VALUES (?,?,?,?)", (exp_id, kind, time.time(), _dumps(data)))

    def records(self, exp_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        q = "SELECT kind, created, data FROM records WHERE experiment_id=?"
        args: tuple[Any, ...] = (exp_id,)
        if kind is not None:
            q += " AND kind=?"
            args += (kind,)
        return [{"kind": k, "created": c, **json.loads(d)}
                for k, c, d in self._conn.execute(q + " ORDER BY rowid", args).fetchall()]

    def open_group(self, group_id: str, config: dict[str, Any]) -> bool:
        with self._tx() as c:
            row = c.execute("SELECT config FROM groups WHERE id=?", (group_id,)).fetchone()
            if row is not None:
                _check_same_config(group_id, json.loads(row[0]), config)
                return False
            c.execute("INSERT INTO groups VALUES (?,?,?)", (group_id, time.time(), _dumps(config)))
            return True

    def add_to_group(self, group_id: str, exp_id: str, labels: dict[str, Any]) -> None:
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO group_members VALUES (?,?,?)",
                      (group_id, exp_id, _dumps(labels)))

    def groups(self) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT g.id, g.created, g.config, (SELECT COUNT(*) FROM group_members m "
            "WHERE m.group_id = g.id) FROM groups g ORDER BY g.created").fetchall()
        return [{"id": r[0], "created": r[1], "config": json.loads(r[2]), "n_experiments": r[3]}
                for r in rows]

    def group(self, group_id: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        row = self._conn.execute("SELECT config FROM groups WHERE id=?", (group_id,)).fetchone()
        if row is None:
            ids = [g["id"] for g in self.groups()]
            raise StorageError(f"no group {group_id!r} in {self.location}{did_you_mean(group_id, ids)}")
        members = self._conn.execute(
            "SELECT experiment_id, labels FROM group_members WHERE group_id=? ORDER BY rowid",
            (group_id,)).fetchall()
        return json.loads(row[0]), [(e, json.loads(lab)) for e, lab in members]

    def close(self) -> None:
        self._conn.close()

    def __repr__(self) -> str:
        return f"SQLiteStorage({str(self.path)!r})"
