"""naslab report: the page, figures and tables, checked against storage."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from report_groups import comparison_db, make_group  # noqa: F401 - fixture
from scipy import stats

from naslab.errors import ConfigError, StorageError
from naslab.reports import build_report
from naslab.runner import SQLiteStorage


@pytest.fixture(scope="module")
def report(comparison_db: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("rep") / "out"
    st = SQLiteStorage(comparison_db, readonly=True)
    res = build_report(st, "cmp", out)
    yield res, out, st
    st.close()


def _finals(st: SQLiteStorage, strategy: str) -> np.ndarray:
    _, members = st.group("cmp")
    return np.array([st.trials(e)[-1].incumbent_test for e, lab in members
                     if lab["strategy"] == strategy])


def test_report_files_and_figures(report) -> None:  # type: ignore[no-untyped-def]
    res, out, _ = report
    manifest = json.loads((out / "report.json").read_text())
    assert manifest["figures"] == res.figures == ["anytime_nb201-cifar10", "final_nb201-cifar10"]
    html = (out / "index.html").read_text()
    for name in res.figures:
        png = (out / "figures" / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
        # the page embeds exactly the PNG written next to it
        import base64

        assert base64.b64encode(png).decode() in html
        assert f'data-figure="{name}"' in html
    # self-contained: no scripts, no external resources
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for t in ("final_nb201-cifar10", "cost_ledger", "final", "curves_nb201-cifar10"):
        assert (out / "tables" / f"{t}.json").is_file()


def test_final_table_matches_storage(report) -> None:  # type: ignore[no-untyped-def]
    _, out, st = report
    rows = json.loads((out / "tables" / "final_nb201-cifar10.json").read_text())
    by = {r["strategy"]: r for r in rows}
    assert set(by) == {"rs", "re", "ls"}
    rs = _finals(st, "rs")
    for name in ("rs", "re", "ls"):
        f = _finals(st, name)
        assert by[name]["runs"] == 6
        assert by[name]["test_mean"] == pytest.approx(f.mean(), abs=1e-9)
        assert by[name]["test_std"] == pytest.approx(f.std(ddof=1), abs=1e-9)
        if name != "rs":
            mw = stats.mannwhitneyu(f, rs, alternative="two-sided")
            assert by[name]["vs_rs_p"] == pytest.approx(mw.pvalue)
            assert by[name]["vs_rs_cles"] == pytest.approx(mw.statistic / 36)
        else:
            assert by[name]["vs_rs_p"] is None
    # ranks follow the means (1 = best)
    order = sorted(by, key=lambda n: -by[n]["test_mean"])
    assert [by[n]["rank"] for n in order] == [1.0, 2.0, 3.0]
    # the CSV holds the same numbers
    with open(out / "tables" / "final_nb201-cifar10.csv") as f:
        csv_rows = {r["strategy"]: r for r in csv.DictReader(f)}
    assert float(csv_rows["re"]["test_mean"]) == pytest.approx(by["re"]["test_mean"])


def test_curves_are_means_with_t_intervals(report) -> None:  # type: ignore[no-untyped-def]
    _, out, st = report
    cur = json.loads((out / "tables" / "curves_nb201-cifar10.json").read_text())["strategies"]["re"]
    _, members = st.group("cmp")
    mat = np.array([[t.incumbent_test for t in st.trials(e)] for e, lab in members
                    if lab["strategy"] == "re"])
    k = 24  # after 25 trials
    m, sd = mat[:, k].mean(), mat[:, k].std(ddof=1)
    assert cur["test_mean"][k] == pytest.approx(m)
    assert cur["test_ci"][k] == pytest.approx(stats.t.ppf(0.975, 5) * sd / np.sqrt(6))


def test_cost_ledger_adds_final_training(report, tabular_c10) -> None:  # type: ignore[no-untyped-def]
    _, out, st = report
    ledger = json.loads((out / "tables" / "cost_ledger.json").read_text())
    assert len(ledger) == 18
    for row in ledger:
        trials = st.trials(row["experiment"])
        rec = st.records(row["experiment"], "final_training")[0]
        assert row["search_sim_h"] == pytest.approx(trials[-1].cum_simulated_s / 3600)
        assert row["final_sim_h"] == pytest.approx(rec["cost"]["simulated_s"] / 3600)
        # tabular final training = the recorded training time of the incumbent arch
        inc = trials[trials[-1].incumbent_number].arch
        assert rec["cost"]["simulated_s"] == tabular_c10.bench.query(inc, "train_time_s")
        assert row["total_sim_h"] == pytest.approx(row["search_sim_h"] + row["final_sim_h"])
        assert row["retrained_test"] == pytest.approx(rec["metrics"]["test_acc"])


def test_run_card_records_hashes_and_seeds(report, tabular_c10) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = report
    card = json.loads((out / "tables" / "run_card.json").read_text())
    want = tabular_c10.describe()["sources"]
    assert card["data_file_hashes"] == {k: [v] for k, v in sorted(want.items())}
    assert card["seeds"] == "0-5"
    assert card["naslab_recorded_by_runs"] == ["0.1.0"]
    assert card["report_environment"]["numpy"] == np.__version__
    assert card["comparison"]["budget"] == {"max_trials": 40}


def test_budget_of_the_comparison_cuts_longer_runs(tmp_path, tabular_c10) -> None:  # type: ignore[no-untyped-def]
    st = make_group(tmp_path / "b.db", {"nb201/cifar10": tabular_c10}, seeds=range(2), trials=30,
                    budget=12, strategies=("rs",))
    build_report(st, "cmp", tmp_path / "out")
    ledger = json.loads((tmp_path / "out" / "tables" / "cost_ledger.json").read_text())
    _, members = st.group("cmp")
    for row in ledger:
        assert row["trials"] == 12
        assert row["final_test"] == st.trials(row["experiment"])[11].incumbent_test


def test_cost_budget_cuts_where_the_runner_would(tmp_path, tabular_c10) -> None:  # type: ignore[no-untyped-def]
    from naslab.runner import Experiment, MaxSimulatedSeconds
    from naslab.spaces.base import get_space
    from naslab.strategies.random_search import RandomSearch

    st = make_group(tmp_path / "c.db", {"nb201/cifar10": tabular_c10}, seeds=range(3), trials=30,
                    strategies=("rs",))
    limit = 6 * 3600.0  # reached after about 12 of the 30 recorded trials
    cfg, members = st.group("cmp")
    cfg["budget"] = {"max_simulated_s": limit}
    st.open_group("cmp-cost", cfg)
    for e, lab in members:
        st.add_to_group("cmp-cost", e, lab)
    build_report(st, "cmp-cost", tmp_path / "out")
    ledger = {r["experiment"]: r for r in
              json.loads((tmp_path / "out" / "tables" / "cost_ledger.json").read_text())}
    for e, lab in members:
        # the runner replaying the recorded run under the smaller budget keeps the same prefix
        res = Experiment(get_space("nb201"), RandomSearch(), tabular_c10,
                         termination=MaxSimulatedSeconds(limit), storage=st, seed=lab["seed"]).run()
        assert res.experiment_id == e
        assert ledger[e]["trials"] == res.n_trials < 30


def test_several_targets_get_a_section_each(tmp_path, tabular_c10, data_dir) -> None:  # type: ignore[no-untyped-def]
    from naslab.estimators.tabular import TabularEstimator

    c100 = TabularEstimator("nb201/cifar100", data_dir=str(data_dir))
    st = make_group(tmp_path / "t.db", {"nb201/cifar10": tabular_c10, "nb201/cifar100": c100},
                    seeds=range(2), trials=10, strategies=("rs", "re"))
    res = build_report(st, "cmp", tmp_path / "out")
    html = res.index.read_text()
    assert 'id="t-nb201-cifar10"' in html and 'id="t-nb201-cifar100"' in html
    assert set(res.figures) == {f"{k}_nb201-{d}" for k in ("anytime", "final")
                                for d in ("cifar10", "cifar100")}
    rows = json.loads((tmp_path / "out" / "tables" / "final.json").read_text())
    assert sorted((r["target"], r["strategy"]) for r in rows) == [
        ("nb201/cifar10", "re"), ("nb201/cifar10", "rs"), ("nb201/cifar100", "re"),
        ("nb201/cifar100", "rs")]


def test_single_experiment_report(report, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, _, st = report
    exp_id = st.group("cmp")[1][0][0]
    res = build_report(st, exp_id, tmp_path / "one")
    assert res.figures == ["trials_nb201-cifar10", "anytime_nb201-cifar10"]
    assert res.n_runs == 1
    html = res.index.read_text()
    assert exp_id in html


def test_unknown_id_and_bad_out(report, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, _, st = report
    with pytest.raises(StorageError, match=r"no comparison group or experiment 'cpm'.*did you mean 'cmp'"):
        build_report(st, "cpm", tmp_path / "x")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ConfigError, match="exists and is not a directory"):
        build_report(st, "cmp", f)


def test_report_is_reproducible(report, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, out, st = report
    build_report(st, "cmp", tmp_path / "again")
    for t in ("final_nb201-cifar10.json", "cost_ledger.csv", "curves_nb201-cifar10.json"):
        assert (tmp_path / "again" / "tables" / t).read_bytes() == (out / "tables" / t).read_bytes()


def test_runs_without_trials_or_test_accuracy(tmp_path, tabular_c10) -> None:  # type: ignore[no-untyped-def]
    """A run with no trials yet and a run whose estimator gives no test accuracy still make a
    report: curves of the validation accuracy, ranks on it, and notes that say so."""
    import dataclasses

    from naslab.runner import Experiment, InMemoryStorage, MaxTrials
    from naslab.spaces.base import get_space
    from naslab.strategies.random_search import RandomSearch

    st = SQLiteStorage(tmp_path / "d.db")
    mem = InMemoryStorage()
    res = Experiment(get_space("nb201"), RandomSearch(), tabular_c10, termination=MaxTrials(10),
                     storage=mem, seed=1).run()
    info = mem.experiment(res.experiment_id)
    st.open_experiment("notest", info.config, {**info.meta, "optimum_test_acc": None,
                                                "test_unavailable": "no test file"})
    st.record_trials("notest", [dataclasses.replace(
        t, metrics={k: v for k, v in t.metrics.items() if k != "test_acc"}, incumbent_test=None)
        for t in res.trials])
    st.open_experiment("empty", info.config | {"seed": 7}, info.meta)
    st.open_group("g", {"kind": "comparison", "budget": {"max_trials": 10}})
    st.add_to_group("g", "notest", {"strategy": "rs", "seed": 1, "target": "nb201/cifar10"})
    st.add_to_group("g", "empty", {"strategy": "re", "seed": 7, "target": "nb201/cifar10"})
    out = build_report(st, "g", tmp_path / "out")
    html = out.index.read_text()
    assert "Test accuracy is not available" in html and "no test file" in html
    assert "1 run(s) have no trials recorded yet" in html
    rows = {r["strategy"]: r for r in json.loads(
        (tmp_path / "out" / "tables" / "final_nb201-cifar10.json").read_text())}
    assert rows["rs"]["compared_on"] == "val_acc" and rows["rs"]["test_mean"] is None
    assert rows["rs"]["val_mean"] == pytest.approx(res.trials[-1].incumbent_objective)
    curves = json.loads((tmp_path / "out" / "tables" / "curves_nb201-cifar10.json").read_text())
    assert curves["metric"] == "val" and list(curves["strategies"]) == ["rs"]
    assert build_report(st, "empty", tmp_path / "e").figures == ["anytime_nb201-cifar10"]
