"""Checkpoints cost O(1) per trial: strategies whose state grows with every result (rs's seen
set, ls's known scores, the predictor strategies' data) checkpoint a small delta and rebuild
the rest from the recorded trials; resuming from it equals an uninterrupted run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naslab import registry
from naslab.runner import Experiment, MaxTrials, SQLiteStorage
from naslab.spaces import get_space

SPACE = get_space("nb201")
#: the predictor strategies with a cheap predictor: what is checkpointed does not depend on it
PARAMS = {"bananas": {"predictor": "rf"}, "neural_predictor": {"predictor": "rf",
                                                               "n_candidates": 200}}


def _traj(result) -> list:  # type: ignore[no-untyped-def]
    return [(t.arch, t.objective, t.incumbent_number) for t in result.trials]


def _ckpt_size(store: SQLiteStorage, exp_id: str) -> int:
    ckpt = store.checkpoint(exp_id)
    assert ckpt is not None
    return len(json.dumps(ckpt))


@pytest.mark.parametrize("name, small, large", [("rs", 40, 800), ("ls", 40, 800),
                                                ("neural_predictor", 12, 48)])
def test_checkpoint_does_not_grow_with_the_run(name: str, small: int, large: int,
                                               tabular_c10, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sizes = []
    for n in (small, large):
        store = SQLiteStorage(tmp_path / f"{name}-{n}.db")
        res = Experiment(SPACE, registry.create("strategy", name, **PARAMS.get(name, {})), tabular_c10,
                         termination=MaxTrials(n), seed=3, storage=store).run()
        ckpt = store.checkpoint(res.experiment_id)
        assert ckpt is not None and ckpt["history"] == n  # the small form
        sizes.append(_ckpt_size(store, res.experiment_id))
        store.close()
    # (bananas shares neural_predictor's checkpoint code, _guided.PredictorGuided)
    # 20x (4x) the trials: the checkpoint stays about the same size (the RNG state dominates)
    assert sizes[1] < 1.5 * sizes[0] + 200, sizes


@pytest.mark.parametrize("name", ["bananas", "neural_predictor"])
def test_guided_resume_from_small_checkpoints_equals_uninterrupted(name: str, tabular_c10,
                                                                   tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    full = Experiment(SPACE, registry.create("strategy", name, **PARAMS.get(name, {})), tabular_c10,
                      termination=MaxTrials(30), seed=7).run()
    store = SQLiteStorage(tmp_path / "g.db")
    for n in (11, 23, 30):  # stops inside and at the end of a batch of k proposals
        part = Experiment(SPACE, registry.create("strategy", name, **PARAMS.get(name, {})), tabular_c10,
                          termination=MaxTrials(n), seed=7, storage=store).run()
    assert part.resumed_trials == 23 and _traj(part) == _traj(full)


def test_a_checkpoint_that_disagrees_with_the_record_is_refused(tabular_c10, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from naslab.errors import StorageError

    db = tmp_path / "x.db"
    store = SQLiteStorage(db)
    res = Experiment(SPACE, registry.create("strategy", "rs"), tabular_c10,
                     termination=MaxTrials(20), seed=1, storage=store).run()
    store.close()
    c = sqlite3.connect(db)
    c.execute("DELETE FROM trials WHERE number >= 15")
    c.commit()
    c.close()
    with pytest.raises(StorageError, match="taken after 20 trials, but 15 are recorded"):
        Experiment(SPACE, registry.create("strategy", "rs"), tabular_c10,
                   termination=MaxTrials(30), seed=1, storage=SQLiteStorage(db)).run()
    assert res.n_trials == 20


def test_warm_started_bananas_resumes_mid_chain_through_storage(tabular_c10,
                                                                 tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Warm-started refits (the default with the bananas predictor): stopped with the refit
    chain 20 -> 25 -> 30, the resumed run rebuilds that model from the recorded trials and the
    run-length encoded chain, and continues as the uninterrupted run did."""
    params = {"predictor_params": {"epochs": 10, "ensemble": 2}, "k": 5}
    full = Experiment(SPACE, registry.create("strategy", "bananas", **params), tabular_c10,
                      termination=MaxTrials(45), seed=5).run()
    store = SQLiteStorage(tmp_path / "w.db")
    for n in (33, 45):
        part = Experiment(SPACE, registry.create("strategy", "bananas", **params), tabular_c10,
                          termination=MaxTrials(n), seed=5, storage=store).run()
        ckpt = store.checkpoint(part.experiment_id)
        assert ckpt is not None and ckpt["history"] == n
    assert part.resumed_trials == 33 and _traj(part) == _traj(full)
    cold = Experiment(SPACE, registry.create("strategy", "bananas", warm_start=False, **params),
                      tabular_c10, termination=MaxTrials(45), seed=5).run()
    assert _traj(cold) != _traj(full)  # the warm start is on by default
