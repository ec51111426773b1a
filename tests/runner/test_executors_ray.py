"""Ray executor: conformance (failures and dead workers) and runs through the async runner.

These start a real local Ray instance (2 CPUs) once for the module and stop it at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from naslab import registry
from naslab.errors import ConfigError
from naslab.estimators.base import Objective
from naslab.runner import Experiment, MaxTrials, SQLiteStorage
from naslab.runner.executors import make_executor
from naslab.spaces import get_space
from naslab.strategies.random_search import RandomSearch
from naslab.testing.executors import FaultyEstimator, check_executor

SPACE = get_space("nb201")


def test_missing_ray_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from naslab.runner.ray_executor import RayExecutor

    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    ex = RayExecutor(2)
    with pytest.raises(ConfigError, match=r"pip install 'naslab\[ray\]'"):
        ex.start(FaultyEstimator())


def test_ray_options_are_validated() -> None:
    with pytest.raises(ConfigError, match="Ray address"):
        make_executor("ray", workers=2, address="  ")
    ex = make_executor("ray", workers=3, address="auto")
    assert ex.describe() == {"executor": "ray", "workers": 3, "address": "auto",
                             "threads_per_worker": 1}


def _import_ray():  # type: ignore[no-untyped-def]
    """Ray, or a skip (a failure in CI: tests/skip_policy.py)."""
    return pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_local():  # type: ignore[no-untyped-def]
    ray = _import_ray()
    import logging

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING,
             log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_ray_executor_conformance(ray_local, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from naslab.runner.ray_executor import RayExecutor

    check_executor(lambda: RayExecutor(2), tmp_dir=str(tmp_path), crash_modes=("exit", "kill"))
    assert ray_local.is_initialized()  # an instance it did not start is left running


@pytest.mark.slow
def test_ray_run_records_failures_and_crashes(ray_local, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from naslab.runner.ray_executor import RayExecutor

    rs = RandomSearch()
    rs.setup(SPACE, Objective(), seed=2)
    first = rs.ask(6)
    est = FaultyEstimator(raise_on=[first[1].choices], crash_on=[first[3].choices], crash="segv")
    store = SQLiteStorage(tmp_path / "ray.db")
    ex = RayExecutor(2)
    try:
        res = Experiment(SPACE, registry.create("strategy", "rs"), est,
                         termination=MaxTrials(10), seed=2, storage=store, executor=ex).run()
        assert ex.replaced == 1
    finally:
        ex.shutdown()
    assert res.n_trials == 10 and res.status == "finished"
    failed = {t.arch.choices: t.error for t in store.trials(res.experiment_id)
              if t.status == "failed"}
    assert set(failed) == {first[1].choices, first[3].choices}
    assert "refusing" in failed[first[1].choices]
    assert "Ray worker died while evaluating" in failed[first[3].choices]


@pytest.mark.slow
def test_ray_two_workers_train_on_digits(ray_local, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The real thing: 2 Ray workers train NB201 networks on digits (1 epoch each) for a
    regularized-evolution run; results equal a training in the driver, evaluations overlap in
    time, and each worker's torch uses one thread."""
    pytest.importorskip("torch")
    from naslab.runner.executors import Task, run_task
    from naslab.runner.ray_executor import RayExecutor
    from naslab.testing.executors import _drain

    est = registry.create("estimator", "train", dataset="digits", epochs=1)
    store = SQLiteStorage(tmp_path / "train.db")
    ex = RayExecutor(2)
    try:
        res = Experiment(SPACE, registry.create("strategy", "re", population_size=4), est,
                         termination=MaxTrials(6), seed=0, storage=store, executor=ex).run()
        assert ex.replaced == 0
        trials = store.trials(res.experiment_id)
        assert len(trials) == 6 and all(t.status == "complete" for t in trials)
        assert all(0 <= t.metrics["val_acc"] <= 100 for t in trials)
        # a fresh evaluation costs its training; a repeat of an arch (RE may mutate into one
        # already evaluated, depending on which worker finished first) is answered from the
        # run's record, free, with the first evaluation's metrics
        first = {}
        for t in trials:
            if t.reused:
                assert t.cost.simulated_s == 0 and t.metrics == first[t.arch.choices].metrics
            else:
                assert t.cost.simulated_s > 0
                first.setdefault(t.arch.choices, t)
        # two evaluations ran at the same time (async dispatch to both workers)
        spans = sorted((t.started, t.finished) for t in trials)
        assert any(b[0] < a[1] for a, b in zip(spans, spans[1:])), spans
        # each worker: one torch thread
        ex.start(FaultyEstimator(use_torch=True))
        for i, t in enumerate(trials[:2]):
            ex.submit(Task(i, t.arch, None, 0))
        assert [r.evaluation.info["torch_threads"] for r in _drain(ex, 2)] == [1, 1]
    finally:
        ex.shutdown()
    # the worker's answer is the driver's answer (same arch, seed and thread count)
    import torch

    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = trials[0]
        ref = run_task(est, Task(0, t0.arch, t0.fidelity, t0.seed))
    finally:
        torch.set_num_threads(prev)
    assert ref.evaluation.metrics["val_acc"] == t0.metrics["val_acc"]
