"""`naslab proxies`: correlations on the real NB201 table, caching, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from naslab.cli.main import main  # noqa: E402

SMALL = ["-e", "C=4", "-e", "N=1", "--threads", "1"]


def run(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_report_matches_scipy_on_the_sampled_archs(data_dir: Path, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from scipy import stats

    from naslab.benchmarks.nb201 import NB201Benchmark
    from naslab.estimators.zerocost import cache_file, score_archs, ZeroCostEstimator

    code, out, err = run(capsys, "proxies", "--proxy", "synflow", "--proxy", "params",
                         "--sample", "12", "--seed", "5", "--data-dir", str(data_dir),
                         "--cache", str(tmp_path), "--output", "json", *SMALL)
    assert code == 0, err
    rows = json.loads(out)
    assert [r["proxy"] for r in rows] == ["synflow", "params"]
    idx = np.sort(np.random.default_rng(5).choice(15625, 12, replace=False))
    truth = NB201Benchmark("cifar10", data_dir=str(data_dir)).column("test_acc")[idx]
    est = ZeroCostEstimator("synflow", C=4, N=1)
    path = cache_file(tmp_path, est, seed=5)
    assert rows[0]["cache"] == path and len(Path(path).read_text().splitlines()) == 13
    scores, _ = score_archs(est, idx, seed=5)  # recomputed, not read from the cache
    assert rows[0]["spearman"] == pytest.approx(stats.spearmanr(scores, truth).statistic)
    assert rows[0]["kendall"] == pytest.approx(stats.kendalltau(scores, truth).statistic)
    assert rows[0]["n"] == 12 and rows[0]["compute_s"] > 0 and rows[0]["dataset"] is None
    # a second run answers from the cache with the same figures
    code, out2, _ = run(capsys, "proxies", "--proxy", "synflow", "--sample", "12", "--seed", "5",
                        "--data-dir", str(data_dir), "--cache", str(tmp_path), "--output", "json",
                        *SMALL)
    assert code == 0 and json.loads(out2)[0]["spearman"] == rows[0]["spearman"]


def test_text_report_with_a_data_dependent_proxy(data_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "proxies", "--proxy", "nwot", "--dataset", "digits",
                         "--batch-size", "16", "--sample", "6", "--data-dir", str(data_dir), *SMALL)
    assert code == 0, err
    assert "nwot" in out and "digits" in out and "Spearman" in out and "Kendall" in out
    assert "CIFAR" in out  # the note that NB201's ground truth is other data
    assert "6/6" in err  # the progress bar's final state


@pytest.mark.parametrize("args, message", [
    (["--proxy", "synflw"], "unknown proxy 'synflw' (did you mean 'synflow'?)"),
    (["--proxy", "snip"], "needs data"),
    (["--sample", "1"], "--sample must be between 2 and the space size 15625"),
    (["--sample", "lots"], "--sample must be a number of architectures or 'all'"),
    (["--space", "nb2O1"], "unknown space 'nb2O1'"),
    (["--benchmark", "nb999/cifar10"], "unknown benchmark 'nb999'"),
    (["--benchmark", "nb201/cifar1000"], "cifar1000"),
    (["--metric", "test_accuracy"], "test_accuracy"),
    (["--output", "xml"], "--output must be 'text' or 'json'"),
    (["-e", "C=0"], "C must be a positive integer"),
    (["--threads", "-1"], "--threads must be a positive integer"),
])
def test_bad_input_exits_2_with_a_clear_message(data_dir: Path, capsys, args, message) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "proxies", "--data-dir", str(data_dir), "--sample", "3", *args)
    assert code == 2 and message in err and "Traceback" not in err, err
