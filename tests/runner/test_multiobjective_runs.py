"""Multi-objective runs: the hypervolume reference point, constraints for every strategy,
and the multi-objective strategies' state through storage (resume equals an uninterrupted
run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from naslab import registry
from naslab.analysis.pareto import hypervolume
from naslab.errors import ConfigError
from naslab.estimators.base import CONSTRAINT_PENALTY, Evaluation, as_objectives
from naslab.runner import Experiment, MaxTrials, SQLiteStorage, load_result, parse_reference
from naslab.spaces import get_space
from naslab.testing import SyntheticEstimator
from naslab.testing.mo_strategies import SyntheticLatencyEstimator

SPACE = get_space("nb201")
MO = ["val_acc", "latency_ms@pixel3:min"]


def test_default_reference_is_the_worst_of_the_space_and_every_hypervolume_is_pymoos(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    from naslab.estimators.tabular import TabularEstimator

    est = TabularEstimator("nb201/cifar10", data_dir=tabular_c10.bench.data_dir, devices=["pixel3"])
    res = Experiment(SPACE, registry.create("strategy", "nsga2"), est, termination=MaxTrials(120),
                     seed=0, objective=MO).run()
    b = est.bench
    ref = (b.column("val_acc").min(), b.column("latency_ms", device="pixel3").max())
    assert res.objectives.reference == pytest.approx(ref)
    assert res.config["objective"]["reference"] == pytest.approx(list(ref))
    hv = [t.hypervolume for t in res.trials]
    assert all(y >= x for x, y in zip(hv, hv[1:])) and hv[-1] > hv[0] > 0
    for t in res.trials[::17]:
        pts = [res.trials[n].objectives for n in t.front]
        assert t.hypervolume == pytest.approx(hypervolume(pts, ref, ["max", "min"]))
    none = Experiment(SPACE, registry.create("strategy", "nsga2"), est, termination=MaxTrials(5),
                      seed=0, objective=MO, reference="none")
    given = Experiment(SPACE, registry.create("strategy", "nsga2"), est, termination=MaxTrials(5),
                       seed=0, objective=MO, reference=(50.0, 30.0))
    auto = Experiment(SPACE, registry.create("strategy", "nsga2"), est, termination=MaxTrials(5),
                      seed=0, objective=MO)
    assert len({none.id, given.id, auto.id}) == 3  # the reference point is part of the identity
    assert all(t.hypervolume is None for t in none.run().trials)
    r = given.run()
    assert r.trials[-1].hypervolume == pytest.approx(hypervolume(
        [t.objectives for t in r.front], (50.0, 30.0), ["max", "min"]))


def test_reference_errors_and_unknown_worst_values() -> None:
    est = SyntheticLatencyEstimator()
    with pytest.raises(ConfigError, match="one finite value per objective"):
        Experiment(SPACE, registry.create("strategy", "rs"), est, termination=MaxTrials(3),
                   objective=["val_acc", "latency_ms:min"], reference=(1.0,))
    with pytest.raises(ConfigError, match="applies to multi-objective runs"):
        Experiment(SPACE, registry.create("strategy", "rs"), est, termination=MaxTrials(3),
                   reference=(1.0,))
    with pytest.raises(ConfigError, match="'fast' is not a finite number"):
        parse_reference("0,fast")
    assert parse_reference(" 0, 40 ") == (0.0, 40.0) and parse_reference("none") == "none"
    # an estimator that does not know the worst latency: no default, no hypervolume
    res = Experiment(SPACE, registry.create("strategy", "rs"), SyntheticEstimator(),
                     termination=MaxTrials(5), objective=["val_acc", "params_m:min"]).run()
    assert res.objectives.reference is None and res.hypervolume is None and res.front


def test_constrained_score_follows_debs_feasibility_rule() -> None:
    o = as_objectives("val_acc", constraints=["latency_ms<=5"])
    ok = o.score(Evaluation({"val_acc": 10.0, "latency_ms": 5.0}))
    near = o.score(Evaluation({"val_acc": 95.0, "latency_ms": 5.5}))
    far = o.score(Evaluation({"val_acc": 99.0, "latency_ms": 10.0}))
    assert ok == 10.0 and ok > near > far and near < -CONSTRAINT_PENALTY
    assert as_objectives("val_acc").score(Evaluation({"val_acc": 95.0, "latency_ms": 50.0})) == 95.0
    m = as_objectives("latency_ms:min", constraints=["val_acc>=90"])
    assert m.score(Evaluation({"val_acc": 91.0, "latency_ms": 80.0})) == -80.0
    assert m.score(Evaluation({"val_acc": 80.0, "latency_ms": 1.0})) < -CONSTRAINT_PENALTY


@pytest.mark.parametrize("name", ["re", "ls", "reinforce", "nsga2", "mo_re"])
def test_every_strategy_searches_within_the_constraint(tabular_c10, name: str) -> None:  # type: ignore[no-untyped-def]
    """A latency bound that a quarter of the space meets: the incumbent is feasible, and the
    strategy (told only validation metrics and latency) proposes far more feasible archs than
    random search does in the second half of the run."""
    bound = float(np.quantile(tabular_c10.bench.column("latency_ms"), 0.25))
    cons = [f"latency_ms<={bound}"]

    def run(strategy: str, seed: int) -> float:
        res = Experiment(SPACE, registry.create("strategy", strategy), tabular_c10,
                         termination=MaxTrials(200), seed=seed, constraints=cons).run()
        assert res.best is not None and res.best.feasible and res.best.metrics["latency_ms"] <= bound
        return float(np.mean([t.feasible for t in res.trials[100:]]))

    mine = np.mean([run(name, s) for s in range(3)])
    rs = np.mean([run("rs", s) for s in range(3)])
    assert rs < 0.35 and mine > rs + 0.12, (name, mine, rs)  # measured: +0.2 to +0.35


@pytest.mark.parametrize("name", ["nsga2", "mo_re"])
def test_multi_objective_resume_equals_an_uninterrupted_run(tmp_path: Path, name: str) -> None:
    est = SyntheticLatencyEstimator()
    kw = dict(objective=["val_acc", "latency_ms:min"], constraints=["latency_ms<=55"], seed=4)

    def sig(trials: list) -> list:  # type: ignore[type-arg]
        return [(t.arch, t.objectives, t.feasible, t.front, t.hypervolume, t.incumbent_number)
                for t in trials]

    full = Experiment(SPACE, registry.create("strategy", name), est, termination=MaxTrials(130),
                      **kw).run()  # type: ignore[arg-type]
    store = SQLiteStorage(tmp_path / "mo.db")
    for n in (1, 19, 20, 21, 77, 130):  # generation boundaries of nsga2 (population 20) too
        part = Experiment(SPACE, registry.create("strategy", name), est, termination=MaxTrials(n),
                          storage=store, **kw).run()  # type: ignore[arg-type]
    assert sig(part.trials) == sig(full.trials)
    assert sig(load_result(store, part.experiment_id).trials) == sig(full.trials)
    store.close()
