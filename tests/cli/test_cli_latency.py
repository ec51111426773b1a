"""`naslab latency measure | build-lut | validate | predict` and a search with LUT latency:
JSON outputs, versioning refusal and --force, bad input -> exit 2 naming the bad part."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from naslab.cli.main import main  # noqa: E402

TINY = ["--C", "4", "--N", "1", "--image-size", "8"]


def run(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def lut_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-lut") / "lut.json"
    try:
        main(["latency", "build-lut", "--out", str(path), "--rounds", "2", "--samples", "1",
              "--calibration-archs", "3", "--output", "json", *TINY])
    except SystemExit as exc:
        assert not exc.code
    return path


def test_measure_json(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "latency", "measure", "--arch", "6111", "--batch", "2",
                         "--threads", "1", "--repeats", "10", "--max-time-s", "0",
                         "--warmup-s", "0", "--output", "json", *TINY)
    assert code == 0, err
    d = json.loads(out)
    assert d["median_ms"] > 0 and d["ci_ms"][0] <= d["median_ms"] <= d["ci_ms"][1]
    assert d["batch"] == 2 and d["threads"] == 1 and d["n"] >= 10
    assert d["protocol"]["C"] == 4 and d["fingerprint"]["cpu_count"] >= 1
    assert d["arch"].startswith("|")
    code, out, _ = run(capsys, "latency", "measure", "--arch", "6111", "--repeats", "5",
                       "--max-time-s", "0", "--warmup-s", "0", *TINY)
    assert code == 0 and "ms median" in out and "IQR/median" in out and "device" in out


def test_build_lut_validate_predict(lut_file: Path, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = json.loads(lut_file.read_text())
    assert d["format"] == "naslab-latency-lut" and d["protocol"]["C"] == 4
    code, out, err = run(capsys, "latency", "validate", "--lut", str(lut_file), "--archs", "4",
                         "--rounds", "2", "--samples", "1", "--plot", str(tmp_path / "f.png"),
                         "--output", "json")
    assert code == 0, err
    v = json.loads(out)
    assert {"mape", "spearman", "max_ape"} <= set(v["lut"]) and "mape" in v["repeatability"]
    assert (tmp_path / "f.png").stat().st_size > 1000
    code, out, err = run(capsys, "latency", "predict", "--lut", str(lut_file), "--arch", "77",
                         "--output", "json")
    assert code == 0, err
    p = json.loads(out)
    assert p["latency_ms"] == pytest.approx(sum(p["breakdown_ms"].values()))


def test_versioning_refusal_and_force(lut_file: Path, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = json.loads(lut_file.read_text())
    d["fingerprint"]["cpu_model"] = "Elsewhere CPU"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(d))
    code, out, err = run(capsys, "latency", "predict", "--lut", str(other), "--arch", "5")
    assert code == 2 and "cpu_model: 'Elsewhere CPU'" in err and "--force" in err
    assert "Traceback" not in err
    code, out, err = run(capsys, "latency", "predict", "--lut", str(other), "--arch", "5",
                         "--force", "--output", "json")
    assert code == 0, err
    assert json.loads(out)["forced"]


@pytest.mark.parametrize("args, needle", [
    (["latency", "measure", "--arch", "99999"], "--arch 99999"),
    (["latency", "measure", "--arch", "|nor_conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|"],
     "nor_conv_9x9"),
    (["latency", "measure", "--arch", "5", "--set", "width=3"], "width"),
    (["latency", "measure", "--arch", "5", "--backend", "tensorrt"], "tensorrt"),
    (["latency", "measure", "--arch", "5", "--threads", "0"], "threads must be"),
    (["latency", "measure", "--arch", "5", "--space", "nb2O1"], "nb2O1"),
    (["latency", "measure", "--arch", "5", "--output", "xml"], "--output"),
    (["latency", "build-lut", "--out", "/tmp/x.json", "--image-size", "10"], "divisible by 4"),
    (["latency", "build-lut", "--out", "/tmp/x.json", "--statistic", "mode"], "statistic"),
    (["latency", "validate", "--lut", "/nonexistent/lut.json"], "does not exist"),
])
def test_bad_input_exits_2_naming_it(capsys, args: list[str], needle: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, *args)
    assert code == 2 and needle in err and "Traceback" not in err


def test_search_with_lut_latency_through_the_composite(lut_file: Path, capsys, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                        data_dir: Path) -> None:
    from naslab.nn.lut import LatencyLUT
    from naslab.runner import SQLiteStorage

    part = f"parts=[{{estimator: hardware, params: {{lut: '{lut_file}'}}, metrics: [latency_ms]}}]"
    db = tmp_path / "s.db"
    code, out, err = run(capsys, "search", "--estimator", "composite", "-e", "primary=tabular",
                         "-e", part, "--strategy", "rs", "--budget", "5", "--storage", str(db),
                         "--output", "json", "--no-progress")
    assert code == 0, err
    exp = json.loads(out)["experiment_id"]
    lut = LatencyLUT.load(lut_file)
    trials = SQLiteStorage(db).trials(exp)
    assert len(trials) == 5
    for t in trials:
        assert t.metrics["latency_ms"] == pytest.approx(lut.predict(t.arch))
        assert "val_acc" in t.metrics


def test_search_latency_flags(lut_file: Path, capsys, tmp_path: Path,  # type: ignore[no-untyped-def]
                              data_dir: Path) -> None:
    """--latency-lut / --latency-device compose the hardware estimator with the estimator: the
    trials' latency_ms is the LUT's prediction / the device column, not the tabular default."""
    from naslab.benchmarks import DEFAULT_BENCHMARK, load_benchmark
    from naslab.nn.lut import LatencyLUT
    from naslab.runner import SQLiteStorage

    db = tmp_path / "f.db"
    code, out, err = run(capsys, "search", "--latency-lut", str(lut_file), "--strategy", "rs",
                         "--budget", "4", "--storage", str(db), "--output", "json",
                         "--no-progress")
    assert code == 0, err
    lut = LatencyLUT.load(lut_file)
    trials = SQLiteStorage(db).trials(json.loads(out)["experiment_id"])
    assert len(trials) == 4
    assert all(t.metrics["latency_ms"] == pytest.approx(lut.predict(t.arch)) for t in trials)
    bench = load_benchmark(DEFAULT_BENCHMARK)
    devices = list(bench.devices)
    default_dev, other = devices[0], devices[-1]
    code, out, err = run(capsys, "search", "--latency-device", other, "--strategy", "rs",
                         "--budget", "4", "--storage", str(db), "--output", "json",
                         "--no-progress")
    assert code == 0, err
    trials = SQLiteStorage(db).trials(json.loads(out)["experiment_id"])
    got = [t.metrics["latency_ms"] for t in trials]
    assert got == [bench.query(t.arch, "latency_ms", device=other) for t in trials]
    assert got != [bench.query(t.arch, "latency_ms", device=default_dev) for t in trials]


@pytest.mark.parametrize("args, needle", [
    (["--latency-device", "pixel9"], "pixel9"),
    (["--latency-device", "pixel3", "--latency-measure"], "--latency-device and --latency-measure"),
    (["--latency-param", "threads=1"], "needs a latency source"),
    (["--latency-measure", "--latency-param", "clock=sundial"], "sundial"),
])
def test_search_latency_flags_bad_input(capsys, args: list[str], needle: str,  # type: ignore[no-untyped-def]
                                        tmp_path: Path, data_dir: Path) -> None:
    code, out, err = run(capsys, "search", "--budget", "2", "--no-progress",
                         "--storage", str(tmp_path / "b.db"), *args)
    assert code == 2 and needle in err and "Traceback" not in err
