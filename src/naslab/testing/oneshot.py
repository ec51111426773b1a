"""Conformance suite for one-shot methods: ``check_oneshot(name)``.

What every registered ``oneshot`` method must do, checked through the real runner
(:class:`naslab.runner.oneshot.OneShotRun`) on a small dataset (digits by default, the
``cpu`` protocol at a few epochs), with a cheap synthetic final estimator so that only the
method is measured:

1. ``describe()`` is JSON-able, names the method, and its ``params`` are the constructor's;
2. after ``setup`` ``epochs`` is a positive int; ``train_epoch`` returns finite numbers and no
   test metric; ``derive()`` / ``search()`` return valid architectures of the space (the
   runner checks these and raises otherwise);
3. the ``state_dict()`` survives ``torch.save`` / ``torch.load(weights_only=True)`` (the runner
   checks the first checkpoint of a session);
4. determinism: two runs with the same seed give the same trace (metrics, derived
   architectures) and the same searched architectures;
5. resume: a run interrupted after its first epoch (an exception raised in ``on_epoch``,
   after the epoch's record and checkpoint are committed) and run again on the same storage
   ends with the trace and architectures of an uninterrupted run; a finished run run again
   trains nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from naslab.testing.strategies import SyntheticEstimator

__all__ = ["check_oneshot", "trace_signature"]


class _Interrupt(Exception):
    """Raised from ``on_epoch`` to simulate a crash after a committed epoch."""


def trace_signature(trace: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What must be equal between an interrupted-and-resumed and an uninterrupted run: each
    epoch's number, metrics, derived architectures, diagnostics and stop flag (not costs or
    timestamps)."""
    return [(r["epoch"], json.dumps(r["metrics"], sort_keys=True), tuple(r["derived"]),
             json.dumps(r.get("diagnostics", {}), sort_keys=True), bool(r.get("stop")))
            for r in trace]


def _default_space(name: str, default: str) -> str:
    from naslab import registry
    from naslab.errors import ConfigError
    from naslab.spaces.base import get_space

    cls = registry.get("oneshot", name)
    for n in [default, *registry.names("space")]:
        try:
            cls.check_space(cls.__new__(cls), get_space(n))
        except ConfigError:
            continue
        return n
    return default


def check_oneshot(name: str, *, params: Mapping[str, Any] | None = None,
                  space: str | None = None, dataset: str = "digits", protocol: str = "cpu",
                  epochs: int = 2, protocol_overrides: Mapping[str, Any] | None = None,
                  data_kw: Mapping[str, Any] | None = None) -> None:
    """Run the conformance checks on registered one-shot method ``name`` (AssertionError on
    the first failure). ``space`` defaults to :data:`naslab.spaces.DEFAULT_SPACE` when the
    method accepts it (its ``check_space``), else to the first registered space it accepts
    (the hardware-aware methods search block spaces only)."""
    import torch

    from naslab import registry
    from naslab.data import load_dataset
    from naslab.nn.protocol import get_protocol
    from naslab.runner.oneshot import OneShotRun
    from naslab.runner.storage import InMemoryStorage
    from naslab.spaces import DEFAULT_SPACE
    from naslab.spaces.base import get_space

    sp = get_space(space or _default_space(name, DEFAULT_SPACE))
    proto = get_protocol(protocol, epochs=epochs, **dict(protocol_overrides or {}))
    data = load_dataset(dataset, channels=proto.channels, image_size=proto.image_size,
                        **dict(data_kw or {}))
    kw = dict(params or {})

    def make_run(storage: Any, seed: int = 0) -> OneShotRun:
        method = registry.create("oneshot", name, **kw)
        return OneShotRun(sp, method, dataset=data, protocol=proto, estimator=SyntheticEstimator(),
                          storage=storage, seed=seed, experiment_id="check")

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # 1. description
        run = make_run(InMemoryStorage())
        d = run.method.describe()
        json.dumps(d)
        assert d.get("method") == name, f"{name}: describe()['method'] is {d.get('method')!r}"
        assert isinstance(d.get("params"), dict), f"{name}: describe() has no 'params' dict"
        for k in kw:
            assert k in d["params"], f"{name}: describe()['params'] lacks parameter {k!r}"
        assert isinstance(run.epochs, int) and run.epochs >= 1, f"{name}: epochs = {run.epochs!r}"

        # 2.-4. a full run, twice with the same seed
        first = run.run()
        assert first.epochs_run >= 1 and first.archs, f"{name}: the run recorded no epoch/arch"
        for r in first.trace:
            for k, v in r["metrics"].items():
                assert math.isfinite(v), f"{name}: epoch {r['epoch']} metric {k} = {v}"
        again = make_run(InMemoryStorage()).run()
        assert trace_signature(again.trace) == trace_signature(first.trace), \
            f"{name}: two runs with the same seed gave different traces"
        assert again.archs == first.archs, f"{name}: same seed, different searched archs"

        # 5. interrupted after the first epoch, then resumed
        if first.epochs_run >= 2:
            store = InMemoryStorage()

            def crash(rec: dict[str, Any]) -> None:
                raise _Interrupt

            try:
                make_run(store).run(on_epoch=crash)
            except _Interrupt:
                pass
            assert len(store.records("check", "oneshot_epoch")) == 1
            assert store.blob("check") is not None, f"{name}: no checkpoint after epoch 0"
            resumed = make_run(store).run()
            assert resumed.resumed_epochs == 1
            assert trace_signature(resumed.trace) == trace_signature(first.trace), \
                f"{name}: resumed trace differs from the uninterrupted one"
            assert resumed.archs == first.archs, f"{name}: resumed run searched other archs"
            seen: list[int] = []
            make_run(store).run(on_epoch=lambda r: seen.append(r["epoch"]))
            assert not seen, f"{name}: a finished run trained again ({seen})"
    finally:
        torch.set_num_threads(threads)
