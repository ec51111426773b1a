"""The zero-cost proxy evaluation harness behind `naslab proxies` (library entry point)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from naslab.analysis.rank_correlation import rank_correlation  # noqa: E402
from naslab.errors import ConfigError  # noqa: E402
from naslab.estimators.proxy_eval import (  # noqa: E402
    ProxyEvaluation,
    evaluate_proxies,
    sample_indices,
)
from naslab.estimators.zerocost import ZeroCostEstimator, score_archs  # noqa: E402

SMALL = {"C": 4, "N": 1, "num_threads": 1}


def test_rows_are_the_rank_correlations_of_the_scores(data_dir: Path, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    ev = evaluate_proxies(["synflow", "params"], benchmark="nb201/cifar10", sample=8, seed=4,
                          params=SMALL, cache_dir=tmp_path, data_dir=str(data_dir),
                          on_score=lambda p, k, n: seen.append((p, k, n)))
    assert isinstance(ev, ProxyEvaluation) and ev.space == "nb201" and ev.seed == 4
    idx = np.sort(np.random.default_rng(4).choice(15625, 8, replace=False))
    assert list(ev.indices) == list(idx) == list(sample_indices(15625, 8, 4))
    from naslab.benchmarks import load_benchmark

    truth = load_benchmark("nb201/cifar10", data_dir=str(data_dir)).column("test_acc")[idx]
    scores, _ = score_archs(ZeroCostEstimator("synflow", **SMALL), idx, seed=4)
    c = rank_correlation(scores, truth)
    row = ev.rows[0]
    assert (row.proxy, row.spearman, row.kendall, row.n) == ("synflow", c["spearman"],
                                                             c["kendall"], 8)
    assert row.cache is not None and Path(row.cache).parent == tmp_path
    assert list(ev.to_json()[0]) == ["proxy", "benchmark", "metric", "dataset", "n", "spearman",
                                     "kendall", "n_neg_inf", "compute_s", "per_arch_ms",
                                     "wall_s", "seed", "cache"]
    assert seen[-1] == ("params", 8, 8) and len(seen) == 16
    assert ev.notes() == [] and "nb201/cifar10 test_acc (seed 4)" in ev.title


def test_notes_and_errors(data_dir: Path) -> None:
    ev = evaluate_proxies(["nwot"], sample=4, seed=0, data_dir=str(data_dir),
                          params={**SMALL, "dataset": "digits", "batch_size": 8})
    assert ev.benchmark == "nb201/cifar10" and ev.rows[0].dataset == "digits"
    assert any("CIFAR10 training" in line for line in ev.notes())
    with pytest.raises(ConfigError, match="sample must be between 2 and the space size 15625"):
        evaluate_proxies(["synflow"], sample=20000, data_dir=str(data_dir))
    with pytest.raises(ConfigError, match="at least one"):
        evaluate_proxies([], data_dir=str(data_dir))
    with pytest.raises(ConfigError, match="seed must be >= 0"):
        evaluate_proxies(["synflow"], seed=-1, data_dir=str(data_dir))
