"""All experiments in one SQLite file, written only by the driver.

Every trial is one transaction that also holds the strategy/runner checkpoint, so a run killed
at any point (``kill -9`` included) loses nothing it had recorded and resumes exactly. WAL mode
lets readers (``naslab runs``, reports) read while a run writes. ``synchronous=NORMAL`` keeps
commits durable across process crashes; pass ``durable=True`` for fsync on every commit
(survives power loss too, at a few ms per trial).

Schema versions (``meta.schema_version``):

* **1** (naslab 0.1): tables ``meta``, ``experiments``, ``trials`` (the single ``objective``
  column; ``info`` was added later by an ad-hoc ``ALTER TABLE``), ``checkpoints``,
  ``records``, ``groups``, ``group_members`` (older files may lack the last two).
* **2**: ``experiments.kind`` (``search`` | ``oneshot``); ``trials.objectives`` (JSON vector
  of raw objective values), ``trials.feasible``, ``trials.front`` (JSON trial numbers of the
  non-dominated feasible set after the trial, multi-objective runs) and
  ``trials.hypervolume``; table ``blobs`` (one binary per experiment and key, e.g. a one-shot
  checkpoint, replaced in the transaction of its record).

A version-1 file is migrated in place, in one transaction, the first time it is opened for
writing (``objectives`` back-filled from ``objective``). Opened read-only it is not touched:
the version-1 layout is mapped at read time. A file with a newer schema is refused.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from naslab.errors import StorageError, did_you_mean
from naslab.estimators.base import Cost
from naslab.runner.records import ExperimentInfo, TrialRecord
from naslab.runner.storage.base import (
    Storage,
    check_columns,
    check_kind,
    check_same_config,
    check_same_experiment,
    dumps,
    finite_or_none,
)
from naslab.spaces.base import Architecture

SCHEMA_VERSION = 2

_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    """CREATE TABLE IF NOT EXISTS experiments (
    id TEXT PRIMARY KEY, created REAL, updated REAL, status TEXT,
    config TEXT NOT NULL, meta TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'search'
)""",
    """CREATE TABLE IF NOT EXISTS trials (
    experiment_id TEXT NOT NULL, number INTEGER NOT NULL,
    space TEXT, arch TEXT, choices TEXT, status TEXT, metrics TEXT,
    objective REAL, fidelity REAL, seed INTEGER, wall_s REAL, simulated_s REAL,
    reused INTEGER, error TEXT, started REAL, finished REAL,
    incumbent_number INTEGER, incumbent_objective REAL, incumbent_test REAL,
    cum_simulated_s REAL, cum_wall_s REAL, info TEXT,
    objectives TEXT, feasible INTEGER, front TEXT, hypervolume REAL,
    PRIMARY KEY (experiment_id, number)
)""",
    """CREATE TABLE IF NOT EXISTS checkpoints (
    experiment_id TEXT PRIMARY KEY, number INTEGER, state TEXT
)""",
    """CREATE TABLE IF NOT EXISTS records (
    experiment_id TEXT NOT NULL, kind TEXT NOT NULL, created REAL, data TEXT
)""",
    """CREATE TABLE IF NOT EXISTS blobs (
    experiment_id TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL, updated REAL,
    PRIMARY KEY (experiment_id, key)
)""",
    """CREATE TABLE IF NOT EXISTS groups (
    id TEXT PRIMARY KEY, created REAL, config TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS group_members (
    group_id TEXT NOT NULL, experiment_id TEXT NOT NULL, labels TEXT,
    PRIMARY KEY (group_id, experiment_id)
)""",
)

#: trial columns version 2 added to version 1 (``info`` came late in version 1: some files lack it)
_ADDED_TRIAL_COLUMNS = (("info", "TEXT"), ("objectives", "TEXT"), ("feasible", "INTEGER"),
                        ("front", "TEXT"), ("hypervolume", "REAL"))

_TRIAL_COLS = ("experiment_id", "number", "space", "arch", "choices", "status", "metrics",
               "objective", "fidelity", "seed", "wall_s", "simulated_s", "reused", "error",
               "started", "finished", "incumbent_number", "incumbent_objective", "incumbent_test",
               "cum_simulated_s", "cum_wall_s", "info", "objectives", "feasible", "front",
               "hypervolume")
_INSERT_TRIAL = (f"INSERT INTO trials ({', '.join(_TRIAL_COLS)}) "
                 f"VALUES ({', '.join('?' * len(_TRIAL_COLS))})")
#: what :meth:`SQLiteStorage.trials` reads (trial columns 1.. of _TRIAL_COLS, without arch)
_READ_COLS = ("number", "space", "choices", "status", "metrics", "objective", "fidelity", "seed",
              "wall_s", "simulated_s", "reused", "error", "started", "finished",
              "incumbent_number", "incumbent_objective", "incumbent_test", "cum_simulated_s",
              "cum_wall_s", "info", "objectives", "feasible", "front", "hypervolume")


def _naslab_version() -> str:
    from naslab import __version__

    return __version__


def _tables(c: sqlite3.Connection) -> set[str]:
    return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _columns(c: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in c.execute(f"PRAGMA table_info({table})")}


def _schema_version(c: sqlite3.Connection, where: str) -> int | None:
    """The file's schema version; None for a file without naslab tables (a new file)."""
    tables = _tables(c)
    if "meta" in tables:
        row = c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is not None:
            try:
                return int(row[0])
            except (TypeError, ValueError):
                raise StorageError(f"storage file {where!r} has schema_version {row[0]!r}, which is "
                                   f"not a version number; is it a naslab file?") from None
    if "trials" in tables or "experiments" in tables:
        return 1
    return None


def _writer_of(c: sqlite3.Connection) -> str | None:
    """The naslab that wrote a file's schema (meta ``naslab_version``, else the newest version
    recorded by its experiments)."""
    try:
        row = c.execute("SELECT value FROM meta WHERE key='naslab_version'").fetchone()
        if row is not None:
            return str(row[0])
        versions = set()
        for (m,) in c.execute("SELECT meta FROM experiments"):
            v = json.loads(m).get("naslab")
            if isinstance(v, str):
                versions.add(v)
        return max(versions, key=_version_key) if versions else None
    except (sqlite3.DatabaseError, ValueError, AttributeError):
        return None


def _version_key(v: str) -> tuple[int, ...]:
    out = []
    for part in v.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def _refuse_newer(version: int, c: sqlite3.Connection, where: str) -> StorageError:
    writer = _writer_of(c)
    by = (f"it was written by naslab {writer}: open it with naslab {writer} or newer "
          f"(pip install 'naslab>={writer}')" if writer else
          "it was written by a newer naslab: open it with that release")
    return StorageError(
        f"storage file {where!r} has schema version {version}, newer than this naslab "
        f"({_naslab_version()}) can read (schema version {SCHEMA_VERSION}); {by}, or pass "
        f"--storage PATH of another file")


def migrate_v1(c: sqlite3.Connection) -> None:
    """Bring a version-1 file to version 2 (call inside a transaction)."""
    tables = _tables(c)
    for ddl in _TABLES:  # tables a v1 file may lack (blobs; groups in the oldest files)
        c.execute(ddl)
    if "experiments" in tables and "kind" not in _columns(c, "experiments"):
        c.execute("ALTER TABLE experiments ADD COLUMN kind TEXT NOT NULL DEFAULT 'search'")
    have = _columns(c, "trials")
    for col, typ in _ADDED_TRIAL_COLUMNS:
        if col not in have:
            c.execute(f"ALTER TABLE trials ADD COLUMN {col} {typ}")
    # back-fill the objective vector and feasibility (v1 runs had one objective, no constraints);
    # in Python, so that the JSON keeps every digit of the REAL values
    rows = c.execute("SELECT experiment_id, number, status, objective FROM trials "
                     "WHERE objectives IS NULL").fetchall()
    c.executemany("UPDATE trials SET objectives=?, feasible=? WHERE experiment_id=? AND number=?",
                  [(dumps([finite_or_none(obj)]), 1, e, n) if st == "complete" else (None, None, e, n)
                   for e, n, st, obj in rows])
    c.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    c.execute("INSERT OR REPLACE INTO meta VALUES ('naslab_version', ?)", (_naslab_version(),))
    c.execute("INSERT OR REPLACE INTO meta VALUES ('migrated_from_v1', ?)",
              (f"{time.strftime('%Y-%m-%d %H:%M:%S')} by naslab {_naslab_version()}",))


def _vector(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    return tuple(math.nan if x is None else float(x) for x in json.loads(text))


def _objectives_of(text: str | None, status: str, objective: float | None) -> tuple[float, ...] | None:
    """The stored vector, or (version-1 rows read without migration) the primary alone."""
    if text is not None:
        return _vector(text)
    if status == "complete":
        return (math.nan if objective is None else float(objective),)
    return None


def _feasible_of(value: int | None, status: str) -> bool | None:
    if value is not None:
        return bool(value)
    return True if status == "complete" else None


class SQLiteStorage(Storage):
    """All experiments in one SQLite file (default ``./naslab.db``).

    ``readonly=True`` opens an existing file without writing to it (``mode=ro``; a file that
    cannot be opened that way, e.g. in a read-only directory, as immutable): a version-1 file
    is read as it is. Opened for writing, a version-1 file is migrated to version 2 first.
    """

    def __init__(self, path: str | Path = "naslab.db", *, durable: bool = False,
                 readonly: bool = False) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.readonly = readonly
        if readonly and not self.path.is_file():
            raise StorageError(f"storage file {str(self.path)!r} does not exist; run a search "
                               f"first or pass --storage PATH of an existing file")
        try:
            if readonly:
                self._conn = self._connect_readonly()
                version = _schema_version(self._conn, self.location)
                if version is not None and version > SCHEMA_VERSION:
                    raise _refuse_newer(version, self._conn, self.location)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
                version = _schema_version(self._conn, self.location)
                if version is not None and version > SCHEMA_VERSION:
                    raise _refuse_newer(version, self._conn, self.location)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                self._create_or_migrate()
            self._read_layout()
        except StorageError:
            if hasattr(self, "_conn"):
                self._conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open storage file {str(self.path)!r}: {exc} (is it a "
                               f"naslab SQLite file? pass --storage PATH to use another)") from None
        except OSError as exc:
            raise StorageError(f"cannot create storage file {str(self.path)!r}: {exc}") from None

    # opening -------------------------------------------------------------------------------
    def _connect_readonly(self) -> sqlite3.Connection:
        uri = "file:" + urllib.parse.quote(str(self.path.resolve())) + "?mode=ro"
        try:
            c = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
            c.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return c
        except sqlite3.OperationalError:
            # e.g. a WAL file in a read-only directory: nobody can be writing it, read it as is
            c = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=30, isolation_level=None)
            c.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return c

    def _create_or_migrate(self) -> None:
        with self._tx() as c:
            version = _schema_version(c, self.location)  # again, now that we hold the lock
            if version is None:
                for ddl in _TABLES:
                    c.execute(ddl)
                c.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                          (str(SCHEMA_VERSION),))
                c.execute("INSERT OR REPLACE INTO meta VALUES ('naslab_version', ?)",
                          (_naslab_version(),))
            elif version == 1:
                migrate_v1(c)
            elif version > SCHEMA_VERSION:  # pragma: no cover - another process upgraded it
                raise _refuse_newer(version, c, self.location)

    def _read_layout(self) -> None:
        """Which tables and columns the file has: all of them after a writable open; a
        version-1 file opened read-only lacks some, and those read as their v1 meaning."""
        c = self._conn
        self._tables = _tables(c)
        tcols = _columns(c, "trials") if "trials" in self._tables else set()
        self._v1_trials = "objectives" not in tcols
        self._exprs = {col: (col if col in tcols else f"NULL AS {col}")
                       for col in set(_READ_COLS) | {"arch"}}
        self._select_trials = (f"SELECT {', '.join(self._exprs[col] for col in _READ_COLS)} "
                               f"FROM trials WHERE experiment_id=? ORDER BY number")
        ecols = _columns(c, "experiments") if "experiments" in self._tables else set()
        self._kind_expr = "e.kind" if "kind" in ecols else "'search'"

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        if self.readonly:
            raise StorageError(f"storage file {self.location!r} was opened read-only; open it "
                               f"without readonly=True to write")
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        else:
            c.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        """The file's schema version as opened (1 only for a version-1 file opened read-only)."""
        v = _schema_version(self._conn, self.location)
        return SCHEMA_VERSION if v is None else v

    # experiments and trials ------------------------------------------------------------------
    def open_experiment(self, exp_id: str, config: dict[str, Any], meta: dict[str, Any], *,
                        kind: str = "search") -> bool:
        check_kind(kind)
        with self._tx() as c:
            row = c.execute("SELECT config, kind FROM experiments WHERE id=?", (exp_id,)).fetchone()
            if row is not None:
                check_same_experiment(exp_id, json.loads(row[0]), config, row[1], kind)
                c.execute("UPDATE experiments SET status='running', updated=? WHERE id=?",
                          (time.time(), exp_id))
                return False
            now = time.time()
            c.execute("INSERT INTO experiments (id, created, updated, status, config, meta, kind) "
                      "VALUES (?,?,?,?,?,?,?)",
                      (exp_id, now, now, "running", dumps(config), dumps(meta), kind))
            return True

    @staticmethod
    def _trial_row(exp_id: str, t: TrialRecord) -> tuple[Any, ...]:
        objs = None if t.objectives is None else dumps([finite_or_none(x) for x in t.objectives])
        return (exp_id, t.number, t.arch.space, str(t.arch), dumps(t.arch.to_json()["choices"]),
                t.status, dumps(t.metrics), finite_or_none(t.objective),
                finite_or_none(t.fidelity), t.seed, t.cost.wall_s, t.cost.simulated_s,
                int(t.reused), t.error, t.started, t.finished, t.incumbent_number,
                finite_or_none(t.incumbent_objective), finite_or_none(t.incumbent_test),
                t.cum_simulated_s, t.cum_wall_s, dumps(t.info) if t.info else None, objs,
                None if t.feasible is None else int(t.feasible),
                None if t.front is None else dumps(t.front), finite_or_none(t.hypervolume))

    def record_trials(self, exp_id: str, trials: list[TrialRecord],
                      checkpoint: dict[str, Any] | None = None) -> None:
        if not trials:
            return
        rows = [self._trial_row(exp_id, t) for t in trials]
        state = dumps(checkpoint) if checkpoint is not None else None
        with self._tx() as c:
            c.executemany(_INSERT_TRIAL, rows)
            if state is not None:
                c.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?)",
                          (exp_id, trials[-1].number, state))
            c.execute("UPDATE experiments SET updated=? WHERE id=?", (trials[-1].finished, exp_id))

    def record_trial(self, exp_id: str, t: TrialRecord,
                     checkpoint: Callable[[], dict[str, Any]] | None = None) -> None:
        state = dumps(checkpoint()) if checkpoint is not None else None
        row = self._trial_row(exp_id, t)
        with self._tx() as c:
            c.execute(_INSERT_TRIAL, row)
            if state is not None:
                c.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?)",
                          (exp_id, t.number, state))
            c.execute("UPDATE experiments SET updated=? WHERE id=?", (t.finished, exp_id))

    def trials(self, exp_id: str) -> list[TrialRecord]:
        if "trials" not in self._tables:
            return []
        rows = self._conn.execute(self._select_trials, (exp_id,)).fetchall()
        out = []
        for r in rows:
            arch = Architecture.from_json({"space": r[1], "choices": json.loads(r[2])})
            out.append(TrialRecord(
                number=r[0], arch=arch, status=r[3], metrics=json.loads(r[4]), objective=r[5],
                fidelity=r[6], seed=r[7], cost=Cost(r[8], r[9]), reused=bool(r[10]), error=r[11],
                started=r[12], finished=r[13], incumbent_number=r[14], incumbent_objective=r[15],
                incumbent_test=r[16], cum_simulated_s=r[17], cum_wall_s=r[18],
                info=json.loads(r[19]) if r[19] else {},
                objectives=_objectives_of(r[20], r[3], r[5]), feasible=_feasible_of(r[21], r[3]),
                front=json.loads(r[22]) if r[22] is not None else None, hypervolume=r[23]))
        return out

    def trial_columns(self, exp_id: str, columns: tuple[str, ...] | list[str]) -> dict[str, list[Any]]:
        check_columns(columns)
        cols = list(dict.fromkeys(columns))
        derive = self._v1_trials and ("objectives" in cols or "feasible" in cols)
        read = cols + [c for c in ("status", "objective") if derive and c not in cols]
        rows = self._conn.execute(
            f"SELECT {', '.join(self._exprs.get(c, c) for c in read)} FROM trials "
            f"WHERE experiment_id=? ORDER BY number", (exp_id,)).fetchall() \
            if "trials" in self._tables else []
        raw: dict[str, list[Any]] = {c: [r[i] for r in rows] for i, c in enumerate(read)}
        out = {c: raw[c] for c in cols}
        if "reused" in out:
            out["reused"] = [bool(x) for x in out["reused"]]
        if "objectives" in out:
            out["objectives"] = ([_objectives_of(v, s, o) for v, s, o in
                                  zip(raw["objectives"], raw["status"], raw["objective"])]
                                 if derive else [_vector(v) for v in raw["objectives"]])
        if "feasible" in out:
            out["feasible"] = ([_feasible_of(v, s) for v, s in zip(raw["feasible"], raw["status"])]
                               if derive else [None if v is None else bool(v) for v in raw["feasible"]])
        if "front" in out:
            out["front"] = [None if v is None else json.loads(v) for v in out["front"]]
        return out

    def checkpoint(self, exp_id: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT state FROM checkpoints WHERE experiment_id=?",
                                 (exp_id,)).fetchone()
        if row is None:
            return None
        state: dict[str, Any] = json.loads(row[0])
        return state

    def set_status(self, exp_id: str, status: str) -> None:
        with self._tx() as c:
            c.execute("UPDATE experiments SET status=?, updated=? WHERE id=?",
                      (status, time.time(), exp_id))

    def _experiment_rows(self, where: str = "", args: tuple[Any, ...] = ()) -> list[ExperimentInfo]:
        if "experiments" not in self._tables:
            return []
        count = ("(SELECT COUNT(*) FROM trials t WHERE t.experiment_id = e.id)"
                 if "trials" in self._tables else "0")
        rows = self._conn.execute(
            f"SELECT e.id, e.created, e.updated, e.status, e.config, e.meta, {count}, "
            f"{self._kind_expr} FROM experiments e {where} ORDER BY e.created", args).fetchall()
        return [ExperimentInfo(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), r[6],
                               r[7]) for r in rows]

    def experiments(self) -> list[ExperimentInfo]:
        return self._experiment_rows()

    def experiment(self, exp_id: str) -> ExperimentInfo:
        rows = self._experiment_rows("WHERE e.id=?", (exp_id,))
        if not rows:
            raise self._unknown_experiment(exp_id)
        return rows[0]

    # records and blobs -------------------------------------------------------------------------
    def add_record(self, exp_id: str, kind: str, data: dict[str, Any], *,
                   blob: bytes | None = None, blob_key: str = "checkpoint") -> None:
        text = dumps(data)
        with self._tx() as c:
            now = time.time()
            c.execute("INSERT INTO records VALUES (?,?,?,?)", (exp_id, kind, now, text))
            if blob is not None:
                c.execute("INSERT OR REPLACE INTO blobs VALUES (?,?,?,?)",
                          (exp_id, blob_key, sqlite3.Binary(bytes(blob)), now))

    def records(self, exp_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        q = "SELECT kind, created, data FROM records WHERE experiment_id=?"
        args: tuple[Any, ...] = (exp_id,)
        if kind is not None:
            q += " AND kind=?"
            args += (kind,)
        return [{"kind": k, "created": c, **json.loads(d)}
                for k, c, d in self._conn.execute(q + " ORDER BY rowid", args).fetchall()]

    def blob(self, exp_id: str, key: str = "checkpoint") -> bytes | None:
        if "blobs" not in self._tables:
            return None
        row = self._conn.execute("SELECT data FROM blobs WHERE experiment_id=? AND key=?",
                                 (exp_id, key)).fetchone()
        return None if row is None else bytes(row[0])

    # groups ------------------------------------------------------------------------------------
    def open_group(self, group_id: str, config: dict[str, Any]) -> bool:
        with self._tx() as c:
            row = c.execute("SELECT config FROM groups WHERE id=?", (group_id,)).fetchone()
            if row is not None:
                check_same_config(group_id, json.loads(row[0]), config)
                return False
            c.execute("INSERT INTO groups VALUES (?,?,?)", (group_id, time.time(), dumps(config)))
            return True

    def add_to_group(self, group_id: str, exp_id: str, labels: dict[str, Any]) -> None:
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO group_members VALUES (?,?,?)",
                      (group_id, exp_id, dumps(labels)))

    def groups(self) -> list[dict[str, Any]]:
        if "groups" not in self._tables:
            return []
        rows = self._conn.execute(
            "SELECT g.id, g.created, g.config, (SELECT COUNT(*) FROM group_members m "
            "WHERE m.group_id = g.id) FROM groups g ORDER BY g.created").fetchall()
        return [{"id": r[0], "created": r[1], "config": json.loads(r[2]), "n_experiments": r[3]}
                for r in rows]

    def group(self, group_id: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        row = (self._conn.execute("SELECT config FROM groups WHERE id=?", (group_id,)).fetchone()
               if "groups" in self._tables else None)
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
