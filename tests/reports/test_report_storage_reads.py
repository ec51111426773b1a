"""Storage.trial_columns: the fast per-trial read that reports use."""

from __future__ import annotations

import pytest

from naslab.errors import StorageError
from naslab.runner import Experiment, InMemoryStorage, MaxTrials, SQLiteStorage
from naslab.runner.storage import TRIAL_COLUMNS
from naslab.spaces.base import get_space
from naslab.strategies.random_search import RandomSearch


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_trial_columns_equal_trial_records(tmp_path, tabular_c10, kind):  # type: ignore[no-untyped-def]
    st = SQLiteStorage(tmp_path / "s.db") if kind == "sqlite" else InMemoryStorage()
    res = Experiment(get_space("nb201"), RandomSearch(), tabular_c10, termination=MaxTrials(12),
                     storage=st, seed=3).run()
    cols = st.trial_columns(res.experiment_id, list(TRIAL_COLUMNS))
    trials = st.trials(res.experiment_id)
    assert cols["number"] == list(range(12))
    assert cols["incumbent_test"] == [t.incumbent_test for t in trials]
    assert cols["cum_simulated_s"] == [t.cum_simulated_s for t in trials]
    assert cols["simulated_s"] == [t.cost.simulated_s for t in trials]
    assert cols["reused"] == [t.reused for t in trials]
    assert cols["status"] == ["complete"] * 12


def test_trial_columns_rejects_unknown_column(tmp_path):  # type: ignore[no-untyped-def]
    st = SQLiteStorage(tmp_path / "s.db")
    with pytest.raises(StorageError, match="incumbent_tst.*did you mean 'incumbent_test'"):
        st.trial_columns("x", ["incumbent_tst"])
