"""Multi-objective searches from the command line: bad objective / constraint / reference
strings (exit 2 naming the bad part), the final front in `--output json`, a kill -9 mid-run
followed by the same command, a multi-objective comparison with its report, and
`naslab analyze --objectives` (real NB201 data)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from naslab.cli.main import main

NASLAB = [sys.executable, "-m", "naslab"]
MO = ["--objective", "val_acc:max", "--objective", "latency_ms@pixel3:min"]


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code: int | None = 0
    try:
        main(args)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0
    out = capsys.readouterr()
    return int(code or 0), out.out, out.err


@pytest.mark.parametrize("args, fragment", [
    (["--objective", "val_acc:maximum"], "mode 'maximum' must be 'max' or 'min'"),
    (["--objective", "val_acc", "--objective", "lat ency:min"], "'lat ency' is not a metric name"),
    (["--objective", "test_acc:max"], "is a test metric"),
    (["--constraint", "latency_ms=<5"], "operator '=<' is not supported; did you mean '<='"),
    (["--constraint", "latency_ms<=fast"], "bound 'fast' is not a finite number"),
    (["--constraint", "<=5"], "names no metric before '<='"),
    ([*MO, "--reference", "0,fast"], "'fast' is not a finite number"),
    ([*MO, "--reference", "1,2,3"], "one finite value per objective (2), got [1.0, 2.0, 3.0]"),
    (["--reference", "1"], "applies to multi-objective runs"),
    (["--objective", "val_acc", "--objective", "latency_ms@pixel9:min"], "did you mean 'pixel3'"),
])
def test_bad_objective_constraint_and_reference_strings_exit_2(
        args: list[str], fragment: str, data_dir: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["search", *args, "--budget", "3", "--no-progress", "--data-dir",
                             str(data_dir), "--storage", str(tmp_path / "x.db")], capsys)
    assert code == 2 and fragment in err and "Traceback" not in err, err


@pytest.mark.parametrize("objectives, fragment", [
    ("test_acc:max", "needs 2 or 3 metrics"),
    ("test_acc:max,flops:min", "has no metric 'flops'"),
    ("test_acc:max,latency_ms@pixel3:fastest", "mode 'fastest' must be 'max' or 'min'"),
])
def test_bad_analyze_objectives_exit_2(objectives: str, fragment: str, data_dir: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["analyze", "--objectives", objectives, "--data-dir", str(data_dir)],
                            capsys)
    assert code == 2 and fragment in err and "Traceback" not in err, err


def test_json_lists_the_final_front_and_show_agrees(data_dir: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "mo.db")
    code, out, err = run_main(["search", "--strategy", "nsga2", *MO, "--constraint",
                               "latency_ms@pixel3<=15", "--budget", "80", "--no-progress",
                               "--output", "json", "--data-dir", str(data_dir), "--storage", db],
                              capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["objectives"] == [{"metric": "val_acc", "mode": "max"},
                               {"metric": "latency_ms@pixel3", "mode": "min"}]
    assert d["front"] and d["hypervolume"] > 0 and len(d["reference"]) == 2
    for f in d["front"]:
        assert set(f) == {"trial", "arch", "objectives", "test_acc"} and f["arch"].startswith("|")
        assert f["objectives"]["latency_ms@pixel3"] <= 15
    vals = [tuple(f["objectives"].values()) for f in d["front"]]
    for a in vals:  # no front member dominates another
        assert not any(b[0] >= a[0] and b[1] <= a[1] and b != a for b in vals)
    code, out, _ = run_main(["show", d["experiment_id"], "--storage", db, "--output", "json"], capsys)
    assert code == 0 and json.loads(out)["front"] == d["front"]
    code, out, _ = run_main(["show", d["experiment_id"], "--storage", db], capsys)
    assert "pareto front" in out and "hypervolume" in out and d["front"][0]["arch"] in out


def _trials(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return int(con.execute("SELECT COUNT(*) FROM trials").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_kill_9_mid_run_then_the_same_command_equals_an_uninterrupted_run(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    budget = 1000  # well past the kill point: group commits write cheap trials in batches
    opts = ["search", "--strategy", "nsga2", *MO, "--constraint", "latency_ms@pixel3<=20",
            "--budget", str(budget), "--seed", "7", "--no-progress", "--output", "json",
            "--data-dir", str(data_dir)]
    killed = tmp_path / "killed"
    killed.mkdir()
    proc = subprocess.Popen([*NASLAB, *opts], cwd=killed, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while _trials(killed / "naslab.db") < 40 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "the search finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n = _trials(killed / "naslab.db")
    assert 40 <= n < budget
    done = subprocess.run([*NASLAB, *opts], cwd=killed, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    resumed = json.loads(done.stdout)
    assert resumed["resumed_trials"] == n and resumed["trials"] == budget
    code, out, err = run_main([*opts, "--storage", str(tmp_path / "fresh.db")], capsys)
    assert code == 0, err
    fresh = json.loads(out)
    assert resumed["experiment_id"] == fresh["experiment_id"]
    for k in ("front", "hypervolume", "best_arch", "infeasible_trials"):
        assert resumed[k] == fresh[k], k
    a = run_main(["show", fresh["experiment_id"], "--storage", str(tmp_path / "fresh.db"),
                  "--output", "json"], capsys)[1]
    b = run_main(["show", fresh["experiment_id"], "--storage", str(killed / "naslab.db"),
                  "--output", "json"], capsys)[1]

    def sig(d: dict) -> list:  # type: ignore[type-arg]
        return [(t["arch"], t["objectives"], t["front"], t["hypervolume"], t["feasible"])
                for t in d["trajectory"]]

    assert sig(json.loads(a)) == sig(json.loads(b))


CONFIG = """\
name: mo-small
strategies: [nsga2, mo_re]
seeds: 4
targets: [nb201/cifar10]
objective: [val_acc, "latency_ms@gold_6226:min"]
budget: {trials: 60}
storage: cmp.db
"""


def test_multi_objective_comparison_report_and_front_analysis(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "c.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(["compare", "c.yaml", "--data-dir", str(data_dir)], capsys)
    assert code == 0, err
    code, out, err = run_main(["report", "mo-small", "--storage", "cmp.db", "--out", "rep"], capsys)
    assert code == 0, err
    html = (tmp_path / "rep" / "index.html").read_text()
    assert "Multi-objective results" in html and "P(beats rs)" in html
    figs = json.loads((tmp_path / "rep" / "report.json").read_text())["figures"]
    assert any(f.startswith("hypervolume_") for f in figs) and any(f.startswith("fronts_") for f in figs)
    rows = json.loads(next((tmp_path / "rep" / "tables").glob("hypervolume_final_*.json")).read_text())
    assert {r["strategy"] for r in rows} == {"rs", "nsga2", "mo_re"}
    assert all(r["runs"] == 4 for r in rows) and all("p_vs_rs" in r for r in rows if r["strategy"] != "rs")

    args = ["analyze", "--objectives", "test_acc:max,latency_ms@gold_6226:min", "--comparison",
            "mo-small", "--storage", "cmp.db", "--data-dir", str(data_dir)]
    code, out, err = run_main([*args, "--output", "json", "--out", "fronts"], capsys)
    assert code == 0, err
    t = json.loads(out)["targets"][0]
    ef = t["exact_front"]
    assert ef["size"] == len(ef["archs"]) == len(ef["indices"]) and ef["n_points"] == 15625
    assert {r["strategy"] for r in t["runs"]} == {"rs", "nsga2", "mo_re"} and len(t["runs"]) == 12
    assert all(0 < r["hv_ratio"] <= 1 and 0 <= r["recall"] <= r["recall_evaluated"] <= 1
               for r in t["runs"])
    assert (tmp_path / "fronts" / "figures" / "front_nb201-cifar10.png").stat().st_size > 10_000
    code, text, err = run_main(args, capsys)
    assert code == 0 and "exact Pareto front on (test_acc:max, latency_ms@gold_6226:min)" in text
    assert "nsga2" in text and "HV ratio" in text
    code, _, err = run_main(["analyze", "--objectives", "test_acc:max,latency_ms@pixel3:min",
                             "--comparison", "mo-small", "--storage", "cmp.db", "--data-dir",
                             str(data_dir)], capsys)
    assert code == 2 and "it searched (val_acc:max, latency_ms@gold_6226:min)" in err
