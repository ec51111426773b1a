"""Comparisons: config validation, fair runs recorded in a group, reuse, resume, commit modes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from naslab import registry
from naslab.errors import ConfigError, UnknownComponentError
from naslab.runner import Experiment, MaxTrials, SQLiteStorage
from naslab.runner.compare import load_config, run_comparison
from naslab.spaces import get_space


def _cfg(tmp_path: Path, **over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"name": "cmp", "strategies": ["re", "ls"], "seeds": 3,
                         "targets": ["nb201/cifar10"], "budget": {"trials": 20},
                         "storage": str(tmp_path / "c.db")}
    d.update(over)
    return d


def _dump(st: SQLiteStorage) -> list[tuple]:
    rows = st._conn.execute(
        "SELECT experiment_id, number, choices, status, metrics, seed, simulated_s, reused, "
        "incumbent_number, incumbent_test, cum_simulated_s FROM trials "
        "ORDER BY experiment_id, number").fetchall()
    return rows


# --- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("over, match", [
    ({"budgt": {"trials": 3}}, r"unknown key 'budgt' \(did you mean 'budget'\?\)"),
    ({"budget": {"trails": 3}}, r"unknown key 'budget.trails' \(did you mean 'trials'"),
    ({"budget": {}}, "budget needs at least one of trials, simulated_hours, wall_s"),
    ({"budget": {"trials": 0}}, r"budget.trials must be an integer >= 1, got 0"),
    ({"budget": {"simulated_hours": -1}}, "budget.simulated_hours must be a positive number"),
    ({"seeds": 0}, r"seeds \(a count\) must be an integer >= 1, got 0"),
    ({"seeds": [1, 1]}, r"seeds lists seed\(s\) \[1\] more than once"),
    ({"seeds": "ten"}, "seeds must be a count"),
    ({"strategies": ["re", {"name": "ls", "parms": {}}]},
     r"unknown key 'strategies\[1\].parms' \(did you mean 'params'\?\)"),
    ({"strategies": ["reg_evo"]}, "unknown strategy 'reg_evo'"),
    ({"strategies": [{"name": "re", "params": {"populaton_size": 5}}]},
     r"has no parameter 'populaton_size' \(did you mean 'population_size'\?\)"),
    ({"strategies": ["re", {"name": "re", "params": {"population_size": 5}}]},
     r"strategy label\(s\) \['re'\] appear more than once"),
    ({"strategies": ["re", {"name": "evolution", "label": "re2"}]},
     r"strategies\[2\] is the same strategy as strategies\[1\]"),
    ({"targets": ["nb201/cifar10", {"benchmark": "nb201/cifar10", "label": "again"}]},
     r"targets\[1\] is the same target as targets\[0\]"),
    ({"strategies": []}, "strategies must be a non-empty list"),
    ({"targets": [{"estimator": "tabulr"}]}, r"unknown estimator 'tabulr' \(did you mean 'tabular'"),
    ({"targets": [{"dataset": "digits"}]}, r"unknown key 'targets\[0\].dataset'"),
    ({"targets": ["nb201/cifar10", {"benchmark": "nb201/cifar10", "val": "mean"}]},
     r"target label\(s\) \['nb201/cifar10'\] appear more than once"),
    ({"storage": {"path": "x.db", "commit": "run"}}, "storage.commit must be one of auto, trial, experiment"),
    ({"executor": {"name": "process", "workers": 0}}, r"executor: workers \(--workers\) must be >= 1"),
    ({"executor": "prcess"}, r"did you mean 'process'"),
    ({"executor": {"name": "serial", "address": "auto"}}, "--ray-address is for --executor ray"),
    ({"objective": "test_acc"}, "test metric"),
    ({"retrain": {"estimator": "train", "paramz": {}}}, r"unknown key 'retrain.paramz'"),
])
def test_config_errors_name_the_key(tmp_path: Path, over: dict, match: str) -> None:
    with pytest.raises((ConfigError, UnknownComponentError), match=match):
        load_config(_cfg(tmp_path, **over))


def test_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("strategies: [re\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_config(bad)
    bad.write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        load_config(bad)
    bad.write_text("- re\n- ls\n")
    with pytest.raises(ConfigError, match="the config must be a mapping, got list"):
        load_config(bad)
    bad.write_text("strategies: [re]\nseeds: 2\nbudget: {trials: 3}\n")
    with pytest.raises(ConfigError, match="missing required key 'targets'"):
        load_config(bad)


def test_config_normalisation(tmp_path: Path) -> None:
    cfg = load_config(_cfg(tmp_path, strategies=["evolution", {"name": "re", "label": "re-p20",
                                                                "params": {"population_size": 20}}],
                           seeds=[4, 2], budget={"trials": 5, "simulated_hours": 2}))
    assert [s.label for s in cfg.strategies] == ["rs", "re", "re-p20"]  # baseline first
    assert [s.name for s in cfg.strategies] == ["rs", "re", "re"]  # aliases resolved
    assert cfg.seeds == [4, 2]
    assert cfg.budget == {"max_trials": 5, "max_simulated_s": 7200.0}
    assert cfg.targets[0].estimator == "tabular" and cfg.targets[0].label == "nb201/cifar10"
    assert cfg.commit_mode == "experiment"  # auto: all tabular
    # random search named by an alias counts as the baseline: not added twice
    d = _cfg(tmp_path, strategies=["random", "re"])
    d["benchmarks"] = d.pop("targets")
    cfg2 = load_config(d)
    assert [s.label for s in cfg2.strategies] == ["rs", "re"]
    assert [t.label for t in cfg2.targets] == ["nb201/cifar10"]
    d = _cfg(tmp_path)
    del d["name"]
    a, b = load_config(d), load_config(dict(d))
    assert a.name == b.name and a.name.startswith("compare-")
    assert load_config({**d, "seeds": 4}).name != a.name
    train = load_config({**d, "targets": [{"estimator": "train", "params": {"dataset": "digits"}}]})
    assert train.targets[0].label == "train/digits" and train.commit_mode == "trial"


# --- runs ------------------------------------------------------------------------------------

def test_comparison_records_every_run_in_a_group(tmp_path: Path, data_dir: Path) -> None:
    cfg = load_config(_cfg(tmp_path))
    res = run_comparison(cfg)
    assert len(res.runs) == 9 and res.count("new") == 9
    st = SQLiteStorage(cfg.storage)
    gconf, members = st.group("cmp")
    assert gconf["budget"] == {"max_trials": 20} and gconf["baseline"] == "rs"
    assert sorted((lab["strategy"], lab["seed"], lab["target"]) for _, lab in members) == sorted(
        (s, seed, "nb201/cifar10") for s in ("rs", "re", "ls") for seed in range(3))
    for exp_id, lab in members:
        assert st.experiment(exp_id).status == "finished"
        assert len(st.trials(exp_id)) == 20
    # each member is exactly the experiment one would run alone with that strategy and seed
    exp_id, lab = next(m for m in members if m[1]["strategy"] == "re" and m[1]["seed"] == 1)
    from naslab.estimators.tabular import TabularEstimator

    alone = Experiment(get_space("nb201"), registry.create("strategy", "re"),
                       TabularEstimator("nb201/cifar10"), termination=MaxTrials(20), seed=1).run()
    assert alone.experiment_id == exp_id
    assert [(t.arch, t.metrics) for t in alone.trials] == \
        [(t.arch, t.metrics) for t in st.trials(exp_id)]
    row = next(r for r in res.table() if r["strategy"] == "re")
    summ = [r for r in res.runs if r.labels["strategy"] == "re"]
    assert row["seeds"] == 3
    assert row["test_mean"] == pytest.approx(sum(r.test_acc for r in summ) / 3)


def test_commit_modes_store_identical_trials(tmp_path: Path, data_dir: Path) -> None:
    a = load_config(_cfg(tmp_path, storage={"path": str(tmp_path / "a.db"), "commit": "trial"}))
    b = load_config(_cfg(tmp_path, storage={"path": str(tmp_path / "b.db"), "commit": "experiment"}))
    run_comparison(a)
    run_comparison(b)
    sa, sb = SQLiteStorage(a.storage), SQLiteStorage(b.storage)
    assert _dump(sa) == _dump(sb) and len(_dump(sa)) == 9 * 20
    ids = [e.id for e in sa.experiments()]
    for i in ids:  # both can resume: the checkpoint after the last trial is stored
        ca, cb = sa.checkpoint(i), sb.checkpoint(i)
        assert ca["strategy"] == cb["strategy"] and ca["runner"]["n_asked"] == cb["runner"]["n_asked"]


def test_rerun_reuses_finished_runs_and_writes_nothing(tmp_path: Path, data_dir: Path) -> None:
    cfg = load_config(_cfg(tmp_path))
    first = run_comparison(cfg)
    st = SQLiteStorage(cfg.storage)
    before = _dump(st)
    again = run_comparison(load_config(_cfg(tmp_path)))
    assert again.count("reused") == 9 and again.count("new") == 0
    assert _dump(SQLiteStorage(cfg.storage)) == before
    assert [(r.experiment_id, r.test_acc) for r in again.runs] == \
        [(r.experiment_id, r.test_acc) for r in first.runs]
    # same name, different comparison: a clear error, not a silent mix
    with pytest.raises(ConfigError, match=r"comparison 'cmp' already exists .*differs in: seeds"):
        run_comparison(load_config(_cfg(tmp_path, seeds=4)))
    # under a new name, the 9 runs it shares are reused and only 3 run
    more = run_comparison(load_config(_cfg(tmp_path, name="cmp4", seeds=4)))
    assert more.count("reused") == 9 and more.count("new") == 3


def test_larger_budget_extends_and_smaller_budget_reuses_a_prefix(tmp_path: Path,
                                                                  data_dir: Path) -> None:
    run_comparison(load_config(_cfg(tmp_path, budget={"trials": 20})))
    st = SQLiteStorage(str(tmp_path / "c.db"))
    before = {e.id: st.trials(e.id) for e in st.experiments()}
    big = run_comparison(load_config(_cfg(tmp_path, name="big", budget={"trials": 30})))
    assert big.count("resumed") == 9 and all(r.n_trials == 30 for r in big.runs)
    for exp_id, trials in before.items():
        assert [t.metrics for t in st.trials(exp_id)[:20]] == [t.metrics for t in trials]
    small = run_comparison(load_config(_cfg(tmp_path, name="small", budget={"trials": 10})))
    assert small.count("reused") == 9 and all(r.n_trials == 10 for r in small.runs)
    for r in small.runs:
        assert r.test_acc == before[r.experiment_id][9].incumbent_test


def test_simulated_budget(tmp_path: Path, data_dir: Path) -> None:
    cfg = load_config(_cfg(tmp_path, budget={"simulated_hours": 5}, seeds=2))
    res = run_comparison(cfg)
    st = SQLiteStorage(cfg.storage)
    for r in res.runs:
        t = st.trials(r.experiment_id)
        assert t[-1].cum_simulated_s >= 5 * 3600 > t[-2].cum_simulated_s
    assert run_comparison(cfg).count("reused") == len(res.runs)


@pytest.mark.parametrize("commit", ["trial", "experiment"])
def test_interrupted_comparison_resumes_to_the_same_storage(tmp_path: Path, data_dir: Path,
                                                            commit: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ref = load_config(_cfg(tmp_path, storage={"path": str(tmp_path / "ref.db"), "commit": commit}))
    run_comparison(ref)
    cfg = load_config(_cfg(tmp_path, storage={"path": str(tmp_path / "k.db"), "commit": commit}))

    # interrupt inside the 5th run's 8th evaluation
    from naslab.estimators.tabular import TabularEstimator

    calls = {"n": 0}
    orig = TabularEstimator.evaluate

    def flaky(self, arch, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4 * 20 + 8:
            raise KeyboardInterrupt
        return orig(self, arch, **kw)

    monkeypatch.setattr(TabularEstimator, "evaluate", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_comparison(cfg)
    monkeypatch.setattr(TabularEstimator, "evaluate", orig)
    st = SQLiteStorage(cfg.storage)
    counts = sorted(e.n_trials for e in st.experiments())
    if commit == "experiment":  # the interrupted run recorded nothing; the 4 before it all
        assert counts == [0, 20, 20, 20, 20]
    else:  # every trial the interrupted run recorded is kept (some were answered from its
        assert 7 <= counts[0] < 20 and counts[1:] == [20] * 4  # record without evaluating)
    assert sorted(e.status for e in st.experiments()) == ["finished"] * 4 + ["interrupted"]
    res = run_comparison(cfg)
    assert res.count("reused") == 4 and res.count("resumed") == (0 if commit == "experiment" else 1)
    assert _dump(SQLiteStorage(cfg.storage)) == _dump(SQLiteStorage(ref.storage))


def test_retrain_records_final_training_once_per_arch(tmp_path: Path, data_dir: Path) -> None:
    """Final training with another estimator (here the mean of NB201's recorded runs, to stay
    fast; the training estimator is exercised in the slow tests)."""
    retrain = {"estimator": "tabular", "params": {"benchmark": "nb201/cifar10", "val": "mean"},
               "seeds": 2}
    cfg = load_config(_cfg(tmp_path, retrain=retrain))
    res = run_comparison(cfg)
    st = SQLiteStorage(cfg.storage)
    archs = set()
    for r in res.runs:
        recs = st.records(r.experiment_id, "final_training")
        assert sorted(x["seed"] for x in recs) == [0, 1]
        inc = st.trials(r.experiment_id)[st.trials(r.experiment_id)[-1].incumbent_number]
        for x in recs:
            assert x["arch"] == str(inc.arch) and x["status"] == "complete"
            assert x["metrics"]["test_acc"] == inc.metrics["test_acc"]
            assert x["cost"]["simulated_s"] > 0 and x["estimator"]["val"] == "mean"
        archs.add(inc.arch)
    assert res.retrained == 2 * len(archs)  # an arch found by several runs is trained once
    again = run_comparison(cfg)
    assert again.retrained == 0
    assert all(len(st.records(r.experiment_id, "final_training")) == 2 for r in again.runs)


@pytest.mark.slow
def test_retrain_with_the_training_estimator(tmp_path: Path, data_dir: Path) -> None:
    pytest.importorskip("torch")
    retrain = {"estimator": "train", "params": {"dataset": "digits", "epochs": 1}, "seeds": 1}
    cfg = load_config(_cfg(tmp_path, strategies=["re"], seeds=1, budget={"trials": 5},
                           retrain=retrain))
    res = run_comparison(cfg)
    st = SQLiteStorage(cfg.storage)
    for r in res.runs:
        (rec,) = st.records(r.experiment_id, "final_training")
        assert rec["status"] == "complete" and rec["estimator"]["estimator"] == "train"
        assert rec["estimator"]["protocol"]["epochs"] == 1
        trials = st.trials(r.experiment_id)
        best = trials[trials[-1].incumbent_number]
        assert rec["arch"] == str(best.arch)
        # the record is that training: the same estimator, arch and seed give the same figures
        est = registry.create("estimator", "train", dataset="digits", epochs=1)
        ev = est.evaluate(best.arch, seed=rec["eval_seed"])
        assert rec["metrics"]["test_acc"] == ev.metrics["test_acc"]
        assert rec["cost"]["simulated_s"] > 0  # a wall time: no exact figure to compare
    assert run_comparison(cfg).retrained == 0


def test_parallel_runs_store_what_a_serial_comparison_stores(tmp_path: Path,
                                                             data_dir: Path) -> None:
    """executor.level: runs — whole runs in 2 worker processes, written by the driver."""
    ser = load_config(_cfg(tmp_path, storage=str(tmp_path / "ser.db")))
    par = load_config(_cfg(tmp_path, storage=str(tmp_path / "par.db"),
                           executor={"name": "process", "workers": 2, "level": "runs"}))
    seen: list[int] = []
    a = run_comparison(ser)
    b = run_comparison(par, on_run=lambda s, done, total: seen.append(done))
    assert seen == list(range(1, 10))
    assert _dump(SQLiteStorage(ser.storage)) == _dump(SQLiteStorage(par.storage))
    assert [(r.experiment_id, r.labels, r.test_acc) for r in a.runs] == \
        [(r.experiment_id, r.labels, r.test_acc) for r in b.runs]
    g1, g2 = SQLiteStorage(ser.storage).group("cmp"), SQLiteStorage(par.storage).group("cmp")
    assert g1[0] == g2[0] and sorted(g1[1], key=str) == sorted(g2[1], key=str)
    # a larger budget resumes the recorded runs in the workers
    more = run_comparison(load_config(_cfg(tmp_path, name="more", budget={"trials": 25},
                                           storage=str(tmp_path / "par.db"),
                                           executor={"name": "process", "workers": 2,
                                                     "level": "runs"})))
    assert more.count("resumed") == 9 and all(r.n_trials == 25 for r in more.runs)


def test_parallel_runs_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="implemented for the process executor only"):
        load_config(_cfg(tmp_path, executor={"name": "ray", "level": "runs"}))
    with pytest.raises(ConfigError, match="needs storage.commit 'experiment'"):
        load_config(_cfg(tmp_path, executor={"name": "process", "level": "runs"},
                         storage={"path": "x.db", "commit": "trial"}))
    with pytest.raises(ConfigError, match=r"executor.level must be one of trials, runs.*'runs'"):
        load_config(_cfg(tmp_path, executor={"name": "process", "level": "run"}))


def test_interrupted_parallel_runs_resume_to_the_same_storage(tmp_path: Path,
                                                              data_dir: Path) -> None:
    ref = load_config(_cfg(tmp_path, storage=str(tmp_path / "ref.db")))
    run_comparison(ref)
    par = {"name": "process", "workers": 2, "level": "runs"}
    cfg = load_config(_cfg(tmp_path, storage=str(tmp_path / "p.db"), executor=par))

    def stop(summary, done, total):  # type: ignore[no-untyped-def]
        if done == 2:
            raise KeyboardInterrupt

    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run_comparison(cfg, on_run=stop)
    assert time.perf_counter() - t0 < 60
    st = SQLiteStorage(cfg.storage)
    finished = [e for e in st.experiments() if e.status == "finished"]
    assert 2 <= len(finished) < 9 and all(e.n_trials == 20 for e in finished)
    res = run_comparison(cfg)
    assert res.count("reused") == len(finished)
    assert _dump(SQLiteStorage(cfg.storage)) == _dump(SQLiteStorage(ref.storage))


def test_auto_commit_follows_what_the_estimators_say_about_their_speed() -> None:
    from naslab.runner.compare.config import TargetSpec, resolve_commit

    fields = TargetSpec.__dataclass_fields__
    assert "estimator" in fields

    def target(est: str) -> TargetSpec:
        t = object.__new__(TargetSpec)
        object.__setattr__(t, "estimator", est)
        return t

    assert resolve_commit("auto", [target("tabular"), target("benchmark")]) == "experiment"
    assert resolve_commit("auto", [target("tabular"), target("training")]) == "trial"
    assert resolve_commit("auto", [target("no-such-estimator")]) == "trial"
    assert resolve_commit("trial", [target("tabular")]) == "trial"
