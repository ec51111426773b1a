"""Published search protocols: how a benchmark paper ran its baselines, as data.

A :class:`PublishedProtocol` fixes everything a paper's search table depends on: the search
targets and their simulated-time budgets, the fidelity searched on, what happens to the query
that would exceed the budget, whether repeated proposals are charged, how the number in the
table is read off a run (``figure``), the strategies' hyper-parameters as in the authors'
scripts, the number of runs averaged, the benchmarks the found architecture is reported on,
and the published table itself with where each number came from. Protocols register as kind
``protocol`` (``naslab list protocols``); :mod:`naslab.runner.protocols` turns one into
experiments, and ``naslab search --protocol`` / compare configs' ``protocol:`` use it.

This module holds the schema only; a benchmark's protocols live beside it (NB201's in
``nb201_protocols.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from naslab.errors import ConfigError

#: how the table's number is read off one run: ``final`` - the incumbent when the run stops
#: (NB201's scripts); ``interpolate`` - the incumbent's accuracy interpolated linearly at the
#: budget between the two recorded trials whose cumulative cost is nearest to it
#: (NATS-Bench's ``draw-table.py``)
FIGURES = ("final", "interpolate")


@dataclass(frozen=True)
class Published:
    """One published ``mean ± std`` (over ``runs`` runs) and where it was read."""

    mean: float
    std: float
    source: str


@dataclass(frozen=True)
class PublishedProtocol:
    """A paper's search protocol and its published table (see the module docstring).

    ``search``: search target (``"<benchmark>/<dataset>"``) -> budget in simulated seconds.
    ``report``: the targets the found architecture is reported on; empty = each run reports
    on its own search target only. ``strategies``: registry name -> hyper-parameters (as the
    authors' scripts set them); ``labels``: registry name -> the paper's name for it;
    ``estimator``: registry name -> extra tabular-estimator parameters for that strategy.
    ``published[strategy][target]``: ``{"val": Published, "test": Published}`` (either may
    be missing). ``notes``: where naslab's run of the protocol differs from the paper's, and
    why.
    """

    name: str
    title: str
    source: str
    search: Mapping[str, float]
    fidelity: float
    over_budget: str
    figure: str
    strategies: Mapping[str, Mapping[str, Any]]
    labels: Mapping[str, str]
    report: tuple[str, ...] = ()
    reuse: bool = False
    runs: int = 500
    val: str = "run"
    estimator: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    published: Mapping[str, Mapping[str, Mapping[str, Published]]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.figure not in FIGURES:
            raise ConfigError(f"protocol {self.name!r}: figure must be one of {FIGURES}, got "
                              f"{self.figure!r}")
        if not self.search:
            raise ConfigError(f"protocol {self.name!r} names no search target")
        object.__setattr__(self, "__doc__", self.title)  # what `naslab list protocols` shows

    def budget(self, target: str) -> float:
        """The simulated-seconds budget of a search on ``target``."""
        return float(self.search[self.check_target(target)])

    def check_target(self, target: str) -> str:
        """``target`` if the protocol searches on it, else ConfigError listing those it does."""
        if target not in self.search:
            raise ConfigError(f"protocol {self.name!r} searches on {', '.join(self.search)}; "
                              f"got target {target!r}")
        return target

    def report_targets(self, target: str) -> tuple[str, ...]:
        """Where a search on ``target`` reports its found architecture."""
        return self.report or (target,)

    def strategy_params(self, name: str) -> dict[str, Any]:
        """The protocol's hyper-parameters for strategy ``name`` (a registry name)."""
        if name not in self.strategies:
            raise ConfigError(f"protocol {self.name!r} defines the strategies "
                              f"{', '.join(self.strategies)}; got {name!r}")
        return dict(self.strategies[name])

    def estimator_params(self, name: str) -> dict[str, Any]:
        """Tabular-estimator parameters of a search with strategy ``name`` under the
        protocol: the fixed search fidelity, the validation draw, and the strategy's extras."""
        return {"fidelity": self.fidelity, "val": self.val, **dict(self.estimator.get(name, {}))}

    def describe(self) -> dict[str, Any]:
        """JSON-able summary (for run cards and ``naslab list protocols``)."""
        return {"protocol": self.name, "title": self.title, "source": self.source,
                "search": dict(self.search), "report": list(self.report),
                "fidelity": self.fidelity, "over_budget": self.over_budget,
                "figure": self.figure, "reuse": self.reuse, "runs": self.runs,
                "strategies": {k: dict(v) for k, v in self.strategies.items()}}


def get_protocol(name: str) -> PublishedProtocol:
    """The registered protocol ``name`` (unknown names get close matches)."""
    from naslab import registry

    proto = registry.get("protocol", name)
    if not isinstance(proto, PublishedProtocol):  # pragma: no cover - a broken plugin
        raise ConfigError(f"protocol {name!r} is {type(proto).__name__}, not a PublishedProtocol")
    return proto
