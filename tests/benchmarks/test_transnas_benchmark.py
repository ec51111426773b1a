"""TransNAS-Bench-101 micro benchmark: values read by hand from the zip, the op-order check,
search and analysis end to end."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import require_file
from naslab.benchmarks import load_benchmark
from naslab.benchmarks import transnas as tb
from naslab.errors import ConfigError, DataError

ZIP = "transnas101/tnb101_classification_synflow.zip"


@pytest.fixture(scope="module")
def data() -> Path:
    return require_file(ZIP).parent.parent


# records read by hand from synflow/benchmark--transbench101_micro--<task>--0.json and --4000.json:
# (task, NASLib tuple = official digits, val_accuracy, synflow score)
BY_HAND = [
    ("class_object", "2_32_323", 42.7597541809082, 108.59664777167579),
    ("class_object", "3_11_212", 42.31687927246094, 80.32520248240715),
    ("class_object", "0_20_313", 42.84932327270508, 78.85927509823982),
    ("class_scene", "2_32_323", 53.836585998535156, 108.13534466665664),
    ("class_scene", "3_11_212", 53.015525817871094, 79.87963963345986),
    ("jigsaw", "2_32_323", 91.29180145263672, 109.06085894265931),
    ("jigsaw", "3_11_212", 91.4908447265625, 81.83557360579964),
    ("room_layout", "2_32_323", -0.7173932790756226, 106.18155016092669),
]


@pytest.mark.parametrize("task, cell, val, syn", BY_HAND)
def test_values_read_by_hand(data: Path, task: str, cell: str, val: float, syn: float) -> None:
    b = load_benchmark(f"tnb101/{task}", data_dir=data)
    metric = b.metrics[0]
    assert b.query(cell, metric) == val
    assert b.query(f"64-41414-{cell}", "zc_synflow") == syn
    m, cost = b.evaluate(cell)
    assert m[metric] == val and cost == 0.0
    if task == "room_layout":
        assert metric == "val_neg_loss" and b.query(cell, "val_loss") == -val
        assert b.metric_mode("val_loss") == "min" and b.metric_mode("val_neg_loss") == "max"


def test_op_order_zero_output_cells_share_one_value(data: Path) -> None:
    """Read with TransNAS's codes (0 none, 1 skip, 2 conv1x1, 3 conv3x3), the 169 cells whose
    output is always zero predict a constant: one validation value, synflow 0."""
    b = load_benchmark("tnb101/class_object", data_dir=data)
    zero = np.array([tb.zero_output(a.choices) for a in b.space.enumerate()])
    assert zero.sum() == 169
    v, s = b.column("val_acc"), b.column("zc_synflow")
    assert np.ptp(v[zero]) == 0 and np.all(s[zero] == 0) and np.all(s[~zero] > 0)
    assert v[zero][0] < np.quantile(v[~zero], 0.1)   # a constant prediction: near the bottom
    # NASLib's own op numbering (0 skip, 1 none) would call other cells dead: not constant there
    naslib_zero = np.array([tb.zero_output(tuple({0: 1, 1: 0, 2: 3, 3: 2}[c] for c in a.choices))
                            for a in b.space.enumerate()])
    assert np.ptp(v[naslib_zero]) > 10


def test_isomorphic_cells_were_trained_to_nearly_the_same_value(data: Path) -> None:
    from naslab.analysis.isomorphism import class_stats

    for task in tb.TASKS:
        b = load_benchmark(f"tnb101/{task}", data_dir=data)
        st = class_stats(b.space.class_ids(), b.column(b.metrics[0]))
        assert st.within_class_var_fraction < 0.005, task


def test_reader_refuses_a_file_in_another_op_order(tmp_path: Path, data: Path) -> None:
    src = zipfile.ZipFile(data / ZIP)
    buf = io.BytesIO()
    perm = {0: 1, 1: 0, 2: 3, 3: 2}           # NASLib's numbering of the same ops
    with zipfile.ZipFile(buf, "w") as out:
        for name in src.namelist():
            if "micro--class_object" not in name:
                continue
            recs = json.loads(src.read(name))
            for r in recs:
                d = [int(x) for x in r["arch"].strip("()").split(",")]
                r["arch"] = str(tuple(perm[x] for x in d))
            out.writestr(name, json.dumps(recs))
    (tmp_path / "transnas101").mkdir()
    (tmp_path / "transnas101" / tb.FILE).write_bytes(buf.getvalue())
    with pytest.raises(DataError, match="another op order"):
        tb.load_tables(tmp_path, use_cache=False)


def test_errors_and_interface(data: Path, tmp_path: Path) -> None:
    b = load_benchmark("tnb101/jigsaw", data_dir=data)
    assert not b.has_test and "no test metrics" in b.test_unavailable_reason
    assert b.metadata()["n_archs"] == 4096 and b.optimum("val_acc") == b.column("val_acc").max()
    assert b.optimum("test_acc") is None
    with pytest.raises(ConfigError, match="did you mean 'class_scene'"):
        load_benchmark("tnb101/class_scen", data_dir=data)
    with pytest.raises(ConfigError, match="metric must be one of val_acc, zc_synflow"):
        b.query("2_32_323", "val_accuracy")
    with pytest.raises(DataError, match="no test metrics"):
        b.query("2_32_323", "test_acc")
    with pytest.raises(ConfigError, match="fidelity"):
        b.query("2_32_323", "val_acc", fidelity=200)
    with pytest.raises(DataError, match="transnas101"):
        tb.load_tables(tmp_path)
    import pickle

    b2 = pickle.loads(pickle.dumps(b))
    assert b2.query("2_32_323") == b.query("2_32_323")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "naslab", *args], capture_output=True, text=True)


def test_search_end_to_end_on_the_cli(data: Path, tmp_path: Path) -> None:
    p = _cli("search", "--benchmark", "tnb101/class_object", "--strategy", "re", "--budget", "30",
             "--storage", str(tmp_path / "s.db"), "--data-dir", str(data), "--no-progress",
             "--output", "json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    b = load_benchmark("tnb101/class_object", data_dir=data)
    assert d["trials"] == 30 and d["test_acc"] is None
    assert d["val_acc"] == b.query(d["best_arch"], "val_acc") > np.median(b.column("val_acc"))
    p = _cli("search", "--benchmark", "tnb101/room_layout", "--strategy", "ls", "--budget", "10",
             "--objective", "val_neg_loss", "--storage", str(tmp_path / "s.db"),
             "--data-dir", str(data), "--no-progress")
    assert p.returncode == 0, p.stderr
    p = _cli("search", "--benchmark", "tnb101/room_layout", "--budget", "5",
             "--storage", str(tmp_path / "s.db"), "--data-dir", str(data), "--no-progress")
    assert p.returncode == 2 and "val_acc" in p.stderr and "val_neg_loss" in p.stderr
    assert "Traceback" not in p.stderr


def test_every_black_box_strategy_runs_unchanged(data: Path) -> None:
    from naslab.estimators.tabular import TabularEstimator
    from naslab.runner import Experiment, InMemoryStorage, MaxTrials
    from naslab.spaces.base import get_space

    est = TabularEstimator("tnb101/class_scene", data_dir=str(data))
    for name in ("rs", "re", "ls", "reinforce"):
        from naslab import registry

        exp = Experiment(get_space("tnb101"), registry.create("strategy", name), est,
                         termination=MaxTrials(25), storage=InMemoryStorage(), seed=1)
        r = exp.run()
        assert r.n_trials == 25 and r.best is not None and r.best.objective is not None, name


def test_analysis_end_to_end(data: Path) -> None:
    from naslab.analysis.space import analyze_space

    b = load_benchmark("tnb101/class_object", data_dir=data, val="mean")
    a = analyze_space(b, n_max=50, walks=500)
    j = a.to_json()
    assert j["metric"] == j["reported"] == "val_acc" and j["n_archs"] == 4096
    v = b.column("val_acc")
    assert j["optimum"]["value"] == v.max() and j["isomorphism"]["zero_output_archs"] == 169
    assert abs(sum(j["anova"]["order_fraction"].values()) - 1) < 1e-9
    # one value per arch: random search by validation = the oracle on it
    assert np.allclose(a.best_of_n["rs_val_run"], a.best_of_n["oracle_max_test"])
    assert a.best_of_n["oracle_max_test"][0] == pytest.approx(v.mean())
    p = _cli("analyze", "--benchmark", "tnb101/room_layout", "--budget", "20", "--data-dir", str(data))
    assert p.returncode == 0, p.stderr
    assert "(val_neg_loss, 4,096 archs)" in p.stdout and "no test metrics" in p.stdout
    p = _cli("analyze", "--benchmark", "tnb101/class_object", "--metric", "test_acc",
             "--data-dir", str(data))
    assert p.returncode == 2 and "no test metrics" in p.stderr


def test_predictor_fit_end_to_end(data: Path) -> None:
    from naslab.analysis.rank_correlation import rank_correlation
    from naslab import registry

    b = load_benchmark("tnb101/class_object", data_dir=data)
    rng = np.random.default_rng(0)
    idx = rng.permutation(4096)
    train, test = idx[:100], idx[100:400]
    archs = b.space
    y = b.column("val_acc")
    m = registry.create("predictor", "rf", seed=0, n_estimators=50).fit([archs.from_index(int(i)) for i in train],
                                                     y[train])
    pred = m.predict([archs.from_index(int(i)) for i in test])
    assert rank_correlation(pred, y[test])["kendall"] > 0.4
