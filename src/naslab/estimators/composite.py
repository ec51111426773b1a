"""Composite estimator: one evaluation assembled from several estimators.

Typical use: accuracy from one source and latency from another, e.g. a tabular benchmark's
accuracies with a second benchmark's (or a latency table's) ``latency_ms``::

    CompositeEstimator(TabularEstimator(acc_target),
                       Part(TabularEstimator(latency_target), metrics=("latency_ms",)))

Rules: every part evaluates the architecture with the same seed; the fidelity goes to the
primary only (the others answer at their default); metrics are merged — the primary's first,
then each other part's metrics that are not there yet, except that a part given ``metrics=``
contributes exactly those and they replace any earlier value of the same name; costs (wall and
simulated) are summed over the parts; the evaluation's fidelity and the composite's
``fidelities`` / ``max_fidelity`` are the primary's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from naslab.errors import ConfigError
from naslab.estimators.base import Cost, Estimator, Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture, SearchSpace


@dataclass(frozen=True)
class Part:
    """One non-primary part: an estimator and, optionally, the only metrics taken from it
    (which then win over the primary's values of the same name)."""

    estimator: Estimator
    metrics: Sequence[str] | None = None  # stored as a tuple

    def __post_init__(self) -> None:
        if not isinstance(self.estimator, Estimator):
            raise ConfigError(f"composite part must be an Estimator, got "
                              f"{type(self.estimator).__name__}")
        if self.metrics is not None:
            if isinstance(self.metrics, str) or not all(isinstance(m, str) for m in self.metrics) \
                    or not self.metrics:
                raise ConfigError(f"composite part metrics must be a non-empty list of metric "
                                  f"names, got {self.metrics!r}")
            object.__setattr__(self, "metrics", tuple(self.metrics))


#: what a part may be given as: an estimator, a Part, a registered estimator name, or a mapping
#: ``{"estimator": NAME, "params": {...}, "metrics": [...]}`` (configuration files)
PartSpec = Union[Estimator, Part, str, Mapping[str, Any]]

_SPEC_KEYS = ("estimator", "params", "metrics")


def _build(spec: PartSpec, what: str) -> Part:
    from naslab import registry

    if isinstance(spec, Part):
        return spec
    if isinstance(spec, Estimator):
        return Part(spec)
    if isinstance(spec, str):
        return Part(registry.create("estimator", spec))
    if isinstance(spec, Mapping):
        unknown = [k for k in spec if k not in _SPEC_KEYS]
        if unknown or "estimator" not in spec:
            raise ConfigError(f"{what} must be a mapping with keys {', '.join(_SPEC_KEYS)} "
                              f"('estimator' required), got keys {sorted(map(str, spec))}")
        params = spec.get("params") or {}
        if not isinstance(params, Mapping):
            raise ConfigError(f"{what}.params must be a mapping, got {params!r}")
        metrics = spec.get("metrics")
        est = registry.create("estimator", str(spec["estimator"]), **dict(params))
        return Part(est, None if metrics is None else tuple(metrics))
    raise ConfigError(f"{what} must be an estimator, a registered estimator name or a mapping, "
                      f"got {type(spec).__name__}")


@register("estimator", "composite")
class CompositeEstimator(Estimator):
    """Several estimators answering as one (e.g. accuracy from one, latency from another).

    Merge rules: see :mod:`naslab.estimators.composite`.

    Parameters
    ----------
    primary: the main estimator (an Estimator, a registered name, or a mapping
        ``{"estimator": NAME, "params": {...}}``); it receives the fidelity.
    others: further parts: estimators, :class:`Part` (estimator + the metrics taken from it),
        names or mappings ``{"estimator": NAME, "params": {...}, "metrics": [...]}``.
    parts: more parts, after ``others`` (the keyword form for configuration files).
    """

    def __init__(self, primary: PartSpec, *others: PartSpec, parts: Sequence[PartSpec] = ()) -> None:
        if isinstance(parts, (str, Mapping)):
            raise ConfigError(f"composite parts must be a list, got {parts!r}")
        first = _build(primary, "composite primary")
        if first.metrics is not None:
            raise ConfigError("the composite primary contributes all its metrics; give metrics= "
                              "to the other parts only")
        self.primary: Estimator = first.estimator
        self.others: tuple[Part, ...] = tuple(
            _build(p, f"composite part {k + 1}") for k, p in enumerate((*others, *parts)))
        if not self.others:
            raise ConfigError("a composite estimator needs at least one part besides the primary")
        self.fidelities = getattr(self.primary, "fidelities", None)
        self.max_fidelity = getattr(self.primary, "max_fidelity", None)

    @property
    def parts(self) -> tuple[Estimator, ...]:
        """Every part's estimator, the primary first."""
        return (self.primary, *(p.estimator for p in self.others))

    def check_space(self, space: SearchSpace) -> None:
        for est in self.parts:
            est.check_space(space)

    def search_space(self, space: SearchSpace) -> SearchSpace:
        """Each part's restriction in turn (the primary first)."""
        for est in self.parts:
            space = est.search_space(space)
        return space

    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        ev = self.primary.evaluate(arch, fidelity=fidelity, seed=seed)
        metrics = dict(ev.metrics)
        cost = ev.cost
        infos: list[Mapping[str, Any]] = []
        for k, part in enumerate(self.others):
            other = part.estimator.evaluate(arch, seed=seed)
            cost = cost + other.cost
            infos.append(other.info)
            if part.metrics is None:
                for name, v in other.metrics.items():
                    metrics.setdefault(name, v)
                continue
            for name in part.metrics:
                try:
                    metrics[name] = other.metrics[name]
                except KeyError:
                    raise ConfigError(
                        f"composite part {k + 1} ({type(part.estimator).__name__}) was asked for "
                        f"metric {name!r} but returned only {', '.join(other.metrics)}"
                    ) from None
        info = dict(ev.info)
        if any(infos):
            info["parts"] = [dict(i) for i in infos]
        return Evaluation(metrics, cost, ev.fidelity, info)

    def _source(self, metric: str) -> Estimator:
        """The part whose value of ``metric`` the composite reports (as far as known)."""
        for part in reversed(self.others):
            if part.metrics is not None and metric in part.metrics:
                return part.estimator
        return self.primary

    def optimum(self, metric: str = "test_acc") -> float | None:
        return self._source(metric).optimum(metric)

    @property
    def has_test(self) -> bool:
        return bool(getattr(self._source("test_acc"), "has_test", True))

    @property
    def test_unavailable_reason(self) -> str:
        src = self._source("test_acc")
        return str(getattr(src, "test_unavailable_reason", "") or
                   f"{type(src).__name__} reports no test accuracy")

    def describe(self) -> dict[str, Any]:
        parts: list[dict[str, Any]] = [{"role": "primary", **self.primary.describe()}]
        for p in self.others:
            d: dict[str, Any] = {"role": "part", **p.estimator.describe()}
            if p.metrics is not None:
                d["metrics"] = list(p.metrics)
            parts.append(d)
        return {"estimator": "composite", "parts": parts}

    def __repr__(self) -> str:
        inner = ", ".join([repr(self.primary)] + [
            repr(p.estimator) if p.metrics is None else f"Part({p.estimator!r}, metrics={list(p.metrics)})"
            for p in self.others])
        return f"CompositeEstimator({inner})"
