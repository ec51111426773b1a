"""The cost ledger of a run: what each phase cost, kept apart (search cost and final-training
cost are never summed silently).

Phases:

* ``search`` -- the trials of a black-box search (``kind="search"``): the cumulative
  simulated and wall cost after the last trial kept;
* ``supernet_training`` -- records of kind ``oneshot_epoch`` (one per supernet epoch);
* ``supernet_search`` -- records of kind ``oneshot_search`` (search on the trained supernet);
* ``final_training`` -- records of kind ``final_training`` (``naslab train --experiment``,
  a comparison's ``retrain``) and, for a one-shot run (``kind="oneshot"``), its trials: the
  derived architectures scored by the estimator.

A record counts toward a phase by its kind, or by a ``"phase"`` key naming one of the phases;
its cost is ``record["cost"] = {"wall_s", "simulated_s"}`` (or top-level ``wall_s`` /
``simulated_s``) and its device ``record["device"]``. Failed records (``status: "failed"``)
are counted in ``failed`` and not in the cost.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from naslab.runner.storage import Storage

PHASES = ("search", "supernet_training", "supernet_search", "final_training")
#: record kind -> phase
RECORD_PHASES = {"oneshot_epoch": "supernet_training", "oneshot_search": "supernet_search",
                 "final_training": "final_training"}


def cost_ledger(storage: Storage, exp_id: str, *,
                n_trials: int | None = None) -> dict[str, dict[str, Any]]:
    """The ledger of experiment ``exp_id``: ``{phase: {"wall_s", "simulated_s", "device", "n",
    "failed"}}`` for every phase in :data:`PHASES` (zeros where nothing was spent).

    ``n``: trials (search) or records counted; ``wall_s`` / ``simulated_s``: the phase's total
    (for ``final_training`` the sum over its trainings: divide by ``n`` for one training).
    ``n_trials`` keeps only the first trials (a run cut to a smaller budget)."""
    info = storage.experiment(exp_id)
    cols = storage.trial_columns(exp_id, ("status", "cum_simulated_s", "cum_wall_s"))
    k = len(cols["status"]) if n_trials is None else min(n_trials, len(cols["status"]))
    return ledger_from(info.config, info.meta, kind=info.kind,
                       cum_simulated_s=cols["cum_simulated_s"][k - 1] if k else 0.0,
                       cum_wall_s=cols["cum_wall_s"][k - 1] if k else 0.0,
                       n_trials=k, n_failed=sum(s == "failed" for s in cols["status"][:k]),
                       records=storage.records(exp_id))


def ledger_from(config: Mapping[str, Any], meta: Mapping[str, Any], *, kind: str = "search",
                cum_simulated_s: float, cum_wall_s: float, n_trials: int, n_failed: int = 0,
                records: Sequence[Mapping[str, Any]] = ()) -> dict[str, dict[str, Any]]:
    """:func:`cost_ledger` from what a caller has already read (reports read thousands of
    runs: they pass the arrays they hold instead of reading each run again)."""
    import numpy as np

    out: dict[str, dict[str, Any]] = {
        p: {"wall_s": 0.0, "simulated_s": 0.0, "device": None, "n": 0, "failed": 0}
        for p in PHASES}
    sums: dict[str, tuple[list[float], list[float]]] = {}
    for rec in records:
        phase = rec.get("phase") if rec.get("phase") in PHASES else RECORD_PHASES.get(
            str(rec.get("kind")))
        if phase is None:
            continue
        row = out[phase]
        if rec.get("status", "complete") != "complete":
            row["failed"] += 1
            continue
        cost = rec.get("cost") or {}
        sims, walls = sums.setdefault(phase, ([], []))
        sims.append(float(cost.get("simulated_s", rec.get("simulated_s", math.nan))))
        walls.append(float(cost.get("wall_s", rec.get("wall_s", math.nan))))
        row["n"] += 1
        if row["device"] is None:
            row["device"] = rec.get("device") or _device(rec.get("estimator"), meta)
    for phase, (sims, walls) in sums.items():
        # numpy's sum, so that total / n is bit for bit numpy's mean (what reports show)
        out[phase]["simulated_s"] = float(np.sum(sims))
        out[phase]["wall_s"] = float(np.sum(walls))
    t = out["final_training" if kind == "oneshot" else "search"]
    t["simulated_s"] += float(cum_simulated_s)
    t["wall_s"] += float(cum_wall_s)
    t["n"] += int(n_trials)
    t["failed"] += int(n_failed)
    t["device"] = t["device"] or _device(config.get("estimator"), meta)
    return out


def _device(estimator: Any, meta: Mapping[str, Any]) -> str | None:
    """The device an estimator (description) ran on, when it says (else the run's meta)."""
    if isinstance(estimator, Mapping):
        for key in ("device", "devices"):
            v = estimator.get(key)
            if isinstance(v, str) and v:
                return v
    v = meta.get("device")
    return v if isinstance(v, str) else None
