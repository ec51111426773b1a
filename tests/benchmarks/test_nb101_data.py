"""NB101 data files: readers checked against values read by hand, the meaning of the zc file's
fields checked against NB101 itself (op order, accuracy quantisation, runs per cell), the
sample benchmark, and the predictor harness / proxy evaluation / a search on NB101 end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from naslab.errors import ConfigError, DataError, InvalidArchitectureError
from naslab.spaces.base import Architecture, get_space
from tests.conftest import require_file

SP = get_space("nb101")


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    require_file("nb101/zc_nasbench101.json")
    from naslab.benchmarks import load_benchmark

    return load_benchmark("nb101_sample/cifar10")


def test_zc_file_reader_by_hand(bench) -> None:  # type: ignore[no-untyped-def]
    r = bench.records[0]
    # the file's first key, read by hand: rows 0111101 0000011 0000001 0000110 0000011 0 0,
    # op ids 0 2 2 4 4 4 1
    assert r.key.startswith("(0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1,") and r.key.endswith(
        "0, 2, 2, 4, 4, 4, 1)")
    assert SP.format(r.arch) == ("0111101|0000011|0000001|0000110|0000011|0000000|0000000;input,"
                                 "maxpool3x3,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,"
                                 "conv3x3-bn-relu,output")
    assert (r.val_accuracy, r.params_m, r.flops_m) == (92.578125, 4.095778, 624.55808)
    assert r.scores["synflow"] == 88.08498394991342 and r.scores["jacov"] == -32.1920146137777
    assert len(bench.records) == 500
    # node 5 of that key is dangling (reached, reaches nothing): the record is a raw spec
    assert len(SP.pruned_spec(r.arch)[1]) == 6
    row = bench.index(r.arch)
    assert bench.query(row, "params_m") == 4.095778 and bench.query(row, "zc_synflow") == r.scores["synflow"]


def test_the_op_order_of_the_zc_file_is_checked_by_parameter_counts(bench) -> None:  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    from naslab.benchmarks.nb101 import NASLIB_OPS
    from naslab.nn.nb101 import NB101Network

    def count(arch) -> float:  # type: ignore[no-untyped-def]
        with torch.device("meta"):
            return sum(p.numel() for p in NB101Network(arch).parameters()) / 1e6

    recs = bench.records
    assert all(abs(count(r.arch) - r.params_m) < 5e-7 for r in recs[::12])  # 42 of 500, exact
    # read in NB101's own order (2 conv3x3, 3 conv1x1, 4 maxpool) the counts would disagree
    swap = {"maxpool3x3": "conv3x3-bn-relu", "conv3x3-bn-relu": "maxpool3x3",
            "conv1x1-bn-relu": "conv1x1-bn-relu", "input": "input", "output": "output"}
    assert NASLIB_OPS[2] == "maxpool3x3" and NASLIB_OPS[4] == "conv3x3-bn-relu"
    wrong = 0
    for r in recs[:20]:
        m, ops = SP.spec(r.arch)
        other = SP.from_spec(m, [swap[o] for o in ops])
        wrong += abs(count(other) - r.params_m) >= 5e-7
    assert wrong >= 8


def test_val_accuracy_is_one_nb101_run(bench) -> None:  # type: ignore[no-untyped-def]
    vals = np.array([r.val_accuracy for r in bench.records]) / 100
    # NB101 accuracies are counts over 9,984 images (78 batches of 128): so are these
    assert np.allclose(vals * 9984, np.round(vals * 9984), atol=1e-3)
    from naslab.benchmarks.nb101 import read_records

    recs = read_records(require_file("nb101/nb101_30_records.pkl"))
    real = np.array([run["final_validation_accuracy"] for r in recs.values() for run in r.runs[108]])
    assert np.allclose(real * 9984, np.round(real * 9984), atol=1e-3)
    # the records of one cell show at most 3 values: one of NB101's 3 runs per record
    assert bench.n_archs == 292
    counts = [len(bench.runs(i)) for i in range(bench.n_archs)]
    assert max(counts) == 3 and counts.count(1) == 257
    # the 2-node cell: 55 records, 3 runs
    two = bench.index(SP.parse("01|00;input,output"))
    assert sum(bench.index(r.arch) == two for r in bench.records) == 55
    assert sorted(bench.runs(two)) == [83.16305875778198, 83.46354365348816, 83.58373641967773]


def test_records_reader_by_hand() -> None:
    from naslab.benchmarks.nb101 import read_records

    recs = read_records(require_file("nb101/nb101_30_records.pkl"))
    r = recs["ff92c322c5d9d3d587d9c146a63d0807"]
    assert r.matrix[0] == [0, 1, 0, 1, 0, 0, 0] and r.matrix[1] == [0, 0, 1, 1, 1, 0, 0]
    assert r.ops == ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv1x1-bn-relu",
                     "conv3x3-bn-relu", "conv1x1-bn-relu", "output"]
    assert r.trainable_parameters == 6315018
    run0 = r.runs[108][0]
    assert run0["final_validation_accuracy"] == pytest.approx(0.9255809187889099)
    assert run0["final_test_accuracy"] == pytest.approx(0.9231770634651184)
    assert run0["final_training_time"] == pytest.approx(1396.137939453125)
    assert sum(len(x.ops) == 6 for x in recs.values()) == 4  # four pruned 6-node cells


def test_sample_benchmark_interface(bench) -> None:  # type: ignore[no-untyped-def]
    assert bench.name == "nb101_sample/cifar10" and bench.space is SP
    meta = bench.metadata()
    assert meta["sample"] is True and meta["n_archs"] == 292 and meta["space_size"] == 423_624
    assert not bench.has_test and "no test accuracy" in bench.test_unavailable_reason
    # any spec of a cell finds its row; a cell outside the sample is a clear DataError
    r = bench.records[0]
    m, ops = SP.spec(r.arch)
    assert bench.index(SP.canonical(r.arch)) == bench.index(r.arch) == bench.index(SP.format(r.arch))
    row = bench.arch(bench.index(r.arch))  # the record's own spec, pruned, node order kept
    assert row == SP.pruned_arch(r.arch) and SP.pruned_spec(row) == SP.pruned_spec(r.arch)
    outside = next(a for a in (SP.sample(np.random.default_rng(i)) for i in range(100))
                   if SP.unique_key(a) not in set(bench.keys))
    with pytest.raises(DataError, match="not in nb101_sample/cifar10.*sample of 292"):
        bench.query(outside)
    with pytest.raises(InvalidArchitectureError, match="row must be"):
        bench.query(292)
    # seeded run draws; the column is the mean over recorded runs
    two = bench.index(SP.parse("01|00;input,output"))
    drawn = {bench.query(two, seed=s) for s in range(40)}
    assert drawn == set(bench.runs(two))
    assert bench.column("val_acc")[two] == pytest.approx(np.mean(bench.runs(two)))
    from naslab.benchmarks import load_benchmark

    mean = load_benchmark("nb101_sample/cifar10", val="mean")
    assert mean.query(two, seed=3) == pytest.approx(np.mean(bench.runs(two)))
    assert bench.run_table().shape == (292, 3)
    with pytest.raises(DataError, match="no training time"):
        bench.cost(two)
    with pytest.raises(DataError, match="no test accuracy"):
        bench.query(two, "test_acc")
    with pytest.raises(ConfigError, match="metric must be one of.*did you mean.*zc_synflow"):
        bench.query(two, "zc_synflo")
    with pytest.raises(ConfigError, match="fidelity"):
        bench.query(two, fidelity=12)
    with pytest.raises(ConfigError, match="dataset"):
        load_benchmark("nb101_sample/cifar100")
    json.dumps(bench.describe()) and json.dumps(meta)
    assert bench.describe() == load_benchmark("nb101_sample/cifar10").describe()


def test_predictor_harness_on_nb101_end_to_end(bench) -> None:  # type: ignore[no-untyped-def]
    from naslab.predictors.evaluate import class_ids, evaluate_predictors, make_split

    assert len(set(class_ids(bench).tolist())) == 292  # one row per cell
    nb201 = get_space("nb201")  # on NB201 the classes are still NB201's own
    assert np.array_equal(class_ids(nb201), nb201.class_ids())
    test, order = make_split(bench, 0, 200, 92)
    assert len(set(test.tolist()) | set(order.tolist())) == 292
    with pytest.raises(ConfigError, match="exceeds the 292"):
        make_split(bench, 0, 200, 93)
    ev = evaluate_predictors(bench, ["rf"], train_sizes=[60], seeds=1, test_size=100,
                             params={"rf": {"n_estimators": 30}})
    row = ev.rows[0]
    assert row.kendall > 0.3 and row.kendall_test is None  # real signal; no test labels
    again = evaluate_predictors(bench, ["rf"], train_sizes=[60], seeds=1, test_size=100,
                                params={"rf": {"n_estimators": 30}})
    assert again.rows[0].kendall == row.kendall


def test_proxies_on_nb101_end_to_end(bench) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    from naslab.estimators.proxy_eval import evaluate_proxies

    # our 'params' proxy with NB101's network width equals the recorded params exactly
    ev = evaluate_proxies(["params"], benchmark=bench, metric="val_acc", sample=12, seed=1,
                          params={"C": 128, "N": 3})
    r = ev.rows[0]
    assert r.n == 12 and -1 <= r.spearman <= 1
    from naslab import registry
    from naslab.estimators.zerocost import score_archs

    est = registry.create("proxy", "params", C=128, N=3)
    archs = [bench.arch(int(i)) for i in ev.indices]
    scores, _ = score_archs(est, archs, space=SP)
    assert np.array_equal(np.round(scores, 6), bench.column("params_m")[ev.indices])
    # seeds and cache keys of archs of a space without an index: a stable key of the spec
    a = bench.records[0].arch
    assert SP.arch_key(a) == SP.arch_key(Architecture.from_json(a.to_json())) >= 0
    assert SP.arch_key(a) != SP.arch_key(SP.canonical(a))


def test_search_on_nb101_end_to_end(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    from naslab.cli.main import main

    db = tmp_path / "s.db"
    with pytest.raises(SystemExit) as ok:
        main(["search", "--space", "nb101", "--strategy", "re", "--estimator", "zerocost",
              "-e", "proxy=params", "-e", "C=8", "-e", "N=1", "--objective", "score",
              "--budget", "8", "-p", "population_size=4", "-p", "sample_size=2",
              "--storage", str(db), "--no-progress", "--output", "json"])
    assert ok.value.code == 0
    from naslab.runner import SQLiteStorage

    store = SQLiteStorage(db)
    exp = store.experiments()[0]
    trials = store.trials(exp.id)
    assert len(trials) == 8 and all(SP.is_valid(t.arch) for t in trials)
    store.close()


@pytest.mark.slow
def test_search_on_nb101_with_real_training(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    from naslab.cli.main import main

    db = tmp_path / "t.db"
    with pytest.raises(SystemExit) as ok:
        main(["search", "--space", "nb101", "--strategy", "rs", "--estimator", "train",
              "--dataset", "digits", "-e", "protocol=cpu", "-e", "epochs=1", "--budget", "2",
              "--storage", str(db), "--no-progress", "--output", "json"])
    assert ok.value.code == 0
    from naslab.runner import SQLiteStorage

    store = SQLiteStorage(db)
    trials = store.trials(store.experiments()[0].id)
    assert len(trials) == 2 and all(0 <= t.metrics["val_acc"] <= 100 for t in trials)
    store.close()
