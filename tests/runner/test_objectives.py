"""Objectives as a vector: parsing, constraints, the identity of single-objective runs, the
per-trial front and hypervolume, resume of multi-objective runs, and what `naslab show` lists."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from naslab import registry
from naslab.errors import ConfigError
from naslab.estimators.base import (
    Constraint,
    Cost,
    Evaluation,
    Objective,
    Objectives,
    as_objectives,
)
from naslab.runner import Experiment, MaxTrials, SQLiteStorage, load_result
from naslab.runner.front import ParetoFront, hypervolume
from naslab.spaces import get_space
from naslab.strategies.base import Strategy
from naslab.testing import SyntheticEstimator

SPACE = get_space("nb201")
MO = ["val_acc", "latency_ms:min"]


def test_single_objective_describes_exactly_as_before() -> None:
    for x in ("val_acc", Objective("val_acc"), ["val_acc"], {"metric": "val_acc", "mode": "max"},
              Objectives((Objective(),))):
        assert as_objectives(x).describe() == {"metric": "val_acc", "mode": "max"}
    o = as_objectives("latency_ms:min")
    assert o.describe() == {"metric": "latency_ms", "mode": "min"}
    assert (o.metric, o.mode, o.primary, o.is_multi) == ("latency_ms", "min", Objective("latency_ms", "min"), False)
    ev = Evaluation({"val_acc": 90.0, "latency_ms": 4.0})
    assert o.value(ev) == 4.0 and o.score(ev) == -4.0 and o.better(3.0, 4.0)


def test_multi_objective_and_constraints_round_trip() -> None:
    o = as_objectives(["val_acc", "latency_ms:min", "params_m <= 1.5"], constraints=["latency_ms<5"])
    assert o.is_multi and [x.metric for x in o] == ["val_acc", "latency_ms"] and len(o) == 2
    assert o.constraints == (Constraint("params_m", "<=", 1.5), Constraint("latency_ms", "<", 5.0))
    d = o.describe()
    assert d["metric"] == "val_acc" and d["mode"] == "max"  # readers of the primary keep working
    assert Objectives.from_describe(json.loads(json.dumps(d))) == o
    ev = Evaluation({"val_acc": 90.0, "latency_ms": 4.0, "params_m": 1.0, "test_acc": 91.0})
    assert o.values(ev) == (90.0, 4.0) and o.feasible(ev)
    assert not o.feasible(Evaluation({"val_acc": 90.0, "latency_ms": 5.0, "params_m": 1.0}))
    assert o.dominates((91.0, 4.0), (90.0, 4.0)) and not o.dominates((90.0, 4.0), (90.0, 4.0))
    assert not o.dominates((91.0, 5.0), (90.0, 4.0))
    assert str(o) == "val_acc:max, latency_ms:min subject to params_m<=1.5, latency_ms<5"


@pytest.mark.parametrize("text, fragment", [
    ("latency_ms=5", "operator '=' is not supported"),
    ("latency_ms=>5", "did you mean '>='"),
    ("latency_ms==5", "operator '==' is not supported"),
    ("<=5", "names no metric before '<='"),
    ("latency_ms<=fast", "bound 'fast' is not a finite number"),
    ("latency_ms<=", "bound '' is not a finite number"),
    ("latency_ms<=inf", "bound 'inf' is not a finite number"),
    ("latency_ms 5", "has no comparison operator"),
    ("lat ency<=5", "'lat ency' is not a metric name"),
    ("test_acc>=90", "is a test metric"),
])
def test_bad_constraints_name_the_bad_part(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")):
        Constraint.parse(text)
    assert Constraint.parse(" latency_ms <= 5 ") == Constraint("latency_ms", "<=", 5)


@pytest.mark.parametrize("x, fragment", [
    ("val_acc:maximum", "mode 'maximum' must be 'max' or 'min'"),
    ("test_acc:max", "is a test metric"),
    (["val_acc", "val_acc:min"], "given more than once"),
    ([], "non-empty list"),
    (["latency_ms<=3"], "at least one objective"),
    ({"metric": "val_acc", "direction": "max"}, "unknown key"),
])
def test_bad_objectives(x: Any, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        as_objectives(x)
    with pytest.raises(ConfigError, match="one finite value per objective"):
        Objectives((Objective(), Objective("latency_ms", "min")), reference=(0.0,))


def test_experiment_ids_of_single_objective_runs_do_not_change(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    a = Experiment(SPACE, registry.create("strategy", "re"), tabular_c10, termination=MaxTrials(5))
    b = Experiment(SPACE, registry.create("strategy", "re"), tabular_c10, termination=MaxTrials(5),
                   objective=Objective("val_acc", "max"))
    assert a.config["objective"] == {"metric": "val_acc", "mode": "max"} and a.id == b.id
    c = Experiment(SPACE, registry.create("strategy", "re"), tabular_c10, termination=MaxTrials(5),
                   objective=MO)
    d = Experiment(SPACE, registry.create("strategy", "re"), tabular_c10, termination=MaxTrials(5),
                   constraints=["latency_ms<=10"])
    assert len({a.id, c.id, d.id}) == 3


def _brute_front(o: Objectives, trials: list[Any], max_fid: float | None = None) -> list[int]:
    pts = [t for t in trials if t.status == "complete" and t.feasible
           and (t.fidelity is None or max_fid is None or t.fidelity >= max_fid)]
    out, seen = [], set()
    for t in pts:
        if any(o.dominates(q.objectives, t.objectives) for q in pts) or t.objectives in seen:
            continue
        seen.add(t.objectives)
        out.append(t.number)
    return out


class Recorder(Strategy):
    def __init__(self) -> None:
        self.seen: list[Evaluation] = []

    def ask(self, n: int = 1):  # type: ignore[no-untyped-def]
        return [self.space.sample(self.rng) for _ in range(n)]

    def tell(self, arch, evaluation):  # type: ignore[no-untyped-def]
        self.seen.append(evaluation)


def test_front_after_every_trial_equals_brute_force_and_constraints_hold(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder()
    res = Experiment(SPACE, rec, tabular_c10, termination=MaxTrials(150), seed=2,
                     objective=MO, constraints=["params_m<=1.0"]).run()
    o = res.objectives
    assert all(not any(k.startswith("test_") for k in e.metrics) for e in rec.seen)
    for i, t in enumerate(res.trials):
        assert t.objectives == (t.metrics["val_acc"], t.metrics["latency_ms"])
        assert t.feasible == (t.metrics["params_m"] <= 1.0)
        assert t.front == _brute_front(o, res.trials[:i + 1])
        feasible = [q for q in res.trials[:i + 1] if q.feasible]
        if feasible:  # the incumbent: best feasible by the primary, first one on ties
            best = max(q.objective for q in feasible)
            assert t.incumbent_number == next(q.number for q in feasible if q.objective == best)
        else:
            assert t.incumbent_number is None
        assert t.hypervolume is None  # no reference point
    assert any(not t.feasible for t in res.trials) and len(res.front) >= 2
    assert [t.number for t in res.front] == res.trials[-1].front
    assert res.best is not None and res.best.feasible
    d = res.to_json()
    assert [f["trial"] for f in d["front"]] == res.trials[-1].front
    assert d["objectives"] == [{"metric": "val_acc", "mode": "max"},
                               {"metric": "latency_ms", "mode": "min"}]
    infeasible = sum(t.metrics["params_m"] > 1.0 for t in res.trials if t.status == "complete")
    assert d["constraints"] == ["params_m<=1"] and d["infeasible_trials"] == infeasible > 0


def test_front_counts_full_fidelity_trials_only(tabular_c10) -> None:  # type: ignore[no-untyped-def]
    res = Experiment(SPACE, registry.create("strategy", "sh"), tabular_c10, termination=MaxTrials(80),
                     seed=1, objective=MO).run()
    low = [t.number for t in res.trials if t.fidelity is not None]
    assert low and not set(low) & set(res.trials[-1].front or [])
    for i, t in enumerate(res.trials):
        assert t.front == _brute_front(res.objectives, res.trials[:i + 1], tabular_c10.max_fidelity)


def test_hypervolume_against_brute_force_on_a_grid() -> None:
    rng = np.random.default_rng(0)
    for d in (2, 3):
        for _ in range(20):
            pts = [tuple(int(x) for x in rng.integers(0, 8, d)) for _ in range(int(rng.integers(1, 9)))]
            ref = tuple([-1] * d)
            # unit cells [c, c+1) of the grid dominated by some point (maximisation)
            cells = sum(1 for c in itertools.product(range(-1, 8), repeat=d)
                        if any(all(ci + 1 <= pi for ci, pi in zip(c, p)) for p in pts))
            assert hypervolume(pts, ref) == pytest.approx(cells)
    o = Objectives((Objective("a"), Objective("b", "min")), reference=(0.0, 10.0))
    f = ParetoFront(o)
    for n, v in enumerate([(1.0, 5.0), (2.0, 8.0), (0.5, 6.0), (2.0, 8.0), (float("nan"), 1.0)]):
        f.add(n, v)
    assert f.numbers() == [0, 1]  # (0.5, 6) is dominated, the repeated (2, 8) keeps the first
    assert f.hypervolume() == pytest.approx(1.0 * 5.0 + 1.0 * 2.0)


class Lat(SyntheticEstimator):
    def evaluate(self, arch, *, fidelity=None, seed=0):  # type: ignore[no-untyped-def]
        ev = super().evaluate(arch, fidelity=fidelity, seed=seed)
        return Evaluation({**ev.metrics, "latency_ms": float(sum(arch.choices))}, ev.cost, ev.fidelity)


def _mo_traj(trials: list[Any]) -> list[Any]:
    return [(t.arch, t.objectives, t.feasible, t.front, t.hypervolume, t.incumbent_number)
            for t in trials]


def test_multi_objective_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    obj = Objectives((Objective(), Objective("latency_ms", "min")),
                     (Constraint("latency_ms", "<=", 14),), reference=(80.0, 30.0))
    full = Experiment(SPACE, registry.create("strategy", "re"), Lat(), termination=MaxTrials(90),
                      seed=3, objective=obj).run()
    assert full.hypervolume is not None and full.hypervolume > 0
    hv = [t.hypervolume for t in full.trials]
    assert all(b >= a for a, b in zip(hv, hv[1:]))  # a front only grows its hypervolume
    store = SQLiteStorage(tmp_path / "mo.db")
    for n in (7, 40, 90):
        part = Experiment(SPACE, registry.create("strategy", "re"), Lat(), termination=MaxTrials(n),
                          seed=3, objective=obj, storage=store).run()
    assert _mo_traj(part.trials) == _mo_traj(full.trials)
    assert _mo_traj(load_result(store, part.experiment_id).trials) == _mo_traj(full.trials)
    assert load_result(store, part.experiment_id).objectives == obj


def test_show_json_of_a_multi_objective_run_lists_the_front(tabular_c10, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from naslab.cli.main import _load_command_modules, app

    _load_command_modules()
    db = tmp_path / "mo.db"
    st = SQLiteStorage(db)
    res = Experiment(SPACE, registry.create("strategy", "rs"), tabular_c10, termination=MaxTrials(60),
                     seed=0, objective=MO, storage=st).run()
    st.close()
    r = CliRunner().invoke(app, ["show", res.experiment_id, "--storage", str(db), "--output", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert [f["trial"] for f in d["front"]] == [t.number for t in res.front]
    assert all(set(f) == {"trial", "arch", "objectives", "test_acc"} for f in d["front"])
    assert d["front"][0]["objectives"] == dict(zip(["val_acc", "latency_ms"], res.front[0].objectives))
    assert d["trajectory"][-1]["front"] == res.trials[-1].front
    text = CliRunner().invoke(app, ["show", res.experiment_id, "--storage", str(db)]).output
    assert "pareto front" in text and str(res.front[0].arch) in text and "latency_ms" in text
    runs = json.loads(CliRunner().invoke(app, ["runs", "--storage", str(db), "--output", "json"]).output)
    assert runs[0]["objectives"] == ["val_acc", "latency_ms"] and runs[0]["front"] == len(res.front)


def test_constraints_without_any_feasible_trial_leave_no_incumbent() -> None:
    class Cost1(SyntheticEstimator):
        def evaluate(self, arch, *, fidelity=None, seed=0):  # type: ignore[no-untyped-def]
            ev = super().evaluate(arch, fidelity=fidelity, seed=seed)
            return Evaluation(ev.metrics, Cost(0.0, 1.0), ev.fidelity)

    res = Experiment(SPACE, registry.create("strategy", "rs"), Cost1(), termination=MaxTrials(10),
                     constraints=["params_m<1"]).run()
    assert res.best is None and res.front == [] and all(t.feasible is False for t in res.trials)
    with pytest.raises(ConfigError, match="constraint metric 'flops' is not among"):
        Experiment(SPACE, registry.create("strategy", "rs"), Cost1(), termination=MaxTrials(3),
                   constraints=["flops<1"]).run()
