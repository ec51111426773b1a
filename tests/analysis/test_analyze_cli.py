"""`naslab analyze` end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import pytest

from naslab.cli.main import main


def _run(args: list[str], capsys) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    try:
        main(args)
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_analyze_json_numbers(data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = _run(["analyze", "--benchmark", "nb201/cifar10", "--budget", "30",
                           "--data-dir", str(data_dir), "--output", "json"], capsys)
    assert code == 0, err
    d = json.loads(out)["targets"][0]
    assert d["target"] == "nb201/cifar10" and d["n_archs"] == 15625
    assert d["optimum"]["value"] == pytest.approx(94.37333, abs=1e-4)
    assert d["optimum"]["n_archs"] == 2
    assert len(d["best_of_n"]["rs_val_run"]) == 30
    assert d["isomorphism"]["n_classes"] == 6466
    assert sum(d["anova"]["order_fraction"].values()) == pytest.approx(1.0)


def test_analyze_report_with_comparison(data_dir, tmp_path, tabular_c10, capsys) -> None:  # type: ignore[no-untyped-def]
    from report_groups import make_group  # tests/report_groups.py

    make_group(tmp_path / "c.db", {"nb201/cifar10": tabular_c10}, seeds=range(3), trials=25,
               strategies=("rs", "re")).close()
    code, out, err = _run(["analyze", "--storage", str(tmp_path / "c.db"), "--comparison", "cmp",
                           "--data-dir", str(data_dir), "--out", str(tmp_path / "an")], capsys)
    assert code == 0, err
    assert "vs exact random search (val=run)" in out
    assert "re " in out and "rs " in out
    m = json.loads((tmp_path / "an" / "report.json").read_text())
    assert m["figures"] == [f"{k}_nb201-cifar10" for k in
                            ("distribution", "best_of_n", "anova", "landscape", "vs_random")]
    rows = json.loads((tmp_path / "an" / "tables" / "vs_random_nb201-cifar10.json").read_text())
    assert {r["strategy"] for r in rows} == {"rs", "re"} and all(r["budget"] == 25 for r in rows)


def test_analyze_errors_exit_2_without_traceback(data_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (["--benchmark", "nb201/cifar11"], "NB201 dataset must be one of"),
        (["--metric", "test"], "metric must be 'test_acc' or 'val_acc'"),
        (["--budget", "0"], "n_max (budget) must be an integer in 1..15625"),
        (["--comparison", "nope", "--storage", str(tmp_path / "missing.db")], "does not exist"),
    ]
    for args, msg in cases:
        p = subprocess.run([sys.executable, "-m", "naslab", "analyze", "--data-dir", str(data_dir), *args],
                           capture_output=True, text=True)
        assert p.returncode == 2, (args, p.stderr)
        assert msg in p.stderr and "Traceback" not in p.stderr, (args, p.stderr)
