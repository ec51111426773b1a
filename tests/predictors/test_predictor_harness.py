"""The predictor evaluation harness on a tiny configuration of real NB201 data, and its CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from naslab.errors import ConfigError
from naslab.predictors.evaluate import evaluate_predictors, make_split
from naslab.spaces.base import get_space

SP = get_space("nb201")


def test_split_protocol() -> None:
    cid = SP.class_ids()
    test, order = make_split(SP, seed=0, max_train=300, test_size=200, sampling="unique")
    assert len(test) == 200 and len(order) == 300
    both = np.concatenate([test, order])
    assert len(set(cid[both].tolist())) == 500, "two archs of one isomorphism class were drawn"
    # same seed -> same split; other seed -> other split
    t2, o2 = make_split(SP, seed=0, max_train=300, test_size=200, sampling="unique")
    assert (t2 == test).all() and (o2 == order).all()
    t3, _ = make_split(SP, seed=1, max_train=300, test_size=200, sampling="unique")
    assert not set(t3.tolist()) == set(test.tolist())
    # the test set does not depend on the largest training size
    t4, o4 = make_split(SP, seed=0, max_train=50, test_size=200, sampling="unique")
    assert (t4 == test).all() and (o4 == order[:50]).all()
    tu, ou = make_split(SP, seed=0, max_train=100, test_size=200, sampling="uniform")
    assert len(set(np.concatenate([tu, ou]).tolist())) == 300
    with pytest.raises(ConfigError, match="exceeds"):
        make_split(SP, seed=0, max_train=6400, test_size=200, sampling="unique")
    with pytest.raises(ConfigError, match="sampling"):
        make_split(SP, seed=0, max_train=10, test_size=20, sampling="iso")


def test_harness_tiny(nb201_c10, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import math
    import time

    from scipy.stats import kendalltau, spearmanr

    from naslab import registry
    from naslab.predictors.evaluate import _TEST_RUN
    from naslab.seeding import derive_seed

    seen: list[tuple[str, list, np.ndarray]] = []  # every prediction the harness asks for

    class RF(registry.get("predictor", "rf")):  # type: ignore[misc]
        def predict(self, archs):  # type: ignore[no-untyped-def]
            p = super().predict(archs)
            seen.append(("rf", list(archs), p))
            return p

    class LGB(registry.get("predictor", "lgb")):  # type: ignore[misc]
        def predict(self, archs):  # type: ignore[no-untyped-def]
            p = super().predict(archs)
            seen.append(("lgb", list(archs), p))
            return p

    kw = dict(train_sizes=[30, 10], seeds=2, test_size=60)
    t0 = time.perf_counter()
    ev = evaluate_predictors(nb201_c10, {"rf": RF(n_estimators=20), "lgb": LGB()}, **kw)
    wall = time.perf_counter() - t0
    assert len(ev.rows) == 2 * 2 * 2
    assert [(r.seed, r.n_train, r.predictor) for r in ev.rows[:4]] == [
        (0, 10, "rf"), (0, 10, "lgb"), (0, 30, "rf"), (0, 30, "lgb")]
    # every figure of a row, recomputed here with scipy from the predictions it was made of
    calls = [c for c in seen if len(c[1]) == 60]  # the untimed warm-up predicts 2 archs
    assert [c[0] for c in calls] == [r.predictor for r in ev.rows]
    val, test = nb201_c10.column("val_acc"), nb201_c10.column("test_acc")
    for r, (_, archs, p) in zip(ev.rows, calls):
        idx = [SP.index(a) for a in archs]
        run = [nb201_c10.query(i, "val_acc", seed=derive_seed(r.seed, _TEST_RUN)) for i in idx]
        assert r.kendall == pytest.approx(kendalltau(p, val[idx]).statistic, abs=1e-12)
        assert r.spearman == pytest.approx(spearmanr(p, val[idx]).statistic, abs=1e-12)
        assert r.kendall_test == pytest.approx(kendalltau(p, test[idx]).statistic, abs=1e-12)
        assert r.kendall_run == pytest.approx(kendalltau(p, run).statistic, abs=1e-12)
        k = math.ceil(0.1 * 60)
        top = set(np.argsort(-val[idx], kind="stable")[:k]) & set(np.argsort(-p, kind="stable")[:k])
        assert r.precision == len(top) / k
    # timings are of the fits and queries inside this call
    assert 0 < sum(r.fit_s + r.query_s for r in ev.rows) < wall
    summ = {(d["predictor"], d["n_train"]): d for d in ev.summary()}
    assert summ[("rf", 30)]["kendall"] == pytest.approx(
        np.mean([r.kendall for r in ev.rows if (r.predictor, r.n_train) == ("rf", 30)]))
    # real signal: rf on path encodings ranks clearly better than chance with 30 archs
    assert summ[("rf", 30)]["kendall"] > 0.3
    # deterministic apart from timings
    ev2 = evaluate_predictors(nb201_c10, ["rf", "lgb"], params={"rf": {"n_estimators": 20}}, **kw)
    assert [(r.kendall, r.precision, r.kendall_test) for r in ev.rows] == \
        [(r.kendall, r.precision, r.kendall_test) for r in ev2.rows]
    md = ev.markdown()
    assert "| rf | 30 |" in md and "Kendall τ (val)" in md
    out = tmp_path / "plot.png"
    ev.plot(str(out))
    assert out.stat().st_size > 1000
    json.dumps(ev.to_json())


def test_harness_labels_differ(nb201_c10) -> None:  # type: ignore[no-untyped-def]
    kw = dict(train_sizes=[20], seeds=1, test_size=40, params={"rf": {"n_estimators": 10}})
    run = evaluate_predictors(nb201_c10, ["rf"], train_label="run", **kw).rows[0]
    mean = evaluate_predictors(nb201_c10, ["rf"], train_label="mean", **kw).rows[0]
    assert run.kendall != mean.kendall  # the labels really are different numbers
    with pytest.raises(ConfigError, match="train_label"):
        evaluate_predictors(nb201_c10, ["rf"], train_label="avg", **kw)
    with pytest.raises(ConfigError, match="not evaluated"):
        evaluate_predictors(nb201_c10, ["lgb"], **kw)


def test_cli(data_dir, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from naslab.cli.main import main

    js = tmp_path / "rows.json"
    with pytest.raises(SystemExit) as ok:
        main(["predictors", "evaluate", "--predictors", "rf", "--train-sizes", "10", "--seeds",
              "1", "--test-size", "30", "-p", "rf.n_estimators=5", "--json", str(js), "--output",
              "markdown", "--no-progress", "--data-dir", str(data_dir)])
    assert ok.value.code == 0
    out = capsys.readouterr().out
    assert "| rf | 10 |" in out
    assert json.loads(js.read_text())["config"]["predictors"]["rf"]["params"]["n_estimators"] == 5
    with pytest.raises(SystemExit) as exc:
        main(["predictors", "evaluate", "--predictors", "rf", "-p", "gcn.epochs=3",
              "--no-progress"])
    assert exc.value.code == 2
    assert "not among --predictors" in capsys.readouterr().err
