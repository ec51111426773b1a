"""The NB301 sample (725 DARTS genotypes, surrogate labels): values read by hand, the sample
interface, and the DARTS space end to end (search, predictor fit, zero-cost proxies)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import require_file
from naslab.benchmarks import load_benchmark
from naslab.benchmarks import nb301
from naslab.errors import ConfigError, DataError, InvalidArchitectureError

FIRST = ("[[(0, 0), (1, 5), (1, 1), (0, 1), (1, 3), (0, 3), (1, 3), (3, 2)], "
         "[(1, 0), (0, 2), (1, 3), (0, 3), (3, 0), (0, 1), (2, 0), (3, 6)]]")


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    require_file("nb301/zc_nasbench301.json")
    return load_benchmark("nb301/cifar10")


def test_values_read_by_hand(bench) -> None:  # type: ignore[no-untyped-def]
    # the file's first record ("idx": "534") and the records with idx 0 and 724
    assert bench.index(FIRST) == 534
    assert bench.query(FIRST, "val_acc") == 93.32119084207302
    assert bench.query(FIRST, "params_m") == 0.856298
    assert bench.query(FIRST, "flops_m") == 153.499136
    assert bench.query(FIRST, "zc_synflow") == 52.796010658657906
    assert bench.query(FIRST, "zc_jacov") == -32.22197175315778
    row0 = ("[[(1, 0), (0, 5), (1, 2), (0, 0), (0, 6), (3, 1), (2, 4), (1, 3)], "
            "[(0, 6), (1, 6), (1, 3), (0, 4), (3, 4), (1, 1), (0, 6), (1, 0)]]")
    assert bench.archs()[0] == bench.space.parse(row0)
    assert bench.column("val_acc")[0] == 93.43141389733916
    assert bench.column("params_m")[724] == 0.734634
    assert len(bench) == 725 and len(set(bench.archs())) == 725


def test_labels_are_declared_surrogate_predictions(bench) -> None:  # type: ignore[no-untyped-def]
    assert bench.describe()["labels"] == "nb301-surrogate"
    m = bench.metadata()
    assert "surrogate" in m["labels"] and "not trained" in m["labels"]
    assert m["n_archs"] == 725 and m["covers_space"] is False and m["space_size"] > 1e18
    assert not bench.covers_space and not bench.has_test
    assert "surrogate" in bench.test_unavailable_reason


def test_lookup_of_isomorphs_and_outsiders(bench) -> None:  # type: ignore[no-untyped-def]
    sp = bench.space
    a = bench.archs()[10]
    # the same genotype with other ops on unused candidate edges: the same row
    ch = list(a.choices)
    d = next(i for i, dec in enumerate(sp.decisions) if dec.name == "normal.5<-4")
    n5 = sp.cells(a)[0][3]
    if 4 not in n5[:2]:
        ch[d] = (ch[d] + 1) % 7
        assert bench.index(sp.from_decision_indices(ch)) == 10
    out = next(m for m in sp.neighbors(a) if sp.index(m) not in
               {sp.index(x) for x in bench.archs()})
    with pytest.raises(DataError, match="not among the 725 labelled genotypes"):
        bench.query(out, "val_acc")
    with pytest.raises(InvalidArchitectureError, match="0..724"):
        bench.index(725)
    with pytest.raises(ConfigError, match="one dataset, cifar10"):
        load_benchmark("nb301/cifar100")
    with pytest.raises(DataError, match="nb301"):
        nb301.load_tables("/nonexistent")


def test_predictor_fit_end_to_end_on_the_darts_space(bench) -> None:  # type: ignore[no-untyped-def]
    """Encodings (one-hot, path over the cells' reduced graphs) and a predictor fit on real
    DARTS genotypes: trained on 300, it ranks the other 425 by their surrogate label."""
    from naslab import registry
    from naslab.analysis.rank_correlation import rank_correlation

    archs, y = bench.archs(), bench.column("val_acc")
    perm = np.random.default_rng(0).permutation(725)
    tr, te = perm[:300], perm[300:]
    for enc in ("path", "onehot"):
        m = registry.create("predictor", "rf", seed=0, n_estimators=50, encoding=enc)
        m.fit([archs[i] for i in tr], y[tr])
        tau = rank_correlation(m.predict([archs[i] for i in te]), y[te])["kendall"]
        assert tau > 0.25, (enc, tau)


@pytest.mark.slow
def test_gcn_fits_the_darts_graphs(bench) -> None:  # type: ignore[no-untyped-def]
    from naslab import registry
    from naslab.analysis.rank_correlation import rank_correlation

    archs, y = bench.archs(), bench.column("val_acc")
    perm = np.random.default_rng(1).permutation(725)
    tr, te = perm[:150], perm[150:350]
    m = registry.create("predictor", "gcn", seed=0, epochs=30)
    m.fit([archs[i] for i in tr], y[tr])
    p = m.predict([archs[i] for i in te])
    assert p.shape == (200,) and np.isfinite(p).all()
    assert rank_correlation(p, y[te])["kendall"] > 0.1


def test_query_cli_finds_the_row(bench) -> None:  # type: ignore[no-untyped-def]
    p = _cli("query", FIRST, "--benchmark", "nb301/cifar10", "--output", "json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["row"] == 534 and d["val_acc"] == 93.32119084207302 and d["test_acc"] is None
    assert d["arch"] == str(bench.space.parse(FIRST))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "naslab", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_proxies_on_the_sample(bench, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`naslab proxies` draws from the labelled sample and scores DARTS networks."""
    p = _cli("proxies", "--benchmark", "nb301/cifar10", "--proxy", "params", "--metric",
             "val_acc", "--sample", "6", "-e", "C=8", "-e", "N=1", "--output", "json",
             "--no-progress")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert rows[0]["n"] == 6 and rows[0]["benchmark"] == "nb301/cifar10"
    p = _cli("proxies", "--benchmark", "nb301/cifar10", "--proxy", "params", "--sample", "800")
    assert p.returncode == 2 and "725" in p.stderr


@pytest.mark.slow
def test_search_on_the_darts_space_with_training(tmp_path: Path) -> None:
    """A search on the DARTS space end to end: evolution over DARTS genotypes, each trained
    for one epoch on digits by the training estimator (tiny network: C=4, one cell per stage)."""
    p = _cli("search", "--space", "darts", "--estimator", "train", "--dataset", "digits",
             "--strategy", "re", "--budget", "2", "-e", "epochs=1", "-e", "C=4", "-e", "N=1",
             "-e", "n_train=300", "-e", "n_val=100", "-e", "n_test=100",
             "--storage", str(tmp_path / "d.db"), "--no-progress", "--output", "json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["trials"] == 2 and d["best_arch"].startswith("Genotype(normal=[")
    assert 0 <= d["val_acc"] <= 100
