"""The report of a real `naslab compare` run: groups, labels, budgets and final-training
records as the comparison writes them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from naslab.reports import build_report
from naslab.runner import SQLiteStorage


def test_report_of_a_comparison_with_final_training(tmp_path, data_dir) -> None:  # type: ignore[no-untyped-def]
    from naslab.runner.compare import load_config, run_comparison

    cfg = load_config({
        "name": "small", "strategies": ["re"], "seeds": 3,
        "targets": [{"benchmark": "nb201/cifar10"}, {"benchmark": "nb201/cifar100", "label": "c100"}],
        "budget": {"trials": 15},
        "retrain": {"estimator": "tabular", "params": {"benchmark": "nb201/cifar10"}, "seeds": [0, 1]},
        "storage": {"path": str(tmp_path / "c.db")}, "data_dir": str(data_dir),
    })
    cres = run_comparison(cfg)
    st = SQLiteStorage(tmp_path / "c.db", readonly=True)
    res = build_report(st, "small", tmp_path / "out")
    html = res.index.read_text()
    # one section per target label, rs added by the comparison as the baseline
    assert 'id="t-nb201-cifar10"' in html and 'id="t-c100"' in html
    final = json.loads((tmp_path / "out" / "tables" / "final.json").read_text())
    assert sorted((r["target"], r["strategy"]) for r in final) == [
        ("c100", "re"), ("c100", "rs"), ("nb201/cifar10", "re"), ("nb201/cifar10", "rs")]
    # final test accuracies agree with what the comparison itself reported
    table = {(r["target"], r["strategy"]): r for r in cres.table()}
    for r in final:
        assert r["test_mean"] == pytest.approx(table[(r["target"], r["strategy"])]["test_mean"])
    ledger = json.loads((tmp_path / "out" / "tables" / "cost_ledger.json").read_text())
    assert len(ledger) == 12
    for row in ledger:
        recs = st.records(row["experiment"], "final_training")
        assert row["final_trainings"] == len(recs) == 2
        mean_sim = np.mean([r["cost"]["simulated_s"] for r in recs]) / 3600
        assert row["final_sim_h"] == pytest.approx(mean_sim)
        assert row["total_sim_h"] == pytest.approx(row["search_sim_h"] + mean_sim)
        assert row["trials"] == 15
    assert "final training h (sim.)" in html
    st.close()
