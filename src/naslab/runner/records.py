"""What storage holds per trial and per experiment (shared by every storage back-end)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from naslab.estimators.base import Cost, Evaluation
from naslab.spaces.base import Architecture

#: experiment kinds: black-box searches (the Experiment loop) and one-shot runs
EXPERIMENT_KINDS = ("search", "oneshot")


@dataclass(slots=True)
class TrialRecord:
    """One evaluated (or failed) architecture, with the incumbent (and front) after it."""

    number: int
    arch: Architecture
    status: str  # "complete" | "failed"
    metrics: dict[str, float] = field(default_factory=dict)  # test metrics included
    #: the primary objective's raw value (what single-objective code reads)
    objective: float | None = None
    fidelity: float | None = None
    seed: int = 0
    cost: Cost = field(default_factory=Cost)
    reused: bool = False
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0
    # incumbent after this trial (best primary objective among feasible full-fidelity trials)
    incumbent_number: int | None = None
    incumbent_objective: float | None = None
    incumbent_test: float | None = None
    cum_simulated_s: float = 0.0
    cum_wall_s: float = 0.0
    #: the evaluation's JSON-able extras (e.g. the training protocol and its hash, learning curves)
    info: dict[str, Any] = field(default_factory=dict)
    #: raw value of every objective, in the run's order (None for a failed trial)
    objectives: tuple[float, ...] | None = None
    #: whether the run's constraints hold (None for a failed trial)
    feasible: bool | None = None
    #: multi-objective runs: trial numbers of the non-dominated feasible full-fidelity set
    #: after this trial (None for single-objective runs)
    front: list[int] | None = None
    #: hypervolume of ``front`` against the objectives' reference point (None without one)
    hypervolume: float | None = None

    @property
    def evaluation(self) -> Evaluation:
        return Evaluation(dict(self.metrics), self.cost, self.fidelity, dict(self.info))


@dataclass
class ExperimentInfo:
    id: str
    created: float
    updated: float
    status: str
    config: dict[str, Any]
    meta: dict[str, Any]
    n_trials: int = 0
    #: "search" (black-box Experiment) or "oneshot" (a one-shot run)
    kind: str = "search"
