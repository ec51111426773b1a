"""One-shot runs: drive a :class:`~naslab.oneshot.base.OneShotMethod` epoch by epoch, record a
trace and a checkpoint after every epoch, search, and score what it derived.

A one-shot run is an experiment of kind ``"oneshot"`` in the same storage as black-box
searches, with the same kind of id, seeds and cost ledger:

* **identity**: the config is (space, method + hyper-parameters, dataset description with
  its data fingerprint, protocol with its hash -- the number of epochs included -- final
  estimator, objective, seed); the id is ``<method>-<dataset>-s<seed>-<hash of the config>``
  (:func:`oneshot_experiment_id`). The device and executor are not part of it (they are in
  the experiment's ``meta`` and in every record).
* **seeds**: the method gets ``derive_seed(seed, METHOD_STREAM)``; the final scoring of
  derived architecture ``i`` uses ``derive_seed(seed, SCORE_STREAM, i)``; the optional
  reference lookup of epoch ``e`` ``derive_seed(seed, REFERENCE_STREAM, e)``.
* **storage** (all writes by this driver, each in one transaction):

  - per epoch, a record of kind ``oneshot_epoch`` ``{"epoch", "metrics", "derived",
    "choices", "diagnostics", "stop", "cost": {"wall_s", "simulated_s"}, "device",
    "status"}`` (+ ``"reference"``, ``"reference_wall_s"`` with a reference estimator) AND
    the experiment's blob ``checkpoint``: ``torch.save`` bytes of ``{"format", "method":
    method.state_dict(), "runner": {"epoch", "stopped", "method"}}``, loaded back with
    ``weights_only=True`` (no code runs from a storage file);
  - after training, one record of kind ``oneshot_search`` ``{"archs", "choices",
    "epochs_trained", "cost", "device", "status"}``;
  - the final scoring of each searched architecture by the estimator: an ordinary trial
    (number ``i``, metrics with test, cost, incumbent by the objective after it).
* **cost ledger** (:func:`naslab.runner.ledger.cost_ledger`): ``supernet_training`` = the
  epoch records (``simulated_s`` = time inside ``train_epoch``, ``wall_s`` = the whole epoch
  step: training, derive, diagnostics, checkpoint serialisation), ``supernet_search`` = the
  search record, ``final_training`` = the trials.
* **resume**: the same call on the same storage loads the checkpoint of the last recorded
  epoch into a freshly set-up method and continues; a run interrupted after training skips
  to the search or to the architectures not yet scored; a finished run is reported from
  storage (nothing is trained). On CPU with the same seed (and thread count) the trace and
  the derived architectures equal those of an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError, NaslabError, StorageError, check_int
from naslab.estimators.base import TEST_PREFIX, Cost, Estimator, Objective
from naslab.oneshot.base import STATE_FORMAT, OneShotMethod, dump_state, load_state, resolve_device
from naslab.runner.ledger import cost_ledger
from naslab.runner.records import TrialRecord
from naslab.runner.storage import InMemoryStorage, Storage, _canon
from naslab.runner.storage.base import dumps
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture, SearchSpace

if TYPE_CHECKING:
    from naslab.data.base import ImageDataset
    from naslab.nn.protocol import Protocol

__all__ = ["OneShotRun", "OneShotResult", "load_oneshot_result", "oneshot_config",
           "oneshot_experiment_id", "read_checkpoint", "export_supernet", "supernet_data_meta",
           "METHOD_STREAM", "SCORE_STREAM", "REFERENCE_STREAM"]

#: seed streams derived from the run seed
METHOD_STREAM = 0x05E7
SCORE_STREAM = 0xF17A
REFERENCE_STREAM = 0x4EF
#: the blob key of the checkpoint
CHECKPOINT_KEY = "checkpoint"


# ------------------------------------------------------------------------------------------
@dataclass
class OneShotResult:
    """What a one-shot run recorded: the trace, the searched architectures, their scores by
    the final estimator, and the cost ledger."""

    experiment_id: str
    status: str
    #: the architectures ``search()`` returned, in the order they were scored
    archs: list[Architecture]
    #: the final scoring: one trial per architecture of ``archs`` (test metrics included)
    evaluations: list[TrialRecord]
    #: the ``oneshot_epoch`` records, in epoch order
    trace: list[dict[str, Any]]
    #: ``{phase: {"wall_s", "simulated_s", "device", "n", "failed"}}``
    ledger: dict[str, dict[str, Any]]
    objective: Objective
    config: dict[str, Any] = field(default_factory=dict)
    #: training epochs planned (the method's ``epochs``)
    epochs: int = 0
    #: epochs recorded before this session (0 for an uninterrupted run)
    resumed_epochs: int = 0
    optimum_test: float | None = None
    test_unavailable: str | None = None
    search_record: dict[str, Any] | None = None

    @property
    def epochs_run(self) -> int:
        return len(self.trace)

    @property
    def stopped_early(self) -> bool:
        """Whether the method's ``should_stop()`` ended training before ``epochs``."""
        return bool(self.trace and self.trace[-1].get("stop")) and self.epochs_run < self.epochs

    @property
    def best(self) -> TrialRecord | None:
        """The scored architecture with the best objective (validation) by the estimator."""
        ev = self.evaluations
        if not ev or ev[-1].incumbent_number is None:
            return None
        return ev[ev[-1].incumbent_number]

    @property
    def derived_arch(self) -> Architecture | None:
        """The run's answer: the best scored architecture (the first searched one while none
        is scored)."""
        b = self.best
        if b is not None:
            return b.arch
        return self.archs[0] if self.archs else None

    @property
    def val_acc(self) -> float | None:
        b = self.best
        return None if b is None else b.metrics.get("val_acc")

    @property
    def test_acc(self) -> float | None:
        b = self.best
        return None if b is None else b.metrics.get("test_acc")

    @property
    def regret(self) -> float | None:
        t = self.test_acc
        return None if t is None or self.optimum_test is None else self.optimum_test - t

    @property
    def wall_s(self) -> float:
        """Wall seconds of all phases together (over every session)."""
        return float(sum(p["wall_s"] for p in self.ledger.values()))

    def to_json(self) -> dict[str, Any]:
        cfg = self.config
        method = cfg.get("method") or {}
        est = cfg.get("estimator") or {}
        a = self.derived_arch
        return {
            "experiment_id": self.experiment_id, "kind": "oneshot", "status": self.status,
            "method": method.get("method"), "method_params": method.get("params", {}),
            "space": cfg.get("space"), "dataset": (cfg.get("dataset") or {}).get("dataset"),
            "seed": cfg.get("seed"), "epochs": self.epochs, "epochs_run": self.epochs_run,
            "stopped_early": self.stopped_early, "resumed_epochs": self.resumed_epochs,
            "derived_arch": None if a is None else str(a),
            "derived_archs": [str(x) for x in self.archs],
            "estimator": est.get("benchmark") or est.get("estimator"),
            "objective": self.objective.metric,
            "val_acc": self.val_acc, "test_acc": self.test_acc,
            "test_unavailable": self.test_unavailable,
            "optimum_test_acc": self.optimum_test, "regret": self.regret,
            "evaluations": [{"arch": str(t.arch), "status": t.status, "metrics": t.metrics,
                             "seed": t.seed, "error": t.error,
                             "cost": {"wall_s": t.cost.wall_s, "simulated_s": t.cost.simulated_s}}
                            for t in self.evaluations],
            "trace": [{k: v for k, v in r.items() if k not in ("kind", "created")}
                      for r in self.trace],
            "ledger": self.ledger, "wall_s": self.wall_s,
        }


# ------------------------------------------------------------------------------------------
def oneshot_config(space: SearchSpace, method: OneShotMethod, dataset: ImageDataset,
                   protocol: Protocol, estimator: Estimator, objective: Objective, seed: int,
                   reference: Estimator | None = None) -> dict[str, Any]:
    """The identity of a one-shot run (two runs with equal configs are the same run)."""
    d: dict[str, Any] = {
        "space": space.name, "method": method.describe(), "dataset": dataset.describe(),
        "protocol": protocol.describe(), "estimator": estimator.describe(),
        "objective": objective.describe(), "seed": int(seed)}
    if reference is not None:
        d["reference"] = reference.describe()
    return json.loads(_canon(d))


def oneshot_experiment_id(config: dict[str, Any]) -> str:
    """``<method>-<dataset>-s<seed>-<hash>``, stable for equal configs (the style of
    :func:`naslab.runner.experiment.default_experiment_id`)."""
    h = hashlib.blake2b(_canon(config).encode(), digest_size=4).hexdigest()
    raw = f"{config['method']['method']}-{config['dataset']['dataset']}-s{config['seed']}-{h}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", raw)


def read_checkpoint(storage: Storage, exp_id: str) -> dict[str, Any] | None:
    """The last checkpoint of one-shot run ``exp_id`` (``{"format", "method", "runner"}``,
    tensors on the CPU), or None before the first epoch."""
    blob = storage.blob(exp_id, CHECKPOINT_KEY)
    if blob is None:
        return None
    state = load_state(blob, what=f"the checkpoint of one-shot run {exp_id!r}")
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise StorageError(f"the checkpoint of one-shot run {exp_id!r} is not a naslab one-shot "
                           f"checkpoint of format {STATE_FORMAT}")
    return state


#: dataset description fields -> the supernet estimator's dataset options (``DATA_KEYS``)
_DATA_FIELDS = {"seed": "split_seed", "val_fraction": "val_fraction",
                "test_fraction": "test_fraction", "n_train": "n_train", "n_val": "n_val",
                "n_test": "n_test", "channels": "channels", "image_size": "image_size"}


def supernet_data_meta(dataset_description: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` section of a supernet checkpoint's meta from a dataset's ``describe()``:
    its name and split options, so that the supernet estimator loads the same split (and
    scores on the validation images the supernet never trained on)."""
    d = dataset_description
    out: dict[str, Any] = {"dataset": d.get("dataset")}
    for k, v in _DATA_FIELDS.items():
        if d.get(k) is not None:
            out[v] = d[k]
    return out


def export_supernet(storage: Storage, exp_id: str, path: str | Path) -> Path:
    """Write the supernet of one-shot run ``exp_id`` (as of its last checkpoint, i.e. after
    its last recorded training epoch) to a supernet checkpoint file at ``path``, with the
    run's data options in its meta, for the supernet estimator (``--estimator supernet -e
    checkpoint=PATH``) and the fidelity harness. ConfigError when the run's method keeps no
    supernet (e.g. ``random``), StorageError when the run has no checkpoint yet."""
    from naslab.nn.supernet import write_checkpoint

    info = storage.experiment(exp_id)
    if info.kind != "oneshot":
        raise ConfigError(f"experiment {exp_id!r} is a {info.kind!r} run, not a one-shot run; "
                          f"only one-shot runs have a supernet to export")
    state = read_checkpoint(storage, exp_id)
    if state is None:
        raise StorageError(f"one-shot run {exp_id!r} has no checkpoint yet (no epoch recorded); "
                           f"run it first")
    method = (info.config.get("method") or {}).get("method")
    sn = (state.get("method") or {}).get("supernet")
    if not isinstance(sn, dict) or "config" not in sn or "state_dict" not in sn:
        from naslab import registry

        names = [n for n in registry.names("oneshot")
                 if getattr(registry.get("oneshot", n), "exports_supernet", False)]
        raise ConfigError(f"one-shot run {exp_id!r} (method {method!r}) keeps no cell "
                          f"supernet in its checkpoint; export works for the methods that "
                          f"train one ({', '.join(names)})")
    epochs = len(storage.records(exp_id, "oneshot_epoch"))
    meta = {"data": supernet_data_meta(info.config.get("dataset") or {}),
            "run": exp_id, "method": info.config.get("method"), "epochs_trained": epochs,
            "protocol": info.config.get("protocol"), "seed": info.config.get("seed")}
    return write_checkpoint(path, sn["config"], sn["state_dict"], meta=meta)


def space_benchmark(space_name: str) -> str | None:
    """The tabular benchmark registered for ``space_name``: :data:`DEFAULT_BENCHMARK` when it
    scores that space, else the first registered benchmark whose ``space_name`` it is (by
    its name, at its default dataset); None when there is none."""
    from naslab import registry
    from naslab.benchmarks import DEFAULT_BENCHMARK

    default_name = DEFAULT_BENCHMARK.partition("/")[0]
    names = registry.names("benchmark")
    for n in sorted(names, key=lambda n: n != default_name):
        if getattr(registry.get("benchmark", n), "space_name", None) == space_name:
            return DEFAULT_BENCHMARK if n == default_name else n
    return None


def default_final_estimator(space: SearchSpace, dataset: str, protocol: Protocol, *,
                            data_dir: str | None = None, dataset_dir: str | None = None,
                            device: str = "cpu", split_seed: int = 0,
                            **data_kw: Any) -> tuple[Estimator, str]:
    """The estimator that scores a one-shot run's derived architectures when none is chosen:
    the space's tabular benchmark (:func:`space_benchmark`) when one is registered and its
    data loads from ``data_dir``, else stand-alone training of each architecture on the
    search ``dataset`` under the run's ``protocol`` (same split: ``split_seed``, ``data_kw``;
    ``dataset_dir`` holds its files). Returns (estimator, why it was chosen)."""
    from naslab.errors import DataError
    from naslab.estimators.tabular import TabularEstimator
    from naslab.estimators.training import TrainingEstimator

    bench = space_benchmark(space.name)
    why = f"no tabular benchmark is registered for space {space.name!r}"
    if bench is not None:
        try:
            return TabularEstimator(bench, data_dir=data_dir), f"the tabular benchmark of space {space.name!r}"
        except DataError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            why = f"the data of benchmark {bench!r} is missing ({first})"
    est = TrainingEstimator(dataset, protocol, data_dir=dataset_dir, device=device,
                            split_seed=split_seed, **data_kw)
    return est, f"stand-alone training on {dataset!r}: {why}"


def _sync(device: str) -> None:
    """Wait for queued GPU work, so that timers measure it (no-op on the CPU)."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


class OneShotRun:
    """Trains ``method`` on ``dataset`` under ``protocol`` epoch by epoch, checkpointing after
    every epoch; then ``method.search()``; then scores the searched architectures with
    ``estimator``. ``run()`` resumes from storage (see the module docstring).

    ``epochs`` overrides the protocol's epochs (and so enters the protocol hash and the id);
    ``dataset`` is an :class:`~naslab.data.ImageDataset` already shaped for the protocol;
    ``device``: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``; ``objective``: the validation metric
    of the final estimator that ranks the scored architectures; ``reference``: an optional
    estimator (e.g. a tabular benchmark) looked up for the derived architectures after every
    epoch, for the trace only -- the method never sees it and its cost is not in the ledger.
    """

    def __init__(self, space: SearchSpace, method: OneShotMethod, *, dataset: ImageDataset,
                 protocol: Protocol | str, estimator: Estimator, storage: Storage | None = None,
                 seed: int = 0, epochs: int | None = None, experiment_id: str | None = None,
                 device: str = "cpu", meta: dict[str, Any] | None = None,
                 objective: Objective | str = "val_acc",
                 reference: Estimator | None = None) -> None:
        from naslab.nn.protocol import Protocol as _Protocol, get_protocol

        if not isinstance(method, OneShotMethod):
            raise ConfigError(f"method must be a OneShotMethod (registry kind 'oneshot'), got "
                              f"{type(method).__name__}")
        self.seed = check_int("seed", seed, minimum=0)
        proto = protocol if isinstance(protocol, _Protocol) else get_protocol(protocol)
        if epochs is not None:
            proto = proto.override(epochs=check_int("epochs", epochs, minimum=1))
        _check_dataset(dataset, proto)
        self.objective = objective if isinstance(objective, Objective) else Objective.parse(objective)
        estimator.check_space(space)
        if reference is not None:
            reference.check_space(space)
        self.space, self.method, self.dataset, self.protocol = space, method, dataset, proto
        self.estimator, self.reference = estimator, reference
        self.storage: Storage = storage if storage is not None else InMemoryStorage()
        self.device = resolve_device(device)
        self.method_seed = derive_seed(self.seed, METHOD_STREAM)
        method.setup(space, dataset, proto, seed=self.method_seed, device=self.device)
        self.config = oneshot_config(space, method, dataset, proto, estimator, self.objective,
                                     self.seed, reference)
        self.id = experiment_id or oneshot_experiment_id(self.config)
        self.meta = dict(meta or {})

    @property
    def epochs(self) -> int:
        """Training epochs planned (the method's, after setup)."""
        return int(self.method.epochs)

    @property
    def name(self) -> str:
        return str(self.config["method"]["method"])

    # ---------------------------------------------------------------------------------------
    def run(self, on_epoch: Callable[[dict[str, Any]], None] | None = None,
            on_score: Callable[[TrialRecord], None] | None = None) -> OneShotResult:
        """Run (or resume, or report) the run. ``on_epoch(record)`` is called after each
        epoch's record and checkpoint are committed; ``on_score(trial)`` after each final
        scoring."""
        self._open()
        st = self.storage
        trace = st.records(self.id, "oneshot_epoch")
        searched = st.records(self.id, "oneshot_search")
        resumed = len(trace)
        status = "finished"
        try:
            if not searched:
                start, stopped = self._restore(trace)
                if not stopped:
                    self._train(start, on_epoch)
                searched = [self._search()]
            self._score(self._archs(searched[-1]), on_score)
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        except BaseException:
            status = "failed"
            raise
        finally:
            st.set_status(self.id, status)
        res = load_oneshot_result(st, self.id)
        res.resumed_epochs = resumed
        return res

    def _open(self) -> None:
        from naslab import __version__
        from naslab.runner.experiment import run_environment

        reason = None
        if not getattr(self.estimator, "has_test", True):
            bench = getattr(self.estimator, "bench", None)
            reason = getattr(bench, "test_unavailable_reason",
                             "the estimator reports no test accuracy")
        meta = {"naslab": __version__, **run_environment(), "device": self.device,
                "epochs": self.epochs, "method_seed": self.method_seed,
                "optimum_test_acc": self.estimator.optimum("test_acc"),
                "test_unavailable": reason, **self.meta}
        self.storage.open_experiment(self.id, self.config, meta, kind="oneshot")

    def _restore(self, trace: list[dict[str, Any]]) -> tuple[int, bool]:
        """Load the checkpoint of the last recorded epoch; (next epoch, stopped early)."""
        if not trace:
            return 0, False
        state = read_checkpoint(self.storage, self.id)
        last = int(trace[-1]["epoch"])
        if state is None:
            raise StorageError(f"one-shot run {self.id!r} has {len(trace)} recorded epochs but no "
                               f"checkpoint to resume from; start a new experiment id")
        rs = state["runner"]
        if int(rs["epoch"]) != last or rs.get("method") != self.name:
            raise StorageError(f"the checkpoint of one-shot run {self.id!r} (epoch {rs['epoch']}, "
                               f"method {rs.get('method')!r}) does not match its last recorded "
                               f"epoch ({last}, method {self.name!r})")
        self.method.load_state_dict(state["method"])
        return last + 1, bool(rs.get("stopped"))

    def _train(self, start: int, on_epoch: Callable[[dict[str, Any]], None] | None) -> None:
        m, checked = self.method, False
        for epoch in range(start, self.epochs):
            t0 = time.perf_counter()
            metrics = m.train_epoch(epoch)
            _sync(self.device)
            t_train = time.perf_counter() - t0
            metrics = self._check_metrics(metrics, epoch)
            archs = self._check_archs(m.derive(), "derive")
            info = self._check_json(m.diagnostics(), "diagnostics")
            stop = bool(m.should_stop())
            blob = dump_state({"format": STATE_FORMAT, "method": m.state_dict(),
                               "runner": {"epoch": epoch, "stopped": stop, "method": self.name}})
            if not checked:  # a state that cannot be loaded safely fails now, not on resume
                load_state(blob, what=f"the state_dict() of one-shot method {self.name!r}")
                checked = True
            _sync(self.device)
            wall = time.perf_counter() - t0
            rec: dict[str, Any] = {
                "epoch": epoch, "metrics": metrics, "derived": [str(a) for a in archs],
                "choices": [list(a.to_json()["choices"]) for a in archs],
                "diagnostics": info, "stop": stop,
                "cost": {"wall_s": wall, "simulated_s": t_train}, "device": self.device,
                "status": "complete"}
            if self.reference is not None:
                t1 = time.perf_counter()
                seed = derive_seed(self.seed, REFERENCE_STREAM, epoch)
                rec["reference"] = [{k: float(v) for k, v in
                                     self.reference.evaluate(a, seed=seed).metrics.items()}
                                    for a in archs]
                rec["reference_wall_s"] = time.perf_counter() - t1
            self.storage.add_record(self.id, "oneshot_epoch", rec, blob=blob,
                                    blob_key=CHECKPOINT_KEY)
            if on_epoch is not None:
                on_epoch(rec)
            if stop:
                break

    def _search(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        archs = self._check_archs(self.method.search(), "search")
        _sync(self.device)
        wall = time.perf_counter() - t0
        info = self._check_json(self.method.search_info(), "search_info")
        unique = list(dict.fromkeys(archs))
        rec = {"archs": [str(a) for a in unique],
               "choices": [list(a.to_json()["choices"]) for a in unique],
               "epochs_trained": len(self.storage.records(self.id, "oneshot_epoch")),
               "info": info,
               "cost": {"wall_s": wall, "simulated_s": wall}, "device": self.device,
               "status": "complete"}
        self.storage.add_record(self.id, "oneshot_search", rec)
        return rec

    def _archs(self, search_rec: dict[str, Any]) -> list[Architecture]:
        return [Architecture.from_json({"space": self.space.name, "choices": c})
                for c in search_rec["choices"]]

    def _score(self, archs: list[Architecture],
               on_score: Callable[[TrialRecord], None] | None) -> None:
        trials = self.storage.trials(self.id)
        last = trials[-1] if trials else None
        inc = None if last is None or last.incumbent_number is None else trials[last.incumbent_number]
        cum_sim = last.cum_simulated_s if last else 0.0
        cum_wall = last.cum_wall_s if last else 0.0
        obj = self.objective
        for i in range(len(trials), len(archs)):
            arch, seed = archs[i], derive_seed(self.seed, SCORE_STREAM, i)
            started = time.time()
            t0 = time.perf_counter()
            try:
                ev = self.estimator.evaluate(arch, seed=seed)
            except NaslabError:
                raise
            except Exception as exc:  # a failed final training is recorded, the run goes on
                wall = time.perf_counter() - t0
                rec = TrialRecord(number=i, arch=arch, status="failed", seed=seed,
                                  cost=Cost(wall, 0.0),
                                  error=f"{type(exc).__name__}: {exc}", started=started,
                                  finished=time.time())
            else:
                value = obj.value(ev)
                rec = TrialRecord(number=i, arch=arch, status="complete",
                                  metrics={k: float(v) for k, v in ev.metrics.items()},
                                  objective=value, seed=seed, cost=ev.cost, started=started,
                                  finished=time.time(), info=dict(ev.info), objectives=(value,),
                                  feasible=True)
                if inc is None or inc.objective is None or obj.better(value, inc.objective):
                    inc = rec
            cum_sim += rec.cost.simulated_s
            cum_wall += rec.cost.wall_s
            rec.cum_simulated_s, rec.cum_wall_s = cum_sim, cum_wall
            if inc is not None:
                rec.incumbent_number = inc.number
                rec.incumbent_objective = inc.objective
                rec.incumbent_test = inc.metrics.get("test_acc")
            self.storage.record_trial(self.id, rec)
            if on_score is not None:
                on_score(rec)

    # checks of what the method returns -------------------------------------------------------
    def _check_metrics(self, metrics: Any, epoch: int) -> dict[str, float]:
        what = f"one-shot method {self.name!r}: train_epoch({epoch})"
        if not isinstance(metrics, dict):
            raise ConfigError(f"{what} must return a dict of metric name -> number, got "
                              f"{type(metrics).__name__}")
        out = {}
        for k, v in metrics.items():
            if not isinstance(k, str) or k.startswith(TEST_PREFIX):
                raise ConfigError(f"{what} returned metric {k!r}: one-shot methods never see "
                                  f"test data (test metrics come from the final estimator)")
            try:
                if isinstance(v, (bool, str)):
                    raise TypeError
                out[k] = float(v)
            except (TypeError, ValueError, RuntimeError):
                raise ConfigError(f"{what} returned {k}={v!r}, expected a number") from None
        return out

    def _check_archs(self, archs: Any, call: str) -> list[Architecture]:
        what = f"one-shot method {self.name!r}: {call}()"
        if not isinstance(archs, Sequence) or isinstance(archs, (str, Architecture)) or not archs:
            raise ConfigError(f"{what} must return a non-empty list of architectures, got "
                              f"{archs!r}")
        out = []
        for a in archs:
            if not isinstance(a, Architecture) or a.space != self.space.name:
                raise ConfigError(f"{what} returned {a!r}, not an architecture of space "
                                  f"{self.space.name!r}")
            out.append(self.space.validate(a))
        return out

    def _check_json(self, info: Any, call: str) -> dict[str, Any]:
        if not isinstance(info, dict):
            raise ConfigError(f"one-shot method {self.name!r}: {call}() must return a dict, got "
                              f"{type(info).__name__}")
        try:
            loaded: dict[str, Any] = json.loads(dumps(info))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"one-shot method {self.name!r}: {call}() must be JSON-able: "
                              f"{exc}") from None
        return loaded


def _check_dataset(dataset: Any, protocol: Protocol) -> None:
    from naslab.data.base import ImageDataset

    if not isinstance(dataset, ImageDataset):
        raise ConfigError(f"dataset must be an ImageDataset (naslab.data.load_dataset), got "
                          f"{type(dataset).__name__}")
    c, h, w = dataset.input_shape
    if protocol.image_size is not None and (h, w) != (protocol.image_size, protocol.image_size):
        raise ConfigError(f"protocol {protocol.name!r} wants {protocol.image_size}x"
                          f"{protocol.image_size} images but dataset {dataset.name!r} holds "
                          f"{h}x{w}; load it with image_size={protocol.image_size}")
    if protocol.channels is not None and c != protocol.channels:
        raise ConfigError(f"protocol {protocol.name!r} wants {protocol.channels}-channel images "
                          f"but dataset {dataset.name!r} holds {c}; load it with "
                          f"channels={protocol.channels}")


def load_oneshot_result(storage: Storage, experiment_id: str) -> OneShotResult:
    """A OneShotResult rebuilt from storage alone (``naslab show``, reports)."""
    info = storage.experiment(experiment_id)
    if info.kind != "oneshot":
        raise StorageError(f"experiment {experiment_id!r} is a {info.kind!r} run, not a one-shot "
                           f"run (use naslab.runner.load_result)")
    cfg = info.config
    space = str(cfg.get("space"))
    searched = storage.records(experiment_id, "oneshot_search")
    archs = ([Architecture.from_json({"space": space, "choices": c})
              for c in searched[-1]["choices"]] if searched else [])
    epochs = info.meta.get("epochs", (cfg.get("protocol") or {}).get("epochs", 0))
    o = cfg.get("objective") or {}
    opt = info.meta.get("optimum_test_acc")
    return OneShotResult(
        experiment_id, info.status, archs, storage.trials(experiment_id),
        storage.records(experiment_id, "oneshot_epoch"), cost_ledger(storage, experiment_id),
        Objective(o.get("metric", "val_acc"), o.get("mode", "max")), cfg,
        int(epochs or 0), 0, None if opt is None or not math.isfinite(opt) else float(opt),
        info.meta.get("test_unavailable"), searched[-1] if searched else None)
