"""The tabular estimator's fixed search fidelity (``--fidelity 12``) on the real NB201 data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from naslab.errors import ConfigError
from naslab.estimators.tabular import TabularEstimator


def test_fidelity_12_answers_with_the_12_epoch_run_and_reports_200_epoch_test(data_dir: Path) -> None:
    est = TabularEstimator("nb201/cifar10", data_dir=str(data_dir), fidelity=12)
    full = TabularEstimator("nb201/cifar10", data_dir=str(data_dir))
    b = est.bench
    assert est.fidelities == (12.0,) and est.max_fidelity == 12.0
    for i in (0, 11, 284, 6111):
        arch = b.space.from_index(i)
        ev = est.evaluate(arch, seed=7)
        assert ev.fidelity == 12.0
        assert ev.metrics["val_acc"] == pytest.approx(b.column("val_acc", fidelity=12)[i])
        # the search is charged the 12-epoch training: 12/200 of the recorded 200-epoch time
        assert ev.cost.simulated_s == pytest.approx(full.evaluate(arch).cost.simulated_s * 12 / 200)
        # ... and the report reads the found arch's 200-epoch test accuracy, not the 12-epoch one
        assert ev.metrics["test_acc"] == pytest.approx(b.column("test_acc")[i])
        assert ev.metrics["test_acc"] != pytest.approx(b.column("test_acc", fidelity=12)[i])
    # official record of arch 0 (nats-fixtures): cifar10-valid 12-epoch x-valid runs 62.712 and
    # 64.016 -> the data's value is their mean; 12-epoch train time 86.65 s
    ev0 = est.evaluate(b.space.from_index(0))
    assert ev0.metrics["val_acc"] == pytest.approx((62.712 + 64.016) / 2, abs=1e-3)
    assert ev0.cost.simulated_s == pytest.approx(86.65, abs=0.01)


def test_fixed_fidelity_identity_options_and_errors(data_dir: Path) -> None:
    dd = str(data_dir)
    default = TabularEstimator("nb201/cifar10", data_dir=dd)
    assert TabularEstimator("nb201/cifar10", data_dir=dd, fidelity=200).describe() == default.describe()
    d = TabularEstimator("nb201/cifar10", data_dir=dd, fidelity=12).describe()
    assert d["fidelity"] == 12.0 and {k: v for k, v in d.items() if k != "fidelity"} == default.describe()
    est = TabularEstimator("nb201/cifar10", data_dir=dd, fidelity=12)
    arch = est.bench.space.from_index(3)
    with pytest.raises(ConfigError, match="fixed search fidelity of 12 answers queries at that fidelity only"):
        est.evaluate(arch, fidelity=200)
    with pytest.raises(ConfigError, match="fidelity .* must be 12 or 200, got 50"):
        TabularEstimator("nb201/cifar10", data_dir=dd, fidelity=50)
    with pytest.raises(ConfigError, match="nominal_max_fidelity needs a fixed search fidelity"):
        TabularEstimator("nb201/cifar10", data_dir=dd, nominal_max_fidelity=200)
    notes = est.run_card_notes()
    assert "mean over the recorded runs" in notes["val_acc"] and "not charged" in notes["cost"]
    assert "one recorded 200-epoch run per query" in default.run_card_notes()["val_acc"]


def test_nominal_budgets_are_all_answered_by_the_fixed_training(data_dir: Path) -> None:
    est = TabularEstimator("nb201/cifar10", data_dir=str(data_dir), fidelity=12,
                           nominal_max_fidelity=200)
    assert est.fidelities is None and est.max_fidelity == 200.0
    arch = est.bench.space.from_index(42)
    evs = [est.evaluate(arch, fidelity=f) for f in (22.2, 66.7, None)]
    assert [e.fidelity for e in evs] == [22.2, 66.7, 200.0]
    assert len({e.metrics["val_acc"] for e in evs}) == 1
    assert len({e.cost.simulated_s for e in evs}) == 1
    with pytest.raises(ConfigError, match=r"\(0, 200\]"):
        est.evaluate(arch, fidelity=300)


def test_fidelity_reaches_the_estimator_from_the_command_line(data_dir: Path, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from naslab.runner import SQLiteStorage

    def cli(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "naslab", "search", "--strategy", "rs",
                               "--budget", "20", "--storage", "f.db", "--data-dir",
                               str(data_dir), "--no-progress", *extra], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)

    p = cli("--fidelity", "12", "--output", "json")
    assert p.returncode == 0, p.stderr
    assert "mean over the recorded runs" in json.loads(p.stdout)["run_card"]["val_acc"]
    st = SQLiteStorage(tmp_path / "f.db", readonly=True)
    (info,) = st.experiments()
    assert info.config["estimator"]["fidelity"] == 12.0 and "estimator_notes" in info.meta
    costs = np.array([t.cost.simulated_s for t in st.trials(info.id)])
    assert costs.max() < 1000  # 12-epoch costs (200-epoch ones are ~1,000-6,000 s)
    st.close()
    bad = cli("--fidelity", "33")
    assert bad.returncode == 2 and "must be 12 or 200, got 33" in bad.stderr
    assert "Traceback" not in bad.stderr
