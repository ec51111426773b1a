"""Reports of multi-objective runs list the final front; v1 files report as they always did."""

from __future__ import annotations

import json
from pathlib import Path

from naslab import registry
from naslab.reports import build_report
from naslab.runner import Experiment, MaxTrials, SQLiteStorage
from naslab.spaces.base import get_space


def test_single_run_report_lists_the_pareto_front(tabular_c10, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    st = SQLiteStorage(tmp_path / "mo.db")
    res = Experiment(get_space("nb201"), registry.create("strategy", "re"), tabular_c10,
                     termination=MaxTrials(50), seed=1, objective=["val_acc", "params_m:min"],
                     constraints=["latency_ms<=19"], storage=st).run()
    out = build_report(st, res.experiment_id, tmp_path / "rep").index.parent
    html = (out / "index.html").read_text()
    assert "Pareto front" in html and "params_m (min)" in html and "latency_ms&lt;=19" in html
    rows = json.loads(next((out / "tables").glob("front_*.json")).read_text())
    assert [r["trial"] for r in rows] == [t.number for t in res.front]
    assert rows[0]["params_m"] == res.front[0].metrics["params_m"]
    st.close()
