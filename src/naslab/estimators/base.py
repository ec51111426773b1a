"""Estimator interface: how good an architecture is, and what the answer cost."""

from __future__ import annotations

import functools
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from naslab.spaces.base import Architecture, SearchSpace

#: metric-name prefix that the runner hides from strategies (the honest protocol)
TEST_PREFIX = "test_"


@dataclass(frozen=True, slots=True)
class Cost:
    """What an evaluation cost.

    ``wall_s`` is what this machine really spent; ``simulated_s`` is what the answer would have
    cost to obtain for real (for a tabular benchmark: the recorded training time; for real
    training it equals the training wall time).
    """

    wall_s: float = 0.0
    simulated_s: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.wall_s + other.wall_s, self.simulated_s + other.simulated_s)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Metrics of one architecture plus the cost of obtaining them.

    Metric names: ``val_acc`` / ``test_acc`` in percent, ``params_m`` (millions), ``flops_m``,
    ``latency_ms``, ``train_time_s`` ... Names starting with ``test_`` are never shown to
    strategies.
    """

    metrics: Mapping[str, float]
    cost: Cost = field(default_factory=Cost)
    fidelity: float | None = None
    info: Mapping[str, Any] = field(default_factory=dict)

    def without_test(self) -> Evaluation:
        """This evaluation with every ``test_*`` metric removed (what a strategy may see)."""
        m = self.metrics
        drop = hidden_names(m)
        if not drop:
            return self
        public = dict(m)  # a copy less the test metrics: cheaper than a comprehension
        for k in drop:
            del public[k]
        return Evaluation(public, self.cost, self.fidelity, self.info)


#: metric names -> the test metrics among them (hidden_names' per-trial cache)
_TEST_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}


def hidden_names(metrics: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``test_*`` names among ``metrics``' keys, in order (an estimator reports the same
    names trial after trial: cached by the tuple of names)."""
    names = tuple(metrics)
    drop = _TEST_NAMES.get(names)
    if drop is None:
        if len(_TEST_NAMES) >= 512:
            _TEST_NAMES.clear()
        drop = _TEST_NAMES[names] = tuple(k for k in names if k.startswith(TEST_PREFIX))
    return drop


# Cost and Evaluation are made once or twice per trial. A frozen dataclass's generated
# ``__init__`` sets each field through ``object.__setattr__`` (~0.4 µs a field); these set
# the slots through their descriptors (~0.1 µs): same signature and defaults, still frozen
# (assignment after construction raises FrozenInstanceError as before).
def _install_fast_inits() -> None:
    c_wall, c_sim = (Cost.__dict__[k].__set__ for k in ("wall_s", "simulated_s"))

    def cost_init(self: Cost, wall_s: float = 0.0, simulated_s: float = 0.0) -> None:
        c_wall(self, wall_s)
        c_sim(self, simulated_s)

    e_metrics, e_cost, e_fid, e_info = (Evaluation.__dict__[k].__set__
                                        for k in ("metrics", "cost", "fidelity", "info"))

    def evaluation_init(self: Evaluation, metrics: Mapping[str, float], cost: Cost | None = None,
                        fidelity: float | None = None,
                        info: Mapping[str, Any] | None = None) -> None:
        e_metrics(self, metrics)
        e_cost(self, Cost() if cost is None else cost)
        e_fid(self, fidelity)
        e_info(self, {} if info is None else info)

    for cls, init in ((Cost, cost_init), (Evaluation, evaluation_init)):
        init.__qualname__ = f"{cls.__name__}.__init__"
        init.__doc__ = cls.__init__.__doc__
        setattr(cls, "__init__", init)


_install_fast_inits()


class Estimator(ABC):
    """Scores architectures. Called by the experiment's driver or by an executor's worker.

    Implementations must be picklable (process/Ray executors ship them to workers) and
    deterministic for a given ``(arch, fidelity, seed)``.
    """

    #: fidelities accepted by :meth:`evaluate` (None = any value or unsupported)
    fidelities: tuple[float, ...] | None = None
    #: the fidelity used when ``fidelity=None``
    max_fidelity: float | None = None
    #: whether a query takes well under a millisecond (a tabular benchmark): a comparison
    #: then commits whole experiments rather than trial by trial (``commit: auto``)
    instant: bool = False
    #: whether :meth:`evaluate` returns a new metrics dict of Python floats every call, that
    #: nothing else holds (the runner then keeps it in the trial record as it is instead of
    #: converting each value into a copy)
    float_metrics: bool = False

    @abstractmethod
    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        """Score ``arch``; ``fidelity`` (epochs or another budget unit) defaults to the highest."""

    def evaluate_parts(self, arch: Architecture, *, fidelity: float | None = None,
                       seed: int = 0) -> tuple[Mapping[str, float], Cost, float | None,
                                               Mapping[str, Any]]:
        """:meth:`evaluate` as ``(metrics, cost, fidelity, info)`` (what the runner's serial
        loop records; see :meth:`parts_evaluator`)."""
        ev = self.evaluate(arch, fidelity=fidelity, seed=seed)
        return ev.metrics, ev.cost, ev.fidelity, ev.info

    def parts_evaluator(self) -> Callable[..., tuple[Mapping[str, float], Cost, float | None,
                                                      Mapping[str, Any]]]:
        """The function the runner's serial loop calls for :meth:`evaluate_parts` (asked once
        per run: an estimator may return a faster one bound to its current set-up)."""
        return self.evaluate_parts

    def check_space(self, space: SearchSpace) -> None:
        """Raise ConfigError if this estimator cannot score architectures of ``space``."""

    def search_space(self, space: SearchSpace) -> SearchSpace:
        """The space a search with this estimator explores: ``space`` itself (the default),
        or the part of it the estimator can score (a local benchmark's recorded
        architectures). The experiment calls it before :meth:`check_space`."""
        return space

    def optimum(self, metric: str = "test_acc") -> float | None:
        """Best value of ``metric`` over the whole space, when known (for regret)."""
        return None

    def metric_range(self, metric: str) -> tuple[float, float] | None:
        """``(lowest, highest)`` value ``metric`` can take over the space, when known.

        The runner takes a multi-objective run's default hypervolume reference point from it
        (each objective's worst end). The default knows only the convention that ``*_acc``
        metrics are percentages (0..100); estimators with a table of the space (tabular)
        answer every metric they report.
        """
        if metric.partition("@")[0].endswith("_acc"):
            return (0.0, 100.0)
        return None

    def describe(self) -> dict[str, Any]:
        """JSON-able description stored with each experiment (name, parameters, data hashes)."""
        return {"estimator": type(self).__name__}


_MODES = ("max", "min")
#: a metric name, optionally per device: ``val_acc``, ``latency_ms@pixel3``
_METRIC_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(@[A-Za-z0-9_.-]+)?")


def _refuse_test_metric(metric: str, what: str) -> None:
    from naslab.errors import ConfigError

    if metric.startswith(TEST_PREFIX):
        raise ConfigError(
            f"{what} metric {metric!r} is a test metric; searching on test data is not "
            f"allowed (search on a validation metric such as 'val_acc', report test)"
        )


def _missing(evaluation: Evaluation, metric: str, what: str) -> Exception:
    from naslab.errors import ConfigError

    return ConfigError(f"{what} metric {metric!r} is not among the estimator's metrics "
                       f"({', '.join(evaluation.metrics)})")


@dataclass(frozen=True)
class Objective:
    """Which metric a search optimises, and in which direction.

    Test metrics cannot be objectives: strategies search on validation data only.
    """

    metric: str = "val_acc"
    mode: str = "max"

    def __post_init__(self) -> None:
        from naslab.errors import ConfigError

        if self.mode not in _MODES:
            raise ConfigError(f"objective mode must be 'max' or 'min', got {self.mode!r}")
        _refuse_test_metric(self.metric, "objective")

    @classmethod
    def parse(cls, text: str) -> Objective:
        """``"val_acc"`` (maximised) or ``"METRIC:max"`` / ``"METRIC:min"``."""
        from naslab.errors import ConfigError

        if not isinstance(text, str):
            raise ConfigError(f"an objective must be a string METRIC or METRIC:max|min, got {text!r}")
        metric, sep, mode = text.strip().partition(":")
        metric, mode = metric.strip(), mode.strip()
        if not metric or not _METRIC_RE.fullmatch(metric):
            raise ConfigError(f"objective {text!r}: {metric!r} is not a metric name (expected "
                              f"METRIC or METRIC:max|min, e.g. 'val_acc' or 'latency_ms:min')")
        if sep and mode not in _MODES:
            raise ConfigError(f"objective {text!r}: mode {mode!r} must be 'max' or 'min'")
        return cls(metric, mode if sep else "max")

    def value(self, evaluation: Evaluation) -> float:
        """The raw objective metric of ``evaluation``."""
        try:
            return float(evaluation.metrics[self.metric])
        except KeyError:
            raise _missing(evaluation, self.metric, "objective") from None

    def score(self, evaluation: Evaluation) -> float:
        """The objective as a number to maximise."""
        v = self.value(evaluation)
        return v if self.mode == "max" else -v

    def better(self, a: float, b: float) -> bool:
        """Whether raw value ``a`` is strictly better than ``b``."""
        return a > b if self.mode == "max" else a < b

    def describe(self) -> dict[str, Any]:
        return {"metric": self.metric, "mode": self.mode}

    def __str__(self) -> str:
        return f"{self.metric}:{self.mode}"


#: how far below every feasible score an infeasible evaluation's score is put (see
#: :meth:`Objectives.score`)
CONSTRAINT_PENALTY = 100.0

_OPS = ("<=", ">=", "<", ">")
_CONSTRAINT_RE = re.compile(r"^\s*(?P<metric>[^<>=!]*?)\s*(?P<op><=|>=|=<|=>|==|!=|=|<|>)\s*(?P<bound>.*?)\s*$")


@dataclass(frozen=True)
class Constraint:
    """A bound on one (validation or hardware) metric: ``latency_ms <= 5``.

    A trial is feasible when every constraint holds; the incumbent and the front consider
    feasible trials only. Test metrics cannot be constrained (strategies never see them).
    """

    metric: str
    op: str
    bound: float

    def __post_init__(self) -> None:
        from naslab.errors import ConfigError

        if not isinstance(self.metric, str) or not _METRIC_RE.fullmatch(self.metric):
            raise ConfigError(f"constraint metric must be a metric name such as 'latency_ms', "
                              f"got {self.metric!r}")
        if self.op not in _OPS:
            raise ConfigError(f"constraint operator must be one of {', '.join(_OPS)}, got {self.op!r}")
        b = self.bound
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not math.isfinite(b):
            raise ConfigError(f"constraint bound must be a finite number, got {b!r}")
        object.__setattr__(self, "bound", float(b))
        _refuse_test_metric(self.metric, "constraint")

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """``"latency_ms<=5"`` (operators ``<=``, ``>=``, ``<``, ``>``; spaces allowed)."""
        from naslab.errors import ConfigError

        if not isinstance(text, str):
            raise ConfigError(f"a constraint must be a string such as 'latency_ms<=5', got {text!r}")
        m = _CONSTRAINT_RE.match(text)
        if m is None:
            raise ConfigError(f"constraint {text!r} has no comparison operator: expected "
                              f"METRIC OP BOUND with OP one of {', '.join(_OPS)}, e.g. "
                              f"'latency_ms<=5'")
        metric, op, bound = m["metric"], m["op"], m["bound"]
        fix = {"=<": "<=", "=>": ">="}
        if op in fix:
            raise ConfigError(f"constraint {text!r}: operator {op!r} is not supported; did you "
                              f"mean {fix[op]!r}? (operators: {', '.join(_OPS)})")
        if op not in _OPS:
            raise ConfigError(f"constraint {text!r}: operator {op!r} is not supported; use one "
                              f"of {', '.join(_OPS)} (equality constraints are not)")
        if not metric:
            raise ConfigError(f"constraint {text!r} names no metric before {op!r} (expected "
                              f"e.g. 'latency_ms{op}5')")
        if not _METRIC_RE.fullmatch(metric):
            raise ConfigError(f"constraint {text!r}: {metric!r} is not a metric name")
        try:
            value = float(bound)
        except ValueError:
            value = math.nan
        if not bound or not math.isfinite(value):
            raise ConfigError(f"constraint {text!r}: bound {bound!r} is not a finite number "
                              f"(expected e.g. '{metric}{op}5')")
        return cls(metric, op, value)

    def _read(self, metrics: Mapping[str, float]) -> float:
        try:
            return float(metrics[self.metric])
        except KeyError:
            from naslab.errors import ConfigError

            raise ConfigError(f"constraint metric {self.metric!r} is not among the estimator's "
                              f"metrics ({', '.join(metrics)})") from None

    def violation(self, metrics: Mapping[str, float]) -> float:
        """How far ``metrics`` miss the bound, relative to it: ``(v - b) / |b|`` for ``<=`` /
        ``<`` (``|b|`` replaced by 1 when the bound is 0), 0 when satisfied, ``inf`` for NaN.
        A strict bound met with equality violates it by 0 but is not :meth:`satisfied`."""
        v = self._read(metrics)
        if v != v:
            return math.inf
        excess = v - self.bound if self.op in ("<=", "<") else self.bound - v
        return max(0.0, excess) / (abs(self.bound) or 1.0)

    def satisfied(self, metrics: Mapping[str, float]) -> bool:
        """Whether ``metrics`` meet the bound (a NaN value does not)."""
        v = self._read(metrics)
        op, b = self.op, self.bound
        if op == "<=":
            return v <= b
        if op == ">=":
            return v >= b
        if op == "<":
            return v < b
        return v > b

    def describe(self) -> dict[str, Any]:
        return {"metric": self.metric, "op": self.op, "bound": self.bound}

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.bound:g}"


@dataclass(frozen=True)
class Objectives:
    """One or more objectives (the first is the *primary*) and constraints.

    The primary's ``metric`` / ``mode`` / ``value`` / ``score`` / ``better`` are this object's,
    so single-objective code (strategies, the incumbent) reads as before. ``values`` is the raw
    vector the runner stores per trial; ``feasible`` checks the constraints. ``reference`` is
    an optional reference point (raw metric units, one per objective) for the hypervolume.
    """

    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    reference: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        from naslab.errors import ConfigError

        objs = tuple(self.objectives)
        cons = tuple(self.constraints)
        if not objs:
            raise ConfigError("at least one objective is required (e.g. 'val_acc')")
        for o in objs:
            if not isinstance(o, Objective):
                raise ConfigError(f"objectives must be Objective values, got {o!r}")
        for c in cons:
            if not isinstance(c, Constraint):
                raise ConfigError(f"constraints must be Constraint values, got {c!r}")
        metrics = [o.metric for o in objs]
        dup = sorted({m for m in metrics if metrics.count(m) > 1})
        if dup:
            raise ConfigError(f"objective metric(s) {dup} given more than once")
        ref = self.reference
        if ref is not None:
            ref = tuple(float(x) for x in ref)
            if len(ref) != len(objs) or not all(math.isfinite(x) for x in ref):
                raise ConfigError(f"the reference point needs one finite value per objective "
                                  f"({len(objs)}), got {list(self.reference or ())!r}")
        object.__setattr__(self, "objectives", objs)
        object.__setattr__(self, "constraints", cons)
        object.__setattr__(self, "reference", ref)

    # the primary objective: what single-objective code reads -----------------------------
    @property
    def primary(self) -> Objective:
        return self.objectives[0]

    @property
    def is_multi(self) -> bool:
        return len(self.objectives) > 1

    @property
    def metric(self) -> str:
        return self.objectives[0].metric

    @property
    def mode(self) -> str:
        return self.objectives[0].mode

    def value(self, evaluation: Evaluation) -> float:
        """The primary's raw metric."""
        return self.objectives[0].value(evaluation)

    def score(self, evaluation: Evaluation) -> float:
        """The primary as a number to maximise, with Deb's feasibility rule for constraints.

        Without constraints, or for a feasible evaluation, the primary's score (``value`` for
        ``max``, ``-value`` for ``min``). An infeasible evaluation scores
        ``min(score, 0) - CONSTRAINT_PENALTY * (1 + violation)``: below every feasible one
        whenever the primary's scores lie in ``(-CONSTRAINT_PENALTY, +inf)`` (accuracies in
        percent, latencies and sizes below 100 do), and lower the further it misses the
        bounds. This is how every single-objective strategy searches for the best accuracy
        subject to the constraints without knowing about them.
        """
        s = self.objectives[0].score(evaluation)
        if not self.constraints or self.feasible(evaluation):
            return s
        return min(s, 0.0) - CONSTRAINT_PENALTY * (1.0 + min(self.violation(evaluation), 1e6))

    def violation(self, evaluation: Evaluation) -> float:
        """Sum of the constraints' relative violations (0 when every bound holds; see
        :meth:`Constraint.violation`)."""
        m = evaluation.metrics
        return float(sum(c.violation(m) for c in self.constraints))

    def better(self, a: float, b: float) -> bool:
        """Whether raw primary value ``a`` is strictly better than ``b``."""
        return self.objectives[0].better(a, b)

    # the vector --------------------------------------------------------------------------
    def values(self, evaluation: Evaluation) -> tuple[float, ...]:
        """Raw value of every objective, in order."""
        objs = self.objectives
        if len(objs) == 1:
            return (objs[0].value(evaluation),)
        return tuple(o.value(evaluation) for o in objs)

    def feasible(self, evaluation: Evaluation) -> bool:
        """Whether every constraint holds (True without constraints)."""
        m = evaluation.metrics
        return all(c.satisfied(m) for c in self.constraints)

    def metrics(self) -> tuple[str, ...]:
        """Every metric the objectives and constraints read (objectives first, no repeats)."""
        names = [o.metric for o in self.objectives] + [c.metric for c in self.constraints]
        return tuple(dict.fromkeys(names))

    def devices(self) -> tuple[str, ...]:
        """Devices named by ``<metric>@<device>`` objectives or constraints (``latency_ms@pixel3``
        -> ``pixel3``), in order: what a tabular estimator must report."""
        return tuple(dict.fromkeys(m.partition("@")[2] for m in self.metrics() if "@" in m))

    def with_reference(self, reference: Sequence[float] | None) -> Objectives:
        """The same objectives and constraints with another reference point."""
        return Objectives(self.objectives, self.constraints,
                          None if reference is None else tuple(reference))

    def signs(self) -> tuple[float, ...]:
        """+1 for maximised objectives, -1 for minimised (score = sign x value)."""
        s = self.__dict__.get("_signs")  # made once (a multi-objective strategy asks per tell)
        if s is None:
            s = tuple(1.0 if o.mode == "max" else -1.0 for o in self.objectives)
            object.__setattr__(self, "_signs", s)
        return s  # type: ignore[no-any-return]

    def dominates(self, a: Sequence[float], b: Sequence[float]) -> bool:
        """Whether raw vector ``a`` Pareto-dominates ``b`` (no worse anywhere, better somewhere)."""
        strict = False
        for o, x, y in zip(self.objectives, a, b):
            if o.better(y, x):
                return False
            if o.better(x, y):
                strict = True
        return strict

    def describe(self) -> dict[str, Any]:
        """JSON-able identity: a single objective without constraints is exactly
        ``{"metric", "mode"}`` (what experiment ids were always computed from); otherwise the
        primary's ``metric``/``mode`` plus ``objectives``, ``constraints`` and ``reference``."""
        d = self.objectives[0].describe()
        if self.is_multi:
            d["objectives"] = [o.describe() for o in self.objectives]
        if self.constraints:
            d["constraints"] = [c.describe() for c in self.constraints]
        if self.reference is not None:
            d["reference"] = list(self.reference)
        return d

    @classmethod
    def from_describe(cls, d: Mapping[str, Any] | None) -> Objectives:
        """Inverse of :meth:`describe` (a missing or empty description is ``val_acc``, max)."""
        d = d or {}
        objs = d.get("objectives") or [{"metric": d.get("metric", "val_acc"),
                                        "mode": d.get("mode", "max")}]
        return cls(tuple(Objective(o.get("metric", "val_acc"), o.get("mode", "max")) for o in objs),
                   tuple(Constraint(c["metric"], c["op"], c["bound"])
                         for c in d.get("constraints") or ()),
                   None if d.get("reference") is None else tuple(d["reference"]))

    def __iter__(self) -> Iterator[Objective]:
        return iter(self.objectives)

    def __len__(self) -> int:
        return len(self.objectives)

    def __str__(self) -> str:
        s = ", ".join(str(o) for o in self.objectives)
        if self.constraints:
            s += " subject to " + ", ".join(str(c) for c in self.constraints)
        return s


ObjectiveLike = Union[Objective, Objectives, str, Mapping[str, Any],
                      Sequence[Union[Objective, Constraint, str, Mapping[str, Any]]]]


def as_objectives(x: ObjectiveLike, constraints: Sequence[Constraint | str] = ()) -> Objectives:
    """An :class:`Objectives` from what users write.

    ``x``: an Objectives (returned as is unless ``constraints`` are added), an Objective, a
    string ``"val_acc"`` / ``"latency_ms:min"``, a mapping ``{"metric", "mode"}`` (or an
    ``Objectives.describe()``), or a sequence of those (the first is the primary; Constraint
    items and strings with a comparison such as ``"latency_ms<=5"`` become constraints).
    ``constraints``: more constraints, as Constraint values or strings.
    """
    if isinstance(x, str) and not constraints:  # the common case: "val_acc", parsed once
        return _objectives_of_text(x)
    from naslab.errors import ConfigError

    extra = tuple(c if isinstance(c, Constraint) else Constraint.parse(c) for c in constraints)
    if isinstance(x, Objectives):
        return x if not extra else Objectives(x.objectives, x.constraints + extra, x.reference)
    if isinstance(x, Mapping) and ("objectives" in x or "constraints" in x or "reference" in x):
        base = Objectives.from_describe(x)
        return Objectives(base.objectives, base.constraints + extra, base.reference)
    items: Sequence[Any] = [x] if isinstance(x, (Objective, str, Mapping)) else x
    if not isinstance(items, Sequence) or not items:
        raise ConfigError(f"objective must be a metric name, an Objective or a non-empty list "
                          f"of them, got {x!r}")
    objs: list[Objective] = []
    cons: list[Constraint] = []
    for it in items:
        if isinstance(it, Objective):
            objs.append(it)
        elif isinstance(it, Constraint):
            cons.append(it)
        elif isinstance(it, str):
            if any(op in it for op in ("<", ">", "=")):
                cons.append(Constraint.parse(it))
            else:
                objs.append(Objective.parse(it))
        elif isinstance(it, Mapping):
            unknown = set(it) - {"metric", "mode"}
            if unknown:
                raise ConfigError(f"objective {dict(it)!r}: unknown key(s) {sorted(unknown)}; "
                                  f"expected metric and mode")
            objs.append(Objective(it.get("metric", "val_acc"), it.get("mode", "max")))
        else:
            raise ConfigError(f"objective must be a metric name, an Objective or a Constraint, "
                              f"got {it!r}")
    return Objectives(tuple(objs), tuple(cons) + extra)


@functools.lru_cache(maxsize=256)
def _objectives_of_text(text: str) -> Objectives:
    """``as_objectives(text)`` (Objectives are immutable: one per distinct text is shared;
    an error is raised again on every call, as lru_cache keeps no exceptions)."""
    return as_objectives([text])
