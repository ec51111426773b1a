"""The experiment loop: honest protocol, incumbent, reuse, termination, determinism, resume."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from naslab import registry
from naslab.errors import ConfigError, NaslabError, StorageError
from naslab.estimators.base import Cost, Estimator, Evaluation, Objective
from naslab.runner import (
    Experiment,
    InMemoryStorage,
    MaxSimulatedSeconds,
    MaxTrials,
    MaxWallSeconds,
    SQLiteStorage,
    load_result,
    make_termination,
)
from naslab.spaces import get_space
from naslab.strategies.base import Strategy
from naslab.testing import SyntheticEstimator

SPACE = get_space("nb201")


def _run(strategy: str, est: Estimator, n: int = 60, seed: int = 0, **kw):  # type: ignore[no-untyped-def]
    return Experiment(SPACE, registry.create("strategy", strategy), est,
                      termination=MaxTrials(n), seed=seed, **kw).run()


def _traj(result) -> list:  # type: ignore[no-untyped-def]
    return [(t.arch, t.objective, t.metrics.get("test_acc"), t.reused, t.incumbent_number)
            for t in result.trials]


class Recorder(Strategy):
    """Random proposals; remembers every evaluation it is told."""

    def __init__(self) -> None:
        self.seen: list[Evaluation] = []

    def ask(self, n: int = 1):  # type: ignore[no-untyped-def]
        return [self.space.sample(self.rng) for _ in range(n)]

    def tell(self, arch, evaluation):  # type: ignore[no-untyped-def]
        self.seen.append(evaluation)


def test_strategies_never_see_test_metrics_but_storage_keeps_them(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder()
    res = Experiment(SPACE, rec, tabular_c10, termination=MaxTrials(40), seed=0).run()
    assert len(rec.seen) == 40
    assert all("val_acc" in e.metrics and not any(k.startswith("test_") for k in e.metrics)
               for e in rec.seen)
    assert all("test_acc" in t.metrics for t in res.trials)


def test_incumbent_is_best_by_validation_with_its_test_accuracy(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    res = _run("rs", tabular_c10, n=100, seed=3)
    best = -1.0
    for t in res.trials:
        best = max(best, t.objective)
        inc = res.trials[t.incumbent_number]
        assert inc.objective == best and t.incumbent_test == inc.metrics["test_acc"]
    assert res.best is not None and res.best.objective == max(t.objective for t in res.trials)
    b = tabular_c10.bench
    assert res.test_acc == b.query(res.best_arch, "test_acc")
    assert res.regret == pytest.approx(b.optimum() - res.test_acc)
    assert res.simulated_cost_s == pytest.approx(sum(t.cost.simulated_s for t in res.trials))


def test_repeated_architectures_are_answered_from_the_record_for_free(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    res = _run("re", tabular_c10, n=150, seed=0)
    seen: dict = {}
    reused = 0
    for t in res.trials:
        if t.arch in seen:
            reused += 1
            assert t.reused and t.cost.simulated_s == 0.0
            assert t.metrics == seen[t.arch].metrics  # same answer as the first evaluation
        else:
            assert not t.reused and t.cost.simulated_s == tabular_c10.bench.query(t.arch, "train_time_s")
            seen[t.arch] = t
    assert reused > 0


def test_same_seed_same_trajectory_other_seed_differs(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    for name in ("rs", "re", "ls", "reinforce"):
        a, b, c = (_run(name, tabular_c10, n=80, seed=s) for s in (7, 7, 8))
        assert _traj(a) == _traj(b), name
        assert _traj(a) != _traj(c), name


def test_termination_rules(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    res = Experiment(SPACE, registry.create("strategy", "rs"), tabular_c10,
                     termination=MaxSimulatedSeconds(20 * 3600), seed=0).run()
    # stops at the first trial that reaches the budget
    assert res.simulated_cost_s >= 20 * 3600
    assert res.trials[-2].cum_simulated_s < 20 * 3600
    res = Experiment(SPACE, registry.create("strategy", "rs"), tabular_c10,
                     termination=MaxTrials(10) | MaxSimulatedSeconds(1e9), seed=0).run()
    assert res.n_trials == 10
    res = Experiment(SPACE, registry.create("strategy", "rs"), tabular_c10,
                     termination=MaxWallSeconds(0.2), seed=0).run()
    assert res.n_trials > 10 and 0.2 <= res.wall_s < 2
    for bad in (dict(max_trials=0), dict(max_trials="x"), dict(max_simulated_s=-1), {}):
        with pytest.raises(ConfigError):
            make_termination(**bad)


def test_objective_refuses_test_metrics() -> None:
    with pytest.raises(ConfigError, match="test metric"):
        Objective("test_acc")
    with pytest.raises(ConfigError):
        Experiment(SPACE, registry.create("strategy", "rs"), SyntheticEstimator(),
                   termination=MaxTrials(5), objective="test_acc")


def test_failed_evaluations_are_recorded_and_the_run_goes_on() -> None:
    res = _run("re", SyntheticEstimator(fail_every=5), n=60)
    failed = [t for t in res.trials if t.status == "failed"]
    assert res.n_trials == 60 and failed
    assert all("synthetic failure" in (t.error or "") for t in failed)
    assert res.best is not None and res.best.status == "complete"


class ConfigBreaks(Estimator):
    def evaluate(self, arch, *, fidelity=None, seed=0):  # type: ignore[no-untyped-def]
        raise ConfigError("the estimator is misconfigured")


def test_user_errors_inside_evaluation_stop_the_run() -> None:
    with pytest.raises(ConfigError, match="misconfigured"):
        _run("rs", ConfigBreaks(), n=5)


class Stuck(Strategy):
    def ask(self, n: int = 1):  # type: ignore[no-untyped-def]
        return []

    def tell(self, arch, evaluation):  # type: ignore[no-untyped-def]
        pass


def test_a_strategy_that_proposes_nothing_is_an_error() -> None:
    with pytest.raises(NaslabError, match="proposed nothing"):
        Experiment(SPACE, Stuck(), SyntheticEstimator(), termination=MaxTrials(3)).run()


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="seed"):
        Experiment(SPACE, registry.create("strategy", "rs"), SyntheticEstimator(),
                   termination=MaxTrials(3), seed=-1)
    with pytest.raises(ConfigError, match="has no parameter 'pop_size'"):
        registry.create("strategy", "re", pop_size=3)
    with pytest.raises(NaslabError, match="did you mean 're'"):
        registry.get("strategy", "ree")


# --- storage and resume ---------------------------------------------------------------------

def test_resume_in_steps_equals_an_uninterrupted_run(tabular_c10, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name in ("re", "ls", "reinforce", "rs"):
        full = _run(name, tabular_c10, n=120, seed=5)
        store = SQLiteStorage(tmp_path / f"{name}.db")
        for n in (1, 37, 80, 120):  # a larger budget extends the same experiment
            part = Experiment(SPACE, registry.create("strategy", name), tabular_c10,
                              termination=MaxTrials(n), seed=5, storage=store).run()
            assert part.n_trials == n
        assert part.resumed_trials == 80
        assert _traj(part) == _traj(full), name
        # a smaller budget reports the recorded prefix without running anything
        again = Experiment(SPACE, registry.create("strategy", name), tabular_c10,
                           termination=MaxTrials(50), seed=5, storage=store).run()
        assert _traj(again) == _traj(full)[:50]
        assert _traj(load_result(store, part.experiment_id)) == _traj(full)


def test_same_id_with_another_config_is_refused(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "s.db")
    Experiment(SPACE, registry.create("strategy", "re"), SyntheticEstimator(), termination=MaxTrials(3),
               storage=store, experiment_id="mine").run()
    with pytest.raises(StorageError, match="different configuration"):
        Experiment(SPACE, registry.create("strategy", "re", population_size=20), SyntheticEstimator(),
                   termination=MaxTrials(3), storage=store, experiment_id="mine").run()
    with pytest.raises(StorageError, match="did you mean 'mine'"):
        store.experiment("mina")


def test_in_memory_runs_keep_no_checkpoints() -> None:
    store = InMemoryStorage()
    Experiment(SPACE, registry.create("strategy", "re"), SyntheticEstimator(), termination=MaxTrials(5),
               storage=store, experiment_id="x").run()
    assert store.checkpoint("x") is None and len(store.trials("x")) == 5


def test_import_naslab_and_tabular_search_do_not_import_torch(data_dir: Path) -> None:
    code = (
        "import sys, naslab\n"
        "from naslab import Experiment, MaxTrials, create, get_space, names\n"
        "from naslab.estimators.tabular import TabularEstimator\n"
        "for k in naslab.registry.KIND_PACKAGES: names(k)\n"
        f"est = TabularEstimator('nb201/cifar10', data_dir={str(data_dir)!r})\n"
        "Experiment(get_space('nb201'), create('strategy', 're'), est, termination=MaxTrials(20)).run()\n"
        "import naslab.cli.main\n"
        "bad = [m for m in ('torch', 'matplotlib', 'ray') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_reinforce_policy_learns(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    s = registry.create("strategy", "reinforce", learning_rate=0.05)
    Experiment(SPACE, s, tabular_c10, termination=MaxTrials(300), seed=0).run()
    p = s.probs()
    assert np.allclose(p.sum(axis=1), 1.0)
    # the policy moves away from uniform, towards convolutions, away from 'none'
    assert p[:, 3].mean() > 0.2 > p[:, 0].mean()


class WithInfo(Estimator):
    """Evaluations carry JSON extras, as the training estimator's protocol hash and curves."""

    def evaluate(self, arch, *, fidelity=None, seed=0):  # type: ignore[no-untyped-def]
        return Evaluation({"val_acc": float(sum(arch.choices))}, Cost(0.0, 1.0), None,
                          {"protocol_hash": "abc123", "curve": [float(c) for c in arch.choices]})


def test_each_trial_stores_the_evaluations_info(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "i.db")
    res = Experiment(SPACE, registry.create("strategy", "re"), WithInfo(), termination=MaxTrials(60),
                     storage=store, experiment_id="info").run()
    stored = store.trials("info")
    assert any(t.reused for t in stored)
    for t, s in zip(res.trials, stored):
        assert s.info == {"protocol_hash": "abc123", "curve": [float(c) for c in t.arch.choices]}


@pytest.mark.parametrize("strategy,budget", [("re", 300), ("rs", 200), ("ls", 250)])
def test_the_serial_inline_loop_equals_the_generic_loop(strategy: str, budget: int) -> None:
    """The serial executor's queue-free loop (`_loop_inline`) gives the trials the generic
    ask/submit/wait loop gives (a SerialExecutor subclass takes the generic path)."""
    from naslab.runner.executors import SerialExecutor

    class QueuedSerial(SerialExecutor):
        pass

    def run(executor):  # type: ignore[no-untyped-def]
        return Experiment(SPACE, registry.create("strategy", strategy), SyntheticEstimator(),
                          termination=MaxTrials(budget), seed=11, executor=executor).run()

    inline, generic = run(None), run(QueuedSerial())
    assert [(t.number, t.arch, t.seed, t.reused, t.metrics, t.incumbent_number)
            for t in inline.trials] == \
        [(t.number, t.arch, t.seed, t.reused, t.metrics, t.incumbent_number)
         for t in generic.trials]
    if strategy == "re":  # the answers from the run's record take the same path too
        assert any(t.reused for t in inline.trials)


class _Failing(SyntheticEstimator):
    """A synthetic estimator whose evaluation raises (a failed trial) on some archs."""

    def evaluate(self, arch, *, fidelity=None, seed=0):  # type: ignore[no-untyped-def]
        if sum(arch.choices) % 7 == 0:
            raise ValueError(f"cannot score {arch}")
        return super().evaluate(arch, fidelity=fidelity, seed=seed)


def _recorded(t):  # type: ignore[no-untyped-def]
    """Every field of a trial record but the wall-clock ones."""
    import dataclasses

    d = {f.name: getattr(t, f.name) for f in dataclasses.fields(t)}
    for k in ("started", "finished", "cum_wall_s"):
        d.pop(k)
    d["cost"] = d["cost"].simulated_s
    if d["error"] is not None:
        d["error"] = d["error"].splitlines()[0]
    return d


@pytest.mark.parametrize("case", ["nb201", "nb201-fixed-12", "multiobjective-constrained",
                                  "min-objective", "failing", "subclass"])
def test_the_serial_fast_path_records_what_the_generic_loop_records(
        case: str, tabular_c10) -> None:  # type: ignore[no-untyped-def]
    """The serial loop's fast path (the estimator's parts evaluator, the record made and the
    single objective compared in place, the told evaluation without test metrics) records
    every field the generic loop records, on real NB201 data and on the paths it hands over:
    a fixed search fidelity, several objectives with a constraint, a minimised objective,
    failed evaluations, and a subclass that overrides ``evaluate`` (its answers are used)."""
    from naslab.estimators.tabular import TabularEstimator
    from naslab.runner.executors import SerialExecutor

    class QueuedSerial(SerialExecutor):
        pass

    ddir = tabular_c10.bench.data_dir
    kw: dict = {}
    strategy = "re"
    if case == "nb201":
        est = TabularEstimator("nb201/cifar10", data_dir=ddir)
    elif case == "nb201-fixed-12":
        est = TabularEstimator("nb201/cifar10", data_dir=ddir, fidelity=12)
    elif case == "multiobjective-constrained":
        est = TabularEstimator("nb201/cifar10", data_dir=ddir, devices=["pixel3"])
        kw = {"objective": ["val_acc", "latency_ms@pixel3:min"],
              "constraints": ["params_m<=0.8"]}
        strategy = "mo_re" if "mo_re" in registry.names("strategy") else "rs"
    elif case == "min-objective":
        est = TabularEstimator("nb201/cifar10", data_dir=ddir)
        kw = {"objective": "latency_ms:min"}
    elif case == "failing":
        est = _Failing()
    else:
        class Shifted(TabularEstimator):
            def evaluate(self, arch, *, fidelity=None, seed=0):  # type: ignore[no-untyped-def]
                ev = super().evaluate(arch, fidelity=fidelity, seed=seed)
                return Evaluation({**ev.metrics, "val_acc": ev.metrics["val_acc"] + 100.0},
                                  ev.cost, ev.fidelity, ev.info)

        est = Shifted("nb201/cifar10", data_dir=ddir)

    def run(executor):  # type: ignore[no-untyped-def]
        return Experiment(SPACE, registry.create("strategy", strategy), est,
                          termination=MaxTrials(150), seed=5, executor=executor, **kw).run()

    fast, generic = run(None), run(QueuedSerial())
    assert [_recorded(t) for t in fast.trials] == [_recorded(t) for t in generic.trials]
    if case == "failing":
        assert any(t.status == "failed" for t in fast.trials)
    if case == "subclass":
        assert all(t.metrics["val_acc"] > 100.0 for t in fast.trials)
        assert not est.float_metrics  # an override's dicts are converted, as any estimator's
    if case == "multiobjective-constrained":
        assert fast.trials[-1].front and any(t.feasible is False for t in fast.trials)
    if case in ("nb201", "min-objective"):  # answers from the run's record take it too
        assert any(t.reused for t in fast.trials)
