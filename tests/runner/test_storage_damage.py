"""Damaged, foreign, read-only and busy storage files: a clear error (exit 2) naming the file,
that it is damaged and how to recover; never a write into a file that failed its check;
read-only files can be read."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from naslab.cli.main import main
from naslab.runner.storage import DamagedStorageError, ExperimentBusyError, SQLiteStorage


def run_cli(*args: str) -> tuple[int, str, str]:
    """``naslab ARGS`` in process: (exit status, stdout, stderr); any other exception (a
    traceback) propagates and fails the test."""
    out, err = io.StringIO(), io.StringIO()
    rc = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return rc, out.getvalue(), err.getvalue()


def md5(p: Path) -> str:
    return hashlib.md5(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def good_db(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> tuple[Path, str]:
    d = tmp_path_factory.mktemp("store")
    db = d / "good.db"
    rc, out, err = run_cli("search", "--strategy", "rs", "--budget", "30", "--seed", "1",
                           "--data-dir", str(data_dir), "--storage", str(db), "--output", "json")
    assert rc == 0, err
    return db, json.loads(out)["experiment_id"]


def _copy(good: Path, tmp_path: Path, name: str) -> Path:
    p = tmp_path / name
    shutil.copy(good, p)
    return p


def _search(db: Path, data_dir: Path) -> tuple[int, str, str]:
    return run_cli("search", "--strategy", "rs", "--budget", "30", "--seed", "1",
                   "--data-dir", str(data_dir), "--storage", str(db))


def test_zeroed_tail_is_refused_for_writing_and_read_as_far_as_intact(
        good_db: tuple[Path, str], tmp_path: Path, data_dir: Path) -> None:
    good, exp_id = good_db
    db = _copy(good, tmp_path, "tail.db")
    n = db.stat().st_size
    with open(db, "r+b") as f:
        f.seek(n // 2)
        f.write(b"\0" * (n - n // 2))
    before = md5(db)
    rc, _, err = _search(db, data_dir)
    assert rc == 2 and "is damaged" in err and str(db) in err and ".recover" in err
    assert md5(db) == before  # nothing written into a file that failed its check
    for args in (("runs",), ("show", exp_id), ("report", exp_id, "--out", str(tmp_path / "r"))):
        rc, out, err = run_cli(*args, "--storage", str(db))
        assert rc == 2, (args, err)
        assert "damaged" in err and str(db) in err, (args, err)
    rc, out, err = run_cli("runs", "--storage", str(db), "--output", "json")
    assert [r["status"] for r in json.loads(out)] == ["damaged"]  # still listed
    assert md5(db) == before


def test_random_bytes_mid_file_never_written(good_db: tuple[Path, str], tmp_path: Path,
                                             data_dir: Path) -> None:
    good, _ = good_db
    db = _copy(good, tmp_path, "mid.db")
    n = db.stat().st_size
    with open(db, "r+b") as f:
        f.seek(n // 2)
        f.write(bytes(range(256)) * 16)
    before = md5(db)
    rc, _, err = _search(db, data_dir)
    assert rc == 2 and "is damaged" in err and str(db) in err, err
    assert md5(db) == before
    rc, _, err = run_cli("runs", "--storage", str(db))
    assert rc in (0, 2) and "Traceback" not in err  # what is intact is listed


def test_malformed_json_row_names_trial_and_file(good_db: tuple[Path, str], tmp_path: Path,
                                                 data_dir: Path) -> None:
    good, exp_id = good_db
    db = _copy(good, tmp_path, "json.db")
    c = sqlite3.connect(db)
    c.execute("UPDATE trials SET metrics='{\"val_acc\": 9' WHERE number=3")
    c.commit()
    c.close()
    for args in (("show", exp_id), ("runs",), ("report", exp_id, "--out", str(tmp_path / "r"))):
        rc, _, err = run_cli(*args, "--storage", str(db))
        if args[0] == "runs":  # runs reads columns only: the listing itself is intact
            assert rc == 0, err
            continue
        assert rc == 2 and "trial 3" in err and "damaged" in err and str(db) in err, (args, err)
    rc, _, err = _search(db, data_dir)  # resuming reads every trial
    assert rc == 2 and "trial 3" in err


def test_config_json_damaged(good_db: tuple[Path, str], tmp_path: Path) -> None:
    good, exp_id = good_db
    db = _copy(good, tmp_path, "cfg.db")
    c = sqlite3.connect(db)
    c.execute("UPDATE experiments SET config='not json'")
    c.commit()
    c.close()
    rc, _, err = run_cli("runs", "--storage", str(db))
    assert rc == 2 and "damaged" in err and exp_id in err


@pytest.mark.parametrize("ddl", ["CREATE TABLE foo (x INTEGER)",
                                 "CREATE TABLE trials (id INTEGER, name TEXT)",
                                 "CREATE TABLE experiments (id TEXT); CREATE TABLE meta (key TEXT, "
                                 "value TEXT)"])
def test_foreign_sqlite_file_is_refused_and_untouched(tmp_path: Path, data_dir: Path,
                                                      ddl: str) -> None:
    db = tmp_path / "other.db"
    c = sqlite3.connect(db)
    c.executescript(ddl)
    c.commit()
    c.close()
    before = md5(db)
    rc, _, err = _search(db, data_dir)
    assert rc == 2 and "not a naslab storage file" in err and str(db) in err, err
    for args in (("runs",), ("show", "x")):
        rc, _, err = run_cli(*args, "--storage", str(db))
        assert rc == 2 and "not a naslab" in err, (args, err)
    assert md5(db) == before


def test_non_sqlite_file_is_refused(tmp_path: Path, data_dir: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("my notes\n")
    rc, _, err = _search(db, data_dir)
    assert rc == 2 and "SQLite" in err and db.read_text() == "my notes\n"


@contextmanager
def immutable(p: Path) -> Iterator[None]:
    r = subprocess.run(["chattr", "+i", str(p)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot make {p} immutable here: {r.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(p)], capture_output=True)


def test_readonly_storage_can_be_read_not_written(good_db: tuple[Path, str], tmp_path: Path,
                                                  data_dir: Path) -> None:
    good, exp_id = good_db
    folder = tmp_path / "ro"
    folder.mkdir()
    db = _copy(good, folder, "ro.db")
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    with immutable(db), immutable(folder):
        for args in (("runs",), ("show", exp_id), ("report", exp_id, "--out", str(tmp_path / "r"))):
            rc, out, err = run_cli(*args, "--storage", str(db))
            assert rc == 0, (args, err)
        assert exp_id in run_cli("runs", "--storage", str(db))[1]
        rc, _, err = run_cli("search", "--strategy", "rs", "--budget", "40", "--seed", "1",
                             "--data-dir", str(data_dir), "--storage", str(db))
        assert rc == 2 and "cannot be written" in err and "copy" in err, err
        assert "is it a naslab SQLite file" not in err


def test_second_live_process_is_told_the_experiment_is_busy(tmp_path: Path) -> None:
    """A lease held by a live process (here: pid 1, always alive) refuses a second run; the
    lease of a dead process is taken over (kill -9 then the same command resumes)."""
    db = tmp_path / "busy.db"
    s = SQLiteStorage(db)
    s.open_experiment("e", {"a": 1}, {})
    s.close()  # released
    c = sqlite3.connect(db)
    holder = {"pid": 1, "host": os.uname().nodename, "start": None, "since": 0}
    c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", ("lease:e", json.dumps(holder)))
    c.commit()
    s = SQLiteStorage(db)
    with pytest.raises(ExperimentBusyError, match="being run by another process.*pid 1"):
        s.open_experiment("e", {"a": 1}, {})
    dead = {**holder, "pid": 2 ** 22 + 12345}  # above pid_max: no such process
    c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", ("lease:e", json.dumps(dead)))
    c.commit()
    c.close()
    assert s.open_experiment("e", {"a": 1}, {}) is False  # taken over
    s.close()


def test_the_lease_of_a_killed_run_not_yet_reaped_is_taken_over(tmp_path: Path) -> None:
    """kill -9, then the same command at once: the killed process may still be a zombie (its
    parent has not reaped it; in a container whose init never reaps, for good). Its lease is
    a dead process's: taken over, not 'being run by another process'."""
    import signal
    import subprocess
    import sys

    db = tmp_path / "z.db"
    s = SQLiteStorage(db)
    s.open_experiment("e", {"a": 1}, {})
    s.close()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        os.kill(child.pid, signal.SIGKILL)
        for _ in range(200):  # until the kernel has made it a zombie (no wait(): not reaped)
            with open(f"/proc/{child.pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.01)
        else:
            pytest.fail("the killed child did not become a zombie")
        from naslab.runner.storage.sqlite import _process_start

        holder = {"pid": child.pid, "host": os.uname().nodename,
                  "start": _process_start(child.pid), "since": 0}
        c = sqlite3.connect(db)
        c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", ("lease:e", json.dumps(holder)))
        c.commit()
        c.close()
        s = SQLiteStorage(db)
        assert s.open_experiment("e", {"a": 1}, {}) is False  # taken over
        s.close()
    finally:
        child.wait()


def test_damaged_error_is_a_storage_error(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    s = SQLiteStorage(db)
    s.open_experiment("e", {}, {})
    s.close()
    data = bytearray(db.read_bytes())
    data[100:len(data)] = b"\xff" * (len(data) - 100)
    db.write_bytes(bytes(data))
    with pytest.raises(DamagedStorageError):
        s = SQLiteStorage(db)
        s.trials("e")
