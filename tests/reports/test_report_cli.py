"""`naslab report` on the command line: output, errors and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from report_groups import comparison_db  # noqa: F401 - fixture


def _naslab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "naslab", *args], capture_output=True, text=True)


def test_report_command(comparison_db: Path, tmp_path: Path) -> None:  # noqa: F811
    p = _naslab("report", "cmp", "--storage", str(comparison_db), "--out", str(tmp_path / "r"))
    assert p.returncode == 0, p.stderr
    assert "runs     18" in p.stdout and "figures  2" in p.stdout
    assert (tmp_path / "r" / "index.html").is_file()
    assert sorted(x.name for x in (tmp_path / "r" / "figures").iterdir()) == [
        "anytime_nb201-cifar10.png", "final_nb201-cifar10.png"]


def test_report_errors(comparison_db: Path, tmp_path: Path) -> None:  # noqa: F811
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cases = [
        (["cmq", "--storage", str(comparison_db), "--out", str(tmp_path / "a")],
         "no comparison group or experiment 'cmq'", "did you mean 'cmp'"),
        (["cmp", "--storage", str(tmp_path / "none.db"), "--out", str(tmp_path / "b")],
         "does not exist", "--storage"),
        (["cmp", "--storage", str(comparison_db), "--out", str(blocker)],
         "exists and is not a directory", "--out"),
        (["cmp", "--storage", str(comparison_db), "--out", str(blocker / "sub")],
         "is not a writable directory", "--out"),
    ]
    for args, m1, m2 in cases:
        p = _naslab("report", *args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert m1 in p.stderr and m2 in p.stderr and "Traceback" not in p.stderr, p.stderr
