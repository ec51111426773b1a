"""Training estimator: protocols (names, versions, overrides, hash), schedule, augmentation,
bad input (fast); real training on digits, determinism, a search and `naslab train` (slow)."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from naslab.errors import ConfigError  # noqa: E402
from naslab.estimators.training import (PROTOCOLS, Protocol, TrainingEstimator,  # noqa: E402
                                        get_protocol)
from naslab.spaces.nb201 import NB201Space  # noqa: E402

SPACE = NB201Space()
BEST_C10 = SPACE.from_index(6111)  # best NB201 arch on CIFAR-10 test accuracy


def test_nb201_protocol_is_nb201s_training():
    p = PROTOCOLS["nb201"]
    assert (p.epochs, p.batch_size, p.lr, p.lr_min, p.momentum, p.nesterov, p.weight_decay,
            p.schedule, p.augment, p.C, p.N) == (200, 256, 0.1, 0.0, 0.9, True, 5e-4,
                                                  "cosine", "crop_flip", 16, 5)
    assert p.version == 1 and PROTOCOLS["cpu"].version == 1


def test_protocol_overrides_and_hash():
    base = get_protocol("cpu")
    same = get_protocol("cpu")
    assert base.hash == same.hash and len(base.hash) == 16
    o = get_protocol("cpu", epochs=3, lr=1)
    assert o.epochs == 3 and o.lr == 1.0 and isinstance(o.lr, float)
    assert o.overrides == ("epochs", "lr") and o.hash != base.hash and o.name == "cpu"
    assert get_protocol("cpu", epochs=base.epochs).hash == base.hash  # no real change
    d = o.describe()
    assert d["hash"] == o.hash and d["overrides"] == ["epochs", "lr"]
    assert get_protocol(d) == o  # round trip through the stored description
    assert json.loads(json.dumps(d)) == d


@pytest.mark.parametrize("kw,match", [
    ({"epoch": 3}, "no field 'epoch'.*did you mean 'epochs'"),
    ({"epochs": 0}, "epochs must be an integer >= 1"),
    ({"lr": -0.1}, "lr must be a number >= 0"),
    ({"augment": "crop-flip"}, "augment must be one of.*crop_flip"),
    ({"schedule": "step"}, "schedule must be one of"),
    ({"lr_min": 1.0}, "lr_min"),
    ({"nesterov": "yes"}, "nesterov must be true or false"),
    ({"name": "x"}, "no field 'name'"),
])
def test_protocol_bad_overrides(kw, match):
    with pytest.raises(ConfigError, match=match):
        get_protocol("cpu", **kw)


def test_unknown_protocol():
    with pytest.raises(ConfigError, match="unknown training protocol 'nb210'.*'nb201'"):
        get_protocol("nb210")


def test_cosine_schedule_as_nb201():
    """NB201's scheduler: cosine stepped per epoch (lr(e) = 0.05 (1 + cos(pi e / 200))),
    warm-up per iteration."""
    from naslab.estimators._train_loop import lr_at

    p = get_protocol("nb201")
    assert lr_at(p, 0, 0.0, 200) == pytest.approx(0.1)
    assert lr_at(p, 0, 0.9, 200) == pytest.approx(0.1)  # constant within an epoch
    assert lr_at(p, 100, 0.5, 200) == pytest.approx(0.05)
    assert lr_at(p, 50, 0.5, 200) == pytest.approx(0.05 * (1 + math.cos(math.pi * 50 / 200)))
    assert lr_at(p, 199, 0.99, 200) == pytest.approx(0.05 * (1 + math.cos(math.pi * 199 / 200)))
    assert lr_at(p, 200, 0.0, 200) == 0.0
    w = get_protocol("nb201", warmup_epochs=5)
    assert lr_at(w, 2, 0.5, 200) == pytest.approx(0.05)
    assert lr_at(w, 5, 0.0, 200) == pytest.approx(0.1)
    assert lr_at(get_protocol("cpu", schedule="constant"), 7, 0.3, 10) == 0.05


def test_augmentation():
    from naslab.estimators._train_loop import augment_batch

    g = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float32).reshape(2, 1, 8, 8)
    assert augment_batch(x, get_protocol("cpu"), g) is x
    y = augment_batch(x, get_protocol("cpu", augment="crop", crop_padding=0), g)
    assert torch.equal(x, y)
    crops = [augment_batch(x, get_protocol("cpu", augment="crop", crop_padding=2), g)
             for _ in range(20)]
    assert all(c.shape == x.shape for c in crops) and any(not torch.equal(c, x) for c in crops)
    for c in crops:  # every crop is a shifted window of the zero-padded image
        xp = torch.nn.functional.pad(x, (2, 2, 2, 2))
        for b in range(2):
            assert any(torch.equal(c[b], xp[b, :, i:i + 8, j:j + 8])
                       for i in range(5) for j in range(5))
    flips = [augment_batch(x, get_protocol("cpu", augment="flip"), g) for _ in range(20)]
    for f in flips:
        for b in range(2):
            assert torch.equal(f[b], x[b]) or torch.equal(f[b], x[b].flip(2))
    assert any(torch.equal(f[0], x[0].flip(2)) for f in flips)


def test_estimator_contract_without_training():
    est = TrainingEstimator("digits", "cpu", epochs=4)
    assert est.max_fidelity == 4.0 and est.fidelities == (1.0, 2.0, 3.0, 4.0)
    d = est.describe()
    assert d["estimator"] == "train" and d["dataset"] == "digits"
    assert d["protocol"]["hash"] == est.protocol.hash and d["protocol"]["epochs"] == 4
    assert d["data"]["sizes"] == {"train": 1079, "val": 359, "test": 359}
    blob = pickle.dumps(est)
    assert len(blob) < 10_000  # the data is not shipped to workers
    other = pickle.loads(blob)
    assert other._data is None and other.describe() == d
    from naslab import registry

    assert registry.get("estimator", "train") is TrainingEstimator
    with pytest.raises(ConfigError, match="integer in 1..4"):
        est.evaluate(BEST_C10, fidelity=2.5)
    with pytest.raises(ConfigError, match="integer in 1..4"):
        est.evaluate(BEST_C10, fidelity=5)
    from naslab.spaces.base import get_space

    est.check_space(get_space("nb201"))


def test_estimator_bad_input():
    from naslab.errors import UnknownComponentError

    with pytest.raises(UnknownComponentError, match="did you mean 'digits'"):
        TrainingEstimator("digitz")
    with pytest.raises(ConfigError, match="device must be"):
        TrainingEstimator("digits", device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            TrainingEstimator("digits", device="cuda")
    with pytest.raises(ConfigError, match="no field 'epoch'"):
        TrainingEstimator("digits", epoch=3)
    with pytest.raises(ConfigError, match="num_threads"):
        TrainingEstimator("digits", num_threads=0)


# ---------------------------------------------------------------- real training (slow) ----
@pytest.mark.slow
def test_short_training_on_digits_beats_chance_and_is_deterministic():
    est = TrainingEstimator("digits", "cpu", epochs=3)
    ev = est.evaluate(BEST_C10, seed=5)
    m = ev.metrics
    assert m["val_acc"] > 80.0 and m["test_acc"] > 80.0  # chance is 10 %
    assert m["train_loss"] < math.log(10) and m["val_loss"] < 1.0
    assert m["params_m"] > 0 and m["flops_m"] > 0
    assert ev.fidelity == 3.0 and 0 < ev.cost.simulated_s <= ev.cost.wall_s
    assert ev.info["protocol_hash"] == est.protocol.hash and len(ev.info["history"]) == 3
    again = est.evaluate(BEST_C10, seed=5).metrics
    other = est.evaluate(BEST_C10, seed=6).metrics
    timing = {"train_time_s"}
    assert {k: v for k, v in m.items() if k not in timing} == \
        {k: v for k, v in again.items() if k not in timing}
    assert other["val_loss"] != m["val_loss"]
    # a lower fidelity trains fewer epochs and costs less
    low = est.evaluate(BEST_C10, fidelity=1, seed=5)
    assert low.fidelity == 1.0 and low.metrics["epochs"] == 1.0
    assert low.cost.simulated_s < ev.cost.simulated_s


@pytest.mark.slow
def test_all_none_cell_is_worse_than_a_conv_cell():
    """Real signal: a cell of `none` edges passes nothing through its cells."""
    est = TrainingEstimator("digits", "cpu", epochs=3, C=4)
    zero = est.evaluate(SPACE.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"), seed=0)
    good = est.evaluate(BEST_C10, seed=0)
    assert zero.metrics["val_acc"] < 30.0 < good.metrics["val_acc"]


@pytest.mark.slow
def test_search_and_final_training_cli(tmp_path):
    from typer.testing import CliRunner

    from naslab.cli.main import _load_command_modules, app
    from naslab.runner import SQLiteStorage

    _load_command_modules()
    db = tmp_path / "n.db"
    r = CliRunner().invoke(app, ["search", "--space", "nb201", "--estimator", "train",
                                 "--dataset", "digits", "--strategy", "rs", "--budget", "2",
                                 "-e", "epochs=1", "-e", "C=4", "--storage", str(db),
                                 "--output", "json", "--no-progress"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    exp = res["experiment_id"]
    assert res["trials"] == 2 and res["simulated_cost_s"] > 0 and exp.startswith("rs-digits")
    r = CliRunner().invoke(app, ["train", "--experiment", exp, "--storage", str(db),
                                 "--epochs", "2", "-s", "C=4", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "final-training cost" in r.output and "search cost" in r.output
    assert res["best_arch"] in r.output
    st = SQLiteStorage(db, readonly=True)
    recs = st.records(exp, "final_training")
    assert len(recs) == 1 and recs[0]["arch"] == res["best_arch"]
    assert recs[0]["protocol"]["epochs"] == 2 and recs[0]["cost"]["simulated_s"] > 0
    assert recs[0]["metrics"]["test_acc"] > 0
    st.close()


def test_train_cli_bad_input(tmp_path):
    from typer.testing import CliRunner

    from naslab.cli.main import _load_command_modules, app

    _load_command_modules()
    cases = [
        (["train", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"], "unknown operation"),
        (["train"], "ARCH is missing"),
        (["train", "0", "--protocol", "nb2001"], "unknown training protocol"),
        (["train", "0", "-s", "epoch=2"], "no field 'epoch'"),
        (["train", "0", "--experiment", "nope", "--storage", str(tmp_path / "x.db")],
         "does not exist"),
        (["train", "0", "--data-param", "seed=1"], "not a dataset option"),
    ]
    for args, match in cases:
        r = CliRunner().invoke(app, args)
        assert r.exit_code != 0 and match in str(r.exception or r.output), (args, r.output)


def test_protocol_file(tmp_path):
    from naslab.estimators.training import load_protocol_file

    f = tmp_path / "p.yaml"
    f.write_text("name: nb201\nepochs: 12\naugment: crop\n")
    p = load_protocol_file(f)
    assert p.name == "nb201" and p.epochs == 12 and p.augment == "crop" and p.lr == 0.1
    assert p.overrides == ("augment", "epochs")
    g = tmp_path / "q.yaml"
    g.write_text(json.dumps({**get_protocol("cpu").describe(), "name": "mine", "C": 4}))
    q = load_protocol_file(g)
    assert q.name == "mine" and q.C == 4 and q.epochs == 10
    f.write_text("name: nb201\nepoch: 12\n")
    with pytest.raises(ConfigError, match="no field 'epoch'"):
        load_protocol_file(f)
    f.write_text("epochs: 12\n")
    with pytest.raises(ConfigError, match="'name' key"):
        load_protocol_file(f)
    est = TrainingEstimator("digits", load_protocol_file(g), epochs=3)
    assert est.protocol.C == 4 and est.protocol.epochs == 3 and est.max_fidelity == 3.0
