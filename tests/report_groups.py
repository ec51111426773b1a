"""Comparison groups in SQLite storage for the report tests, written through the storage API
as `naslab compare` writes them (experiments labelled strategy/seed/target, group config with
kind, budget and baseline; final-training records of every run's incumbent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from naslab import registry
from naslab.runner import Experiment, InMemoryStorage, MaxTrials, SQLiteStorage
from naslab.spaces.base import get_space

STRATEGIES = ("rs", "re", "ls")


def make_group(path: Path, estimators: dict[str, Any], *, seeds: range, trials: int,
               budget: int | None = None, group: str = "cmp", final_training: bool = False,
               strategies: tuple[str, ...] = STRATEGIES) -> SQLiteStorage:
    """Run strategies x seeds x targets (in memory), copy every run into SQLite storage in one
    transaction per run, and collect them in group ``group``."""
    st = SQLiteStorage(path)
    st.open_group(group, {"kind": "comparison", "name": group, "baseline": "rs",
                          "strategies": [{"label": s, "name": s, "params": {}} for s in strategies],
                          "seeds": list(seeds), "targets": list(estimators),
                          "budget": {"max_trials": budget or trials}})
    space = get_space("nb201")
    for target, est in estimators.items():
        for s in strategies:
            for seed in seeds:
                mem = InMemoryStorage()
                exp = Experiment(space, registry.create("strategy", s), est,
                                 termination=MaxTrials(trials), storage=mem, seed=seed,
                                 meta={"command": "test"})
                res = exp.run()
                info = mem.experiment(exp.id)
                st.open_experiment(exp.id, info.config, info.meta)
                st.record_trials(exp.id, res.trials)
                st.set_status(exp.id, "finished")
                st.add_to_group(group, exp.id, {"strategy": s, "seed": seed, "target": target})
                if final_training and res.best is not None:
                    ev = est.evaluate(res.best.arch, seed=1000 + seed)
                    st.add_record(exp.id, "final_training", {
                        "arch": str(res.best.arch), "choices": list(res.best.arch.choices),
                        "seed": 0, "eval_seed": 1000 + seed, "estimator": est.describe(),
                        "status": "complete", "metrics": dict(ev.metrics),
                        "cost": {"wall_s": ev.cost.wall_s, "simulated_s": ev.cost.simulated_s},
                        "error": None, "incumbent_trial": res.best.number,
                        "search_val": res.best.objective, "shared_with": 1})
    return st


_built: dict[str, Path] = {}


@pytest.fixture(scope="session")
def comparison_db(tmp_path_factory: pytest.TempPathFactory, tabular_c10: Any) -> Path:
    """rs, re, ls x 6 seeds x 40 trials on nb201/cifar10, with final-training records
    (built once per test session, whichever module asks first)."""
    if "cmp" not in _built:
        path = tmp_path_factory.mktemp("report") / "cmp.db"
        make_group(path, {"nb201/cifar10": tabular_c10}, seeds=range(6), trials=40,
                   final_training=True).close()
        _built["cmp"] = path
    return _built["cmp"]
