"""Benchmark data files are checked against their documented ranges on load (file, line and
column named), and a --data-dir that does not hold the data is an error, not a fallback."""

from __future__ import annotations

import csv
import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from naslab.benchmarks.nb201 import VAL_FILE, NB201Benchmark
from naslab.cli.main import main
from naslab.errors import DataError


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return rc, out.getvalue(), err.getvalue()


def _edited_val(data_dir: Path, tmp_path: Path, row: int, column: str, value: str) -> Path:
    """A data directory whose validation file has ``value`` in row ``row`` (0-based, after
    the header), column ``column``."""
    src = data_dir / "nb201" / VAL_FILE
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    rows[row + 1][rows[0].index(column)] = value
    d = tmp_path / "data"
    (d / "nb201").mkdir(parents=True)
    with open(d / "nb201" / VAL_FILE, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return d


@pytest.mark.parametrize("column, value, words", [
    ("cifar10_valid_val_run1", "250.0", ("[0, 100]", "line 6", "cifar10_valid_val_run1")),
    ("cifar100_val_run2", "-1", ("[0, 100]", "line 6", "cifar100_val_run2")),
    ("imagenet16_train_time_s", "-3", ("positive", "line 6", "imagenet16_train_time_s")),
    ("cifar10_valid_params_mb", "0", ("positive", "line 6", "cifar10_valid_params_mb")),
    ("cifar10_valid_val_run1", "inf", ("line 6", "cifar10_valid_val_run1")),
])
def test_out_of_range_values_refused(data_dir: Path, tmp_path: Path, column: str, value: str,
                                     words: tuple[str, ...]) -> None:
    d = _edited_val(data_dir, tmp_path, 4, column, value)
    with pytest.raises(DataError) as info:
        NB201Benchmark("cifar10", data_dir=str(d))
    msg = str(info.value)
    assert str(d / "nb201" / VAL_FILE) in msg
    for w in words:
        assert w in msg, msg


def test_query_of_a_damaged_file_exits_2(data_dir: Path, tmp_path: Path) -> None:
    d = _edited_val(data_dir, tmp_path, 4, "cifar10_valid_val_run1", "250.0")
    rc, out, err = run_cli("query", "4", "--data-dir", str(d))
    assert rc == 2 and "250" in err and "val_acc_mean" not in out


def test_in_range_edit_loads(data_dir: Path, tmp_path: Path) -> None:
    d = _edited_val(data_dir, tmp_path, 4, "cifar10_valid_val_run1", "100.0")
    b = NB201Benchmark("cifar10", data_dir=str(d), )
    assert b.tables.sources  # loads: 100 is inside [0, 100]


@pytest.mark.parametrize("kind", ["missing", "empty", "file"])
def test_data_dir_that_holds_no_data_is_an_error(kind: str, tmp_path: Path) -> None:
    d = tmp_path / "nope"
    if kind == "empty":
        d.mkdir()
    elif kind == "file":
        d.write_text("x")
    rc, out, err = run_cli("query", "4", "--data-dir", str(d))
    assert rc == 2 and str(d) in err and "Traceback" not in err, err
    assert {"missing": "does not exist", "empty": "looked for",
            "file": "not a directory"}[kind] in err
    rc, _, err = run_cli("search", "--budget", "5", "--data-dir", str(d),
                         "--storage", str(tmp_path / "s.db"))
    assert rc == 2 and str(d) in err
