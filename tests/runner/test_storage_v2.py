"""Storage schema v2: migration of version-1 files (as naslab 0.1 wrote them), read-only reads
of version-1 files, newer schemas refused, experiment kinds, atomic record + blob, the
buffered trial store."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from naslab import registry
from naslab.errors import StorageError
from naslab.runner import (
    BufferedTrialStore,
    Experiment,
    InMemoryStorage,
    MaxTrials,
    SQLiteStorage,
    load_result,
)
from naslab.runner.storage import SCHEMA_VERSION, TRIAL_COLUMNS
from naslab.spaces import get_space
from naslab.testing import SyntheticEstimator

SPACE = get_space("nb201")

# The DDL of naslab 0.1 (schema version 1), copied from its runner/storage.py. Files made by
# its first release lack ``trials.info`` (added later by an ALTER TABLE) and the groups tables.
V1_DDL = """
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
V1_DDL_FIRST_RELEASE = """
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
    cum_simulated_s REAL, cum_wall_s REAL,
    PRIMARY KEY (experiment_id, number)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    experiment_id TEXT PRIMARY KEY, number INTEGER, state TEXT
);
CREATE TABLE IF NOT EXISTS records (
    experiment_id TEXT NOT NULL, kind TEXT NOT NULL, created REAL, data TEXT
);
"""


def _dumps(x: Any) -> str:  # the v1 writer's JSON
    return json.dumps(x, separators=(",", ":"))


def _f(x: float | None) -> float | None:
    return None if x is None or x != x else float(x)


def _v1_rows(exp_id: str, trials: list[Any], with_info: bool) -> list[tuple[Any, ...]]:
    """Trial rows exactly as naslab 0.1's ``SQLiteStorage._trial_row`` wrote them."""
    rows = []
    for t in trials:
        row = (exp_id, t.number, t.arch.space, str(t.arch), _dumps(list(t.arch.choices)),
               t.status, _dumps(t.metrics), _f(t.objective), _f(t.fidelity), t.seed,
               t.cost.wall_s, t.cost.simulated_s, int(t.reused), t.error, t.started, t.finished,
               t.incumbent_number, _f(t.incumbent_objective), _f(t.incumbent_test),
               t.cum_simulated_s, t.cum_wall_s)
        rows.append(row + ((_dumps(t.info) if t.info else None,) if with_info else ()))
    return rows


def _experiment(strategy: str, est: Any, n: int, seed: int = 4) -> Experiment:
    return Experiment(SPACE, registry.create("strategy", strategy), est, termination=MaxTrials(n),
                      seed=seed, meta={"command": "test"})


def write_v1(path: Path, runs: list[tuple[Experiment, int]], *, first_release: bool = False) -> None:
    """A version-1 file holding ``runs`` (each run to its budget, with its final checkpoint),
    written with the v1 DDL and v1 rows, in WAL mode as naslab 0.1 left it."""
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.executescript(V1_DDL_FIRST_RELEASE if first_release else V1_DDL)
    c.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", ("1",))
    for exp, _ in runs:
        buf = BufferedTrialStore([], None)
        exp.storage = buf
        exp.run()
        c.execute("INSERT INTO experiments VALUES (?,?,?,?,?,?)",
                  (exp.id, 1.0, 2.0, "finished", _dumps(buf.config), _dumps(buf.meta)))
        rows = _v1_rows(exp.id, buf.new, with_info=not first_release)
        c.executemany("INSERT INTO trials VALUES (" + ",".join("?" * len(rows[0])) + ")", rows)
        c.execute("INSERT INTO checkpoints VALUES (?,?,?)",
                  (exp.id, buf.new[-1].number, _dumps(buf.final_ckpt)))
    if not first_release:
        c.execute("INSERT INTO groups VALUES (?,?,?)", ("g", 3.0, _dumps({"kind": "test"})))
        for exp, _ in runs:
            c.execute("INSERT INTO group_members VALUES (?,?,?)", ("g", exp.id, _dumps({"seed": 4})))
    c.execute("INSERT INTO records VALUES (?,?,?,?)", (runs[0][0].id, "final_training", 4.0,
                                                       _dumps({"arch": "x", "seed": 0})))
    c.close()


def _traj(trials: list[Any]) -> list[Any]:
    return [(t.arch, t.status, t.objective, t.metrics, t.reused, t.seed, t.fidelity,
             t.cost.simulated_s, t.incumbent_number, t.incumbent_objective, t.incumbent_test,
             t.cum_simulated_s) for t in trials]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("first_release", [False, True])
def test_a_v1_file_is_shown_read_only_then_migrated_and_resumed(tabular_c10, tmp_path: Path,
                                                                 first_release: bool) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "v1.db"
    runs = [(_experiment("re", tabular_c10, 25), 25),
            (_experiment("rs", SyntheticEstimator(fail_every=4), 20), 20)]
    write_v1(db, runs, first_release=first_release)
    full = {name: Experiment(SPACE, registry.create("strategy", name), est,
                             termination=MaxTrials(60), seed=4).run()
            for name, est in (("re", tabular_c10), ("rs", SyntheticEstimator(fail_every=4)))}
    ids = [exp.id for exp, _ in runs]

    # read-only: shown as it is, the file is not touched
    before = _sha(db)
    ro = SQLiteStorage(db, readonly=True)
    assert ro.schema_version == 1
    assert [e.id for e in ro.experiments()] == ids and {e.kind for e in ro.experiments()} == {"search"}
    for exp_id, name, n in ((ids[0], "re", 25), (ids[1], "rs", 20)):
        res = load_result(ro, exp_id)
        assert _traj(res.trials) == _traj(full[name].trials[:n])
        for t in res.trials:
            assert t.objectives == ((t.objective,) if t.status == "complete" else None)
            assert t.feasible is (True if t.status == "complete" else None) and t.front is None
        cols = ro.trial_columns(exp_id, list(TRIAL_COLUMNS))
        assert cols["objectives"] == [t.objectives for t in res.trials]
        assert cols["feasible"] == [t.feasible for t in res.trials]
    assert any(t.status == "failed" for t in ro.trials(ids[1]))
    assert ro.records(ids[0], "final_training")[0]["arch"] == "x" and ro.blob(ids[0]) is None
    assert ro.groups() == ([] if first_release else [{"id": "g", "created": 3.0,
                                                      "config": {"kind": "test"}, "n_experiments": 2}])
    with pytest.raises(StorageError, match="opened read-only"):
        ro.set_status(ids[0], "finished")
    ro.close()
    assert _sha(db) == before

    # opened for writing: migrated in place, then resumed to a larger budget
    st = SQLiteStorage(db)
    assert st.schema_version == SCHEMA_VERSION == 2
    with sqlite3.connect(db) as c:
        meta = dict(c.execute("SELECT key, value FROM meta").fetchall())
        stored = c.execute("SELECT status, objective, objectives, feasible FROM trials").fetchall()
    assert meta["schema_version"] == "2" and "migrated_from_v1" in meta
    for status, objective, objectives, feasible in stored:
        if status == "complete":
            assert json.loads(objectives) == [objective] and feasible == 1
        else:
            assert objectives is None and feasible is None
    for exp_id, name, est in ((ids[0], "re", tabular_c10), (ids[1], "rs", SyntheticEstimator(fail_every=4))):
        res = Experiment(SPACE, registry.create("strategy", name), est, termination=MaxTrials(60),
                         seed=4, storage=st).run()
        assert res.experiment_id == exp_id and res.resumed_trials in (25, 20)
        assert _traj(res.trials) == _traj(full[name].trials)
        assert _traj(load_result(st, exp_id).trials) == _traj(full[name].trials)
    assert st.experiment(ids[0]).kind == "search"
    st.add_record(ids[0], "note", {"x": 1}, blob=b"\x00\x01")
    assert st.blob(ids[0]) == b"\x00\x01"
    st.open_group("g2", {"kind": "test"})  # the groups tables exist after the migration
    st.close()


def test_the_migration_is_one_transaction(tabular_c10, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import naslab.runner.storage.sqlite as sq

    db = tmp_path / "v1.db"
    write_v1(db, [(_experiment("re", tabular_c10, 10), 10)])

    def boom(x: Any) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sq, "dumps", boom)  # fails in the back-fill, after the ALTER TABLEs
    with pytest.raises(RuntimeError, match="disk on fire"):
        SQLiteStorage(db)
    monkeypatch.undo()
    with sqlite3.connect(db) as c:
        cols = {r[1] for r in c.execute("PRAGMA table_info(trials)")}
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    assert version == "1" and "objectives" not in cols and "blobs" not in tables
    assert SQLiteStorage(db).schema_version == 2  # and a later open migrates it


def test_a_newer_schema_is_refused_with_the_versions(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    SQLiteStorage(db).close()
    with sqlite3.connect(db) as c:
        c.execute("UPDATE meta SET value='3' WHERE key='schema_version'")
        c.execute("INSERT OR REPLACE INTO meta VALUES ('naslab_version', '9.1.0')")
    before = _sha(db)
    for ro in (False, True):
        with pytest.raises(StorageError) as exc:
            SQLiteStorage(db, readonly=ro)
        msg = str(exc.value)
        assert "schema version 3" in msg and "(schema version 2)" in msg
        assert "naslab 9.1.0 or newer" in msg and str(db) in msg
    assert _sha(db) == before


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.db"
    bad.write_text("not a database, just text " * 100)
    for ro in (False, True):
        with pytest.raises(StorageError, match="is it a naslab SQLite file"):
            SQLiteStorage(bad, readonly=ro)


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_experiment_kinds_and_atomic_record_with_blob(tmp_path: Path, kind: str) -> None:
    st = SQLiteStorage(tmp_path / "s.db") if kind == "sqlite" else InMemoryStorage()
    assert st.open_experiment("one", {"a": 1}, {}, kind="oneshot")
    assert not st.open_experiment("one", {"a": 1}, {}, kind="oneshot")
    assert st.open_experiment("two", {"a": 2}, {})
    assert {e.id: e.kind for e in st.experiments()} == {"one": "oneshot", "two": "search"}
    assert st.experiment("one").kind == "oneshot"
    with pytest.raises(StorageError, match="already exists as a 'oneshot' run"):
        st.open_experiment("one", {"a": 1}, {})
    with pytest.raises(StorageError, match="kind must be one of search, oneshot"):
        st.open_experiment("three", {}, {}, kind="oneshoot")
    assert st.blob("one") is None
    st.add_record("one", "oneshot_epoch", {"epoch": 0}, blob=b"state-0")
    st.add_record("one", "oneshot_epoch", {"epoch": 1}, blob=b"state-1")
    st.add_record("one", "note", {"n": 1}, blob=b"other", blob_key="extra")
    assert st.blob("one") == b"state-1" and st.blob("one", "extra") == b"other"
    assert [r["epoch"] for r in st.records("one", "oneshot_epoch")] == [0, 1]
    if kind == "sqlite":
        # the record and the blob are one transaction: a blob that cannot be stored leaves
        # neither the record nor a changed blob
        with pytest.raises(TypeError):
            st.add_record("one", "oneshot_epoch", {"epoch": 2}, blob="not bytes")  # type: ignore[arg-type]
        assert [r["epoch"] for r in st.records("one", "oneshot_epoch")] == [0, 1]
        assert st.blob("one") == b"state-1"
        st.close()
        ro = SQLiteStorage(tmp_path / "s.db", readonly=True)
        assert ro.blob("one") == b"state-1" and ro.experiment("one").kind == "oneshot"
        ro.close()


def test_buffered_trial_store_writes_what_a_direct_run_writes(tmp_path: Path) -> None:
    direct = SQLiteStorage(tmp_path / "a.db")
    res = _experiment("re", SyntheticEstimator(), 40)
    res.storage = direct
    want = res.run()
    other = SQLiteStorage(tmp_path / "b.db")
    for budget in (15, 40):  # a first part, then a resume from what is durable
        exp = _experiment("re", SyntheticEstimator(), budget)
        prior = other.trials(exp.id)
        buf = BufferedTrialStore(prior, other.checkpoint(exp.id) if prior else None)
        exp.storage = buf
        exp.run()
        assert buf.status == "finished" and len(buf.new) == budget - len(prior)
        buf.write_to(other, exp.id)
    assert _traj(other.trials(want.experiment_id)) == _traj(want.trials)
    a, b = direct.checkpoint(want.experiment_id), other.checkpoint(want.experiment_id)
    assert a is not None and b is not None
    a["runner"].pop("wall_s"), b["runner"].pop("wall_s")
    assert a == b
    assert other.experiment(want.experiment_id).status == "finished"


def test_cli_lists_shows_reports_and_resumes_a_v1_file(tabular_c10, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from naslab.cli.main import _load_command_modules, app

    _load_command_modules()
    db = tmp_path / "v1.db"
    exp = _experiment("re", tabular_c10, 25)
    write_v1(db, [(exp, 25)])
    before = _sha(db)
    cli = CliRunner()
    runs = json.loads(cli.invoke(app, ["runs", "--storage", str(db), "--output", "json"]).output)
    assert [(r["id"], r["trials"], r["kind"]) for r in runs] == [(exp.id, 25, "search")]
    show = cli.invoke(app, ["show", exp.id, "--storage", str(db)])
    assert show.exit_code == 0 and "regret" in show.output
    rep = cli.invoke(app, ["report", exp.id, "--storage", str(db), "--out", str(tmp_path / "rep")])
    assert rep.exit_code == 0, rep.output
    assert _sha(db) == before  # listing, showing and reporting never write
    r = cli.invoke(app, ["search", "--strategy", "re", "--budget", "40", "--seed", "4",
                         "--storage", str(db), "--data-dir", str(data_dir), "--output", "json",
                         "--no-progress"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["experiment_id"] == exp.id and d["resumed_trials"] == 25 and d["trials"] == 40
    full = Experiment(SPACE, registry.create("strategy", "re"), tabular_c10,
                      termination=MaxTrials(40), seed=4).run()
    show = json.loads(cli.invoke(app, ["show", exp.id, "--storage", str(db), "--output", "json"]).output)
    assert [(t["arch"], t["metrics"], t["incumbent_trial"]) for t in show["trajectory"]] == \
        [(str(t.arch), t.metrics, t.incumbent_number) for t in full.trials]
    assert d["test_acc"] == full.test_acc
