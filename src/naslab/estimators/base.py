"""Estimator interface: how good an architecture is, and what the answer cost."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
        if not any(k.startswith(TEST_PREFIX) for k in m):
            return self
        return Evaluation({k: v for k, v in m.items() if not k.startswith(TEST_PREFIX)},
                          self.cost, self.fidelity, self.info)


class Estimator(ABC):
    """Scores architectures. Called by the experiment's driver or by an executor's worker.

    Implementations must be picklable (process/Ray executors ship them to workers) and
    deterministic for a given ``(arch, fidelity, seed)``.
    """

    #: fidelities accepted by :meth:`evaluate` (None = any value or unsupported)
    fidelities: tuple[float, ...] | None = None
    #: the fidelity used when ``fidelity=None``
    max_fidelity: float | None = None

    @abstractmethod
    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        """Score ``arch``; ``fidelity`` (epochs or another budget unit) defaults to the highest."""

    def check_space(self, space: SearchSpace) -> None:
        """Raise ConfigError if this estimator cannot score architectures of ``space``."""

    def optimum(self, metric: str = "test_acc") -> float | None:
        """Best value of ``metric`` over the whole space, when known (for regret)."""
        return None

    def describe(self) -> dict[str, Any]:
        """JSON-able description stored with each experiment (name, parameters, data hashes)."""
        return {"estimator": type(self).__name__}


@dataclass(frozen=True)
class Objective:
    """Which metric a search optimises, and in which direction.

    Test metrics cannot be objectives: strategies search on validation data only.
    """

    metric: str = "val_acc"
    mode: str = "max"

    def __post_init__(self) -> None:
        from naslab.errors import ConfigError

        if self.mode not in ("max", "min"):
            raise ConfigError(f"objective mode must be 'max' or 'min', got {self.mode!r}")
        if self.metric.startswith(TEST_PREFIX):
            raise ConfigError(
                f"objective metric {self.metric!r} is a test metric; searching on test data is not "
                f"allowed (search on a validation metric such as 'val_acc', report test)"
            )

    def value(self, evaluation: Evaluation) -> float:
        """The raw objective metric of ``evaluation``."""
        try:
            return float(evaluation.metrics[self.metric])
        except KeyError:
            from naslab.errors import ConfigError

            raise ConfigError(
                f"objective metric {self.metric!r} is not among the estimator's metrics "
                f"({', '.join(evaluation.metrics)})"
            ) from None

    def score(self, evaluation: Evaluation) -> float:
        """The objective as a number to maximise."""
        v = self.value(evaluation)
        return v if self.mode == "max" else -v

    def better(self, a: float, b: float) -> bool:
        """Whether raw value ``a`` is strictly better than ``b``."""
        return a > b if self.mode == "max" else a < b
