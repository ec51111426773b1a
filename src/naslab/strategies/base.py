"""Strategy interface: propose architectures (ask) and learn from their evaluations (tell)."""

from __future__ import annotations

import functools

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from naslab.errors import ConfigError
from naslab.estimators.base import Evaluation, Objective, Objectives, as_objectives
from naslab.spaces.base import Architecture, SearchSpace


class Told(NamedTuple):
    """One result the runner told a strategy, as the run's record holds it (what
    :meth:`Strategy.load_history_state` rebuilds from): the architecture and its evaluation
    (validation metrics, cost and the trial's fidelity), or None and the error when
    ``tell_failed`` was called."""

    arch: Architecture
    evaluation: Evaluation | None
    error: str | None = None


class Strategy(ABC):
    """A black-box search strategy, driven by the experiment runner.

    Call order: ``setup`` once, then any interleaving of ``ask`` and ``tell``/``tell_failed``.
    ``ask(n)`` may return fewer than ``n`` architectures, and ``[]`` means "waiting for results
    of the architectures already asked" (several may be pending at once with parallel
    executors). ``tell`` receives validation metrics only: the runner removes every ``test_*``
    metric. ``state_dict`` must capture everything, random generator included, so that
    ``load_state_dict`` on a freshly ``setup`` strategy continues exactly where it left off.

    ``__init__`` only stores hyper-parameters (scikit-learn style); ``setup`` validates them.
    """

    space: SearchSpace
    #: the run's objectives; ``.score(ev)`` / ``.better`` / ``.metric`` are the primary's
    objective: Objectives
    rng: np.random.Generator
    #: the estimator's fidelities, set by :meth:`bind_fidelities` (None: unknown / any value)
    estimator_fidelities: tuple[float, ...] | None = None
    #: the estimator's highest (default) fidelity, set by :meth:`bind_fidelities`
    estimator_max_fidelity: float | None = None

    def bind_fidelities(self, fidelities: tuple[float, ...] | None,
                        max_fidelity: float | None) -> None:
        """Which fidelities the estimator accepts; the runner calls this before ``setup``.

        ``fidelities`` is the estimator's discrete set (``Estimator.fidelities``; None = any
        value up to ``max_fidelity``). Single-fidelity strategies ignore it; multi-fidelity
        strategies (successive halving, Hyperband) take their default fidelity range from it.
        """
        self.estimator_fidelities = (None if fidelities is None
                                     else tuple(sorted(float(f) for f in fidelities)))
        self.estimator_max_fidelity = None if max_fidelity is None else float(max_fidelity)

    def setup(self, space: SearchSpace, objective: Objective | Objectives, *, seed: int) -> None:
        """Bind to a space and objective(s); called once by the runner before the first ask."""
        self.space = space
        self.objective = as_objectives(objective)
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self._setup()

    def _setup(self) -> None:
        """Validate hyper-parameters and initialise state (subclasses)."""

    @abstractmethod
    def ask(self, n: int = 1) -> Sequence[Architecture | Suggestion]:
        """Up to ``n`` architectures to evaluate next; ``[]`` while waiting for results."""

    @abstractmethod
    def tell(self, arch: Architecture, evaluation: Evaluation) -> None:
        """The evaluation of an architecture returned by ``ask`` (validation metrics only)."""

    def tell_failed(self, arch: Architecture, error: str) -> None:
        """``arch`` (returned by ``ask``) could not be evaluated; the run goes on."""

    # persistence -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """JSON-able state; with ``load_state_dict`` it resumes the search exactly."""
        return {"rng": self.rng.bit_generator.state, **self._state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self._load_state(state)

    def _state(self) -> dict[str, Any]:
        return {}

    def _load_state(self, state: dict[str, Any]) -> None:
        pass

    # checkpoints that stay small ----------------------------------------------------------
    def history_state(self) -> dict[str, Any] | None:
        """The state *without* what the run's record already holds, or None.

        The runner checkpoints after every trial. A strategy whose state grows with every
        result (a seen set, the told data) returns here a small JSON-able dict — generator
        state included — from which, with the results told so far (the run's trials, in the
        order they were told), :meth:`load_history_state` restores it exactly; the runner then
        saves that dict (O(1) per trial) instead of :meth:`state_dict` (O(trials)). None (the
        default, or :meth:`_history_state` returning None) means "use state_dict"."""
        extra = self._history_state()
        return None if extra is None else {"rng": self.rng.bit_generator.state, **extra}

    def load_history_state(self, state: dict[str, Any], history: Sequence[Told]) -> None:
        """Continue from :meth:`history_state` and ``history``, every result told so far in
        the order told (called on a freshly set-up strategy, instead of load_state_dict)."""
        self.rng.bit_generator.state = state["rng"]
        self._load_history(state, history)

    def _history_state(self) -> dict[str, Any] | None:
        """Subclasses: the small part of the state (without ``rng``), or None."""
        return None

    def _load_history(self, state: dict[str, Any], history: Sequence[Told]) -> None:
        raise NotImplementedError(f"{type(self).__name__} returned a history_state but cannot "
                                  f"load one")

    # helpers -----------------------------------------------------------------------------
    def _arch_json(self, arch: Architecture) -> Any:
        return arch.to_json()["choices"]

    def _arch_from(self, choices: Any) -> Architecture:
        return Architecture.from_json({"space": self.space.name, "choices": choices})

    def describe(self) -> dict[str, Any]:
        """Registered name and hyper-parameters (stored with the experiment)."""
        params = {}
        for name in _init_params(type(self)):
            if name != "self" and hasattr(self, name):
                params[name] = getattr(self, name)
        return {"strategy": getattr(self, "registry_name", type(self).__name__), "params": params}

    def __repr__(self) -> str:
        d = self.describe()
        args = ", ".join(f"{k}={v!r}" for k, v in d["params"].items())
        return f"{type(self).__name__}({args})"


class Suggestion:
    """An architecture to evaluate at a given fidelity (for multi-fidelity strategies).

    ``ask`` may return plain architectures (evaluated at the estimator's highest fidelity) or
    suggestions; ``tell`` then gets an evaluation whose ``fidelity`` says which one it was.
    """

    __slots__ = ("arch", "fidelity")

    def __init__(self, arch: Architecture, fidelity: float | None = None) -> None:
        self.arch = arch
        self.fidelity = fidelity

    def __repr__(self) -> str:
        return f"Suggestion({self.arch!r}, fidelity={self.fidelity!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Suggestion) and self.arch == other.arch
                and self.fidelity == other.fidelity)

    def __hash__(self) -> int:
        return hash((self.arch, self.fidelity))


@functools.lru_cache(maxsize=512)
def _init_params(cls: type) -> tuple[str, ...]:
    """The constructor parameter names of ``cls`` (once per class: ``describe`` runs per run)."""
    import inspect

    return tuple(inspect.signature(cls).parameters)
