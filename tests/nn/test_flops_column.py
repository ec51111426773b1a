"""The FLOPs column of every NB201 architecture (what `naslab analyze --objectives ... flops_m`
uses; the data has no FLOPs column): equal to counting each network directly and to the
official records."""

from __future__ import annotations

import bz2
import pickle
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from conftest import require_file  # noqa: E402
from naslab.benchmarks import load_benchmark  # noqa: E402
from naslab.nn.counting import count_flops, flops_column  # noqa: E402
from naslab.nn.networks import build_network  # noqa: E402


@pytest.mark.slow
def test_flops_column_equals_direct_counts_and_official_records(data_dir: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NASLAB_CACHE", str(tmp_path))
    b = load_benchmark("nb201/cifar10", data_dir=str(data_dir))
    col, info = flops_column(b.space, verify=4, **b.network_options())
    assert info["method"] == "additive" and info["max_rel_error"] < 1e-9 and col.shape == (15625,)
    for i in np.random.default_rng(3).choice(15625, 3, replace=False).tolist():
        net = build_network(b.space.from_index(i), num_classes=10)
        assert col[i] == pytest.approx(count_flops(net, (3, 32, 32)), rel=1e-12)
    fx = require_file("nb201/nats-fixtures/NATS-tss-v1_0-3ffb9-simple/000000.pickle.pbz2").parent
    for idx in (0, 11, 284):
        rec = pickle.loads(bz2.BZ2File(fx / f"{idx:06d}.pickle.pbz2").read())
        official = float(rec["200"]["all_results"][("cifar10-valid", 777)]["flop"])
        assert abs(col[idx] - official) / official < 1e-4
    again, info2 = flops_column(b.space, verify=4, **b.network_options())  # from the cache file
    assert np.array_equal(again, col) and info2 == info and list(tmp_path.glob("flops-nb201-*.npz"))
