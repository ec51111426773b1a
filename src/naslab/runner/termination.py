"""When an experiment stops: trial counts, simulated seconds, wall seconds, or any of them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from naslab.errors import ConfigError, check_float, check_int, check_limit, did_you_mean

#: what happens to the trial that takes a run past a cost budget: ``keep`` (today's default: it
#: is recorded, so the run may overshoot by one trial) or ``discard`` (NB201's search scripts:
#: the query that would exceed the budget is dropped and the run stops before it)
OVER_BUDGET = ("keep", "discard")


@dataclass(slots=True)
class Progress:
    """What a run has spent so far (completed trials only, plus the number still pending).
    A plain value the runner makes before every trial (not frozen: that costs a microsecond
    per trial); rules must not change it."""

    n_trials: int = 0
    n_pending: int = 0
    simulated_s: float = 0.0
    wall_s: float = 0.0


class Termination(ABC):
    """A stopping rule, checked by the runner before it starts a new trial.

    Rules are monotone: once ``done`` for some progress, ``done`` for any progress that has
    spent at least as much (every rule here is); :func:`prefix_length` relies on it.
    """

    @abstractmethod
    def done(self, progress: Progress) -> bool:
        """True when no further trial may start."""

    def trials_left(self, progress: Progress) -> int | None:
        """How many more trials may start now (None = no trial limit)."""
        return None

    def admits(self, progress: Progress, simulated_s: float) -> bool:
        """Whether a finished trial of simulated cost ``simulated_s`` may be recorded after
        ``progress``; False only under a rule that discards the query that would exceed its
        budget (``over_budget="discard"``). The runner then drops it and stops."""
        return True

    def may_discard(self) -> bool:
        """Whether :meth:`admits` can ever be False (the runner skips the check otherwise):
        True for any rule that overrides :meth:`admits`, unless it says otherwise."""
        return type(self).admits is not Termination.admits

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """JSON-able description."""

    def __or__(self, other: Termination) -> AnyOf:
        return AnyOf(self, other)


class MaxTrials(Termination):
    """Stop after ``n`` trials (evaluations, including answers reused from the run's record)."""

    def __init__(self, n: int) -> None:
        self.n = check_int("max trials (budget)", n, minimum=1, expected=">= 1")
        check_limit("trials", self.n, "the trial budget")

    def done(self, p: Progress) -> bool:
        return p.n_trials + p.n_pending >= self.n

    def trials_left(self, p: Progress) -> int:
        return max(0, self.n - p.n_trials - p.n_pending)

    def describe(self) -> dict[str, Any]:
        return {"max_trials": self.n}


class MaxSimulatedSeconds(Termination):
    """Stop once the summed simulated cost reaches ``seconds``.

    ``over_budget``: ``"keep"`` (default) records the trial that crosses the budget, so the
    run may overshoot by that one trial; ``"discard"`` drops the query whose cost would take
    the sum past ``seconds`` and stops there, so the recorded cost never exceeds the budget
    (the rule of NB201's ``R_EA.py`` / ``RANDOM.py`` / ``BOHB.py``).
    """

    def __init__(self, seconds: float, *, over_budget: str = "keep") -> None:
        self.seconds = check_float("max simulated seconds", seconds, minimum=0, strict_min=True,
                                   finite=True, expected="a positive finite number")
        check_limit("simulated_hours", self.seconds / 3600.0, "the simulated-cost budget in hours")
        self.over_budget = check_over_budget(over_budget)

    def done(self, p: Progress) -> bool:
        return p.simulated_s >= self.seconds

    def admits(self, p: Progress, simulated_s: float) -> bool:
        return self.over_budget == "keep" or p.simulated_s + simulated_s <= self.seconds

    def may_discard(self) -> bool:
        return self.over_budget != "keep"

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"max_simulated_s": self.seconds}
        if self.over_budget != "keep":  # the default is left out: descriptions stay as they were
            d["over_budget"] = self.over_budget
        return d


def check_over_budget(value: Any) -> str:
    """``value`` if it is one of :data:`OVER_BUDGET`, else ConfigError."""
    if value not in OVER_BUDGET:
        raise ConfigError(f"over_budget (what happens to the trial that would exceed the "
                          f"simulated-time budget) must be 'keep' (recorded: the run may "
                          f"overshoot) or 'discard' (dropped: the run stops within the budget), "
                          f"got {value!r}{did_you_mean(str(value), OVER_BUDGET)}")
    return str(value)


class MaxWallSeconds(Termination):
    """Stop once the run's wall time (over all resumed sessions) reaches ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = check_float("max wall seconds", seconds, minimum=0, strict_min=True,
                                   finite=True, expected="a positive finite number")
        check_limit("wall_s", self.seconds, "the wall-clock budget in seconds")

    def done(self, p: Progress) -> bool:
        return p.wall_s >= self.seconds

    def describe(self) -> dict[str, Any]:
        return {"max_wall_s": self.seconds}


class AnyOf(Termination):
    """Stop as soon as any of the rules says so."""

    def __init__(self, *rules: Termination) -> None:
        flat: list[Termination] = []
        for r in rules:
            if not isinstance(r, Termination):
                raise ConfigError(f"AnyOf takes Termination rules, got {type(r).__name__}")
            flat.extend(r.rules if isinstance(r, AnyOf) else [r])
        if not flat:
            raise ConfigError("AnyOf needs at least one termination rule")
        self.rules: tuple[Termination, ...] = tuple(flat)

    def done(self, p: Progress) -> bool:
        return any(r.done(p) for r in self.rules)

    def trials_left(self, p: Progress) -> int | None:
        lefts = [x for x in (r.trials_left(p) for r in self.rules) if x is not None]
        return min(lefts) if lefts else None

    def admits(self, p: Progress, simulated_s: float) -> bool:
        return all(r.admits(p, simulated_s) for r in self.rules)

    def may_discard(self) -> bool:
        return any(r.may_discard() for r in self.rules)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for r in self.rules:
            out.update(r.describe())
        return out


def make_termination(max_trials: int | None = None, max_simulated_s: float | None = None,
                     max_wall_s: float | None = None, *,
                     over_budget: str = "keep") -> Termination:
    """Any-of the given limits; at least one is required. ``over_budget`` is the simulated-time
    budget's rule (:class:`MaxSimulatedSeconds`)."""
    rules: list[Termination] = []
    check_over_budget(over_budget)
    if max_trials is not None:
        rules.append(MaxTrials(max_trials))
    if max_simulated_s is not None:
        rules.append(MaxSimulatedSeconds(max_simulated_s, over_budget=over_budget))
    elif over_budget != "keep":
        raise ConfigError(f"over_budget={over_budget!r} is a rule of the simulated-time budget; "
                          f"give max simulated seconds (hours) too")
    if max_wall_s is not None:
        rules.append(MaxWallSeconds(max_wall_s))
    if not rules:
        raise ConfigError("a budget is required: give max trials, max simulated seconds and/or "
                          "max wall seconds")
    return rules[0] if len(rules) == 1 else AnyOf(*rules)


def termination_from_dict(d: dict[str, Any]) -> Termination:
    """Inverse of ``describe()``."""
    unknown = set(d) - {"max_trials", "max_simulated_s", "max_wall_s", "over_budget"}
    if unknown:
        raise ConfigError(f"unknown termination key(s) {sorted(unknown)}; expected max_trials, "
                          f"max_simulated_s, max_wall_s, over_budget")
    return make_termination(d.get("max_trials"), d.get("max_simulated_s"), d.get("max_wall_s"),
                            over_budget=d.get("over_budget", "keep"))


def prefix_length(term: Termination, cum_simulated_s: Sequence[float],
                  cum_wall_s: Sequence[float]) -> int | None:
    """How many of a run's recorded trials a run under ``term`` keeps.

    ``cum_simulated_s`` / ``cum_wall_s``: the cumulative costs after each recorded trial.
    Trial ``k`` is kept when the rule is not yet met before it starts (``k`` trials done, the
    simulated cost of the first ``k``, the wall time recorded with trial ``k``) and the rule
    admits its cost (:meth:`Termination.admits`: under ``over_budget="discard"`` a trial whose
    cost takes the sum past the budget is not), exactly as the runner decides when it replays
    recorded trials under a smaller budget. Returns the first ``k`` not kept, ``len`` when the
    rule is met only after the last recorded trial, and None when the budget is not reached
    (the run must go on). O(log n): the progress is cumulative and rules are monotone, so
    "kept" flips once.
    """
    sim, wall = cum_simulated_s, cum_wall_s
    n = len(sim)
    if len(wall) != n:
        raise ConfigError(f"prefix_length needs one wall time per simulated cost, got {n} "
                          f"simulated and {len(wall)} wall values")

    def done(k: int) -> bool:  # is trial k dropped (budget met before it, or it does not fit)?
        before = Progress(k, 0, sim[k - 1] if k else 0.0, wall[k])
        return term.done(before) or not term.admits(before, sim[k] - before.simulated_s)

    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if done(mid):
            hi = mid
        else:
            lo = mid + 1
    if lo < n:
        return lo
    return n if term.done(Progress(n, 0, sim[-1] if n else 0.0, wall[-1] if n else 0.0)) else None
