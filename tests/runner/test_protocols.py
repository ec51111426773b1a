"""Published protocols: definitions, runs, figures, CLI and compare configs (real NB201 data)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from naslab import registry
from naslab.benchmarks.protocol import get_protocol
from naslab.errors import ConfigError, NaslabError
from naslab.runner.protocols import (
    ReportTables,
    interpolate_at,
    protocol_experiment,
    protocol_figures,
)


def test_protocols_are_registered_with_the_scripts_settings() -> None:
    assert {"nb201-paper", "nats-tss"} <= set(registry.names("protocol"))
    nb = get_protocol("nb201-paper")
    assert nb.search == {"nb201/cifar10": 12000.0} and nb.over_budget == "discard"
    assert nb.report == ("nb201/cifar10", "nb201/cifar100", "nb201/imagenet16")
    assert nb.strategies["re"] == {"population_size": 10, "sample_size": 3}
    assert nb.strategies["reinforce"]["learning_rate"] == 0.001
    assert nb.strategies["bohb"]["num_samples"] == 4 and nb.strategies["bohb"]["min_bandwidth"] == 0.3
    nats = get_protocol("nats-tss")
    assert nats.search == {"nb201/cifar10": 20000.0, "nb201/cifar100": 40000.0,
                           "nb201/imagenet16": 120000.0}
    assert nats.figure == "interpolate" and nats.strategies["reinforce"]["learning_rate"] == 0.01
    for proto in (nb, nats):
        assert proto.runs == 500 and proto.fidelity == 12.0 and not proto.reuse
        for s, params in proto.strategies.items():
            registry.check_params(registry.get("strategy", s), dict(params), what=s)
        for rows in proto.published.values():
            assert all(d["test"].source for d in rows.values())
    with pytest.raises(NaslabError, match="unknown protocol 'nb201-papr'.*nb201-paper"):
        get_protocol("nb201-papr")


def test_interpolation_is_natsbenchs_nearest_two_points() -> None:
    # the two points nearest in time to the budget, joined by a line
    assert interpolate_at([10, 20, 30], [1.0, 2.0, 4.0], 25) == pytest.approx(3.0)
    assert interpolate_at([10, 20, 31], [1.0, 2.0, 4.0], 21) == pytest.approx(2.0 + 2.0 / 11)
    assert interpolate_at([10, 20, 100], [1.0, 2.0, 4.0], 30) == pytest.approx(3.0)  # extrapolated
    assert interpolate_at([5.0], [7.0], 100) == 7.0


def test_an_nb201_paper_run_is_the_scripts_loop(data_dir: Path) -> None:
    proto = get_protocol("nb201-paper")
    exp = protocol_experiment(proto, "re", seed=4, data_dir=str(data_dir))
    res = exp.run()
    assert exp.config["reuse"] is False and exp.config["estimator"]["fidelity"] == 12.0
    assert res.simulated_cost_s <= 12000.0 and res.discarded == 1
    assert 80 < res.n_trials < 150  # ~12,000 s of 12-epoch trainings (~110 s each)
    tables = ReportTables(proto.report, data_dir=str(data_dir))
    figs = protocol_figures(proto, "nb201/cifar10", res.trials, tables)
    assert set(figs) == set(proto.report)
    best = res.best_arch
    b = exp.estimator.bench
    assert figs["nb201/cifar10"]["test"] == pytest.approx(b.column("test_acc")[b.index(best)])
    assert figs["nb201/cifar10"]["test"] == pytest.approx(res.test_acc)
    # every proposal is charged: the cost is the sum of the trials' 12-epoch costs
    assert res.simulated_cost_s == pytest.approx(sum(t.cost.simulated_s for t in res.trials))


def test_a_nats_run_overshoots_and_is_read_at_the_budget(data_dir: Path) -> None:
    proto = get_protocol("nats-tss")
    res = protocol_experiment(proto, "rs", target="nb201/cifar100", seed=1,
                              data_dir=str(data_dir)).run()
    assert res.simulated_cost_s >= 40000.0 > res.trials[-2].cum_simulated_s
    figs = protocol_figures(proto, "nb201/cifar100", res.trials,
                            ReportTables(["nb201/cifar100"], data_dir=str(data_dir)))
    lo, hi = sorted([res.trials[-2].incumbent_test, res.trials[-1].incumbent_test])
    assert set(figs) == {"nb201/cifar100"}
    assert lo - 1e-9 <= figs["nb201/cifar100"]["test"] <= hi + 1e-9 or np.isclose(lo, hi)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "naslab", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_search_protocol_on_the_command_line(data_dir: Path, tmp_path: Path) -> None:
    p = _cli("search", "--protocol", "nats-tss", "--strategy", "re", "--benchmark",
             "nb201/imagenet16", "--data-dir", str(data_dir), "--output", "json",
             "--no-progress", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert "interpolated at 120000 s" in d["run_card"]["protocol"]
    assert "kept" in d["run_card"]["budget rule"]
    bad = _cli("search", "--protocol", "nb201-paper", "--budget", "10", "--val", "mean",
               "--data-dir", str(data_dir), cwd=tmp_path)
    assert bad.returncode == 2 and "drop --budget, --val" in bad.stderr
    assert "Traceback" not in bad.stderr
    bad = _cli("search", "--protocol", "nb201-paper", "--benchmark", "nb201/cifar100",
               "--data-dir", str(data_dir), cwd=tmp_path)
    assert bad.returncode == 2 and "searches on nb201/cifar10" in bad.stderr


def test_compare_config_under_a_protocol(data_dir: Path, tmp_path: Path) -> None:
    from naslab.runner.compare import load_config, run_comparison

    cfg = load_config({"protocol": "nats-tss", "strategies": ["re", "bohb"], "seeds": 2,
                       "targets": ["nb201/cifar10"], "storage": str(tmp_path / "c.db"),
                       "data_dir": str(data_dir)})
    (tgt,) = cfg.targets
    assert tgt.budget == {"max_simulated_s": 20000.0} and tgt.params["fidelity"] == 12.0
    assert {s.name: s.params for s in cfg.strategies}["rs"] == {"dedup": False}
    assert not cfg.reuse and cfg.group_config()["protocol"] == "nats-tss"
    bohb = next(s for s in cfg.strategies if s.name == "bohb")
    assert cfg.target_for(tgt, bohb).params["nominal_max_fidelity"] == 200.0
    res = run_comparison(cfg)
    single = protocol_experiment("nats-tss", "re", target="nb201/cifar10", seed=1,
                                 data_dir=str(data_dir)).run()
    got = {(r.labels["strategy"], r.labels["seed"]): r for r in res.runs}
    figs = protocol_figures(get_protocol("nats-tss"), "nb201/cifar10", single.trials,
                            ReportTables(["nb201/cifar10"], data_dir=str(data_dir)))
    assert got[("re", 1)].experiment_id == single.experiment_id
    assert got[("re", 1)].test_acc == pytest.approx(figs["nb201/cifar10"]["test"])
    for bad, msg in (({"budget": {"trials": 5}}, "sets the budgets"),
                     ({"targets": ["nb201/cifar1000"]}, "searches on"),
                     ({"objective": "params_m"}, "searches on val_acc")):
        with pytest.raises(ConfigError, match=msg):
            load_config({"protocol": "nats-tss", "strategies": ["re"], "seeds": 1, **bad},
                        check_components=False)
