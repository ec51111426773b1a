"""Final training: an architecture found by a search, trained again and recorded with it.

Records of kind ``final_training`` (one per architecture and training seed) are what
``naslab compare``'s ``retrain`` step and ``naslab train --experiment`` write and what reports
and the cost ledger read::

    {"arch", "choices", "seed", "eval_seed", "estimator": describe(), "status": "complete" |
     "failed", "metrics", "cost": {"wall_s", "simulated_s"}, "error", ...}

plus, from a comparison, ``incumbent_trial``, ``search_val`` and ``shared_with`` (runs that
found the same architecture), and, from ``naslab train``, ``protocol``, ``history`` and
``command``. Search cost and final-training cost stay separate (the ledger's phases).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from naslab.errors import ConfigError
from naslab.estimators.base import Estimator
from naslab.runner.executors import Executor, Task
from naslab.runner.records import TrialRecord
from naslab.runner.storage import Storage, TrialStore, _canon
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture

#: the record kind of a final training
FINAL_TRAINING = "final_training"
#: the evaluation seed of training seed ``s`` is ``derive_seed(s, RETRAIN_SALT)``
RETRAIN_SALT = 0x7E7


def final_training_record(arch: Architecture, *, seed: int, eval_seed: int,
                          estimator: Mapping[str, Any], metrics: Mapping[str, float] | None,
                          wall_s: float, simulated_s: float, error: str | None = None,
                          **extra: Any) -> dict[str, Any]:
    """One ``final_training`` record (``metrics`` None: the training failed with ``error``);
    ``extra`` keys follow the common ones."""
    return {
        "arch": str(arch), "choices": list(arch.to_json()["choices"]), "seed": seed,
        "eval_seed": eval_seed, "estimator": dict(estimator),
        "status": "complete" if metrics is not None else "failed",
        "metrics": {} if metrics is None else {k: float(v) for k, v in metrics.items()},
        "cost": {"wall_s": wall_s, "simulated_s": simulated_s}, "error": error, **extra,
    }


def record_final_training(storage: Storage, exp_id: str, record: Mapping[str, Any]) -> None:
    storage.add_record(exp_id, FINAL_TRAINING, dict(record))


def incumbent(store: TrialStore, exp_id: str, n_trials: int | None = None) -> TrialRecord | None:
    """The incumbent after the first ``n_trials`` trials (all by default), None if none."""
    trials = store.trials(exp_id)[:n_trials]
    if not trials or trials[-1].incumbent_number is None:
        return None
    return trials[trials[-1].incumbent_number]


def _tup(x: Any) -> Any:
    return tuple(_tup(v) for v in x) if isinstance(x, list) else x


def retrain_incumbents(storage: Storage, runs: Sequence[tuple[str, int]], estimator: Estimator,
                       seeds: Sequence[int], executor: Executor) -> int:
    """Train the incumbent of every run (``(experiment_id, n_trials)``: the incumbent after
    that many trials) with ``estimator`` for each training seed, through ``executor``, and
    record the results; returns the number of trainings made.

    An (architecture, seed) pair is trained once and its result recorded for every run that
    found it; records that already exist (same estimator description) are kept as they are.
    A ``NaslabError`` in a training stops with its message; any other failure is a record
    with ``status: "failed"``.
    """
    desc = estimator.describe()
    todo: dict[tuple[Any, int], list[tuple[str, TrialRecord]]] = {}
    for exp_id, n_trials in runs:
        inc = incumbent(storage, exp_id, n_trials)
        if inc is None:
            continue
        done = {(_tup(rec["choices"]), rec["seed"])
                for rec in storage.records(exp_id, FINAL_TRAINING)
                if _canon(rec.get("estimator")) == _canon(desc)}
        for s in seeds:
            if (tuple(inc.arch.choices), s) in done:
                continue
            todo.setdefault((inc.arch.choices, s), []).append((exp_id, inc))
    if not todo:
        return 0
    executor.start(estimator)
    tasks: dict[int, tuple[tuple[Any, int], Task]] = {}
    keys = list(todo)
    pending = 0
    i = 0
    while i < len(keys) or pending:
        while i < len(keys) and pending < executor.max_workers:
            arch = todo[keys[i]][0][1].arch
            task = Task(i, arch, None, derive_seed(keys[i][1], RETRAIN_SALT))
            tasks[i] = (keys[i], task)
            executor.submit(task)
            pending += 1
            i += 1
        for res in executor.wait():
            pending -= 1
            if res.fatal is not None:
                raise res.fatal
            key, task = tasks[res.ticket]
            ev = res.evaluation
            for exp_id, inc in todo[key]:
                record_final_training(storage, exp_id, final_training_record(
                    task.arch, seed=key[1], eval_seed=task.seed, estimator=desc,
                    metrics=None if ev is None else ev.metrics,
                    wall_s=(res.finished - res.started) if ev is None else ev.cost.wall_s,
                    simulated_s=0.0 if ev is None else ev.cost.simulated_s, error=res.error,
                    incumbent_trial=inc.number, search_val=inc.objective,
                    shared_with=len(todo[key])))
    return len(keys)


# --------------------------------------------------------------------------------------------
# naslab train: one architecture under a training protocol


@dataclass
class SearchOfRecord:
    """What ``naslab train --experiment ID`` takes from the search: its space, the dataset
    it trained on (if it trained), its best architecture and its search cost."""

    experiment_id: str
    space: str | None
    dataset: str | None
    best_arch: Architecture | None
    simulated_s: float
    wall_s: float
    trials: int

    def cost(self) -> dict[str, Any]:
        return {"experiment_id": self.experiment_id, "simulated_s": self.simulated_s,
                "wall_s": self.wall_s, "trials": self.trials}


def search_of_record(storage: Storage, exp_id: str) -> SearchOfRecord:
    """Read experiment ``exp_id`` (StorageError with suggestions when unknown)."""
    from naslab.runner.experiment import load_result

    info = storage.experiment(exp_id)
    res = load_result(storage, exp_id)
    est = info.config.get("estimator") or {}
    dataset = est.get("dataset") if est.get("estimator") == "train" else None
    return SearchOfRecord(exp_id, info.config.get("space"), dataset, res.best_arch,
                          res.simulated_cost_s, res.wall_s, res.n_trials)


def resolve_arch(text: str | None, space: Any, search: SearchOfRecord | None) -> Architecture:
    """``ARCH`` of ``naslab train``: an arch string or index of ``space``, or (None) the best
    architecture of the search given with ``--experiment``."""
    if text is None:
        if search is None:
            raise ConfigError(f"ARCH is missing: give an arch string or index of space "
                              f"{space.name!r}, or --experiment ID to retrain that search's best "
                              f"architecture")
        if search.best_arch is None:
            raise ConfigError(f"experiment {search.experiment_id!r} has no completed "
                              f"full-fidelity trial to retrain; give ARCH explicitly")
        return search.best_arch
    t = text.strip()
    arch: Architecture = space.from_index(int(t)) if t.isdigit() else space.parse(t)
    return arch


def train_architecture(arch: Architecture, estimator: Any, *, seed: int,
                       on_epoch: Callable[[dict[str, float]], None] | None = None,
                       command: str = "naslab train") -> tuple[dict[str, Any], Any]:
    """Train ``arch`` with a :class:`~naslab.estimators.training.TrainingEstimator`'s data,
    protocol, device and threads; returns the ``final_training`` record (with the protocol,
    the per-epoch history and ``command``) and the training result."""
    from naslab.estimators.training import train

    if estimator.num_threads is not None:
        import torch

        torch.set_num_threads(estimator.num_threads)
    t0 = time.perf_counter()
    data = estimator.data
    p = estimator.protocol
    r = train(arch, data, p, seed=seed, device=estimator.device, on_epoch=on_epoch)
    wall = time.perf_counter() - t0
    rec = final_training_record(arch, seed=seed, eval_seed=seed, estimator=estimator.describe(),
                                metrics=r.metrics, wall_s=wall, simulated_s=r.train_s,
                                protocol=p.describe(), history=r.history, command=command)
    return rec, r
