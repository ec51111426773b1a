"""One-shot runs (runner/oneshot.py): trace records, checkpoints atomic with them, the cost
ledger's phases, resume after interruptions at every phase, finished runs reported from
storage, determinism, and the checks on what a method returns."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import torch

from naslab import registry
from naslab.data import load_dataset
from naslab.errors import ConfigError, StorageError
from naslab.oneshot.base import dump_state, load_state
from naslab.runner import InMemoryStorage, SQLiteStorage, load_oneshot_result
from naslab.runner.ledger import cost_ledger
from naslab.runner.oneshot import (
    OneShotRun,
    default_final_estimator,
    read_checkpoint,
    space_benchmark,
)
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import get_space
from naslab.testing import SyntheticEstimator
from naslab.testing.oneshot import trace_signature
from oneshot_toys import TinyShared

SPACE = get_space(DEFAULT_SPACE)
DATA = load_dataset("digits")


@pytest.fixture(autouse=True)
def _one_thread() -> Any:
    """One torch thread: the small networks train fastest so on shared cores."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class CountingEstimator(SyntheticEstimator):
    """SyntheticEstimator that can raise KeyboardInterrupt on chosen calls."""

    def __init__(self, interrupt_on: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.interrupt_on = interrupt_on

    def evaluate(self, arch: Any, *, fidelity: float | None = None, seed: int = 0) -> Any:
        if self.calls + 1 in self.interrupt_on:
            self.calls += 1
            raise KeyboardInterrupt
        return super().evaluate(arch, fidelity=fidelity, seed=seed)


def make(storage: Any, *, epochs: int = 3, seed: int = 0, est: Any = None, **kw: Any) -> OneShotRun:
    return OneShotRun(SPACE, TinyShared(**kw), dataset=DATA, protocol="cpu",
                      estimator=est or CountingEstimator(), storage=storage, seed=seed,
                      epochs=epochs)


def outcome(res: Any) -> tuple[Any, ...]:
    return (trace_signature(res.trace), res.archs,
            [(t.arch, t.metrics, t.seed, t.incumbent_number) for t in res.evaluations])


def test_trace_records_checkpoint_with_each_record_and_ledger_phases(tmp_path: Path) -> None:
    db = tmp_path / "os.db"
    st = SQLiteStorage(db)
    run = make(st, epochs=3)
    seen = []

    def on_epoch(rec: dict[str, Any]) -> None:
        # another connection sees the record and the checkpoint of this epoch together
        ro = SQLiteStorage(db, readonly=True)
        try:
            recs = ro.records(run.id, "oneshot_epoch")
            ckpt = read_checkpoint(ro, run.id)
        finally:
            ro.close()
        assert ckpt is not None
        seen.append((len(recs), recs[-1]["epoch"], ckpt["runner"]["epoch"], rec["epoch"]))

    res = run.run(on_epoch=on_epoch)
    assert seen == [(1, 0, 0, 0), (2, 1, 1, 1), (3, 2, 2, 2)]
    assert res.status == "finished" and res.epochs == res.epochs_run == 3
    trace = st.records(run.id, "oneshot_epoch")
    assert [r["epoch"] for r in trace] == [0, 1, 2]
    for r in trace:
        assert set(r["metrics"]) == {"loss", "train_acc", "val_acc"}
        assert len(r["derived"]) == 2 and all(SPACE.parse(a) for a in r["derived"])
        assert r["choices"][0] == list(SPACE.parse(r["derived"][0]).choices)
        assert r["diagnostics"]["rows"] == len(SPACE.decisions) and r["device"] == "cpu"
        assert 0 < r["cost"]["simulated_s"] <= r["cost"]["wall_s"]
    # the checkpoint is the method's tensors, optimizer and generator state after epoch 2
    ckpt = read_checkpoint(st, run.id)
    assert ckpt is not None
    assert torch.equal(ckpt["method"]["alpha"], run.method.alpha)
    assert torch.equal(ckpt["method"]["gen"], run.method.gen.get_state())
    assert "momentum_buffer" in ckpt["method"]["opt"]["state"][0]
    (search,) = st.records(run.id, "oneshot_search")
    assert search["archs"] == trace[-1]["derived"] and search["epochs_trained"] == 3
    trials = st.trials(run.id)
    assert [str(t.arch) for t in trials] == search["archs"] == [str(a) for a in res.archs]
    assert all("test_acc" in t.metrics for t in trials)
    best = max(trials, key=lambda t: t.metrics["val_acc"])
    assert res.best is not None and res.best.number == best.number and res.derived_arch == best.arch
    led = cost_ledger(st, run.id)
    assert led["supernet_training"]["n"] == 3 and led["supernet_search"]["n"] == 1
    assert led["supernet_training"]["wall_s"] == pytest.approx(sum(r["cost"]["wall_s"] for r in trace))
    assert led["final_training"]["n"] == 2 and led["search"]["n"] == 0
    assert led["final_training"]["simulated_s"] == pytest.approx(sum(t.cost.simulated_s for t in trials))
    assert res.ledger == led
    info = st.experiment(run.id)
    assert info.kind == "oneshot" and info.status == "finished" and info.meta["device"] == "cpu"
    d = res.to_json()
    json.dumps(d)
    assert d["derived_arch"] == str(best.arch) and len(d["trace"]) == 3 and d["epochs_run"] == 3
    st.close()


@pytest.mark.parametrize("where", ["epoch0", "epoch1", "last_epoch", "search", "score0", "score1"])
def test_resume_after_an_interruption_equals_an_uninterrupted_run(tmp_path: Path, where: str) -> None:
    ref = make(InMemoryStorage()).run()
    st = SQLiteStorage(tmp_path / "os.db")

    class Stop(Exception):
        pass

    fail_search = 0
    est = CountingEstimator()
    on_epoch = None
    if where.startswith("epoch") or where == "last_epoch":
        stop_at = {"epoch0": 0, "epoch1": 1, "last_epoch": 2}[where]

        def on_epoch(rec: dict[str, Any]) -> None:
            if rec["epoch"] == stop_at:
                raise Stop
    elif where == "search":
        fail_search = 1
    else:
        est = CountingEstimator(interrupt_on=(int(where[-1]) + 1,))
    first = make(st, est=est)
    first.method.fail_search = fail_search
    with pytest.raises((Stop, KeyboardInterrupt)):
        first.run(on_epoch=on_epoch)
    assert st.experiment(make(st).id).status in ("failed", "interrupted")
    before = len(st.records(make(st).id, "oneshot_epoch"))
    again = make(st)
    trained: list[int] = []
    res = again.run(on_epoch=lambda r: trained.append(r["epoch"]))
    assert trained == list(range(before, 3))
    assert res.resumed_epochs == before and res.status == "finished"
    assert outcome(res) == outcome(ref)
    assert len(st.records(res.experiment_id, "oneshot_search")) == 1
    st.close()


def test_a_finished_run_is_reported_from_storage(tmp_path: Path) -> None:
    st = SQLiteStorage(tmp_path / "os.db")
    first = make(st).run()
    est = CountingEstimator()
    trained: list[int] = []
    again = make(st, est=est).run(on_epoch=lambda r: trained.append(r["epoch"]))
    assert trained == [] and est.calls == 0
    a, b = first.to_json(), again.to_json()
    assert b.pop("resumed_epochs") == 3 and a.pop("resumed_epochs") == 0
    assert a == b
    assert load_oneshot_result(st, first.experiment_id).to_json()["trace"] == a["trace"]
    st.close()


def test_same_seed_same_run_other_seed_other_run() -> None:
    a, b, c = (make(InMemoryStorage(), seed=s).run() for s in (4, 4, 5))
    assert outcome(a) == outcome(b)
    assert trace_signature(a.trace) != trace_signature(c.trace)
    assert a.experiment_id == b.experiment_id != c.experiment_id


def test_random_baseline_is_deterministic_and_derives_the_best_seen() -> None:
    def run(seed: int) -> Any:
        r = OneShotRun(SPACE, registry.create("oneshot", "random", top_k=2), dataset=DATA,
                       protocol="cpu", estimator=SyntheticEstimator(), storage=InMemoryStorage(),
                       seed=seed, epochs=3)
        return r, r.run()

    (ra, a), (_, b), (_, c) = run(0), run(0), run(1)
    assert outcome(a) == outcome(b) and trace_signature(a.trace) != trace_signature(c.trace)
    hist = ra.method.history  # (drawn arch, its validation accuracy) per epoch
    assert len({x.choices for x, _ in hist}) == len(hist) == 3  # never the same draw twice
    for e, r in enumerate(a.trace):
        seen = hist[:e + 1]
        assert r["metrics"]["val_acc"] == seen[-1][1]
        ranked = sorted(range(len(seen)), key=lambda i: (-seen[i][1], i))[:2]
        assert r["derived"] == [str(seen[i][0]) for i in ranked]
        assert r["metrics"]["best_val_acc"] == max(v for _, v in seen)
        assert not any(k.startswith("test_") for k in r["metrics"])
    assert [str(x) for x in a.archs] == a.trace[-1]["derived"]


def test_early_stopping_ends_training_and_holds_after_a_resume(tmp_path: Path) -> None:
    res = make(InMemoryStorage(), epochs=5, stop_after=2).run()
    assert res.epochs_run == 2 and res.stopped_early and res.trace[-1]["stop"]
    st = SQLiteStorage(tmp_path / "os.db")

    def crash(rec: dict[str, Any]) -> None:
        if rec["stop"]:
            raise RuntimeError("crash after the stopping epoch")

    with pytest.raises(RuntimeError):
        make(st, epochs=5, stop_after=2).run(on_epoch=crash)
    trained: list[int] = []
    again = make(st, epochs=5, stop_after=2).run(on_epoch=lambda r: trained.append(r["epoch"]))
    assert trained == [] and again.epochs_run == 2 and outcome(again) == outcome(res)
    st.close()


def test_identity_id_and_config() -> None:
    run = make(InMemoryStorage(), epochs=3)
    assert re.fullmatch(r"tiny-digits-s0-[0-9a-f]{8}", run.id)
    cfg = run.config
    assert set(cfg) == {"space", "method", "dataset", "protocol", "estimator", "objective", "seed"}
    assert cfg["method"]["method"] == "tiny" and cfg["protocol"]["epochs"] == 3
    assert cfg["dataset"]["fingerprint"] == DATA.fingerprint()
    assert make(InMemoryStorage(), epochs=4).id != run.id  # epochs change the protocol hash
    assert make(InMemoryStorage(), epochs=3, lr=0.1).id != run.id
    assert run.method.seed != 0  # the method gets a seed derived from the run seed


def test_unsafe_state_fails_at_the_first_checkpoint_and_records_nothing() -> None:
    st = InMemoryStorage()
    run = make(st, unsafe_state=True)
    with pytest.raises(StorageError, match="weights_only"):
        run.run()
    assert st.records(run.id) == [] and st.blob(run.id) is None


class _Payload:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        import os

        return (os.makedirs, (self.path,))


def test_loading_a_checkpoint_never_runs_code_from_the_file(tmp_path: Path) -> None:
    target = tmp_path / "ran"
    buf = io.BytesIO()
    torch.save({"format": 1, "method": _Payload(str(target))}, buf)
    with pytest.raises(StorageError, match="weights_only"):
        load_state(buf.getvalue())
    assert not target.exists()
    st = InMemoryStorage()
    st.open_experiment("x", {}, {}, kind="oneshot")
    st.add_record("x", "oneshot_epoch", {"epoch": 0}, blob=buf.getvalue())
    with pytest.raises(StorageError):
        read_checkpoint(st, "x")
    assert not target.exists()
    assert load_state(dump_state({"t": torch.ones(2), "n": [1, (2, 3)]}))["n"] == [1, (2, 3)]


def test_what_a_method_returns_is_checked() -> None:
    with pytest.raises(ConfigError, match="never see test data"):
        make(InMemoryStorage(), test_metric=True).run()

    class BadDerive(TinyShared):
        def derive(self) -> list[Any]:
            return ["not an arch"]

    run = OneShotRun(SPACE, BadDerive(), dataset=DATA, protocol="cpu", estimator=SyntheticEstimator(),
                     storage=InMemoryStorage(), epochs=1)
    with pytest.raises(ConfigError, match="not an architecture"):
        run.run()


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="epochs must be a positive integer"):
        make(InMemoryStorage(), epochs=0)
    with pytest.raises(ConfigError, match="seed must be a non-negative integer"):
        make(InMemoryStorage(), seed=-1)
    with pytest.raises(ConfigError, match="OneShotMethod"):
        OneShotRun(SPACE, object(), dataset=DATA, protocol="cpu",  # type: ignore[arg-type]
                   estimator=SyntheticEstimator())
    from naslab.nn.protocol import get_protocol

    with pytest.raises(ConfigError, match="16x16"):  # the data must be shaped for the protocol
        OneShotRun(SPACE, TinyShared(), dataset=DATA, estimator=SyntheticEstimator(),
                   protocol=get_protocol("cpu", image_size=16))
    with pytest.raises(ConfigError, match="device"):
        OneShotRun(SPACE, TinyShared(), dataset=DATA, protocol="cpu", estimator=SyntheticEstimator(),
                   device="tpu")
    st = InMemoryStorage()
    st.open_experiment("s", {}, {})
    with pytest.raises(StorageError, match="not a one-shot run"):
        load_oneshot_result(st, "s")


def test_reference_lookups_go_to_the_trace_only(data_dir: Path) -> None:
    from naslab.benchmarks import DEFAULT_BENCHMARK
    from naslab.estimators.tabular import TabularEstimator

    ref = TabularEstimator(DEFAULT_BENCHMARK, data_dir=str(data_dir))
    st = InMemoryStorage()
    run = OneShotRun(SPACE, TinyShared(), dataset=DATA, protocol="cpu", estimator=SyntheticEstimator(),
                     storage=st, epochs=2, reference=ref)
    res = run.run()
    assert "reference" in run.config and run.id != make(InMemoryStorage(), epochs=2).id
    for r in res.trace:
        assert len(r["reference"]) == len(r["derived"]) and "test_acc" in r["reference"][0]
        assert r["reference"][0]["test_acc"] == ref.evaluate(SPACE.parse(r["derived"][0])).metrics["test_acc"]
    assert trace_signature(res.trace) == trace_signature(make(InMemoryStorage(), epochs=2).run().trace)


def test_default_final_estimator_is_the_spaces_benchmark_else_training(data_dir: Path) -> None:
    from naslab.benchmarks import DEFAULT_BENCHMARK
    from naslab.estimators.tabular import TabularEstimator
    from naslab.estimators.training import TrainingEstimator
    from naslab.nn.protocol import get_protocol
    from toy_spaces import ToyGrid

    assert space_benchmark(SPACE.name) == DEFAULT_BENCHMARK
    assert space_benchmark(ToyGrid.name) is None
    proto = get_protocol("cpu", epochs=2)
    est, why = default_final_estimator(SPACE, "digits", proto, data_dir=str(data_dir))
    assert isinstance(est, TabularEstimator) and est.benchmark_name == DEFAULT_BENCHMARK
    assert "tabular" in why
    est2, why2 = default_final_estimator(ToyGrid(), "digits", proto, n_train=200)
    assert isinstance(est2, TrainingEstimator) and est2.protocol == proto and "no tabular" in why2
    assert est2.data_kw["n_train"] == 200


def test_a_checkpoint_that_fails_to_write_takes_its_record_with_it(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The epoch record and the checkpoint blob are one transaction: when writing the blob of
    epoch 1 fails, epoch 1's record is rolled back too, and the rerun redoes epoch 1."""
    import sqlite3

    ref = make(InMemoryStorage()).run()
    st = SQLiteStorage(tmp_path / "os.db")
    real, calls = sqlite3.Binary, []

    def flaky(data: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(data)

    monkeypatch.setattr(sqlite3, "Binary", flaky)
    run = make(st)
    with pytest.raises(OSError, match="disk full"):
        run.run()
    monkeypatch.setattr(sqlite3, "Binary", real)
    assert [r["epoch"] for r in st.records(run.id, "oneshot_epoch")] == [0]
    ckpt = read_checkpoint(st, run.id)
    assert ckpt is not None and ckpt["runner"]["epoch"] == 0
    trained: list[int] = []
    res = make(st).run(on_epoch=lambda r: trained.append(r["epoch"]))
    assert trained == [1, 2] and outcome(res) == outcome(ref)
    st.close()
