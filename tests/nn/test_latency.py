"""Latency measurement, latency models and LUTs: intervals, threads restored, the NB201
decomposition covers every op the network runs, prediction = sum of entries + fixed part,
file versioning refused unless forced."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from naslab.errors import ConfigError  # noqa: E402
from naslab.nn.latency import (DEVICE_KEYS, measure_interleaved, measure_latency,  # noqa: E402
                               median_ci, quantile_ci, torch_threads)
from naslab.nn.latency_parts import latency_model, latency_spaces  # noqa: E402
from naslab.nn.lut import LatencyLUT, build_lut, validate_lut  # noqa: E402
from naslab.spaces.base import get_space  # noqa: E402

SPACE = get_space("nb201")
TINY = {"C": 4, "N": 1, "image_size": 8}


@pytest.fixture(scope="module")
def tiny_lut(tmp_path_factory: pytest.TempPathFactory) -> tuple[LatencyLUT, Path]:
    lut = build_lut("nb201", rounds=2, samples_per_round=2, calibration_archs=4, **TINY)
    path = lut.save(tmp_path_factory.mktemp("lut") / "lut.json")
    return lut, path


def test_measurement_median_is_positive_and_inside_its_interval() -> None:
    conv = nn.Conv2d(3, 8, 3, padding=1)
    before = torch.get_num_threads()
    r = measure_latency(conv, (3, 16, 16), batch=2, threads=1, min_repeats=20, max_repeats=40,
                        max_time_s=0.05, warmup_s=0.0)
    assert torch.get_num_threads() == before
    assert r.median_ms > 0 and r.ci_ms[0] <= r.median_ms <= r.ci_ms[1]
    assert 20 <= r.n <= 40 and len(r.samples_ms) == r.n and r.number >= 1
    assert r.min_ms <= r.p10_ms <= r.q1_ms <= r.median_ms <= r.q3_ms
    assert r.iqr_rel >= 0 and r.cv >= 0 and r.batch == 2 and r.clock == "wall"
    assert r.value("p10") == r.p10_ms and r.ci("min") == (r.min_ms, r.min_ms)
    fp = r.fingerprint
    assert all(k in fp for k in DEVICE_KEYS) and fp["threads"] == 1 and fp["cpu_count"] >= 1
    assert json.loads(json.dumps(r.to_json()))["median_ms"] == r.median_ms


def test_cpu_clock_and_bad_options() -> None:
    r = measure_latency(nn.ReLU(), (4, 4, 4), clock="cpu", min_repeats=5, max_repeats=5,
                        warmup_s=0.0)
    assert r.clock == "cpu" and r.median_ms > 0
    with pytest.raises(ConfigError, match="threads=2"):
        measure_latency(nn.ReLU(), (4,), clock="cpu", threads=2)
    with pytest.raises(ConfigError, match="clock"):
        measure_latency(nn.ReLU(), (4,), clock="wal")
    with pytest.raises(ConfigError, match="backend must be one of torch, onnxruntime, got 'tensorrt'"):
        measure_latency(nn.ReLU(), (4,), backend="tensorrt")
    with pytest.raises(ConfigError, match="max_repeats"):
        measure_latency(nn.ReLU(), (4,), min_repeats=10, max_repeats=5)


def test_threads_restored_even_on_error() -> None:
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError):
        with torch_threads(1):
            assert torch.get_num_threads() == 1
            raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_order_statistic_interval_matches_the_binomial_table() -> None:
    x = np.arange(1.0, 101.0)
    # the classical distribution-free 95 % interval of the median for n = 100: (x_(40), x_(61))
    assert median_ci(x) == (40.0, 61.0)
    lo, hi = quantile_ci(x, 0.1)
    assert lo <= 10.5 <= hi and lo >= 1 and hi <= 20
    # coverage by simulation (conservative, so at least the nominal level)
    rng = np.random.default_rng(0)
    hits = sum(lo <= np.log(2) <= hi for lo, hi in
               (median_ci(rng.exponential(size=31)) for _ in range(400)))
    assert hits / 400 >= 0.93


def test_interleaved_measurement_pools_rounds() -> None:
    items = {"relu": (nn.ReLU(), (8, 8, 8)), "add": (_add(), ((8, 8, 8), (8, 8, 8)))}
    res = measure_interleaved(items, rounds=3, samples_per_round=2, min_sample_s=0.0)
    assert set(res) == {"relu", "add"}
    assert all(r.n == 6 and r.median_ms > 0 for r in res.values())
    with pytest.raises(ConfigError, match="at least one module"):
        measure_interleaved({})


def _add() -> nn.Module:
    from naslab.nn.latency import AddKernel

    return AddKernel()


def test_device_keys_agree_between_modules() -> None:
    from naslab.nn import lut

    assert lut.DEVICE_KEYS == DEVICE_KEYS
    from naslab.nn.latency import STATISTICS

    assert lut.STAT_FIELD == STATISTICS


def _leaf_calls(module: nn.Module, inputs: list[torch.Tensor]) -> dict[str, int]:
    """How often each compute-layer type runs in one forward pass."""
    counts: dict[str, int] = {}
    kinds = (nn.Conv2d, nn.BatchNorm2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Linear, nn.ReLU)
    hooks = [m.register_forward_hook(lambda m, i, o: counts.__setitem__(
        type(m).__name__, counts.get(type(m).__name__, 0) + 1))
        for m in module.modules() if isinstance(m, kinds)]
    with torch.inference_mode():
        module.eval()(*inputs)
    for h in hooks:
        h.remove()
    return counts


@pytest.mark.parametrize("index", [0, 1462, 6111, 15624])
def test_nb201_kernels_cover_every_layer_call_of_the_network(index: int) -> None:
    from naslab.nn import build_network

    model = latency_model("nb201", C=4, N=2, image_size=8)
    kernels = model.kernels()
    arch = SPACE.from_index(index)
    net = build_network(arch, generator=torch.Generator().manual_seed(0),
                        **model.network_protocol())
    want = _leaf_calls(net, [torch.randn(1, *model.input_shape())])
    got: dict[str, int] = {}
    for k in [*model.fixed_kernels(), *model.arch_kernels(arch)]:
        kern = kernels[k]
        for name, c in _leaf_calls(kern.build(), [torch.randn(1, *s) for s in kern.input_shapes]).items():
            got[name] = got.get(name, 0) + c
    assert got == want
    # 3 additions per cell, 3 stages x N cells
    assert sum(k.startswith("add|") for k in model.fixed_kernels()) == 3 * 3 * 2


def test_latency_model_protocol_errors() -> None:
    assert "nb201" in latency_spaces()
    with pytest.raises(ConfigError, match="no option.*width"):
        latency_model("nb201", width=3)
    with pytest.raises(ConfigError, match="divisible by 4"):
        latency_model("nb201", image_size=10)
    with pytest.raises(ConfigError, match="no latency decomposition.*nb201"):
        latency_model("nb2O1")


def test_networks_measured_alongside_the_kernels() -> None:
    from naslab.nn.lut import build_lut_and_measure

    archs = [SPACE.from_index(i) for i in (3, 3000)]
    lut, res = build_lut_and_measure("nb201", archs, rounds=1, samples_per_round=2,
                                     calibration_archs=0, **TINY)
    assert len(res) == 2 and all(r.n == 2 and r.median_ms > 0 for r in res)
    assert lut.build["measured_alongside"] == 2 and len(lut.entries) == 22
    assert lut.calibration == [] and lut.overhead_ms == 0.0
    model = latency_model("nb201", **TINY)
    cal = model.calibration_archs(6, seed=1)
    assert len(set(cal)) == 6 and cal == model.calibration_archs(6, seed=1)


def test_lut_prediction_is_the_sum_of_entries_plus_fixed(tiny_lut: tuple[LatencyLUT, Path]) -> None:
    lut, _ = tiny_lut
    model = latency_model("nb201", **TINY)
    assert set(lut.entries) == set(model.kernels()) and len(lut.entries) == 22
    # each kernel adds its entry less the harness's per-call cost; the network pays one call
    call = lut.call_ms
    assert 0 < call < max(e["ms"] for e in lut.entries.values())
    ms = {k: e["ms"] - call for k, e in lut.entries.items()}
    fixed = sum(ms[k] for k in model.fixed_kernels()) + call
    resid = [c["measured_ms"] - c["kernels_ms"] for c in lut.calibration]
    assert len(lut.calibration) == 4 and lut.overhead_ms == pytest.approx(float(np.median(resid)))
    for i in (0, 77, 4000, 15624):
        a = SPACE.from_index(i)
        by_hand = sum(ms[k] for k in model.arch_kernels(a)) + fixed + lut.overhead_ms
        assert lut.predict(a) == pytest.approx(by_hand)
        assert lut.predict(a, overhead=False) == pytest.approx(by_hand - lut.overhead_ms)
        assert sum(lut.breakdown(a).values()) == pytest.approx(by_hand)
    t = lut.decision_table()
    assert t is not None and t.shape == (6, 5)
    a = SPACE.from_index(1234)
    assert lut.predict(a) == pytest.approx(lut.fixed_ms() + sum(t[d, o] for d, o in enumerate(a.choices)))
    # every NB201 edge offers the same ops at the same shapes
    assert np.allclose(t, t[0])
    for e in lut.entries.values():
        assert e["ms"] > 0 and e["ci_ms"][0] <= e["ms"] <= e["ci_ms"][1] and e["n"] == 4


def test_lut_round_trip_and_versioning(tiny_lut: tuple[LatencyLUT, Path], tmp_path: Path) -> None:
    lut, path = tiny_lut
    again = LatencyLUT.load(path)
    a = SPACE.from_index(99)
    assert again.predict(a) == pytest.approx(lut.predict(a)) and again.forced == []
    assert again.digest() == lut.digest()
    d = json.loads(path.read_text())

    def variant(**changes: object) -> Path:
        e = json.loads(json.dumps(d))
        for k, v in changes.items():
            if k in e["fingerprint"] and k not in ("naslab",):
                e["fingerprint"][k] = v
            else:
                e[k] = v
        p = tmp_path / f"{'-'.join(changes)}.json"
        p.write_text(json.dumps(e))
        return p

    other_cpu = variant(cpu_model="Some Other CPU 9000")
    with pytest.raises(ConfigError, match="cpu_model: 'Some Other CPU 9000'.*--force"):
        LatencyLUT.load(other_cpu)
    forced = LatencyLUT.load(other_cpu, force=True)
    assert forced.forced and "cpu_model" in forced.forced[0]
    assert forced.predict(a) == pytest.approx(lut.predict(a))
    with pytest.raises(ConfigError, match="naslab version: '0.0.1'"):
        LatencyLUT.load(variant(naslab_version="0.0.1"))
    with pytest.raises(ConfigError, match="torch"):
        LatencyLUT.load(variant(torch="1.0"))
    with pytest.raises(ConfigError, match="format version 99"):
        LatencyLUT.load(variant(format_version=99), force=True)
    notlut = tmp_path / "x.json"
    notlut.write_text('{"a": 1}')
    with pytest.raises(ConfigError, match="not a naslab latency LUT"):
        LatencyLUT.load(notlut)
    with pytest.raises(ConfigError, match="does not exist"):
        LatencyLUT.load(tmp_path / "missing.json")
    with pytest.raises(ConfigError, match="space 'nb201'"):
        from naslab.spaces.base import Architecture

        lut.predict(Architecture("other", (0,)))


def test_validation_reports_errors_and_repeatability(tiny_lut: tuple[LatencyLUT, Path],
                                                     tmp_path: Path) -> None:
    lut, _ = tiny_lut
    v = validate_lut(lut, archs=4, seed=3, rounds=2, samples_per_round=2)
    assert len(v.archs) == len(set(v.archs)) == 4
    assert v.predicted_ms == pytest.approx(lut.predict_many([SPACE.parse(a) for a in v.archs]).tolist())
    for stats in (v.lut, v.lut_kernels_only, v.repeatability):
        assert stats["mape"] >= 0 and stats["max_ape"] >= stats["mape"] and -1 <= stats["spearman"] <= 1
    assert all(m > 0 for m in v.measured_ms + v.first_ms + v.second_ms)
    # the archs: the first distinct draws of the space's sampler from the seed
    rng = np.random.default_rng(3)
    drawn: list[str] = []
    while len(drawn) < 4:
        a = str(SPACE.sample(rng))
        if a not in drawn:
            drawn.append(a)
    assert v.archs == drawn
    assert "repeatability" in v.summary()
    assert v.plot(tmp_path / "v.png").stat().st_size > 1000
    with pytest.raises(ConfigError, match="archs must be .*3, got 2"):
        validate_lut(lut, archs=2)


def test_onnxruntime_backend_or_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    conv = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match=r"naslab\[onnx\]"):
            measure_latency(conv, (3, 8, 8), backend="onnxruntime")
        return
    r = measure_latency(conv, (3, 8, 8), backend="onnxruntime", min_repeats=5, max_repeats=5,
                        warmup_s=0.0)
    assert r.backend == "onnxruntime" and r.median_ms > 0
    assert r.fingerprint["backend_version"] == onnxruntime.__version__
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ConfigError, match=r"pip install 'naslab\[onnx\]'"):
        measure_latency(conv, (3, 8, 8), backend="onnxruntime")


def test_lut_prediction_and_model_discovery_do_not_import_torch(tiny_lut: tuple[LatencyLUT, Path]) -> None:
    _, path = tiny_lut
    code = (
        "import sys, json\n"
        "from naslab.nn.lut import LatencyLUT\n"
        "from naslab.spaces.base import get_space\n"
        "from naslab import registry\n"
        "registry.names('latency')\n"
        "here = json.load(open(sys.argv[1]))['fingerprint']\n"
        "lut = LatencyLUT.load(sys.argv[1], fingerprint=here)\n"
        "print(lut.predict(get_space('nb201').from_index(5)))\n"
        "import naslab.estimators.hardware\n"
        "assert 'torch' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=True,
                         capture_output=True, text=True)
    assert float(out.stdout) > 0


@pytest.mark.slow
def test_lut_predicts_measured_latency_of_real_networks() -> None:
    """The LUT tracks what the networks cost: from an all-`none` cell to an all-conv3x3 cell,
    predictions rank the archs as their measurements do and stay within a factor of 1.5
    of each (loose bounds: a unit test on a shared machine; the figures are the benchmark's).
    A LUT that missed the cells' kernels or mixed up the stages' shapes would fail this."""
    from scipy import stats

    from naslab.nn.lut import build_lut_and_measure

    protocol = {"C": 8, "N": 2, "image_size": 16}
    ops = ("none", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3")
    uniform = [SPACE.parse("|{0}~0|+|{0}~0|{0}~1|+|{0}~0|{0}~1|{0}~2|".format(o)) for o in ops]
    mixed = [SPACE.from_index(i) for i in (123, 4567, 9876, 15000)]
    archs = uniform + mixed
    lut, res = build_lut_and_measure("nb201", archs, clock="cpu", statistic="mean", rounds=4,
                                     samples_per_round=3, calibration_archs=4, seed=5,
                                     **protocol)
    meas = np.array([r.mean_ms for r in res])
    pred = lut.predict_many(archs)
    ratio = pred / meas
    assert np.all((ratio > 1 / 1.5) & (ratio < 1.5)), dict(zip(map(str, archs), ratio.round(3)))
    assert stats.spearmanr(pred, meas).statistic > 0.8
    # the all-conv3x3 network is the most expensive, measured and predicted
    assert int(np.argmax(meas)) == int(np.argmax(pred)) == len(ops) - 1

