"""Running a published protocol (:class:`~naslab.benchmarks.protocol.PublishedProtocol`).

:func:`protocol_experiment` builds the experiment a paper's script ran for one (strategy,
search target, seed): the tabular estimator at the protocol's fixed search fidelity, the
simulated-time budget with the protocol's over-budget rule, the strategy with the authors'
hyper-parameters, and ``reuse=False`` (every proposal charged, repeats included).
:func:`protocol_figures` reads the published table's numbers off a finished run: the found
architecture's 200-epoch validation and test accuracy (means over the recorded runs, as the
papers report them) on each report target, at the end of the run (``figure="final"``) or
interpolated at the budget (``figure="interpolate"``, NATS-Bench's ``draw-table.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from naslab.benchmarks.protocol import PublishedProtocol, get_protocol
from naslab.errors import ConfigError
from naslab.runner.records import TrialRecord
from naslab.runner.termination import Termination, make_termination

__all__ = ["get_protocol", "interpolate_at", "protocol_estimator", "protocol_experiment",
           "protocol_figures", "protocol_termination", "ReportTables"]


def protocol_termination(protocol: PublishedProtocol, target: str) -> Termination:
    """The budget of a search on ``target``, with the protocol's over-budget rule."""
    return make_termination(max_simulated_s=protocol.budget(target),
                            over_budget=protocol.over_budget)


def protocol_estimator(protocol: PublishedProtocol, strategy: str, target: str, *,
                       data_dir: str | None = None) -> Any:
    """The tabular estimator of a search on ``target`` with ``strategy`` (a registry name)."""
    from naslab.estimators import make_estimator

    return make_estimator("tabular", {"benchmark": protocol.check_target(target),
                                      **protocol.estimator_params(strategy)},
                          offered={"data_dir": data_dir})


def protocol_experiment(protocol: PublishedProtocol | str, strategy: str, *, target: str | None = None,
                        seed: int = 0, data_dir: str | None = None, estimator: Any = None,
                        **kwargs: Any) -> Any:
    """The :class:`~naslab.runner.Experiment` of one run of ``protocol`` (``kwargs`` go to
    ``Experiment``: storage, executor, meta, experiment_id). ``target`` defaults to the
    protocol's first search target; ``estimator`` reuses an already built one."""
    from naslab import registry
    from naslab.runner.experiment import Experiment

    proto = get_protocol(protocol) if isinstance(protocol, str) else protocol
    name = getattr(registry.get("strategy", strategy), "registry_name", strategy)
    tgt = proto.check_target(target if target is not None else next(iter(proto.search)))
    strat = registry.create("strategy", name, **proto.strategy_params(name))
    est = estimator if estimator is not None else protocol_estimator(proto, name, tgt,
                                                                     data_dir=data_dir)
    meta = {"protocol": proto.name, **kwargs.pop("meta", {})}
    return Experiment(est.bench.space, strat, est, termination=protocol_termination(proto, tgt),
                      objective="val_acc", seed=seed, reuse=proto.reuse, meta=meta, **kwargs)


def interpolate_at(times: Sequence[float], values: Sequence[float], at: float) -> float:
    """NATS-Bench's ``draw-table.py`` rule: the two points whose time is nearest to ``at``
    (ties: the earlier), joined by a straight line, read at ``at`` (extrapolated when both
    lie on one side). One point: its value."""
    if not times:
        raise ConfigError("interpolate_at needs at least one point")
    order = sorted(range(len(times)), key=lambda i: abs(times[i] - at))
    if len(order) == 1:
        return float(values[order[0]])
    (x1, y1), (x2, y2) = ((times[i], values[i]) for i in order[:2])
    if x1 == x2:
        return float((y1 + y2) / 2)
    return float((x2 - at) / (x2 - x1) * y1 + (at - x1) / (x2 - x1) * y2)


class ReportTables:
    """The 200-epoch validation and test accuracy (means over recorded runs) of every
    architecture on the report targets, loaded once (``load_benchmark`` per target)."""

    def __init__(self, targets: Sequence[str], *, data_dir: str | None = None) -> None:
        from naslab.benchmarks.base import load_benchmark

        self.val: dict[str, np.ndarray] = {}
        self.test: dict[str, np.ndarray] = {}
        self.index: dict[str, Any] = {}
        for t in targets:
            if t in self.val:
                continue
            b = load_benchmark(t, data_dir=data_dir)
            self.val[t] = b.column("val_acc")
            self.test[t] = b.column("test_acc") if b.has_test else np.full(len(b.space), np.nan)
            self.index[t] = b.index

    def lookup(self, target: str, arch: Any) -> tuple[float, float]:
        i = self.index[target](arch)
        return float(self.val[target][i]), float(self.test[target][i])


def protocol_figures(protocol: PublishedProtocol, target: str, trials: Sequence[TrialRecord],
                     tables: ReportTables) -> dict[str, dict[str, float]]:
    """``{report target: {"val": ..., "test": ...}}`` of one finished run on ``target``, read
    as the protocol's table is (``protocol.figure``); empty when no trial completed."""
    if not trials or trials[-1].incumbent_number is None:
        return {}
    out: dict[str, dict[str, float]] = {}
    if protocol.figure == "final":
        best = trials[trials[-1].incumbent_number].arch
        for rt in protocol.report_targets(target):
            v, t = tables.lookup(rt, best)
            out[rt] = {"val": v, "test": t}
        return out
    budget = protocol.budget(target)
    pts = [(tr.cum_simulated_s, trials[tr.incumbent_number].arch) for tr in trials
           if tr.incumbent_number is not None]
    for rt in protocol.report_targets(target):
        vals = [tables.lookup(rt, a) for _, a in pts]
        times = [p[0] for p in pts]
        out[rt] = {"val": interpolate_at(times, [v for v, _ in vals], budget),
                   "test": interpolate_at(times, [t for _, t in vals], budget)}
    return out


def summarize_figures(runs: Sequence[Mapping[str, Mapping[str, float]]]) -> dict[str, dict[str, tuple[float, float, int]]]:
    """Mean, std (population, as the papers' ``np.std``) and count per (target, val|test)."""
    acc: dict[str, dict[str, list[float]]] = {}
    for r in runs:
        for tgt, d in r.items():
            for k, v in d.items():
                acc.setdefault(tgt, {}).setdefault(k, []).append(float(v))
    return {tgt: {k: (float(np.mean(v)), float(np.std(v)), len(v)) for k, v in d.items()}
            for tgt, d in acc.items()}


def check_protocol_options(protocol: str, given: Mapping[str, Any]) -> PublishedProtocol:
    """The protocol named ``protocol``; ConfigError naming every option in ``given`` (option ->
    value, None / empty = not given) that the protocol fixes itself."""
    proto = get_protocol(protocol)
    clash = [k for k, v in given.items() if v is not None and v != [] and v != ()]
    if clash:
        raise ConfigError(
            f"--protocol {proto.name} fixes the search itself (fidelity {proto.fidelity:g}, "
            f"budget{'s' if len(proto.search) > 1 else ''} "
            + ", ".join(f"{t} {b:g} s" for t, b in proto.search.items())
            + f", over-budget rule {proto.over_budget!r}, the authors' hyper-parameters, "
              f"objective val_acc); drop {', '.join(clash)} (--benchmark picks one of its search "
              f"targets, --strategy one of {', '.join(proto.strategies)})")
    return proto


def run_card_lines(exp: Any, result: Any, protocol: str | None = None, *,
                   data_dir: str | None = None) -> dict[str, str]:
    """What ``naslab search`` prints under its summary (and puts in its JSON as
    ``run_card``): the budget rule, what a query returns and costs, dropped queries and, under
    a protocol, the figures of the protocol's table."""
    out: dict[str, str] = {}
    term = exp.termination.describe()
    if "max_simulated_s" in term:
        rule = term.get("over_budget", "keep")
        out["budget rule"] = (
            f"{term['max_simulated_s']:g} simulated s; "
            + ("the query that would exceed it is discarded (the run stops within the budget)"
               if rule == "discard" else "the trial that crosses it is kept (the run may "
                                          "overshoot by one trial)"))
    if getattr(result, "discarded", 0):
        out["discarded"] = f"{result.discarded} evaluation(s) over the budget, not recorded"
    notes = getattr(exp.estimator, "run_card_notes", None)
    for k, v in (notes() if callable(notes) else {}).items():
        out[k] = v
    if not exp.reuse:
        out["repeats"] = "every proposal evaluated and charged, repeats included"
    if protocol is not None:
        proto = get_protocol(protocol)
        target = exp.estimator.benchmark_name
        figs = protocol_figures(proto, target, result.trials,
                                ReportTables(proto.report_targets(target), data_dir=data_dir))
        how = ("at the end of the run" if proto.figure == "final" else
               f"interpolated at {proto.budget(target):g} s")
        out["protocol"] = f"{proto.name}: {proto.title} ({how})"
        for rt, d in figs.items():
            out[f"  {rt}"] = (f"val {d['val']:.2f}  test {d['test']:.2f}  (the found arch, "
                              f"200 epochs, mean of recorded runs)")
    return out
