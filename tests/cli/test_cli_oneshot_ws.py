"""`naslab oneshot` with a weight-sharing method: the run exports its supernet (`--export`,
`naslab oneshot export`), `naslab oneshot fidelity` reads it; bad input exits 2 with a message
that says what to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naslab.cli.main import main
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import get_space

from local_bench_files import N, write_doc

torch = pytest.importorskip("torch")
SPACE = get_space(DEFAULT_SPACE)
SPOS = ["oneshot", "--method", "spos", "--dataset", "digits", "--epochs", "2",
        "-m", "population=3", "-m", "generations=2", "-m", "parents=2", "-m", "mutations=1",
        "-m", "crossovers=1", "-m", "recalibration_batches=1", "-m", "eval_batches=1",
        "--data-param", "n_train=128", "--data-param", "n_val=64", "--no-progress"]


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
    assert "Traceback" not in err and err.startswith("error: ")
    return err


@pytest.mark.slow
def test_spos_run_exports_its_supernet_and_fidelity_reads_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    db, sn = tmp_path / "x.db", tmp_path / "spos.pt"
    torch.set_num_threads(1)
    d = json.loads(run(capsys, *SPOS, "--data-dir", str(data_dir), "--storage", str(db),
                       "--export", str(sn), "--output", "json"))
    assert d["method"] == "spos" and d["epochs_run"] == 2 and SPACE.parse(d["derived_arch"])
    assert d["supernet_checkpoint"] == str(sn) and sn.is_file()
    assert d["ledger"]["supernet_search"]["n"] == 1 and d["test_acc"] is not None
    # the same supernet again, from storage
    again = tmp_path / "again.pt"
    assert "written to" in run(capsys, "oneshot", "export", d["experiment_id"], "--out",
                               str(again), "--storage", str(db))
    a, b = (torch.load(p, weights_only=True) for p in (sn, again))
    assert a["config"] == b["config"] and a["meta"] == b["meta"]
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    assert a["meta"]["data"]["n_train"] == 128 and a["meta"]["epochs_trained"] == 2
    # fidelity against a local reference and the NB201 table, by checkpoint or by run id
    ref = write_doc(tmp_path / "ref.json")
    f = json.loads(run(capsys, "oneshot", "fidelity", "--checkpoint", str(sn),
                       "-r", f"local:{ref}", "-r", "nb201/cifar10", "--data-dir", str(data_dir),
                       "-e", "recalibration_batches=1", "--n-boot", "20", "--output", "json",
                       "--no-progress"))
    assert f["n_archs"] == N and len(f["references"]) == 2
    assert f["estimator"]["estimator"] == "supernet"
    g = json.loads(run(capsys, "oneshot", "fidelity", "--run", d["experiment_id"],
                       "--storage", str(db), "-r", f"local:{ref}",
                       "-e", "recalibration_batches=1", "--n-boot", "20", "--output", "json",
                       "--no-progress"))
    assert g["proxy"] == f["proxy"]  # the same supernet, the same scores
    text = run(capsys, "show", d["experiment_id"], "--storage", str(db))
    assert "search on it" in text and d["derived_arch"] in text


def test_bad_input_exits_2_with_what_to_fix(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from naslab.nn.supernet import write_checkpoint
    from naslab.nn.supernets import build_supernet

    db = str(tmp_path / "x.db")
    assert "did you mean 'spos'" in fails(capsys, "oneshot", "--method", "sposs",
                                          "--storage", db)
    assert "cifar" in fails(capsys, *SPOS, "--dataset", "cifar10", "--dataset-dir",
                            str(tmp_path / "none"), "--storage", db)
    assert "keeps no weight-sharing supernet" in fails(
        capsys, "oneshot", "--method", "random", "--export", str(tmp_path / "r.pt"),
        "--storage", db)
    assert "sampling must be" in fails(capsys, *SPOS, "-m", "sampling=greedy", "--storage", db)
    ref = write_doc(tmp_path / "ref.json")
    assert "--checkpoint PATH or as --run" in fails(capsys, "oneshot", "fidelity", "-r",
                                                    f"local:{ref}")
    assert "does not exist" in fails(capsys, "oneshot", "fidelity", "--checkpoint",
                                     str(tmp_path / "none.pt"), "-r", f"local:{ref}")
    assert "does not exist" in fails(capsys, "oneshot", "export", "some-run", "--out",
                                     str(tmp_path / "o.pt"), "--storage",
                                     str(tmp_path / "none.db"))
    # a checkpoint of another shape (RGB input for grey digits) and of another space
    net = build_supernet(SPACE, C=4, N=1, in_channels=3, generator=torch.Generator().manual_seed(0))
    rgb = net.save(tmp_path / "rgb.pt", meta={"data": {"dataset": "digits"}})
    assert "3-channel images" in fails(capsys, "oneshot", "fidelity", "--checkpoint", str(rgb),
                                       "-r", f"local:{ref}", "--no-progress")
    other = write_checkpoint(tmp_path / "other.pt", {**net.config(), "space": "darts"},
                             net.state_dict(), meta={"data": {"dataset": "digits"}})
    err = fails(capsys, "oneshot", "fidelity", "--checkpoint", str(other), "-r", f"local:{ref}",
                "--no-progress")
    assert "supernet of space 'darts'" in err and f"{SPACE.name!r}" in err
