"""Hardware estimator: latency from a LUT, from a benchmark's device column, from a direct
measurement; composed with tabular accuracy; clear errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

pytest.importorskip("torch")

from naslab import registry  # noqa: E402
from naslab.errors import ConfigError  # noqa: E402
from naslab.estimators.composite import CompositeEstimator  # noqa: E402
from naslab.estimators.hardware import HardwareEstimator, with_latency  # noqa: E402
from naslab.estimators.tabular import TabularEstimator  # noqa: E402
from naslab.nn.lut import LatencyLUT, build_lut  # noqa: E402
from naslab.spaces.base import get_space  # noqa: E402

SPACE = get_space("nb201")
ARCHS = [SPACE.from_index(i) for i in (0, 321, 6111, 15624)]


@pytest.fixture(scope="module")
def lut_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lut = build_lut("nb201", C=4, N=1, image_size=8, rounds=2, samples_per_round=1,
                    calibration_archs=3)
    return lut.save(tmp_path_factory.mktemp("hw") / "lut.json")


def test_from_a_lut(lut_path: Path) -> None:
    lut = LatencyLUT.load(lut_path)
    est = HardwareEstimator(lut=str(lut_path))
    assert est.source == "lut"
    est.check_space(SPACE)
    for a in ARCHS:
        ev = est.evaluate(a)
        assert ev.metrics == {"latency_ms": pytest.approx(lut.predict(a))}
        assert ev.cost.wall_s >= 0 and ev.cost.simulated_s == ev.cost.wall_s
    d = est.describe()
    assert d["source"] == "lut" and d["lut"]["digest"] == lut.digest()
    assert pickle.loads(pickle.dumps(est)).evaluate(ARCHS[1]).metrics == est.evaluate(ARCHS[1]).metrics


def test_from_a_device_column(nb201_c10) -> None:  # type: ignore[no-untyped-def]
    est = registry.create("estimator", "hardware", device="pixel3")
    assert isinstance(est, HardwareEstimator) and est.source == "device"
    for a in ARCHS:
        ev = est.evaluate(a)
        assert ev.metrics["latency_ms"] == nb201_c10.query(a, "latency_ms@pixel3")
        assert ev.cost.simulated_s == 0.0
    assert est.optimum("latency_ms") == nb201_c10.optimum("latency_ms", device="pixel3")
    assert est.describe()["device"] == "pixel3"
    with pytest.raises(ConfigError, match="pixel3"):
        HardwareEstimator(device="pixle3")


def test_composed_with_tabular_accuracy(lut_path: Path, nb201_c10) -> None:  # type: ignore[no-untyped-def]
    lut = LatencyLUT.load(lut_path)
    comp = with_latency(TabularEstimator(nb201_c10), lut=str(lut_path))
    assert isinstance(comp, CompositeEstimator)
    comp.check_space(SPACE)
    a = ARCHS[2]
    m = comp.evaluate(a, seed=3).metrics
    assert m["val_acc"] == nb201_c10.query(a, "val_acc", seed=3)
    assert m["test_acc"] == nb201_c10.query(a, "test_acc")
    assert m["latency_ms"] == pytest.approx(lut.predict(a))   # replaces the table's own latency
    # the configuration-file form the CLI's -e reaches: device column instead of the LUT
    comp2 = registry.create("estimator", "composite", primary="tabular", parts=[
        {"estimator": "hardware", "params": {"device": "titanx_1"}, "metrics": ["latency_ms"]}])
    m2 = comp2.evaluate(a).metrics
    assert m2["latency_ms"] == nb201_c10.query(a, "latency_ms@titanx_1")
    assert m2["val_acc"] == nb201_c10.query(a, "val_acc")
    with pytest.raises(ConfigError, match="exactly one latency source"):
        with_latency("tabular", lut=str(lut_path), device="pixel3")


def test_direct_measurement() -> None:
    est = HardwareEstimator(network={"C": 4, "N": 1, "image_size": 8}, repeats=5, max_time_s=0.0)
    assert est.source == "measure"
    est.check_space(SPACE)
    ev = est.evaluate(ARCHS[1], seed=1)
    m = ev.metrics
    assert m["latency_ms"] > 0 and m["latency_ms_ci_low"] <= m["latency_ms"] <= m["latency_ms_ci_high"]
    assert ev.cost.simulated_s > 0 and ev.info["latency"]["n"] >= 5
    assert est.describe()["measure"]["device"]["cpu_count"] >= 1
    with pytest.raises(ConfigError, match="no option.*width"):
        HardwareEstimator(network={"width": 4}).check_space(SPACE)
    with pytest.raises(ConfigError, match="no option.*width"):
        HardwareEstimator(network={"width": 4}).evaluate(ARCHS[0])


def test_bad_input_names_the_bad_part(lut_path: Path) -> None:
    with pytest.raises(ConfigError, match="source must be one of lut, measure, device.*'lt'"):
        HardwareEstimator("lt")
    with pytest.raises(ConfigError, match="needs lut=PATH"):
        HardwareEstimator("lut")
    with pytest.raises(ConfigError, match="device='pixel3' is an option of source 'device'"):
        HardwareEstimator("lut", lut=str(lut_path), device="pixel3")
    with pytest.raises(ConfigError, match="statistic.*'medain'.*median"):
        HardwareEstimator(statistic="medain")
    with pytest.raises(ConfigError, match="does not exist"):
        HardwareEstimator(lut="/nonexistent/lut.json")
    with pytest.raises(ConfigError, match="no parameter 'lutt'"):
        registry.create("estimator", "hardware", lutt="x")

    class Other:
        name = "other"

    with pytest.raises(ConfigError, match="for space 'nb201'.*'other'"):
        HardwareEstimator(lut=str(lut_path)).check_space(Other())  # type: ignore[arg-type]
