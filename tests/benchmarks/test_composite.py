"""CompositeEstimator: metrics from several estimators (e.g. accuracy from one tabular
benchmark, latency from another), costs summed, fidelity to the primary."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import cast

import pytest

from naslab import Experiment, MaxTrials, create, registry
from naslab.errors import ConfigError
from naslab.estimators.composite import CompositeEstimator, Part
from naslab.estimators.tabular import TabularEstimator
from naslab.spaces import SearchSpace, get_space

SPACE = get_space("nb201")
ARCHS = [SPACE.from_index(i) for i in (0, 11, 284, 6111)]
Parts = tuple[TabularEstimator, TabularEstimator]


@pytest.fixture(scope="module")
def parts(data_dir: Path) -> Parts:
    return (TabularEstimator("nb201/cifar10", data_dir=str(data_dir)),
            TabularEstimator("nb201/imagenet16", data_dir=str(data_dir), devices=("pixel3",)))


def test_accuracy_from_one_benchmark_latency_from_another(parts: Parts) -> None:
    acc, lat = parts
    comp = CompositeEstimator(acc, Part(lat, metrics=("latency_ms",)))
    assert registry.get("estimator", "composite") is CompositeEstimator
    assert comp.fidelities == acc.fidelities and comp.max_fidelity == acc.max_fidelity
    for a in ARCHS:
        ev, ea, el = comp.evaluate(a, seed=3), acc.evaluate(a, seed=3), lat.evaluate(a, seed=3)
        assert ev.metrics["latency_ms"] == el.metrics["latency_ms"] != ea.metrics["latency_ms"]
        assert {k: v for k, v in ev.metrics.items() if k != "latency_ms"} == \
            {k: v for k, v in ea.metrics.items() if k != "latency_ms"}  # only what was asked
        assert ev.cost.simulated_s == ea.cost.simulated_s + el.cost.simulated_s
        assert ev.fidelity == 200.0
        # the fidelity goes to the primary only
        e12 = comp.evaluate(a, fidelity=12, seed=3)
        assert e12.fidelity == 12.0
        assert e12.metrics["val_acc"] == acc.evaluate(a, fidelity=12).metrics["val_acc"]
        assert e12.cost.simulated_s == acc.evaluate(a, fidelity=12).cost.simulated_s + el.cost.simulated_s
    # optimum: of the part that supplies the metric (latency: the minimum of imagenet16's)
    assert comp.optimum("latency_ms") == lat.bench.optimum("latency_ms") == lat.bench.column("latency_ms").min()
    assert comp.optimum("test_acc") == acc.optimum("test_acc")
    assert comp.has_test


def test_primary_wins_name_clashes(parts: Parts) -> None:
    acc, lat = parts
    comp = CompositeEstimator(acc, lat)
    a = ARCHS[1]
    ev, ea = comp.evaluate(a, seed=1), acc.evaluate(a, seed=1)
    assert {k: ev.metrics[k] for k in ea.metrics} == dict(ea.metrics)
    assert ev.metrics["latency_ms@pixel3"] == lat.evaluate(a).metrics["latency_ms@pixel3"]  # new name: added
    assert list(ev.metrics) == [*ea.metrics, "latency_ms@pixel3"]


def test_describe_pickle_check_space_and_errors(parts: Parts) -> None:
    acc, lat = parts
    comp = CompositeEstimator(acc, Part(lat, metrics=["latency_ms"]))
    d = comp.describe()
    assert d["estimator"] == "composite" and len(d["parts"]) == 2
    assert d["parts"][0] == {"role": "primary", **acc.describe()}
    assert d["parts"][1] == {"role": "part", **lat.describe(), "metrics": ["latency_ms"]}
    clone = pickle.loads(pickle.dumps(comp))
    assert clone.evaluate(ARCHS[2], seed=5).metrics == comp.evaluate(ARCHS[2], seed=5).metrics
    assert "CompositeEstimator(TabularEstimator(" in repr(comp)
    comp.check_space(SPACE)

    class OtherSpace:
        name = "other"

    with pytest.raises(ConfigError, match="scores space 'nb201'"):
        comp.check_space(cast(SearchSpace, OtherSpace()))
    with pytest.raises(ConfigError, match="asked for metric 'flops_m'"):
        CompositeEstimator(acc, Part(lat, metrics=("flops_m",))).evaluate(ARCHS[0])
    with pytest.raises(ConfigError, match="at least one part"):
        CompositeEstimator(acc)
    with pytest.raises(ConfigError, match="non-empty list"):
        Part(lat, metrics=())
    with pytest.raises(ConfigError, match="keys estimator, params, metrics"):
        CompositeEstimator(acc, {"name": "tabular"})


def test_from_the_registry_with_specs(data_dir: Path, parts: Parts) -> None:
    acc, lat = parts
    comp = create("estimator", "composite",
                  primary={"estimator": "tabular", "params": {"benchmark": "nb201/cifar10",
                                                              "data_dir": str(data_dir)}},
                  parts=[{"estimator": "tabular", "metrics": ["latency_ms"],
                          "params": {"benchmark": "nb201/imagenet16", "data_dir": str(data_dir)}}])
    a = ARCHS[3]
    assert comp.evaluate(a, seed=2).metrics == \
        CompositeEstimator(acc, Part(lat, metrics=("latency_ms",))).evaluate(a, seed=2).metrics


def test_search_on_composite_follows_the_primary(parts: Parts) -> None:
    acc, lat = parts
    comp = CompositeEstimator(acc, Part(lat, metrics=("latency_ms",)))
    r = Experiment(SPACE, create("strategy", "re"), comp, termination=MaxTrials(40), seed=4).run()
    r0 = Experiment(SPACE, create("strategy", "re"), acc, termination=MaxTrials(40), seed=4).run()
    assert [t.arch for t in r.trials] == [t.arch for t in r0.trials]  # same val_acc, same search
    assert r.experiment_id != r0.experiment_id
    for t in r.trials:
        assert t.metrics["latency_ms"] == lat.bench.query(t.arch, "latency_ms")
