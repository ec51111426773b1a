"""`naslab bench build / info / fidelity` end to end, and bad input -> exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naslab.benchmarks import DEFAULT_BENCHMARK
from naslab.cli.main import main
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import get_space

from local_bench_files import N, write_doc

SPACE = get_space(DEFAULT_SPACE)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    assert exc.value.code in (0, None), capsys.readouterr().err
    return capsys.readouterr().out


def fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    from naslab.nn.supernets import build_supernet

    net = build_supernet(SPACE, C=4, N=1, num_classes=10, in_channels=1,
                         generator=torch.Generator().manual_seed(0))
    return net.save(tmp_path_factory.mktemp("ck") / "sn.pt",
                    meta={"data": {"dataset": "digits", "split_seed": 0}})


@pytest.mark.slow
def test_bench_build_then_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "b.json"
    args = ["bench", "build", "--out", str(out), "--dataset", "digits", "--archs", "3",
            "--seeds", "2", "--epochs", "1", "-s", "C=4", "--no-progress"]
    d = json.loads(run(capsys, *args, "--output", "json"))
    assert d["complete"] and d["recorded"] == 6 and d["trained"] == 6
    assert d["noise_ceiling"]["test_acc"]["kendall"] is not None
    text = run(capsys, *args)  # the same command again: nothing to train
    assert "6 of 6 recorded" in text and "0 trained now" in text and "noise ceiling" in text
    info = json.loads(run(capsys, "bench", "info", str(out), "--output", "json"))
    assert info["runs"] == 6 and info["n_archs"] == 3 and info["complete"]
    assert "noise ceiling" in run(capsys, "bench", "info", str(out))
    # the benchmark answers searches and queries
    s = json.loads(run(capsys, "search", "--benchmark", f"local:{out}", "--strategy", "rs",
                       "--budget", "3", "--storage", str(tmp_path / "s.db"), "--output", "json",
                       "--no-progress"))
    assert s["trials"] == 3 and s["test_acc"] is not None
    q = json.loads(run(capsys, "query", "0", "--benchmark", f"local:{out}", "--output", "json"))
    assert len(q["val_acc_runs"]) == 2 and "latency_ms" not in q  # it records no latency


def test_bench_fidelity_against_a_local_and_a_tabular_reference(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], checkpoint: Path,
        data_dir: Path) -> None:
    ref = write_doc(tmp_path / "ref.json")
    figs = tmp_path / "figs"
    d = json.loads(run(capsys, "bench", "fidelity", "--checkpoint", str(checkpoint),
                       "-r", f"local:{ref}", "-r", DEFAULT_BENCHMARK, "--data-dir", str(data_dir),
                       "-e", "recalibration_batches=2", "--n-boot", "50",
                       "--figure-dir", str(figs), "--out", str(tmp_path / "f.json"),
                       "--output", "json", "--no-progress"))
    assert d["n_archs"] == N and len(d["proxy"]) == N
    local, nb = d["references"]
    assert local["metric"] == "test_acc" and local["ceiling_metric"] == "test_acc"
    assert nb["ceiling_metric"] == "val_acc"  # NB201's test accuracy is one mean per arch
    for r in (local, nb):
        st = r["stats"]
        assert -1 <= st["kendall"]["value"] <= 1 and st["kendall"]["lo"] <= st["kendall"]["hi"]
        assert st["k"] == 1 and st["ceiling"]["kendall"] is not None
        assert Path(r["figure"]).is_file()
    # the local reference's numbers are the file's means over seeds
    assert local["values"] == pytest.approx([40.0 + 2 * i + 1 for i in range(N)])
    assert local["stats"]["ceiling"]["kendall"]["value"] == pytest.approx(1.0)
    assert json.loads((tmp_path / "f.json").read_text())["n_archs"] == N
    text = run(capsys, "bench", "fidelity", "--checkpoint", str(checkpoint),
               "-r", f"local:{ref}", "-e", "recalibration_batches=1", "--n-boot", "20",
               "--no-progress")
    for word in ("Kendall tau", "Spearman rho", "P@top10%", "ceiling"):
        assert word in text


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           checkpoint: Path) -> None:
    ref = write_doc(tmp_path / "ref.json")
    assert "unknown dataset" in fails(capsys, "bench", "build", "--out", str(tmp_path / "x.json"),
                                      "--dataset", "no-such-data", "--archs", "2")
    assert "directory" in fails(capsys, "bench", "build", "--out", str(tmp_path),
                                "--dataset", "digits", "--archs", "2")
    assert "--output" in fails(capsys, "bench", "build", "--out", str(tmp_path / "x.json"),
                               "--output", "xml")
    assert "at least one --reference" in fails(capsys, "bench", "fidelity", "--checkpoint",
                                               str(checkpoint), "--no-progress")
    assert "does not exist" in fails(capsys, "bench", "fidelity", "--checkpoint",
                                     str(tmp_path / "none.pt"), "-r", f"local:{ref}")
    assert "not a naslab local benchmark" in fails(capsys, "bench", "info", str(checkpoint))
    assert "does not exist" in fails(capsys, "bench", "fidelity", "--checkpoint",
                                     str(checkpoint), "-r", f"local:{tmp_path / 'none.json'}")
    wrong = tmp_path / "rgb.pt"
    import torch

    from naslab.nn.supernets import build_supernet

    build_supernet(SPACE, C=4, N=1, in_channels=3,
                   generator=torch.Generator().manual_seed(0)).save(wrong)
    assert "3-channel images" in fails(capsys, "bench", "fidelity", "--checkpoint", str(wrong),
                                       "--dataset", "digits", "-r", f"local:{ref}",
                                       "--no-progress")
