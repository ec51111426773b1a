"""Process executor: conformance, crash recovery, thread limit, and the async runner on top."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naslab import registry
from naslab.errors import ConfigError, NaslabError
from naslab.runner import Experiment, MaxTrials, SQLiteStorage
from naslab.runner.executors import (
    ProcessExecutor,
    SerialExecutor,
    Task,
    WorkerError,
    describe_exit,
    make_executor,
)
from naslab.seeding import derive_seed
from naslab.spaces import get_space
from naslab.strategies.random_search import RandomSearch
from naslab.testing.executors import FaultyEstimator, _archs, _drain, check_executor

SPACE = get_space("nb201")


def test_process_executor_conformance(tmp_path: Path) -> None:
    check_executor(lambda: ProcessExecutor(2), tmp_dir=str(tmp_path))


def test_serial_executor_conformance_without_crashes(tmp_path: Path) -> None:
    check_executor(SerialExecutor, crashes=False, tmp_dir=str(tmp_path))


def test_dead_worker_message_names_the_signal_and_arch() -> None:
    a = _archs(2)
    with ProcessExecutor(2) as ex:
        ex.start(FaultyEstimator(crash_on=[a[0].choices], crash="segv"))
        ex.submit(Task(0, a[0], None, 1))
        (r,) = _drain(ex, 1)
        assert r.evaluation is None and r.fatal is None
        assert "died while evaluating " + str(a[0]) in r.error
        assert "SIGSEGV (-11)" in r.error
        assert ex.replaced == 1
    assert describe_exit(-9).startswith("killed by SIGKILL (-9); out of memory?")
    assert describe_exit(3) == "exit code 3"


@pytest.mark.slow  # importing torch in two fresh workers takes seconds
def test_workers_run_with_one_torch_thread() -> None:
    pytest.importorskip("torch")
    a = _archs(2)
    with ProcessExecutor(2, threads_per_worker=1) as ex:
        ex.start(FaultyEstimator(use_torch=True))
        ex.submit(Task(0, a[0], None, 1))
        ex.submit(Task(1, a[1], None, 1))
        for r in _drain(ex, 2):
            assert r.evaluation.info["torch_threads"] == 1
            assert r.evaluation.info["omp_threads"] == "1"


def test_estimator_that_cannot_load_in_a_worker_is_a_clear_fatal_error() -> None:
    with ProcessExecutor(1) as ex:
        with pytest.raises(WorkerError, match="could not load the estimator: .*unpickle me"):
            ex.start(_Unloadable())
            ex.submit(Task(0, _archs(1)[0], None, 1))
            ex.wait()


class _Unloadable(FaultyEstimator):
    """Pickles fine, fails to unpickle (as a class missing on a worker would)."""

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_boom, ())


def _boom() -> None:
    raise RuntimeError("cannot unpickle me")


def test_unpicklable_estimator_is_a_config_error() -> None:
    est = FaultyEstimator()
    est.hook = lambda: None  # type: ignore[attr-defined]
    with ProcessExecutor(1) as ex, pytest.raises(ConfigError, match="cannot be sent to worker"):
        ex.start(est)


def test_make_executor_validates_options() -> None:
    with pytest.raises(ConfigError, match="--workers 3 needs a parallel executor"):
        make_executor("serial", workers=3)
    with pytest.raises(ConfigError, match="--ray-address is for --executor ray"):
        make_executor("process", address="auto")
    with pytest.raises(NaslabError, match="did you mean 'process'"):
        make_executor("proces")
    with pytest.raises(ConfigError, match=r"workers \(--workers\) must be >= 1, got 0"):
        make_executor("process", workers=0)
    assert isinstance(make_executor("serial", workers=1), SerialExecutor)
    ex = make_executor("process", workers=3)
    assert ex.max_workers == 3 and ex.describe()["executor"] == "process"
    assert "ray" in registry.names("executor")


# --- the asynchronous runner over the process executor --------------------------------------


class Spy(RandomSearch):
    def _setup(self) -> None:
        super()._setup()
        self.failed: list[tuple[tuple, str]] = []
        self.told = 0

    def tell(self, arch, evaluation):  # type: ignore[no-untyped-def]
        self.told += 1

    def tell_failed(self, arch, error):  # type: ignore[no-untyped-def]
        self.failed.append((arch.choices, error))


def _first_asked(n: int, seed: int) -> list:
    """The archs RS asks first for ``seed`` (RS's asks do not depend on results)."""
    s = RandomSearch()
    from naslab.estimators.base import Objective

    s.setup(SPACE, Objective(), seed=seed)
    return s.ask(n)


def test_one_worker_process_run_equals_serial_run() -> None:
    est = FaultyEstimator()
    kw = dict(termination=MaxTrials(25), seed=4)
    a = Experiment(SPACE, registry.create("strategy", "re"), est, **kw).run()
    with ProcessExecutor(1) as ex:
        b = Experiment(SPACE, registry.create("strategy", "re"), est, executor=ex, **kw).run()
    assert [(t.arch, t.metrics, t.seed) for t in a.trials] == \
        [(t.arch, t.metrics, t.seed) for t in b.trials]


def test_two_workers_same_evaluations_as_serial_for_rs() -> None:
    """Asynchronous runs are not order-deterministic, but each ask number keeps its arch and
    evaluation seed, so RS (whose asks ignore results) evaluates exactly the same set."""
    est = FaultyEstimator(work_s=0.002)
    kw = dict(termination=MaxTrials(30), seed=9)
    a = Experiment(SPACE, RandomSearch(), est, **kw).run()
    with ProcessExecutor(2) as ex:
        b = Experiment(SPACE, RandomSearch(), est, executor=ex, **kw).run()
    key = lambda r: sorted((t.seed, t.arch.choices, t.metrics["val_acc"]) for t in r.trials)  # noqa: E731
    assert key(a) == key(b)
    assert {t.seed for t in b.trials} == {derive_seed(9, k) for k in range(30)}
    assert b.trials[-1].incumbent_objective == max(t.objective for t in b.trials)


def test_failures_and_crashes_are_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    first = _first_asked(6, seed=2)
    raise_arch, crash_arch = first[1], first[3]
    est = FaultyEstimator(raise_on=[raise_arch.choices], crash_on=[crash_arch.choices])
    store = SQLiteStorage(tmp_path / "s.db")
    spy = Spy()
    with ProcessExecutor(2) as ex:
        res = Experiment(SPACE, spy, est, termination=MaxTrials(12), seed=2, storage=store,
                         executor=ex).run()
        assert ex.replaced == 1
    assert res.n_trials == 12 and res.status == "finished"
    failed = {t.arch.choices: t for t in res.trials if t.status == "failed"}
    assert set(failed) == {raise_arch.choices, crash_arch.choices}
    assert "RuntimeError: faulty estimator: refusing" in failed[raise_arch.choices].error
    assert "died while evaluating" in failed[crash_arch.choices].error
    assert "exit code 3" in failed[crash_arch.choices].error
    # the strategy was told, with the same text
    assert {c: e for c, e in spy.failed} == {c: t.error for c, t in failed.items()}
    assert spy.told == 10
    # and storage holds the failures with their errors
    stored = {t.arch.choices: t for t in store.trials(res.experiment_id) if t.status == "failed"}
    assert {c: t.error for c, t in stored.items()} == {c: t.error for c, t in failed.items()}
    assert res.to_json()["failed_trials"] == 2


def test_free_worker_gets_new_work_while_another_is_busy(tmp_path: Path) -> None:
    """Deterministic async check: the first asked arch blocks until 7 other trials are
    recorded; meanwhile the other worker keeps evaluating, and the runner keeps asking."""
    first = _first_asked(1, seed=5)[0]
    gate = tmp_path / "gate"
    est = FaultyEstimator(gate_on=[first.choices], gate=str(gate))

    def on_trial(rec) -> None:  # type: ignore[no-untyped-def]
        if rec.number == 6:
            gate.touch()

    with ProcessExecutor(2) as ex:
        res = Experiment(SPACE, RandomSearch(), est, termination=MaxTrials(10), seed=5,
                         executor=ex).run(on_trial=on_trial)
    order = [t.arch for t in res.trials]
    assert first in order[7:], "the blocked trial should finish after the others"
    busy_pid = res.trials[order.index(first)]
    assert busy_pid.status == "complete"


def test_interrupted_parallel_run_resumes_pending_tasks(tmp_path: Path) -> None:
    """Ctrl-C with an evaluation in flight: resuming re-submits it (same ticket and seed);
    no ask number is lost or duplicated, and every recorded trial is kept."""
    path = tmp_path / "r.db"
    est = FaultyEstimator(work_s=0.001)

    def stop(rec) -> None:  # type: ignore[no-untyped-def]
        if rec.number == 4:
            raise KeyboardInterrupt

    with ProcessExecutor(2) as ex:
        exp = Experiment(SPACE, RandomSearch(), est, termination=MaxTrials(15), seed=3,
                         storage=SQLiteStorage(path), executor=ex)
        with pytest.raises(KeyboardInterrupt):
            exp.run(on_trial=stop)
        store = SQLiteStorage(path)
        before = store.trials(exp.id)
        ckpt = store.checkpoint(exp.id)
        assert len(before) == 5 and len(ckpt["runner"]["pending"]) == 1
        res = Experiment(SPACE, RandomSearch(), est, termination=MaxTrials(15), seed=3,
                         storage=store, executor=ex).run()
    assert res.resumed_trials == 5 and res.n_trials == 15
    assert [(t.seed, t.metrics) for t in res.trials[:5]] == [(t.seed, t.metrics) for t in before]
    assert sorted(t.seed for t in res.trials) == sorted(derive_seed(3, k) for k in range(15))
    json.dumps(res.to_json())


def test_fatal_error_in_worker_stops_the_run_with_its_message() -> None:
    first = _first_asked(3, seed=1)
    est = FaultyEstimator(fatal_on=[first[2].choices])
    with ProcessExecutor(2) as ex, pytest.raises(ConfigError, match="fatal configuration error"):
        Experiment(SPACE, RandomSearch(), est, termination=MaxTrials(10), seed=1,
                   executor=ex).run()
