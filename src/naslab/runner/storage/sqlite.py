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

Damaged and foreign files. Opened for writing, a file must pass SQLite's ``PRAGMA
quick_check`` first (about 2 ms of CPU per MB): naslab never writes into a file that failed
it. Any SQLite error or malformed JSON met while reading is a :class:`DamagedStorageError`
that names the file, what was being read, and how to recover (``sqlite3 FILE .recover``, or
``naslab runs`` listing what can still be read). An SQLite file whose tables are not naslab's
is refused, read-only or not, and never written. A read-only file (a read-only mount, an
immutable file, a folder without write permission) opens for reading; opened for writing it is
refused with a message saying how to work on a copy.

One run per experiment at a time. :meth:`SQLiteStorage.open_experiment` takes a lease on the
experiment (meta key ``lease:<id>``: pid, host, process start time) and ``set_status`` (or
``close``) gives it back. A second process that opens the same experiment while the holder is
alive gets an :class:`ExperimentBusyError` saying so; the lease of a process that died
(``kill -9``) is taken over, so the same command resumes as before.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import socket
import sqlite3
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from naslab.errors import (
    InvalidArchitectureError,
    NaslabError,
    NaslabNotice,
    StorageError,
    UnknownComponentError,
    did_you_mean,
)
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
_orjson_dumps = orjson.dumps

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
#: the columns a plain trial (no fidelity, error, info, front or hypervolume: every trial of a
#: single-objective tabular search) writes; the others are NULL. Binding five NULLs costs as
#: much as a fifth of the insert, so such rows go through this shorter statement.
_LEAN_COLS = tuple(c for c in _TRIAL_COLS
                   if c not in ("fidelity", "error", "info", "front", "hypervolume"))
_INSERT_LEAN = (f"INSERT INTO trials ({', '.join(_LEAN_COLS)}) "
                f"VALUES ({', '.join('?' * len(_LEAN_COLS))})")
_N_LEAN = len(_LEAN_COLS)
#: what :meth:`SQLiteStorage.trials` reads (trial columns 1.. of _TRIAL_COLS, without arch)
_READ_COLS = ("number", "space", "choices", "status", "metrics", "objective", "fidelity", "seed",
              "wall_s", "simulated_s", "reused", "error", "started", "finished",
              "incumbent_number", "incumbent_objective", "incumbent_test", "cum_simulated_s",
              "cum_wall_s", "info", "objectives", "feasible", "front", "hypervolume")


#: the columns every naslab file has (version 1); a file whose naslab tables lack any of them
#: is not a naslab file (``trials.info`` and the version-2 columns are added by the migration)
_REQUIRED = {
    "experiments": ("id", "created", "updated", "status", "config", "meta"),
    "trials": ("experiment_id", "number", "space", "arch", "choices", "status", "metrics",
               "objective", "fidelity", "seed", "wall_s", "simulated_s", "reused", "error",
               "started", "finished", "incumbent_number", "incumbent_objective",
               "incumbent_test", "cum_simulated_s", "cum_wall_s"),
    "checkpoints": ("experiment_id", "number", "state"),
    "records": ("experiment_id", "kind", "created", "data"),
    "blobs": ("experiment_id", "key", "data"),
    "groups": ("id", "created", "config"),
    "group_members": ("group_id", "experiment_id", "labels"),
    "meta": ("key", "value"),
}
#: a lease of a process on another host is taken over this long after the run's last write
LEASE_STALE_S = 600.0
#: group commit: trials recorded faster than this are written together (see record_trial)
COMMIT_WINDOW_S = 0.1
#: per choices tuple: the space, ``str(arch)`` and the choices' JSON of the architecture
#: written last with those choices (an arch string takes microseconds to format, as long as
#: the rest of a tabular trial; keyed on the tuple, whose hash and == are C code, not on the
#: Architecture, whose dataclass hash and == are Python)
_ARCH_TEXT: dict[tuple[Any, ...], tuple[str, str, str]] = {}
#: per space name: its ``format`` (what ``str(arch)`` calls, without the registry look-up)
_FORMAT: dict[str, Callable[[Architecture], str]] = {}


def _arch_text(arch: Architecture) -> tuple[str, str, str]:
    """``(space, str(arch), JSON of its choices)``, remembered in ``_ARCH_TEXT``."""
    if len(_ARCH_TEXT) >= 200_000:
        _ARCH_TEXT.clear()
    fmt = _FORMAT.get(arch.space)
    if fmt is None:
        from naslab.spaces.base import get_space

        fmt = _FORMAT[arch.space] = get_space(arch.space).format
    ch = arch.choices
    choices = _orjson_text(ch) or dumps(arch.to_json()["choices"])
    text = _ARCH_TEXT[ch] = (arch.space, fmt(arch), choices)
    return text


def _orjson_text(x: Any) -> str | None:
    """``x``'s JSON through orjson (shortest round-trip floats, ~7x faster than
    ``float.__repr__``), or None where ``dumps`` must write it: what orjson refuses (numpy
    scalars, sets, non-str keys, huge ints) and what it writes as null (None, NaN and
    infinities, which ``dumps`` writes as NaN / Infinity)."""
    try:
        raw = _orjson_dumps(x)
    except TypeError:
        return None
    return raw.decode() if b"null" not in raw else None


def _real(x: float | None) -> float | None:
    """``finite_or_none(x)``, a finite float answered without the call's checks (a REAL
    column of every trial row)."""
    if type(x) is float and x - x == 0.0:
        return x
    return finite_or_none(x)


def _vector_json(vec: tuple[float, ...] | None) -> str | None:
    """``dumps([finite_or_none(x) for x in vec])`` (None for None), the same values: floats
    through orjson (which writes NaN and infinities as null, as ``finite_or_none`` makes
    them); anything else (ints, which ``finite_or_none`` makes floats; numpy scalars) through
    ``dumps``."""
    if vec is None:
        return None
    if _FLOAT_ONLY.issuperset(map(type, vec)):
        return _orjson_dumps(vec).decode()  # type: ignore[no-any-return]
    return dumps([finite_or_none(x) for x in vec])


_FLOAT_ONLY = {float}


def _metrics_json(m: dict[str, float]) -> str:
    """``dumps(m)``, the same values, for a trial's metrics (through orjson where it can:
    :func:`_orjson_text`)."""
    return _orjson_text(m) or dumps(m)


class DamagedStorageError(StorageError):
    """A storage file that SQLite cannot read (a damaged page, a truncated file) or that holds
    malformed data; naslab does not write into it."""


class ExperimentBusyError(StorageError):
    """The experiment is being run by another live process."""


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
    is read as it is. Opened for writing, the file must pass ``PRAGMA quick_check``
    (``check=False`` skips it) and a version-1 file is migrated to version 2 first.
    """

    def __init__(self, path: str | Path = "naslab.db", *, durable: bool = False,
                 readonly: bool = False, check: bool = True) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.readonly = readonly
        self._broken: str | None = None  # set once the file proved damaged: no more writes
        self._leases: set[str] = set()
        self.commit_window_s = 0.0 if durable else COMMIT_WINDOW_S
        self._buf: list[tuple[Any, ...]] = []  # trial rows held by the group commit
        self._buf_exp: str | None = None
        #: the checkpoint to write with the held trials: (trial number, the state or a thunk
        #: that computes it; the thunk is called only when the trials are written)
        self._buf_ckpt: tuple[int, dict[str, Any] | Callable[[], dict[str, Any]]] | None = None
        self._buf_finished = 0.0
        self._last_commit = time.monotonic()
        if self.path.is_dir():
            raise StorageError(f"storage path {self.location!r} is a directory; pass --storage "
                               f"PATH of a file (e.g. {str(self.path / 'naslab.db')!r})")
        if readonly and not self.path.is_file():
            raise StorageError(f"storage file {str(self.path)!r} does not exist; run a search "
                               f"first or pass --storage PATH of an existing file")
        self._refuse_non_sqlite()
        try:
            if readonly:
                self._conn = self._connect_readonly()
                version = _schema_version(self._conn, self.location)
                if version is not None and version > SCHEMA_VERSION:
                    raise _refuse_newer(version, self._conn, self.location)
            else:
                self._refuse_readonly_file()
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
                if check:
                    self._quick_check()
                version = _schema_version(self._conn, self.location)
                if version is not None and version > SCHEMA_VERSION:
                    raise _refuse_newer(version, self._conn, self.location)
                self._check_layout(version)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                self._create_or_migrate()
            self._read_layout()
        except StorageError:
            if hasattr(self, "_conn"):
                self._conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            if hasattr(self, "_conn"):
                self._conn.close()
            msg = str(exc)
            if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
                raise self._damaged(msg, "opening it") from None
            if "readonly" in msg or "read-only" in msg:
                raise self._readonly_error(msg) from None
            raise StorageError(f"cannot open storage file {str(self.path)!r}: {exc} (is it a "
                               f"naslab SQLite file? pass --storage PATH to use another)") from None
        except UnicodeDecodeError as exc:  # damaged schema text: SQLite returns it as is
            if hasattr(self, "_conn"):
                self._conn.close()
            raise self._damaged(f"text in the file is not UTF-8 ({exc})", "opening it") from None
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
            wal = Path(str(self.path) + "-wal")
            if wal.is_file() and wal.stat().st_size > 0:
                warnings.warn(NaslabNotice(
                    f"storage file {self.location!r} is read as it is on disk: its write-ahead "
                    f"log {str(wal)!r} cannot be read from a read-only location, so trials "
                    f"written just before a crash may be missing; copy both files to a "
                    f"writable folder to read everything"), stacklevel=3)
            return c

    def _refuse_non_sqlite(self) -> None:
        """A file that exists but does not start with SQLite's header is not a storage file."""
        try:
            with open(self.path, "rb") as f:
                head = f.read(16)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"cannot read storage file {self.location!r}: {exc}") from None
        if head and head != b"SQLite format 3\x00":
            raise StorageError(
                f"cannot open storage file {self.location!r}: it starts with {head[:16]!r}, "
                f"not with SQLite's header (is it a naslab SQLite file?); naslab neither reads "
                f"nor overwrites it: pass --storage PATH of a naslab file, or of a new file")

    def _refuse_readonly_file(self) -> None:
        """A file (or a folder, for a new file) that cannot be written: say so, and how to
        work on a copy, before SQLite fails with 'unable to open database file'."""
        p = self.path
        if p.exists() and not os.access(p, os.W_OK):
            raise self._readonly_error("the file is not writable (read-only, immutable, or on a "
                                       "read-only mount)")
        folder = p.parent if str(p.parent) else Path(".")
        if folder.is_dir() and not os.access(folder, os.W_OK):
            raise self._readonly_error(f"its folder {str(folder)!r} is not writable (SQLite "
                                       f"needs to create {p.name}-wal and {p.name}-shm there)")

    def _readonly_error(self, why: str) -> StorageError:
        loc = shlex.quote(self.location)
        exists = self.path.is_file()
        return StorageError(
            f"storage file {self.location!r} cannot be written: {why}. "
            + ("`naslab runs`, `show` and `report` read it as it is; to run or resume "
               f"experiments, work on a copy: cp {loc} /tmp/naslab.db and pass --storage "
               f"/tmp/naslab.db" if exists else
               "pass --storage PATH in a writable folder"))

    def _quick_check(self) -> None:
        """SQLite's quick_check over the whole file (O(size): ~2 ms of CPU per MB); a file that
        fails it is not written."""
        try:
            rows = self._conn.execute("PRAGMA quick_check(5)").fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._damaged(str(exc), "checking it before writing") from None
        problems = [str(r[0]) for r in rows]
        if problems != ["ok"]:
            raise self._damaged("SQLite's integrity check found: " + "; ".join(problems)[:400],
                                "checking it before writing")

    def _check_layout(self, version: int | None) -> None:
        """Refuse an SQLite file that is not naslab's: one with tables but no naslab layout, or
        naslab table names without naslab's columns."""
        c = self._conn
        tables = _tables(c)
        if version is None and tables:
            raise self._foreign(f"it holds the table(s) {', '.join(sorted(tables)[:8])}, none of "
                                f"which is naslab's")
        for table in sorted(tables & set(_REQUIRED)):
            missing = [col for col in _REQUIRED[table] if col not in _columns(c, table)]
            if missing:
                raise self._foreign(f"its table {table!r} lacks the column(s) "
                                    f"{', '.join(missing)}")
        if version is not None and version >= 2:
            have = _columns(c, "trials") if "trials" in tables else set()
            missing = [col for col, _ in _ADDED_TRIAL_COLUMNS if "trials" in tables and col not in have]
            if missing:
                raise self._foreign(f"it says schema version {version} but table 'trials' lacks "
                                    f"the column(s) {', '.join(missing)}")

    def _foreign(self, why: str) -> StorageError:
        return StorageError(f"storage file {self.location!r} is not a naslab storage file: {why}. "
                            f"naslab does not write into another program's database; pass "
                            f"--storage PATH of a naslab file, or of a new file")

    def _damaged(self, problem: str, doing: str) -> DamagedStorageError:
        self._broken = problem
        loc = shlex.quote(self.location)
        rec = shlex.quote(self.location + ".recovered")
        return DamagedStorageError(
            f"storage file {self.location!r} is damaged: {problem} (while {doing}). naslab does "
            f"not write into a damaged file. To recover what is intact: sqlite3 {loc} .recover "
            f"| sqlite3 {rec} (SQLite 3.29 or newer; where .recover fails, .dump), then pass --storage {rec}; `naslab runs "
            f"--storage {loc}` lists the experiments that can still be read")

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
        if self.readonly:
            version = _schema_version(c, self.location)
            self._check_layout(version)
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
        if self._broken is not None:
            raise self._damaged(self._broken, "writing")
        c = self._conn
        try:
            c.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise self._write_error(exc, "starting a transaction") from None
        try:
            yield c
        except BaseException as exc:
            try:
                c.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
                raise self._write_error(exc, "writing") from None
            raise
        else:
            try:
                c.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                raise self._write_error(exc, "committing") from None

    def _write_error(self, exc: sqlite3.DatabaseError, doing: str) -> StorageError:
        msg = str(exc)
        if "readonly" in msg or "read-only" in msg:
            return self._readonly_error(msg)
        if "locked" in msg or "busy" in msg:
            return StorageError(f"storage file {self.location!r} stayed locked by another "
                                f"process for 30 s ({msg}); try again when it is idle")
        if "disk is full" in msg or "disk I/O" in msg:
            return StorageError(f"cannot write storage file {self.location!r}: {msg}; free "
                                f"disk space (nothing recorded before was lost) and run the "
                                f"same command again")
        return self._damaged(msg, doing)

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """Turn what a damaged file (or a malformed row) raises into a DamagedStorageError."""
        try:
            yield
        except NaslabError:
            raise
        except sqlite3.DatabaseError as exc:
            raise self._damaged(str(exc), f"reading {what}") from None
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise self._damaged(f"malformed data ({type(exc).__name__}: {exc})",
                                f"reading {what}") from None

    def _loads(self, text: Any, where: str) -> Any:
        """``json.loads`` of a stored value; malformed JSON names the row and column."""
        try:
            return json.loads(text)
        except (TypeError, ValueError) as exc:
            raise self._damaged(f"{where} is not valid JSON ({exc})", f"reading {where}") from None

    @property
    def schema_version(self) -> int:
        """The file's schema version as opened (1 only for a version-1 file opened read-only)."""
        v = _schema_version(self._conn, self.location)
        return SCHEMA_VERSION if v is None else v

    # experiments and trials ------------------------------------------------------------------
    def open_experiment(self, exp_id: str, config: dict[str, Any], meta: dict[str, Any], *,
                        kind: str = "search") -> bool:
        check_kind(kind)
        self.flush()
        with self._tx() as c:
            row = c.execute("SELECT config, kind, updated FROM experiments WHERE id=?",
                            (exp_id,)).fetchone()
            if row is not None:
                self._take_lease(c, exp_id, row[2])
                old = self._loads(row[0], f"the config of experiment {exp_id!r}")
                if not isinstance(old, dict):
                    raise self._damaged(f"the config of experiment {exp_id!r} is not a JSON "
                                        f"object", "opening the experiment")
                check_same_experiment(exp_id, old, config, row[1], kind)
                c.execute("UPDATE experiments SET status='running', updated=? WHERE id=?",
                          (time.time(), exp_id))
                return False
            self._take_lease(c, exp_id, None)
            now = time.time()
            c.execute("INSERT INTO experiments (id, created, updated, status, config, meta, kind) "
                      "VALUES (?,?,?,?,?,?,?)",
                      (exp_id, now, now, "running", dumps(config), dumps(meta), kind))
            return True

    # leases: one process runs an experiment at a time ------------------------------------------
    def _take_lease(self, c: sqlite3.Connection, exp_id: str, updated: float | None) -> None:
        """Refuse when another live process holds ``exp_id``'s lease, else take it (inside
        the caller's transaction)."""
        key = "lease:" + exp_id
        row = c.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        if row is not None:
            try:
                holder = json.loads(row[0])
            except (TypeError, ValueError):
                holder = None
            if isinstance(holder, dict) and _lease_alive(holder, updated):
                since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("since", 0)))
                raise ExperimentBusyError(
                    f"experiment {exp_id!r} in {self.location!r} is being run by another "
                    f"process (pid {holder.get('pid')} on {holder.get('host')}, since {since}); "
                    f"running it twice at once would record its trials twice. Wait for that "
                    f"run to end, then run the same command again (it continues or reports "
                    f"the run), or pass another --experiment-id"
                    + ("" if holder.get("host") == socket.gethostname() else
                       f" (a lease of a process on another host lapses {LEASE_STALE_S:.0f} s "
                       f"after its run last wrote)"))
        c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, dumps(_my_lease())))
        self._leases.add(exp_id)

    def _release_leases(self, c: sqlite3.Connection, ids: list[str]) -> None:
        mine = _my_lease()
        for exp_id in ids:
            row = c.execute("SELECT value FROM meta WHERE key=?", ("lease:" + exp_id,)).fetchone()
            try:
                holder = json.loads(row[0]) if row is not None else None
            except (TypeError, ValueError):
                holder = None
            if isinstance(holder, dict) and (holder.get("pid"), holder.get("host")) == \
                    (mine["pid"], mine["host"]):
                c.execute("DELETE FROM meta WHERE key=?", ("lease:" + exp_id,))
            self._leases.discard(exp_id)

    @staticmethod
    def _trial_row(exp_id: str, t: TrialRecord) -> tuple[Any, ...]:
        """The row of ``t``: all of ``_TRIAL_COLS``, or ``_LEAN_COLS`` (a shorter tuple) when
        the columns it leaves out are all NULL."""
        arch = t.arch
        arch_text = _ARCH_TEXT.get(arch.choices)
        if arch_text is None or arch_text[0] != arch.space:
            arch_text = _arch_text(arch)
        if (t.fidelity is None and t.error is None and not t.info and t.front is None
                and t.hypervolume is None):
            return (exp_id, t.number, arch.space, arch_text[1], arch_text[2],
                    t.status, _metrics_json(t.metrics), _real(t.objective),
                    t.seed, t.cost.wall_s, t.cost.simulated_s, int(t.reused), t.started,
                    t.finished, t.incumbent_number, _real(t.incumbent_objective),
                    _real(t.incumbent_test), t.cum_simulated_s, t.cum_wall_s,
                    _vector_json(t.objectives), None if t.feasible is None else int(t.feasible))
        return (exp_id, t.number, arch.space, arch_text[1], arch_text[2],
                t.status, _metrics_json(t.metrics), _real(t.objective),
                _real(t.fidelity), t.seed, t.cost.wall_s, t.cost.simulated_s,
                int(t.reused), t.error, t.started, t.finished, t.incumbent_number,
                _real(t.incumbent_objective), _real(t.incumbent_test),
                t.cum_simulated_s, t.cum_wall_s, dumps(t.info) if t.info else None,
                _vector_json(t.objectives), None if t.feasible is None else int(t.feasible),
                None if t.front is None else dumps(t.front), _real(t.hypervolume))

    def record_trials(self, exp_id: str, trials: list[TrialRecord],
                      checkpoint: dict[str, Any] | None = None) -> None:
        self.flush()
        if not trials:
            return
        rows = [self._trial_row(exp_id, t) for t in trials]
        self._write(exp_id, rows, None if checkpoint is None else (trials[-1].number, checkpoint),
                    trials[-1].finished)

    def record_trial(self, exp_id: str, t: TrialRecord,
                     checkpoint: Callable[[], dict[str, Any]] | None = None) -> None:
        """Append ``t`` (and the checkpoint after it). Group commit: trials that come faster
        than ``commit_window_s`` apart are held and written together, with the checkpoint
        of the last of them, in one transaction (kill -9 loses at most that window, and the
        run resumes from the last committed trial); any read, ``set_status``, ``flush`` or
        ``close`` writes them first."""
        if self._buf and self._buf_exp != exp_id:
            self.flush()
        self._buf.append(self._trial_row(exp_id, t))
        self._buf_exp = exp_id
        self._buf_finished = t.finished
        if checkpoint is not None:
            # the thunk is called when the held trials are written (here, or by the next read,
            # set_status, flush or close): the runner calls storage only between trials (a
            # task being evaluated, or dropped over budget, is among the checkpoint's pending
            # tasks), so the state it returns then belongs with exactly the trials written; a
            # run that ends with an exception drops what is held instead (drop_unwritten).
            # Computing it only then keeps checkpoints off the per-trial cost of fast runs.
            self._buf_ckpt = (t.number, checkpoint)
        # a trial that itself took longer than the window (a trained network, a worker of a
        # pool) is written at once: only work cheaper than the window is ever held
        if (t.cost.wall_s >= self.commit_window_s
                or time.monotonic() - self._last_commit >= self.commit_window_s
                or len(self._buf) >= 5000):
            self.flush()

    def drop_unwritten(self, exp_id: str) -> int:
        if not self._buf or self._buf_exp != exp_id:
            return 0
        n = len(self._buf)
        self._buf, self._buf_ckpt = [], None
        return n

    def flush(self) -> None:
        """Write the trials held by the group commit (one transaction)."""
        if not self._buf:
            return
        rows, held, exp_id, finished = self._buf, self._buf_ckpt, self._buf_exp, self._buf_finished
        self._buf, self._buf_ckpt = [], None
        assert exp_id is not None
        ckpt = None
        if held is not None:
            number, state = held
            ckpt = (number, state() if callable(state) else state)
        self._write(exp_id, rows, ckpt, finished)

    def _write(self, exp_id: str, rows: list[tuple[Any, ...]],
               ckpt: tuple[int, dict[str, Any]] | None, finished: float) -> None:
        state = None if ckpt is None else dumps(ckpt[1])
        with self._tx() as c, self._unique(exp_id, rows[0][1]):
            if len(rows) == 1:
                c.execute(_INSERT_LEAN if len(rows[0]) == _N_LEAN else _INSERT_TRIAL, rows[0])
            else:
                lean = [r for r in rows if len(r) == _N_LEAN]
                if lean:
                    c.executemany(_INSERT_LEAN, lean)
                if len(lean) < len(rows):
                    c.executemany(_INSERT_TRIAL, [r for r in rows if len(r) != _N_LEAN])
            if ckpt is not None:
                c.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?)",
                          (exp_id, ckpt[0], state))
            c.execute("UPDATE experiments SET updated=? WHERE id=?", (finished, exp_id))
        self._last_commit = time.monotonic()

    @contextmanager
    def _unique(self, exp_id: str, number: int) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError:
            raise ExperimentBusyError(
                f"trial {number} of experiment {exp_id!r} is already recorded in "
                f"{self.location!r}: another process is running the same experiment. Nothing "
                f"was lost; stop one of them, then run the same command again to continue it "
                f"(or pass another --experiment-id)") from None

    def trials(self, exp_id: str) -> list[TrialRecord]:
        self.flush()
        if "trials" not in self._tables:
            return []
        with self._reading(f"the trials of experiment {exp_id!r}"):
            rows = self._conn.execute(self._select_trials, (exp_id,)).fetchall()
        out = []
        loads = json.loads
        for r in rows:
            try:
                try:
                    arch = Architecture.from_json({"space": r[1], "choices": loads(r[2])})
                except (UnknownComponentError, InvalidArchitectureError) as exc:
                    raise self._damaged(
                        f"trial {r[0]} of experiment {exp_id!r} holds an architecture naslab "
                        f"cannot read ({exc}); either the file is damaged or it was written "
                        f"with a search space this installation does not have",
                        f"reading the trials of experiment {exp_id!r}") from None
                metrics = loads(r[4])
                if not isinstance(metrics, dict):
                    raise TypeError(f"metrics is {type(metrics).__name__}, not an object")
                info = loads(r[19]) if r[19] else {}
                if not isinstance(info, dict):
                    raise TypeError(f"info is {type(info).__name__}, not an object")
                out.append(TrialRecord(
                    number=r[0], arch=arch, status=r[3], metrics=metrics, objective=r[5],
                    fidelity=r[6], seed=r[7], cost=Cost(r[8], r[9]), reused=bool(r[10]),
                    error=r[11], started=r[12], finished=r[13], incumbent_number=r[14],
                    incumbent_objective=r[15], incumbent_test=r[16], cum_simulated_s=r[17],
                    cum_wall_s=r[18], info=info,
                    objectives=_objectives_of(r[20], r[3], r[5]),
                    feasible=_feasible_of(r[21], r[3]),
                    front=loads(r[22]) if r[22] is not None else None, hypervolume=r[23]))
            except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
                if isinstance(exc, NaslabError):
                    raise
                raise self._damaged(f"trial {r[0]} of experiment {exp_id!r} holds malformed "
                                    f"data ({type(exc).__name__}: {exc})",
                                    f"reading the trials of experiment {exp_id!r}") from None
        for k, t in enumerate(out):  # numbers 0..n-1; an incumbent is an earlier trial
            inc = t.incumbent_number
            if t.number != k or (inc is not None and not 0 <= inc <= k):
                what = (f"trial number {t.number} where {k} was expected" if t.number != k else
                        f"trial {k}'s incumbent is trial {inc}, which is not an earlier trial")
                raise self._damaged(f"experiment {exp_id!r} holds inconsistent trials ({what})",
                                    f"reading the trials of experiment {exp_id!r}")
        return out

    def trial_columns(self, exp_id: str, columns: tuple[str, ...] | list[str]) -> dict[str, list[Any]]:
        self.flush()
        check_columns(columns)
        cols = list(dict.fromkeys(columns))
        derive = self._v1_trials and ("objectives" in cols or "feasible" in cols)
        read = cols + [c for c in ("status", "objective") if derive and c not in cols]
        with self._reading(f"the trials of experiment {exp_id!r}"):
            return self._trial_columns(exp_id, cols, read, derive)

    def _trial_columns(self, exp_id: str, cols: list[str], read: list[str],
                       derive: bool) -> dict[str, list[Any]]:
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
        self.flush()
        with self._reading(f"the checkpoint of experiment {exp_id!r}"):
            row = self._conn.execute("SELECT state FROM checkpoints WHERE experiment_id=?",
                                     (exp_id,)).fetchone()
        if row is None:
            return None
        state = self._loads(row[0], f"the checkpoint of experiment {exp_id!r}")
        if not isinstance(state, dict):
            raise self._damaged(f"the checkpoint of experiment {exp_id!r} is not a JSON object",
                                "reading it")
        return state

    def set_status(self, exp_id: str, status: str) -> None:
        self.flush()
        with self._tx() as c:
            c.execute("UPDATE experiments SET status=?, updated=? WHERE id=?",
                      (status, time.time(), exp_id))
            if status != "running":
                self._release_leases(c, [exp_id])

    def _experiment_rows(self, where: str = "", args: tuple[Any, ...] = ()) -> list[ExperimentInfo]:
        self.flush()
        if "experiments" not in self._tables:
            return []
        count = ("(SELECT COUNT(*) FROM trials t WHERE t.experiment_id = e.id)"
                 if "trials" in self._tables else "0")
        with self._reading("the experiments table"):
            rows = self._conn.execute(
                f"SELECT e.id, e.created, e.updated, e.status, e.config, e.meta, {count}, "
                f"{self._kind_expr} FROM experiments e {where} ORDER BY e.created", args).fetchall()
        out = []
        for r in rows:
            config = self._loads(r[4], f"the config of experiment {r[0]!r}")
            meta = self._loads(r[5], f"the meta data of experiment {r[0]!r}")
            if not isinstance(config, dict) or not isinstance(meta, dict):
                raise self._damaged(f"the config or meta data of experiment {r[0]!r} is not a "
                                    f"JSON object", "reading the experiments table")
            out.append(ExperimentInfo(r[0], r[1], r[2], r[3], config, meta, r[6], r[7]))
        return out

    def experiment_ids(self) -> list[str]:
        """The ids of all experiments, oldest first, without parsing their rows (what a
        listing of a damaged file starts from)."""
        if "experiments" not in self._tables:
            return []
        with self._reading("the experiments table"):
            return [str(r[0]) for r in
                    self._conn.execute("SELECT id FROM experiments ORDER BY created").fetchall()]

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
        self.flush()
        text = dumps(data)
        with self._tx() as c:
            now = time.time()
            c.execute("INSERT INTO records VALUES (?,?,?,?)", (exp_id, kind, now, text))
            if blob is not None:
                c.execute("INSERT OR REPLACE INTO blobs VALUES (?,?,?,?)",
                          (exp_id, blob_key, sqlite3.Binary(bytes(blob)), now))

    def records(self, exp_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        self.flush()
        q = "SELECT kind, created, data FROM records WHERE experiment_id=?"
        args: tuple[Any, ...] = (exp_id,)
        if kind is not None:
            q += " AND kind=?"
            args += (kind,)
        with self._reading(f"the records of experiment {exp_id!r}"):
            rows = self._conn.execute(q + " ORDER BY rowid", args).fetchall()
        out = []
        for k, c, d in rows:
            data = self._loads(d, f"a {k!r} record of experiment {exp_id!r}")
            if not isinstance(data, dict):
                raise self._damaged(f"a {k!r} record of experiment {exp_id!r} is not a JSON "
                                    f"object", "reading the records")
            out.append({"kind": k, "created": c, **data})
        return out

    def blob(self, exp_id: str, key: str = "checkpoint") -> bytes | None:
        self.flush()
        if "blobs" not in self._tables:
            return None
        with self._reading(f"the {key!r} blob of experiment {exp_id!r}"):
            row = self._conn.execute("SELECT data FROM blobs WHERE experiment_id=? AND key=?",
                                     (exp_id, key)).fetchone()
        return None if row is None else bytes(row[0])

    # groups ------------------------------------------------------------------------------------
    def open_group(self, group_id: str, config: dict[str, Any]) -> bool:
        self.flush()
        with self._tx() as c:
            row = c.execute("SELECT config FROM groups WHERE id=?", (group_id,)).fetchone()
            if row is not None:
                check_same_config(group_id, json.loads(row[0]), config)
                return False
            c.execute("INSERT INTO groups VALUES (?,?,?)", (group_id, time.time(), dumps(config)))
            return True

    def add_to_group(self, group_id: str, exp_id: str, labels: dict[str, Any]) -> None:
        self.flush()
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO group_members VALUES (?,?,?)",
                      (group_id, exp_id, dumps(labels)))

    def groups(self) -> list[dict[str, Any]]:
        self.flush()
        if "groups" not in self._tables:
            return []
        with self._reading("the groups table"):
            rows = self._conn.execute(
                "SELECT g.id, g.created, g.config, (SELECT COUNT(*) FROM group_members m "
                "WHERE m.group_id = g.id) FROM groups g ORDER BY g.created").fetchall()
        return [{"id": r[0], "created": r[1], "config": self._loads(r[2], f"the config of group "
                                                                          f"{r[0]!r}"),
                 "n_experiments": r[3]} for r in rows]

    def group(self, group_id: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        self.flush()
        with self._reading(f"group {group_id!r}"):
            row = (self._conn.execute("SELECT config FROM groups WHERE id=?",
                                      (group_id,)).fetchone()
                   if "groups" in self._tables else None)
        if row is None:
            ids = [g["id"] for g in self.groups()]
            raise StorageError(f"no group {group_id!r} in {self.location}{did_you_mean(group_id, ids)}")
        with self._reading(f"group {group_id!r}"):
            members = self._conn.execute(
                "SELECT experiment_id, labels FROM group_members WHERE group_id=? ORDER BY rowid",
                (group_id,)).fetchall()
        return (self._loads(row[0], f"the config of group {group_id!r}"),
                [(e, self._loads(lab, f"the labels of {e!r} in group {group_id!r}"))
                 for e, lab in members])

    def close(self) -> None:
        """Write what the group commit holds, give this process's leases back, close."""
        try:
            self.flush()
            if self._leases and not self.readonly and self._broken is None:
                try:
                    with self._tx() as c:
                        self._release_leases(c, sorted(self._leases))
                except (NaslabError, sqlite3.DatabaseError):
                    pass  # a lease left behind lapses with this process
        finally:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SQLiteStorage({str(self.path)!r})"


# ------------------------------------------------------------------------------------------
# leases

def _proc_stat(pid: int, field: int) -> str | None:
    """Field ``field`` of ``/proc/<pid>/stat`` after the command name (0: state, 19: start
    time); None where unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[field]
    except (OSError, IndexError):
        return None


def _process_start(pid: int) -> str | None:
    """A token of when process ``pid`` started (Linux: /proc start time), to tell a live
    holder from a new process that reused its pid; None where unknown."""
    return _proc_stat(pid, 19)


def _process_exited(pid: int) -> bool:
    """Whether ``pid`` is a zombie (Linux: /proc state ``Z``): killed or ended, not yet reaped
    by its parent (in a container whose init does not reap, it may stay so a long time)."""
    return _proc_stat(pid, 0) in ("Z", "X")


def _my_lease() -> dict[str, Any]:
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "start": _process_start(pid),
            "since": time.time()}


def _lease_alive(holder: dict[str, Any], updated: float | None) -> bool:
    """Whether the process that holds a lease is still running (and is not this one)."""
    mine = _my_lease()
    if holder.get("host") != mine["host"]:
        last = max(float(holder.get("since") or 0), float(updated or 0))
        return time.time() - last < LEASE_STALE_S
    try:
        pid = int(str(holder.get("pid")))
    except ValueError:
        return False
    if pid == mine["pid"]:
        return False  # this process: a run that stopped and is started again
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    except OSError:
        return False
    if _process_exited(pid):
        return False  # a killed run whose parent has not reaped it yet
    start = holder.get("start")
    return start is None or _process_start(pid) in (None, start)
