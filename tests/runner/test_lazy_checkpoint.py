"""Checkpoints are computed when the group commit writes, not after every trial; an exception
at an unsettled moment drops the unwritten trials instead, and every path resumes exactly."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as hst

from naslab import registry
from naslab.runner import Experiment, MaxTrials, SQLiteStorage
from naslab.spaces import get_space
from naslab.testing import SyntheticEstimator

SPACE = get_space("nb201")


def _run(storage: SQLiteStorage | None, strategy: object | None = None,
         budget: int = 120):  # type: ignore[no-untyped-def]
    strat = strategy if strategy is not None else registry.create("strategy", "re")
    return Experiment(SPACE, strat, SyntheticEstimator(), termination=MaxTrials(budget),
                      seed=5, storage=storage).run()  # type: ignore[arg-type]


class _Calls:
    def __init__(self, strategy: object, method: str, at: int) -> None:
        self.n, self.at = 0, at
        orig = getattr(strategy, method)

        def wrapped(*a, **kw):  # type: ignore[no-untyped-def]
            self.n += 1
            if self.n == self.at:
                raise KeyboardInterrupt
            return orig(*a, **kw)

        setattr(strategy, method, wrapped)


def test_checkpoints_are_taken_at_commit_time_only(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from naslab.runner.experiment import Experiment as E

    calls = {"n": 0}
    orig = E._checkpoint

    def counting(self, state):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return orig(self, state)

    monkeypatch.setattr(E, "_checkpoint", counting)
    st = SQLiteStorage(tmp_path / "a.db")
    st.commit_window_s = 3600.0  # one commit: at the end of the run
    _run(st, registry.create("strategy", "rs"), budget=300)
    assert calls["n"] == 1
    ckpt = st.checkpoint(st.experiments()[0].id)
    assert ckpt is not None and ckpt["history"] == 300


@pytest.mark.parametrize("method,at", [("ask", 57), ("tell", 41)])
def test_an_interrupt_mid_ask_or_mid_tell_drops_the_unwritten_and_resumes_exactly(
        tmp_path: Path, method: str, at: int) -> None:
    ref = _run(None)
    st = SQLiteStorage(tmp_path / "b.db")
    st.commit_window_s = 3600.0  # everything held back until the interrupt
    strat = registry.create("strategy", "re")
    _Calls(strat, method, at)
    with pytest.raises(KeyboardInterrupt):
        _run(st, strat)
    exp = st.experiments()[0]
    assert exp.status == "interrupted"
    assert exp.n_trials == 0  # the held trials were dropped, not written with a bad checkpoint
    res = _run(st)
    assert [t.arch for t in res.trials] == [t.arch for t in ref.trials]
    assert [t.metrics for t in res.trials] == [t.metrics for t in ref.trials]


def test_an_interrupt_mid_evaluation_keeps_every_trial_and_resumes_exactly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = _run(None, registry.create("strategy", "rs"))
    st = SQLiteStorage(tmp_path / "c.db")
    st.commit_window_s = 3600.0
    n = {"k": 0}
    orig = SyntheticEstimator.evaluate

    def flaky(self, arch, **kw):  # type: ignore[no-untyped-def]
        n["k"] += 1
        if n["k"] == 77:
            raise KeyboardInterrupt
        return orig(self, arch, **kw)

    monkeypatch.setattr(SyntheticEstimator, "evaluate", flaky)
    with pytest.raises(KeyboardInterrupt):
        _run(st, registry.create("strategy", "rs"))
    monkeypatch.setattr(SyntheticEstimator, "evaluate", orig)
    exp = st.experiments()[0]
    assert exp.status == "interrupted" and exp.n_trials >= 70  # the trials before it are kept
    ckpt = st.checkpoint(exp.id)
    assert ckpt is not None and ckpt["history"] == exp.n_trials
    assert len(ckpt["runner"]["pending"]) == 1  # the evaluation it interrupted
    res = _run(st, registry.create("strategy", "rs"))
    assert res.resumed_trials == exp.n_trials
    assert [t.arch for t in res.trials] == [t.arch for t in ref.trials]
    assert [t.seed for t in res.trials] == [t.seed for t in ref.trials]


@given(hst.dictionaries(hst.text(max_size=12), hst.floats() | hst.integers(-5, 5) | hst.booleans(),
                        max_size=8))
@settings(max_examples=300, deadline=None)
@example({"val_acc": 1e-05, "big": 1e16, "neg": -0.0, "tiny": 5e-324, "max": 1.7976931348623157e308})
@example({"é\u2028": 1.5, "\"q\"": 2.5})
@example({"np": np.float64(0.1), "npi": np.int64(3), "ok": 1.0})
def test_the_metrics_json_shortcut_writes_what_the_encoder_writes(m: dict) -> None:  # type: ignore[type-arg]
    """The same keys and values (every float bit for bit, -0.0 included; ints stay ints), and
    the encoder's own text for non-finite values."""
    from naslab.runner.storage.base import dumps, finite_or_none
    from naslab.runner.storage.sqlite import _metrics_json, _vector_json

    text, ref = _metrics_json(m), dumps(m)
    got, want = json.loads(text), json.loads(ref)
    assert list(got) == list(want)
    assert [(type(v), repr(v)) for v in got.values()] == [(type(v), repr(v)) for v in want.values()]
    if not all(math.isfinite(v) for v in m.values()):
        assert text == ref  # NaN / Infinity: the encoder's own text, not orjson's null
    vec = tuple(m.values())
    if vec:
        assert [repr(v) for v in json.loads(_vector_json(vec))] == \
            [repr(v) for v in json.loads(dumps([finite_or_none(v) for v in vec]))]


@given(hst.integers(0, 2 ** 63), hst.lists(hst.integers(-5, 2 ** 65) | hst.integers(0, 40),
                                           max_size=40), hst.sampled_from([1, 7, 1024]))
@settings(max_examples=150, deadline=None)
@example(0, [0, 1, 2, 1023, 1024, 1025, 2 ** 64 - 1, 2 ** 64, -1], 1024)
def test_the_seed_deriver_gives_derive_seed(seed: int, ns: list[int], chunk: int) -> None:
    """Its table (numpy uint64 arithmetic) gives the scalar formula's seeds, at every
    chunk boundary, for negative numbers and past 2**64."""
    from naslab.seeding import derive_seed, seed_deriver

    d = seed_deriver(seed, chunk=chunk)
    assert [d(n) for n in ns] == [derive_seed(seed, n) for n in ns]
    assert [d(n) for n in range(2100)] == [derive_seed(seed, n) for n in range(2100)]


@given(hst.none() | hst.lists(hst.floats() | hst.integers(-5, 5), min_size=1, max_size=3)
       .map(tuple))
@settings(max_examples=300, deadline=None)
@example((-0.0,))
@example((float("nan"),))
@example((1e308 * 10,))
def test_the_row_number_shortcuts_write_what_the_general_path_writes(vec) -> None:  # type: ignore[no-untyped-def]
    from naslab.runner.storage.base import dumps, finite_or_none
    from naslab.runner.storage.sqlite import _real, _vector_json

    want = None if vec is None else dumps([finite_or_none(x) for x in vec])
    got = _vector_json(vec)
    if vec is None or not all(type(x) is float and math.isfinite(x) for x in vec):
        assert got == want
    else:  # the same floats, bit for bit (orjson's text)
        assert got is not None and want is not None
        assert [repr(x) for x in json.loads(got)] == [repr(x) for x in json.loads(want)]
    for x in vec or (None,):
        assert _real(x) == finite_or_none(x) and type(_real(x)) is type(finite_or_none(x))


@given(extras=hst.lists(hst.tuples(hst.none() | hst.floats(1, 200),  # fidelity
                            hst.none() | hst.text(max_size=8),  # error
                            hst.sampled_from([{}, {"protocol": "p", "k": [1, 2]}]),  # info
                            hst.none() | hst.lists(hst.integers(0, 9), max_size=3),  # front
                            hst.none() | hst.floats(0, 1)),  # hypervolume
                 min_size=1, max_size=12),
       grouped=hst.booleans())
@settings(max_examples=40, deadline=None)
def test_lean_and_full_rows_read_back_as_written(extras: list, grouped: bool, tmp_path_factory) -> None:  # type: ignore[no-untyped-def,type-arg]
    """A trial whose fidelity, error, info, front and hypervolume are all empty goes through
    the shorter INSERT; any mix of such and other trials, one at a time or grouped in one
    commit, reads back equal to what was recorded, the left-out columns NULL."""
    from naslab.estimators.base import Cost
    from naslab.runner.records import TrialRecord
    from naslab.runner.storage.sqlite import SQLiteStorage
    from naslab.spaces.base import Architecture

    st = SQLiteStorage(tmp_path_factory.mktemp("lean") / "s.db")
    st.open_experiment("e", {"x": 1}, {})
    recs = [TrialRecord(number=i, arch=Architecture("nb201", (i % 5, 0, 1, 2, 3, 4)),
                        status="complete", metrics={"val_acc": 50.0 + i, "test_acc": 49.5},
                        objective=50.0 + i, fidelity=fid, seed=i, cost=Cost(0.5, 10.0),
                        error=err, started=1.0, finished=2.0, incumbent_number=i,
                        incumbent_objective=50.0 + i, incumbent_test=49.5,
                        cum_simulated_s=10.0 * (i + 1), cum_wall_s=0.5 * (i + 1), info=info,
                        objectives=(50.0 + i,), feasible=True, front=front, hypervolume=hv)
            for i, (fid, err, info, front, hv) in enumerate(extras)]
    if grouped:
        st.record_trials("e", recs)
    else:
        for r in recs:
            st.record_trial("e", r)
    assert st.trials("e") == recs
    raw = st._conn.execute("SELECT fidelity, error, info, front, hypervolume FROM trials "
                           "WHERE experiment_id='e' ORDER BY number").fetchall()
    for r, row in zip(recs, raw):
        assert (row[0] is None) == (r.fidelity is None) and (row[1] is None) == (r.error is None)
        assert (row[2] is None) == (not r.info) and (row[3] is None) == (r.front is None)
        assert (row[4] is None) == (r.hypervolume is None)
    st.close()
