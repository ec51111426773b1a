"""The experiment loop: ask the strategy, evaluate, record, tell; resume from storage."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from naslab.errors import ConfigError, NaslabError, StorageError, check_int, limit, limit_note
from naslab.estimators.base import (
    Constraint,
    Cost,
    Estimator,
    Evaluation,
    Objective,
    ObjectiveLike,
    Objectives,
    as_objectives,
    hidden_names,
)
from naslab.runner.executors import Executor, SerialExecutor, Task, TaskResult
from naslab.runner.executors.base import failed_result
from naslab.runner.front import ParetoFront
from naslab.runner.records import TrialRecord
from naslab.runner.storage import InMemoryStorage, Storage, TrialStore, _canon
from naslab.runner.termination import MaxTrials, Progress, Termination, prefix_length
from naslab.seeding import derive_seed, seed_deriver
from naslab.spaces.base import Architecture, SearchSpace
from naslab.strategies.base import Strategy, Suggestion, Told


@dataclass
class RunResult:
    """Everything a finished (or stopped) run recorded, with the incumbent after each trial."""

    experiment_id: str
    trials: list[TrialRecord]
    #: the run's objectives (and constraints); an Objective or anything ``as_objectives`` takes
    objectives: Objectives
    optimum_test: float | None = None
    resumed_trials: int = 0
    wall_s: float = 0.0
    status: str = "finished"
    test_unavailable: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    #: evaluations dropped unrecorded because their cost would exceed the budget (the
    #: ``over_budget="discard"`` rule; 0 or 1 with a serial executor)
    discarded: int = 0
    #: why the run stopped before its budget, when a limit of naslab's stopped it
    note: str | None = None

    def __post_init__(self) -> None:
        self.objectives = as_objectives(self.objectives)

    @property
    def objective(self) -> Objective:
        """The primary objective (what the incumbent is ranked by)."""
        return self.objectives.primary

    @property
    def n_trials(self) -> int:
        return len(self.trials)

    @property
    def best(self) -> TrialRecord | None:
        """The incumbent at the end: best primary objective among feasible full-fidelity
        trials (validation)."""
        if not self.trials or self.trials[-1].incumbent_number is None:
            return None
        return self.trials[self.trials[-1].incumbent_number]

    @property
    def front(self) -> list[TrialRecord]:
        """The non-dominated feasible full-fidelity trials at the end (a multi-objective run's
        Pareto front, in trial order); for a single objective, the incumbent."""
        if not self.trials:
            return []
        numbers = self.trials[-1].front
        if numbers is None:
            b = self.best
            return [] if b is None else [b]
        return [self.trials[n] for n in numbers]

    @property
    def hypervolume(self) -> float | None:
        """Hypervolume of the final front (None without a reference point)."""
        return self.trials[-1].hypervolume if self.trials else None

    @property
    def best_arch(self) -> Architecture | None:
        b = self.best
        return None if b is None else b.arch

    @property
    def best_objective(self) -> float | None:
        b = self.best
        return None if b is None else b.objective

    @property
    def test_acc(self) -> float | None:
        b = self.best
        return None if b is None else b.metrics.get("test_acc")

    @property
    def regret(self) -> float | None:
        """Optimum test accuracy of the space minus the incumbent's test accuracy."""
        t = self.test_acc
        if t is None or self.optimum_test is None:
            return None
        return self.optimum_test - t

    @property
    def simulated_cost_s(self) -> float:
        return self.trials[-1].cum_simulated_s if self.trials else 0.0

    def incumbent_test_at(self, n: int) -> float | None:
        """Test accuracy of the incumbent after the first ``n`` trials."""
        if n < 1 or not self.trials:
            return None
        return self.trials[min(n, len(self.trials)) - 1].incumbent_test

    def front_json(self) -> list[dict[str, Any]]:
        """The front as JSON: trial, arch, its objective values (by metric) and test accuracy."""
        names = [o.metric for o in self.objectives]
        return [{"trial": t.number, "arch": str(t.arch),
                 "objectives": dict(zip(names, t.objectives or ())),
                 "test_acc": t.metrics.get("test_acc")} for t in self.front]

    def to_json(self) -> dict[str, Any]:
        b = self.best
        d: dict[str, Any] = {
            "experiment_id": self.experiment_id,
            "status": self.status,
            "best_arch": None if b is None else str(b.arch),
            "objective": self.objectives.metric,
            "val_acc": None if b is None else b.metrics.get("val_acc"),
            "test_acc": self.test_acc,
            "test_unavailable": self.test_unavailable,
            "optimum_test_acc": self.optimum_test,
            "regret": self.regret,
            "trials": self.n_trials,
            "failed_trials": sum(t.status == "failed" for t in self.trials),
            "reused_trials": sum(t.reused for t in self.trials),
            "resumed_trials": self.resumed_trials,
            "simulated_cost_s": self.simulated_cost_s,
            "wall_s": self.wall_s,
        }
        if self.discarded:
            d["discarded_trials"] = self.discarded
        if self.note:
            d["note"] = self.note
        obj = self.objectives
        if obj.constraints:
            d["constraints"] = [str(c) for c in obj.constraints]
            d["infeasible_trials"] = sum(t.feasible is False for t in self.trials)
        if obj.is_multi:
            d["objectives"] = [o.describe() for o in obj]
            d["front"] = self.front_json()
            d["hypervolume"] = self.hypervolume
            d["reference"] = None if obj.reference is None else list(obj.reference)
        return d


@functools.lru_cache(maxsize=1)
def _environment() -> tuple[tuple[str, Any], ...]:
    return tuple(_read_environment().items())


def run_environment() -> dict[str, Any]:
    """Versions and machine recorded with every experiment (the report's run card); read once
    per process."""
    return dict(_environment())


def _read_environment() -> dict[str, Any]:
    import os
    import platform
    import socket
    from importlib import metadata

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return {"python": platform.python_version(), "numpy": version("numpy"),
            "torch": version("torch"), "platform": platform.platform(),
            "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "hostname": socket.gethostname()}


def experiment_config(space: SearchSpace, strategy: Strategy, estimator: Estimator,
                      objective: ObjectiveLike, seed: int) -> dict[str, Any]:
    """The identity of an experiment: two runs with equal configs are the same experiment.

    The objective enters as ``Objectives.describe()``: a single objective without constraints
    is ``{"metric", "mode"}``, as it always was, so experiment ids do not change."""
    return {
        "space": space.name,
        "strategy": strategy.describe(),
        "estimator": estimator.describe(),
        "objective": as_objectives(objective).describe(),
        "seed": int(seed),
    }


def default_reference(objectives: Objectives, estimator: Estimator) -> tuple[float, ...] | None:
    """Each objective's worst value over the space (``Estimator.metric_range``: the lowest
    value of a maximised metric, the highest of a minimised one), i.e. the nadir of the whole
    space, which every architecture weakly dominates; None when the estimator does not know
    one of them (then pass a reference point explicitly)."""
    ref: list[float] = []
    for o in objectives:
        r = estimator.metric_range(o.metric)
        if r is None:
            return None
        ref.append(float(r[0] if o.mode == "max" else r[1]))
    return tuple(ref)


def parse_reference(text: str) -> str | tuple[float, ...]:
    """``--reference``: ``auto``, ``none`` or comma-separated numbers, one per objective
    (raw metric units, e.g. ``0,40`` for val_acc and latency_ms)."""
    t = str(text).strip()
    if t in ("auto", "none"):
        return t
    vals: list[float] = []
    for item in t.split(","):
        try:
            v = float(item)
        except ValueError:
            v = math.nan
        if not item.strip() or not math.isfinite(v):
            raise ConfigError(f"--reference {text!r}: {item.strip()!r} is not a finite number "
                              f"(expected auto, none or one number per objective, e.g. '0,40')")
        vals.append(v)
    return tuple(vals)


def resolve_reference(objectives: Objectives, estimator: Estimator,
                      reference: Sequence[float] | str | None = "auto") -> Objectives:
    """``objectives`` with the reference point a run uses (see :class:`Experiment`)."""
    if isinstance(reference, str):
        if reference not in ("auto", "none"):
            raise ConfigError(f"reference must be 'auto', 'none' or one number per objective, "
                              f"got {reference!r}")
        if reference == "none":
            return objectives.with_reference(None)
        if objectives.reference is not None or not objectives.is_multi:
            ref = objectives.reference
        else:
            ref = default_reference(objectives, estimator)
    elif reference is None:
        return objectives.with_reference(None)
    else:
        ref = tuple(reference)
    if ref is not None and not objectives.is_multi:
        raise ConfigError(f"a hypervolume reference point applies to multi-objective runs; this "
                          f"run has one objective ({objectives.primary}), got reference {list(ref)}")
    out = objectives.with_reference(ref)
    if out.reference is not None:
        from naslab.analysis.pareto import require_pymoo

        require_pymoo(f"the hypervolume of a multi-objective run (reference point "
                      f"{list(out.reference)}; pass reference='none' to record none)")
    return out


#: the cost of an answer taken from the run's record
_NO_COST = Cost(0.0, 0.0)


def default_experiment_id(config: dict[str, Any], canonical: str | None = None) -> str:
    """``<strategy>-<benchmark or estimator>-s<seed>-<hash>``, stable for equal configs
    (``canonical``: ``config``'s canonical JSON when the caller has it)."""
    text = _canon(config) if canonical is None else canonical
    h = hashlib.blake2b(text.encode(), digest_size=4).hexdigest()
    est = config["estimator"]
    target = est.get("benchmark") or est.get("dataset") or est.get("estimator", "est")
    raw = f"{config['strategy']['strategy']}-{target}-s{config['seed']}-{h}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", raw)


@dataclass
class _RunState:
    """What one session of :meth:`Experiment.run` carries from trial to trial."""

    trials: list[TrialRecord]
    #: completed trials by (choices, fidelity): repeated asks are answered from here
    cache: dict[tuple[Any, float | None], TrialRecord]
    inc: TrialRecord | None
    cum_sim: float
    front: ParetoFront | None
    n_asked: int = 0
    wall_before: float = 0.0
    inflight: dict[int, Task] = field(default_factory=dict)
    ready: list[tuple[Task, TaskResult]] = field(default_factory=list)
    t0: float = 0.0
    #: results dropped because their cost would exceed the budget (``over_budget="discard"``);
    #: after the first, the run asks nothing more
    discarded: int = 0
    #: set when the run stopped at naslab's trial limit before its own budget was met
    note: str | None = None
    #: the tasks whose results were dropped over budget: pending in the checkpoint (the
    #: strategy has proposed them), so that a resumed run with a larger budget evaluates
    #: them as a fresh run with that budget does. Only evaluations are ever dropped: an
    #: answer from the run's record costs nothing, and none is asked after the first drop.
    dropped: list[Task] = field(default_factory=list)
    #: whether the strategy's and the runner's state agree with the trials recorded so far
    #: (every proposal recorded, pending or dropped): then a checkpoint may be taken
    settled: bool = True
    #: (on_trial, the session's record function): made once (Experiment._recorder)
    recorder: tuple[Any, Callable[..., None]] | None = None

    def wall(self) -> float:
        """Wall time of the run over all its sessions."""
        return self.wall_before + time.perf_counter() - self.t0


class Experiment:
    """Connects a space, a strategy and an estimator; records every trial; stops on termination.

    ``run()`` resumes when storage already holds trials of this experiment id: recorded trials
    are not re-evaluated, the strategy continues from its checkpoint, and the final result equals
    that of an uninterrupted run with the same seed. An architecture already evaluated in the run
    (at the same fidelity) is answered from the run's record at no new cost (``reused``).

    ``reuse=False`` evaluates (and charges) every proposal, repeats included, as the search
    loops of the NB201 / NATS-Bench papers do; it is part of the experiment's identity.

    ``objective``: one objective (``"val_acc"``, ``"latency_ms:min"``, an Objective) or several
    (a list, or an Objectives; the first is the primary, which ranks the incumbent);
    ``constraints``: e.g. ``["latency_ms<=5"]``. Per trial, storage keeps the objective vector,
    the incumbent (best feasible full-fidelity trial by the primary) and, with several
    objectives, the non-dominated feasible set after the trial (``front``) and its hypervolume
    against the reference point.

    ``reference`` (multi-objective runs): the hypervolume's reference point, one raw value per
    objective; ``"auto"`` (default) keeps the Objectives' own reference or else takes
    :func:`default_reference` (each objective's worst value over the space, when the
    estimator knows it); ``"none"`` / None records no hypervolume. The reference point is part
    of the experiment's identity (it is in ``config["objective"]``).

    Strategies see validation metrics only; ``test_*`` metrics go to storage for reports.
    """

    def __init__(self, space: SearchSpace, strategy: Strategy, estimator: Estimator, *,
                 termination: Termination, objective: ObjectiveLike = "val_acc",
                 constraints: Sequence[Constraint | str] = (),
                 storage: TrialStore | None = None, executor: Executor | None = None,
                 seed: int = 0, experiment_id: str | None = None,
                 meta: dict[str, Any] | None = None, reuse: bool = True,
                 reference: Sequence[float] | str | None = "auto") -> None:
        objectives = resolve_reference(as_objectives(objective, constraints), estimator, reference)
        seed = check_int("seed", seed, minimum=0)
        if not isinstance(termination, Termination):
            raise ConfigError(f"termination must be a Termination rule, got {termination!r}")
        space = estimator.search_space(space)  # a benchmark of sampled archs: those archs
        estimator.check_space(space)
        self.space, self.strategy, self.estimator = space, strategy, estimator
        self.objectives, self.termination = objectives, termination
        self._may_discard = termination.may_discard()
        self.storage: TrialStore = storage if storage is not None else InMemoryStorage()
        self._own_executor = executor is None
        self.executor = executor if executor is not None else SerialExecutor()
        self.seed = seed
        self.config = experiment_config(space, strategy, estimator, objectives, seed)
        self.reuse = bool(reuse)
        if not self.reuse:  # only then in the identity: today's ids are unchanged
            self.config["reuse"] = False
        #: the config's canonical JSON (its identity; the result gets a copy read from it)
        self._config_text = _canon(self.config)
        self.id = experiment_id or default_experiment_id(self.config, self._config_text)
        self.meta = dict(meta or {})
        self._max_fid = getattr(estimator, "max_fidelity", None)
        #: the estimator returns a new dict of Python floats per evaluation (the record
        #: copies it as it is instead of converting every value)
        self._float_metrics = getattr(estimator, "float_metrics", False) is True
        #: every run stops at naslab's trial limit, whatever its budget (a cost budget alone
        #: might never be met: answers reused from the run's record cost nothing)
        self._trial_cap = int(limit("trials"))
        strategy.bind_fidelities(getattr(estimator, "fidelities", None), self._max_fid)
        strategy.setup(space, self.objectives, seed=seed)  # validates hyper-parameters early

    @property
    def objective(self) -> Objectives:
        """The run's objectives (primary's ``metric``/``mode``/``score`` read as before)."""
        return self.objectives

    # ---------------------------------------------------------------------------------------
    def run(self, on_trial: Callable[[TrialRecord], None] | None = None) -> RunResult:
        """Run (or resume) until the termination rule says stop; returns the result."""
        self._open()
        ex = self.executor
        status = "failed"
        state: _RunState | None = None
        try:
            recorded = self.storage.trials(self.id)
            state, cut = self._replay(recorded)
            if cut:  # a smaller budget than what is recorded: report that prefix
                status = "finished"
                return self._result(state.trials, len(state.trials),
                                    state.trials[-1].cum_wall_s if state.trials else 0.0, status)
            resumed = len(state.trials)
            pending = self._restore(state) if recorded else []
            ex.start(self.estimator)
            for task in pending:
                ex.submit(task)
                state.inflight[task.ticket] = task
            state.t0 = time.perf_counter()
            self._loop(state, on_trial)
            status = "finished"
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            if state is not None and not state.settled:
                # storage checkpoints what it holds back from the state at the time of
                # writing, and the exception left it half-changed (mid-ask, mid-record):
                # drop those unwritten trials; the resumed run evaluates them again, the
                # same way (they took less than the group commit's window)
                self.storage.drop_unwritten(self.id)
            raise
        finally:
            if self._own_executor:
                ex.shutdown()
            self._set_status(status)
        result = self._result(state.trials, resumed, state.wall(), status, state.note)
        result.discarded = state.discarded
        return result

    def _set_status(self, status: str) -> None:
        """Record how the session ended (which also gives the experiment's lease back). When
        the session failed, a storage error here must not hide the error that ended it."""
        try:
            self.storage.set_status(self.id, status)
        except StorageError:
            if status == "finished":
                raise

    def _open(self) -> None:
        """Open the experiment in storage (with this session's meta) and set the strategy up."""
        from naslab import __version__

        meta = {"naslab": __version__, **run_environment(),
                "termination": self.termination.describe(),
                "executor": self.executor.describe(),
                "optimum_test_acc": self.estimator.optimum("test_acc"),
                "test_unavailable": self._test_unavailable(), **self._notes(), **self.meta}
        self.storage.open_experiment(self.id, self.config, meta)
        self.strategy.setup(self.space, self.objectives, seed=self.seed)

    def _replay(self, recorded: list[TrialRecord]) -> tuple[_RunState, bool]:
        """The state after the recorded trials this budget keeps; True when it keeps fewer
        than are recorded (the run is then only reported, not continued)."""
        k = prefix_length(self.termination, [r.cum_simulated_s for r in recorded],
                          [r.cum_wall_s for r in recorded])
        trials = recorded[:k] if k is not None else list(recorded)
        cache: dict[tuple[Any, float | None], TrialRecord] = {}
        for rec in trials:
            if rec.status == "complete":
                cache.setdefault((rec.arch.choices, rec.fidelity), rec)
        last = trials[-1] if trials else None
        inc = None
        if last is not None and last.incumbent_number is not None:
            inc = trials[last.incumbent_number]
        state = _RunState(trials, cache, inc, last.cum_simulated_s if last else 0.0,
                          self._restore_front(trials))
        return state, len(trials) < len(recorded)

    def _restore_front(self, trials: list[TrialRecord]) -> ParetoFront | None:
        """The front after ``trials`` (None for a single-objective run)."""
        if not self.objectives.is_multi:
            return None
        front = ParetoFront(self.objectives)
        if trials and trials[-1].front is not None:
            members = trials[-1].front
        else:  # not stored: rebuild it from the trials
            members = [t.number for t in trials if self._on_front(t)]
        for n in members:
            objs = trials[n].objectives
            if objs is not None:
                front.add(n, objs)
        return front

    def _restore(self, state: _RunState) -> list[Task]:
        """Load the strategy and runner state from the checkpoint; the tasks that were
        pending (to be resubmitted with their original ticket and seed)."""
        ckpt = self.storage.checkpoint(self.id)
        if ckpt is None:
            raise StorageError(f"experiment {self.id!r} has trials but no checkpoint to resume "
                               f"from; start a new experiment id")
        try:
            return self._restore_from(state, ckpt)
        except NaslabError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise StorageError(
                f"the checkpoint of experiment {self.id!r} in {self.storage.location!r} is "
                f"malformed ({type(exc).__name__}: {exc}); the file was changed by hand or "
                f"damaged, so this run cannot be resumed exactly: start a new experiment id "
                f"(--experiment-id); its recorded trials stay readable (naslab show)") from None

    def _restore_from(self, state: _RunState, ckpt: Any) -> list[Task]:
        if "history" in ckpt:  # a small checkpoint: the rest is the run's record
            if int(ckpt["history"]) != len(state.trials):
                raise StorageError(
                    f"the checkpoint of experiment {self.id!r} was taken after "
                    f"{ckpt['history']} trials, but {len(state.trials)} are recorded; the "
                    f"storage file was changed by hand: start a new experiment id")
            self.strategy.load_history_state(ckpt["strategy"], told_history(state.trials))
        else:
            self.strategy.load_state_dict(ckpt["strategy"])
        rs = ckpt["runner"]
        state.n_asked, state.wall_before = int(rs["n_asked"]), float(rs["wall_s"])
        pending = []
        for ticket, choices, fid, tseed in rs["pending"]:
            arch = Architecture.from_json({"space": self.space.name, "choices": choices})
            pending.append(Task(int(ticket), arch, fid, int(tseed)))
        return pending

    def _checkpoint(self, state: _RunState) -> dict[str, Any]:
        """The strategy and runner state after the last recorded trial: the strategy's small
        ``history_state`` (the rest is rebuilt from the recorded trials: O(1) per trial) when
        it has one, else its ``state_dict``."""
        small = self.strategy.history_state()
        out: dict[str, Any] = {
            "strategy": self.strategy.state_dict() if small is None else small,
            "runner": {
                "n_asked": state.n_asked,
                "wall_s": state.wall(),
                "pending": [[t.ticket, t.arch.to_json()["choices"], t.fidelity, t.seed]
                            for t in (*state.inflight.values(), *state.dropped)],
            },
        }
        if small is not None:
            out["history"] = len(state.trials)
        return out

    def _loop(self, state: _RunState, on_trial: Callable[[TrialRecord], None] | None) -> None:
        """Ask, evaluate, record, tell, until the termination rule says stop."""
        term, ex = self.termination, self.executor
        if type(ex) is SerialExecutor and not state.inflight and not state.ready:
            self._loop_inline(state, on_trial, ex)
            return
        while True:
            prog = Progress(len(state.trials), len(state.inflight), state.cum_sim, state.wall())
            done = state.discarded > 0 or term.done(prog) or self._at_cap(state, prog)
            asked_any = False
            if not state.ready and not done:
                asked_any = self._ask(state, prog)
            if state.ready:  # drained one by one below: what is left stays unsettled
                batch, reused = state.ready, True
            elif state.inflight:
                batch = [(state.inflight[r.ticket], r) for r in ex.wait()]
                reused = False
            else:
                if done:
                    break
                if not asked_any:
                    raise NaslabError(
                        f"strategy {type(self.strategy).__name__} proposed nothing while no "
                        f"evaluation was pending; it cannot make progress")
                continue
            while batch:
                task, res = batch.pop(0)
                if self._over_budget(state, res):
                    state.inflight.pop(task.ticket, None)
                    state.dropped.append(task)
                    state.discarded += 1
                    state.settled = not state.ready
                    continue
                self._record(state, task, res, reused, on_trial)

    def _loop_inline(self, state: _RunState, on_trial: Callable[[TrialRecord], None] | None,
                     ex: SerialExecutor) -> None:
        """:meth:`_loop` for the serial executor, without its queue: ask one proposal,
        evaluate it here, record it, tell. The same trials, numbers, seeds and results as the
        generic loop (with one worker it asks one proposal at a time too); this is the
        per-trial hot path of every tabular search (a plain trial budget is counted here,
        without a Progress; an evaluation goes straight to the session's :meth:`_recorder`)."""
        term, strategy, space = self.termination, self.strategy, self.space
        cache = state.cache if self.reuse else None
        trials, cap, max_fid = state.trials, self._trial_cap, self._max_fid
        seed_of = seed_deriver(self.seed)
        over = self._over_budget if self._may_discard else None
        n_max = term.n if type(term) is MaxTrials else None
        ask, validate, evaluate = strategy.ask, space.validate, ex.estimator.parts_evaluator()
        record, inflight, now = self._recorder(state, on_trial), state.inflight, time.time
        state.recorder = (on_trial, record)
        while True:
            n = len(trials)
            if n_max is not None:  # MaxTrials.done / trials_left without a Progress
                if state.discarded or n >= n_max:
                    return
                left: int | None = n_max - n
                if n >= cap and self._at_cap(state, Progress(n, 0, state.cum_sim, state.wall())):
                    return
            else:
                prog = Progress(n, 0, state.cum_sim, state.wall())
                if state.discarded or term.done(prog) or (n >= cap and self._at_cap(state, prog)):
                    return
                left = term.trials_left(prog)
            state.settled = False
            props = ask(1) if n < cap and (left is None or left > 0) else []
            if not props:
                raise NaslabError(
                    f"strategy {type(strategy).__name__} proposed nothing while no "
                    f"evaluation was pending; it cannot make progress")
            s = props[0]
            if isinstance(s, Suggestion):
                arch, fid = s.arch, s.fidelity
                if fid is not None and max_fid is not None and fid >= max_fid:
                    fid = None
            else:
                arch, fid = s, None
            validate(arch)
            ticket = state.n_asked
            seed = seed_of(ticket)
            task = Task(ticket, arch, fid, seed)
            state.n_asked = ticket + 1
            hit = None if cache is None else cache.get((arch.choices, fid))
            res = None
            metrics: Mapping[str, float]
            info: Mapping[str, Any]
            if hit is not None:
                started = finished = now()
                metrics, cost, rfid, info = hit.metrics, _NO_COST, hit.fidelity, hit.info
            else:  # pending while it runs: a checkpoint taken meanwhile (an interrupt) keeps it
                inflight[ticket] = task
                state.settled = True
                started = now()
                try:
                    metrics, cost, rfid, info = evaluate(arch, fidelity=fid, seed=seed)
                    finished = now()
                except Exception as exc:  # noqa: BLE001 - as run_task: failed or fatal
                    res = failed_result(ticket, exc, started)
            if over is not None or res is not None:  # the general path
                if res is None:
                    res = TaskResult(ticket, Evaluation(metrics, cost, rfid, info), None,
                                     started, finished)
                if over is not None and over(state, res):
                    inflight.pop(ticket, None)
                    state.dropped.append(task)
                    state.discarded += 1
                    state.settled = True
                    continue
                self._record(state, task, res, hit is not None, on_trial)
            else:
                record(task, metrics, cost, rfid, info, started, finished, hit is not None, None)

    def _over_budget(self, state: _RunState, res: TaskResult) -> bool:
        """Whether a result is dropped unrecorded: its cost would take the run past a budget
        whose rule discards such a query (or an earlier one was dropped already)."""
        if state.discarded:
            return True
        if res.evaluation is None or not self._may_discard:
            return False
        prog = Progress(len(state.trials), 0, state.cum_sim, state.wall())
        return not self.termination.admits(prog, res.evaluation.cost.simulated_s)

    def _at_cap(self, state: _RunState, prog: Progress) -> bool:
        """Whether the run has reached naslab's trial limit (noted in the result)."""
        if prog.n_trials + prog.n_pending < self._trial_cap:
            return False
        if state.note is None:
            state.note = (f"stopped at {self._trial_cap:,} trials, before the budget "
                          f"({self.termination.describe()}) was met: {limit_note('trials')}")
        return True

    def _ask(self, state: _RunState, prog: Progress) -> bool:
        """Ask the strategy for as many proposals as there are free workers (and trials left);
        answer those already evaluated from the run's record, submit the others. True when the
        strategy proposed anything."""
        free = self.executor.max_workers - len(state.inflight)
        left = self.termination.trials_left(prog)
        cap = self._trial_cap - prog.n_trials - prog.n_pending
        free = min(free, cap if left is None else min(left, cap))
        if free <= 0:
            return False
        asked_any = False
        state.settled = False
        for s in self.strategy.ask(free)[:free]:
            asked_any = True
            if isinstance(s, Suggestion):
                arch, fid = s.arch, s.fidelity
            else:
                arch, fid = s, None
            if fid is not None and self._max_fid is not None and fid >= self._max_fid:
                fid = None
            self.space.validate(arch)
            task = Task(state.n_asked, arch, fid, derive_seed(self.seed, state.n_asked))
            state.n_asked += 1
            hit = state.cache.get((arch.choices, fid)) if self.reuse else None
            if hit is not None:
                now = time.time()
                state.ready.append((task, TaskResult(task.ticket, Evaluation(
                    hit.metrics, Cost(0.0, 0.0), hit.fidelity, hit.info), None, now, now)))
            else:
                self.executor.submit(task)
                state.inflight[task.ticket] = task
        state.settled = not state.ready
        return asked_any

    def _record(self, state: _RunState, task: Task, res: TaskResult, reused: bool,
                on_trial: Callable[[TrialRecord], None] | None) -> None:
        """Record one result (trial row + checkpoint in one transaction) and tell the strategy."""
        if res.fatal is not None:  # the run stops; the task stays pending (settled)
            raise res.fatal
        rec = state.recorder
        if rec is None or rec[0] is not on_trial:
            state.recorder = rec = (on_trial, self._recorder(state, on_trial))
        ev = res.evaluation
        if ev is None:
            rec[1](task, None, None, None, None, res.started, res.finished, reused, res.error)
        else:
            rec[1](task, ev.metrics, ev.cost, ev.fidelity, ev.info, res.started, res.finished,
                   reused, None)

    def _recorder(self, state: _RunState, on_trial: Callable[[TrialRecord], None] | None
                  ) -> Callable[..., None]:
        """``record(task, metrics, cost, fidelity, info, started, finished, reused, error)``
        for this session (``metrics``, ``cost``, ``fidelity``, ``info``: the evaluation's;
        ``metrics=None``: a failed evaluation with ``error``): makes the trial record with the
        incumbent (and front) after it, tells the strategy what it may see, keeps the record
        and hands it to storage. Everything it looks up is bound once (the per-trial hot
        path; a single objective is read and compared here)."""
        trials, inflight, cache = state.trials, state.inflight, state.cache
        obj, strategy = self.objectives, self.strategy
        values_of, better, feasible_of = obj.values, obj.better, obj.feasible
        constrained = bool(obj.constraints)
        single = len(obj.objectives) == 1
        primary = obj.objectives[0].metric
        maximise = obj.objectives[0].mode == "max"
        float_metrics, max_fid, front = self._float_metrics, self._max_fid, state.front
        tell, tell_failed, setdefault = strategy.tell, strategy.tell_failed, cache.setdefault
        exp_id, record_trial = self.id, self.storage.record_trial
        # the checkpoint after the latest trial, computed when storage writes it
        ckpt = functools.partial(self._checkpoint, state) if self.storage.persistent else None
        perf = time.perf_counter

        def record(task: Task, m: Mapping[str, float] | None, cost: Cost | None,
                   rfid: float | None, info: Mapping[str, Any] | None, started: float,
                   finished: float, reused: bool, error: str | None) -> None:
            state.settled = False
            inflight.pop(task.ticket, None)
            number, arch, fid = len(trials), task.arch, task.fidelity
            inc = state.inc
            if m is None:  # failed
                rec = TrialRecord(number=number, arch=arch, status="failed", fidelity=fid,
                                  seed=task.seed, cost=Cost(finished - started, 0.0),
                                  error=error, started=started, finished=finished,
                                  cum_simulated_s=state.cum_sim,
                                  cum_wall_s=state.wall_before + perf() - state.t0)
                tell_failed(arch, error or "failed")
            else:
                assert cost is not None and info is not None
                # an estimator that says so returns a new dict of Python floats each call,
                # which the record keeps (a reused answer comes from the record, maybe read
                # back from JSON: converted)
                metrics: dict[str, float] = (
                    m if float_metrics and not reused and type(m) is dict  # type: ignore[assignment]
                    else {k: float(v) for k, v in m.items()})
                ev = None
                if single:
                    try:
                        val: float | None = float(m[primary])
                    except KeyError:
                        ev = Evaluation(m, cost, rfid, info)
                        values_of(ev)  # the clear error
                        raise
                    values: tuple[float, ...] = (val,)  # type: ignore[assignment]
                else:
                    ev = Evaluation(m, cost, rfid, info)
                    values = values_of(ev)
                    val = values[0]
                if constrained:
                    feasible = feasible_of(ev if ev is not None else Evaluation(m, cost, rfid, info))
                else:
                    feasible = True
                cum = state.cum_sim = state.cum_sim + cost.simulated_s
                on_front = feasible and (fid is None or max_fid is None or fid >= max_fid)
                best = on_front and val is not None and (
                    inc is None or inc.objective is None
                    or ((val > inc.objective if maximise else val < inc.objective) if single
                        else better(val, inc.objective)))
                inc_n: int | None
                if best:
                    inc_n, inc_obj, inc_test = number, val, metrics.get("test_acc")
                elif inc is not None:
                    inc_n, inc_obj, inc_test = (inc.number, inc.objective,
                                                inc.metrics.get("test_acc"))
                else:
                    inc_n = inc_obj = inc_test = None
                rec = TrialRecord(number, arch, "complete", metrics, val, fid, task.seed, cost,
                                  reused, None, started, finished, inc_n, inc_obj, inc_test,
                                  cum, state.wall_before + perf() - state.t0,
                                  dict(info) if info else {}, values, feasible, None, None)
                if best:
                    state.inc = inc = rec
                if on_front and front is not None:
                    front.add(number, values)
                setdefault((arch.choices, fid), rec)
                drop = hidden_names(m)  # Evaluation.without_test, inlined
                public: Mapping[str, float]
                if drop:
                    public = copy = dict(m)
                    for k in drop:
                        del copy[k]
                else:  # nothing to hide: a copy all the same when the record keeps m
                    public = dict(m) if metrics is m else m
                tell(arch, Evaluation(public, cost, rfid, info))
            if m is None and inc is not None:
                rec.incumbent_number = inc.number
                rec.incumbent_objective = inc.objective
                rec.incumbent_test = inc.metrics.get("test_acc")
            if front is not None:
                rec.front = front.numbers()
                rec.hypervolume = front.hypervolume()
            trials.append(rec)
            state.settled = not state.ready
            record_trial(exp_id, rec, ckpt)
            if on_trial is not None:
                on_trial(rec)

        return record

    def _on_front(self, rec: TrialRecord) -> bool:
        """Whether a trial competes for the incumbent and the front: complete, feasible, at
        the estimator's full fidelity (:meth:`_record` inlines this test)."""
        if rec.status != "complete" or rec.feasible is False:
            return False
        return rec.fidelity is None or self._max_fid is None or rec.fidelity >= self._max_fid

    def _notes(self) -> dict[str, Any]:
        """The estimator's words on what its queries return and cost (for the run card)."""
        notes = getattr(self.estimator, "run_card_notes", None)
        out = notes() if callable(notes) else None
        return {"estimator_notes": dict(out)} if out else {}

    def _test_unavailable(self) -> str | None:
        """Why the estimator reports no test accuracy (None when it does)."""
        if getattr(self.estimator, "has_test", True):
            return None
        bench = getattr(self.estimator, "bench", None)
        return getattr(bench, "test_unavailable_reason", "the estimator reports no test accuracy")

    def _result(self, trials: list[TrialRecord], resumed: int, wall: float, status: str,
                note: str | None = None) -> RunResult:
        opt = self.estimator.optimum("test_acc")
        reason = self._test_unavailable()
        return RunResult(self.id, trials, self.objectives, opt, resumed, wall, status, reason,
                         json.loads(self._config_text), note=note)


def told_history(trials: Sequence[TrialRecord]) -> list[Told]:
    """What the runner told the strategy, trial by trial, rebuilt from the record: the
    validation metrics, cost and fidelity of each complete trial, the error of a failed one."""
    out = []
    for t in trials:
        if t.status == "complete":
            out.append(Told(t.arch, Evaluation(t.metrics, t.cost, t.fidelity, t.info).without_test()))
        else:
            out.append(Told(t.arch, None, t.error or "failed"))
    return out


def load_result(storage: Storage, experiment_id: str) -> RunResult:
    """A RunResult rebuilt from storage alone (for ``naslab show`` and reports)."""
    info = storage.experiment(experiment_id)
    trials = storage.trials(experiment_id)
    return RunResult(experiment_id, trials, Objectives.from_describe(info.config.get("objective")),
                     info.meta.get("optimum_test_acc"), 0,
                     trials[-1].cum_wall_s if trials else 0.0, info.status,
                     info.meta.get("test_unavailable"), info.config)
