"""Executor conformance suite and a test estimator that can raise, crash or wait on cue.

``check_executor(make)`` runs the checks below on executors built by ``make()``: results come
back for every task and equal a serial evaluation, an exception in the estimator is a failed
result with its text, a ``NaslabError`` is fatal, free workers get work at once (a blocked
task does not hold the others back), and (``crashes=True``) a worker process that dies fails
only its own task and is replaced. Everything here is importable from worker processes and
Ray workers (the estimator is a plain picklable class of an installed module).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from naslab.errors import ConfigError, NaslabError
from naslab.estimators.base import Cost, Estimator, Evaluation
from naslab.seeding import mix64
from naslab.spaces import DEFAULT_SPACE
from naslab.spaces.base import Architecture, get_space

#: the ways a test worker can die
CRASH_MODES = ("exit", "segv", "kill")


class FaultyEstimator(Estimator):
    """A deterministic CPU-bound test estimator with faults on chosen architectures.

    ``val_acc``/``test_acc`` are hashes of (arch, seed), so every executor must return exactly
    what a serial evaluation returns. ``work_s`` busy-loops on the CPU for that long per task.
    Architectures are named by their ``choices`` tuples:

    - ``raise_on``: raise ``RuntimeError`` (an ordinary estimator failure);
    - ``fatal_on``: raise ``ConfigError`` (a NaslabError: the run must stop);
    - ``crash_on``: kill the worker process (``crash="exit"``: ``os._exit(3)``, ``"segv"``:
      SIGSEGV, ``"kill"``: SIGKILL as the OOM killer does); never use it with a serial executor;
    - ``gate_on``: block until the file ``gate`` exists (at most ``gate_timeout_s``).

    ``use_torch=True`` imports torch and multiplies two small matrices in every evaluation.

    ``Evaluation.info`` holds the worker's pid and torch thread count (when torch is loaded).
    """

    def __init__(self, work_s: float = 0.0, *, raise_on: Sequence[Sequence[int]] = (),
                 fatal_on: Sequence[Sequence[int]] = (), crash_on: Sequence[Sequence[int]] = (),
                 crash: str = "exit", gate_on: Sequence[Sequence[int]] = (),
                 gate: str | None = None, gate_timeout_s: float = 60.0,
                 use_torch: bool = False) -> None:
        if crash not in CRASH_MODES:
            raise ConfigError(f"crash must be one of {CRASH_MODES}, got {crash!r}")
        self.work_s = float(work_s)
        self.raise_on = {tuple(c) for c in raise_on}
        self.fatal_on = {tuple(c) for c in fatal_on}
        self.crash_on = {tuple(c) for c in crash_on}
        self.crash = crash
        self.gate_on = {tuple(c) for c in gate_on}
        self.gate = gate
        self.gate_timeout_s = gate_timeout_s
        self.use_torch = use_torch

    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        t0 = time.perf_counter()
        ch = tuple(arch.choices)
        if ch in self.crash_on:
            if self.crash == "exit":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGSEGV if self.crash == "segv" else signal.SIGKILL)
            time.sleep(60)  # pragma: no cover - the signal arrives first
        if ch in self.raise_on:
            raise RuntimeError(f"faulty estimator: refusing {ch}")
        if ch in self.fatal_on:
            raise ConfigError(f"faulty estimator: fatal configuration error on {ch}")
        if ch in self.gate_on:
            if self.gate is None:
                raise ConfigError("FaultyEstimator: gate_on needs gate=PATH")
            deadline = time.monotonic() + self.gate_timeout_s
            while not Path(self.gate).exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"gate file {self.gate} did not appear")
                time.sleep(0.01)
        x = 0.0
        while time.perf_counter() - t0 < self.work_s:
            for i in range(2000):
                x += i * 1e-9
        if self.use_torch:
            import torch

            torch.ones(64, 64) @ torch.ones(64, 64)  # noqa: B018 - runs torch's thread pool
        key = mix64(7, *(int(c) for c in ch))
        val = 50.0 + (mix64(key, seed) % 10_000) / 250.0
        test = 50.0 + (key % 10_000) / 250.0
        info: dict[str, Any] = {"pid": os.getpid()}
        torch = __import__("sys").modules.get("torch")
        if torch is not None:
            info["torch_threads"] = torch.get_num_threads()
        info["omp_threads"] = os.environ.get("OMP_NUM_THREADS")
        wall = time.perf_counter() - t0
        return Evaluation({"val_acc": val, "test_acc": test}, Cost(wall, 100.0), fidelity,
                          info)

    def describe(self) -> dict[str, Any]:
        return {"estimator": "faulty", "work_s": self.work_s}


def _archs(n: int, seed: int = 0) -> list[Architecture]:
    import numpy as np

    sp = get_space(DEFAULT_SPACE)
    rng = np.random.default_rng(seed)
    out: list[Architecture] = []
    seen: set[Any] = set()
    while len(out) < n:
        a = sp.sample(rng)
        if a.choices not in seen:
            seen.add(a.choices)
            out.append(a)
    return out


def _drain(ex: Any, n: int, timeout_s: float = 120.0) -> list[Any]:
    out: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < n:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(out)} of {n} results within {timeout_s} s")
        got = ex.wait()
        assert got, "wait() returned no result"
        out.extend(got)
    return out


def check_executor(make: Callable[[], Any], *, crashes: bool = True, tmp_dir: str | None = None,
                   crash_modes: Sequence[str] = CRASH_MODES) -> None:
    """Conformance checks for an executor factory; raises AssertionError on a violation."""
    import tempfile

    from naslab.runner.executors import Task, run_task

    archs = _archs(12)
    ex = make()
    try:
        workers = ex.max_workers
        # 1. results equal a serial evaluation, every ticket exactly once
        est = FaultyEstimator()
        ex.start(est)
        tasks = [Task(i, a, None, 1000 + i) for i, a in enumerate(archs[:8])]
        for t in tasks:
            ex.submit(t)
        res = _drain(ex, len(tasks))
        assert sorted(r.ticket for r in res) == list(range(len(tasks))), "tickets lost/duplicated"
        for r in res:
            ref = run_task(est, tasks[r.ticket])
            assert r.error is None and r.evaluation is not None, r.error
            assert ref.evaluation is not None
            assert dict(r.evaluation.metrics) == dict(ref.evaluation.metrics), "metrics differ"
            assert r.finished >= r.started > 0

        # 2. an exception in the estimator fails that task only, with its text
        bad = archs[8]
        est = FaultyEstimator(raise_on=[bad.choices])
        ex.start(est)
        ex.submit(Task(100, bad, None, 1))
        ex.submit(Task(101, archs[0], None, 1))
        by = {r.ticket: r for r in _drain(ex, 2)}
        assert by[100].evaluation is None and "refusing" in (by[100].error or ""), by[100]
        assert by[100].fatal is None
        assert by[101].evaluation is not None

        # 3. a NaslabError is fatal (the driver re-raises it)
        est = FaultyEstimator(fatal_on=[bad.choices])
        ex.start(est)
        ex.submit(Task(200, bad, None, 1))
        (r,) = _drain(ex, 1)
        assert isinstance(r.fatal, NaslabError) and "fatal configuration" in str(r.fatal), r

        # 4. asynchronous: a blocked task does not hold back the other workers
        if workers >= 2:
            with tempfile.TemporaryDirectory(dir=tmp_dir) as d:
                gate = os.path.join(d, "gate")
                est = FaultyEstimator(gate_on=[archs[0].choices], gate=gate)
                ex.start(est)
                ex.submit(Task(300, archs[0], None, 1))
                for i in range(1, 5):
                    ex.submit(Task(300 + i, archs[i], None, 1))
                early = _drain(ex, 4)
                assert sorted(r.ticket for r in early) == [301, 302, 303, 304], early
                Path(gate).touch()
                (last,) = _drain(ex, 1)
                assert last.ticket == 300 and last.evaluation is not None
                pids = {r.evaluation.info["pid"] for r in early}
                assert last.evaluation.info["pid"] not in pids, "a busy worker got new work"

        # 5. a worker that dies fails its own task only; a new worker takes over
        if crashes:
            for mode in crash_modes:
                dead = archs[9]
                est = FaultyEstimator(crash_on=[dead.choices], crash=mode)
                ex.start(est)
                ex.submit(Task(400, dead, None, 1))
                for i in range(1, 4):
                    ex.submit(Task(400 + i, archs[i], None, 1))
                got = {r.ticket: r for r in _drain(ex, 4)}
                assert got[400].evaluation is None and got[400].fatal is None, got[400]
                assert "died" in (got[400].error or ""), got[400].error
                for i in range(1, 4):
                    assert got[400 + i].evaluation is not None, got[400 + i].error
                # the pool is whole again: as many tasks at once as workers
                for i in range(workers + 1):
                    ex.submit(Task(500 + i, archs[i], None, 1))
                res2 = _drain(ex, workers + 1)
                assert all(r.evaluation is not None for r in res2), [r.error for r in res2]
    finally:
        ex.shutdown()
