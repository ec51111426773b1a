"""Training estimator: builds the network of an architecture and trains it on real images.

A **protocol** is a named, versioned set of training hyper-parameters (optimizer, schedule,
batch size, epochs, augmentation, network width/depth and input shape). Its hash enters the
experiment's identity, so results under different protocols never mix. Built-in protocols:

``nb201`` (v1)
    NAS-Bench-201's training: SGD with Nesterov momentum 0.9, learning rate 0.1 annealed
    towards 0 by a cosine schedule stepped once per epoch (NB201's scheduler), weight decay
    5e-4 on all parameters, batch 256, 200 epochs, random crop (padding H/8) + horizontal
    flip, C=16, N=5, cross-entropy.
``cpu`` (v1)
    A CPU-scale protocol for small data (digits): the same optimizer and schedule, batch 64,
    lr 0.05, 10 epochs, no augmentation, C=8, N=1 (one cell per stage).

Any field can be overridden (``TrainingEstimator(protocol="nb201", epochs=50, C=8)``); the
overridden protocol keeps its name and records the changes (``overrides``) and a new hash.

Fidelity = epochs. A run at fidelity ``e`` trains ``e`` epochs from scratch with the schedule
spanning those ``e`` epochs (``anneal="fidelity"``, as NB201's separate 12-epoch runs) or the
protocol's full epochs, truncated (``anneal="full"``).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from naslab.errors import ConfigError, did_you_mean
from naslab.estimators.base import Cost, Estimator, Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture, SearchSpace

AUGMENTS = ("none", "crop", "flip", "crop_flip")
SCHEDULES = ("cosine", "constant")
ANNEALS = ("fidelity", "full")
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class Protocol:
    """Training hyper-parameters; every field can be overridden by name."""

    name: str
    version: int
    epochs: int
    batch_size: int
    lr: float
    lr_min: float = 0.0
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    warmup_epochs: int = 0
    anneal: str = "fidelity"
    augment: str = "none"
    #: zero padding of the random crop; None = image height // 8 (4 at 32x32, 2 at 16x16)
    crop_padding: int | None = None
    label_smoothing: float = 0.0
    C: int = 16
    N: int = 5
    #: input shape given to the network; None = the dataset's native channels / size
    channels: int | None = None
    image_size: int | None = None
    eval_batch_size: int = 512
    #: names of the fields changed from the named protocol (set by :meth:`override`)
    overrides: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        def pos_int(name: str, v: Any, minimum: int = 1) -> None:
            if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
                raise ConfigError(f"protocol {self.name!r}: {name} must be an integer >= "
                                  f"{minimum}, got {v!r}")

        def num(name: str, v: Any, minimum: float = 0.0) -> None:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v < minimum:
                raise ConfigError(f"protocol {self.name!r}: {name} must be a number >= "
                                  f"{minimum:g}, got {v!r}")

        for n in ("epochs", "batch_size", "C", "eval_batch_size", "version"):
            pos_int(n, getattr(self, n))
        pos_int("N", self.N, 0)
        pos_int("warmup_epochs", self.warmup_epochs, 0)
        for n in ("lr", "lr_min", "momentum", "weight_decay", "label_smoothing"):
            num(n, getattr(self, n))
        if self.lr_min > self.lr:
            raise ConfigError(f"protocol {self.name!r}: lr_min ({self.lr_min}) must be <= lr "
                              f"({self.lr})")
        if self.label_smoothing >= 1:
            raise ConfigError(f"protocol {self.name!r}: label_smoothing must be < 1, got "
                              f"{self.label_smoothing}")
        for n, allowed in (("schedule", SCHEDULES), ("anneal", ANNEALS), ("augment", AUGMENTS)):
            v = getattr(self, n)
            if v not in allowed:
                raise ConfigError(f"protocol {self.name!r}: {n} must be one of "
                                  f"{', '.join(allowed)}, got {v!r}{did_you_mean(str(v), allowed)}")
        if not isinstance(self.nesterov, bool):
            raise ConfigError(f"protocol {self.name!r}: nesterov must be true or false, got "
                              f"{self.nesterov!r}")
        if self.nesterov and self.momentum == 0:
            raise ConfigError(f"protocol {self.name!r}: nesterov needs momentum > 0")
        for n in ("crop_padding", "channels", "image_size"):
            v = getattr(self, n)
            if v is not None:
                pos_int(n, v, 0 if n == "crop_padding" else 1)

    # ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["overrides"] = list(self.overrides)
        return d

    @property
    def hash(self) -> str:
        """blake2b-64 of every field except ``overrides`` (equal settings, equal hash)."""
        d = self.to_dict()
        d.pop("overrides")
        return hashlib.blake2b(json.dumps(d, sort_keys=True).encode(), digest_size=8).hexdigest()

    def describe(self) -> dict[str, Any]:
        """The protocol with its hash (what experiments and final-training records store)."""
        return {**self.to_dict(), "hash": self.hash}

    def override(self, **changes: Any) -> Protocol:
        """A copy with ``changes`` applied; unknown field names raise ConfigError."""
        names = [f.name for f in fields(self) if f.name not in ("name", "overrides")]
        for k in changes:
            if k not in names:
                raise ConfigError(f"protocol {self.name!r} has no field {k!r}"
                                  f"{did_you_mean(k, names)}; fields: {', '.join(names)}")
        clean = {k: _coerce(self, k, v) for k, v in changes.items()}
        changed = tuple(sorted(set(self.overrides) | {k for k, v in clean.items()
                                                      if getattr(self, k) != v}))
        return replace(self, **clean, overrides=changed)


def _coerce(p: Protocol, key: str, value: Any) -> Any:
    """Integral floats for int fields (YAML/CLI values), ints for float fields."""
    cur = getattr(p, key)
    if isinstance(cur, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if (isinstance(cur, int) and not isinstance(cur, bool) or cur is None) and \
            isinstance(value, float) and value.is_integer() and key not in (
                "lr", "lr_min", "momentum", "weight_decay", "label_smoothing"):
        return int(value)
    if isinstance(value, str) and value.lower() in ("none", "null") and key in (
            "crop_padding", "channels", "image_size"):
        return None
    return value


PROTOCOLS: dict[str, Protocol] = {
    "nb201": Protocol(name="nb201", version=1, epochs=200, batch_size=256, lr=0.1, lr_min=0.0,
                      momentum=0.9, nesterov=True, weight_decay=5e-4, schedule="cosine",
                      augment="crop_flip", C=16, N=5),
    "cpu": Protocol(name="cpu", version=1, epochs=10, batch_size=64, lr=0.05, lr_min=0.0,
                    momentum=0.9, nesterov=True, weight_decay=5e-4, schedule="cosine",
                    augment="none", C=8, N=1),
}


def get_protocol(protocol: str | Protocol | dict[str, Any], **overrides: Any) -> Protocol:
    """A built-in protocol by name (or a Protocol / its dict), with ``overrides`` applied."""
    if isinstance(protocol, Protocol):
        base = protocol
    elif isinstance(protocol, dict):
        d = dict(protocol)
        d.pop("hash", None)
        d["overrides"] = tuple(d.get("overrides", ()))
        try:
            base = Protocol(**d)
        except TypeError as exc:
            raise ConfigError(f"protocol dict does not describe a Protocol: {exc}") from None
    elif isinstance(protocol, str) and protocol in PROTOCOLS:
        base = PROTOCOLS[protocol]
    else:
        raise ConfigError(f"unknown training protocol {protocol!r}"
                          f"{did_you_mean(str(protocol), PROTOCOLS)}; protocols: "
                          f"{', '.join(PROTOCOLS)}")
    return base.override(**overrides) if overrides else base


# ------------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    """What :func:`train` returns: metrics (percent / mean loss), cost and the trained model."""

    metrics: dict[str, float]
    train_s: float
    epochs: int
    history: list[dict[str, float]]
    model: Any = None


def train(arch: Architecture, dataset: Any, protocol: Protocol, *, epochs: int | None = None,
          seed: int = 0, device: str = "cpu", keep_model: bool = False,
          on_epoch: Any = None) -> TrainResult:
    """Build ``arch``'s network for ``dataset`` and train it under ``protocol``.

    ``dataset`` is an :class:`~naslab.data.ImageDataset` already shaped for the protocol.
    Deterministic for a seed on CPU. See :mod:`naslab.estimators._train_loop`.
    """
    from naslab.estimators._train_loop import train as _train

    return _train(arch, dataset, protocol, epochs=epochs, seed=seed, device=device,
                  keep_model=keep_model, on_epoch=on_epoch)


@register("estimator", "train", aliases=("training",))
class TrainingEstimator(Estimator):
    """Trains each architecture's NB201 network on a real dataset under a named protocol.

    Parameters
    ----------
    dataset: a registered dataset (``digits``, ``fashion-mnist``, ``mnist5k``, ``mnist``,
        ``cifar10``).
    protocol: ``cpu`` (default, small data) or ``nb201``; ``**overrides`` change its fields
        (``epochs=20``, ``C=16`` ...).
    data_dir: where the dataset's files are (per dataset; see :mod:`naslab.data`).
    device: ``cpu`` or ``cuda`` (``cuda:1`` etc. also accepted).
    split_seed: seed of the train / validation / test split (fixed for a whole search; the
        evaluation ``seed`` drives weight initialisation, shuffling and augmentation).
    val_fraction, test_fraction, n_train, n_val, n_test: passed to
        :func:`naslab.data.load_dataset`.
    num_threads: torch intra-op threads while training on CPU (default 1: the small networks of
        CPU protocols train as fast on one thread, parallel executors run one worker per core,
        and an oversubscribed multi-threaded torch can be many times slower; None = torch's
        default). Restored after each evaluation.

    Metrics: ``train_acc``, ``train_loss`` (running over the last epoch), ``val_acc``,
    ``val_loss``, ``test_acc``, ``test_loss`` (eval mode, percent / mean cross-entropy),
    ``params_m``, ``flops_m`` (NB201 convention), ``train_time_s``. Cost: ``wall_s`` = the
    whole evaluation, ``simulated_s`` = the training epochs' wall time. Fidelity = epochs.
    """

    def __init__(self, dataset: str = "digits", protocol: str | Protocol = "cpu", *,
                 data_dir: str | None = None, device: str = "cpu", split_seed: int = 0,
                 val_fraction: float = 0.2, test_fraction: float = 0.2,
                 n_train: int | None = None, n_val: int | None = None,
                 n_test: int | None = None, num_threads: int | None = 1,
                 **overrides: Any) -> None:
        from naslab import registry

        self.dataset_name = getattr(registry.get("dataset", dataset), "registry_name", dataset)
        self.protocol = get_protocol(protocol, **overrides)
        self.data_dir = None if data_dir in (None, "") else str(data_dir)
        self.device = _check_device(device)
        if isinstance(split_seed, bool) or not isinstance(split_seed, int) or split_seed < 0:
            raise ConfigError(f"split_seed must be a non-negative integer, got {split_seed!r}")
        if num_threads is not None and (isinstance(num_threads, bool) or
                                        not isinstance(num_threads, int) or num_threads < 1):
            raise ConfigError(f"num_threads must be a positive integer, got {num_threads!r}")
        self.split_seed = split_seed
        self.num_threads = num_threads
        self.data_kw: dict[str, Any] = {"val_fraction": val_fraction,
                                        "test_fraction": test_fraction, "n_train": n_train,
                                        "n_val": n_val, "n_test": n_test}
        E = self.protocol.epochs
        self.fidelities = tuple(float(e) for e in range(1, E + 1))
        self.max_fidelity = float(E)
        self._data: Any = None
        self._describe: dict[str, Any] | None = None

    # data is loaded lazily, in whichever process evaluates, and never pickled ---------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_data"] = None
        return state

    @property
    def data(self) -> Any:
        """The :class:`~naslab.data.ImageDataset` (loaded on first use, memoised per process)."""
        if self._data is None:
            from naslab.data import load_dataset

            p = self.protocol
            self._data = load_dataset(self.dataset_name, data_dir=self.data_dir,
                                      seed=self.split_seed, channels=p.channels,
                                      image_size=p.image_size, **self.data_kw)
        return self._data

    def check_space(self, space: SearchSpace) -> None:
        if space.name != "nb201":
            raise ConfigError(f"the training estimator builds NB201 networks; search space "
                              f"{space.name!r} is not supported (use --space nb201)")

    def _epochs(self, fidelity: float | None) -> int:
        E = self.protocol.epochs
        if fidelity is None:
            return E
        try:
            f = float(fidelity)
        except (TypeError, ValueError):
            raise ConfigError(f"fidelity (epochs) must be a number, got {fidelity!r}") from None
        if not f.is_integer() or not 1 <= f <= E:
            raise ConfigError(f"fidelity is a number of epochs: an integer in 1..{E} (protocol "
                              f"{self.protocol.name!r}), got {fidelity!r}")
        return int(f)

    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        t0 = time.perf_counter()
        epochs = self._epochs(fidelity)
        import torch

        threads = torch.get_num_threads()
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        try:
            res = train(arch, self.data, self.protocol, epochs=epochs, seed=seed,
                        device=self.device)
        finally:
            torch.set_num_threads(threads)
        info = {"protocol": self.protocol.name, "protocol_hash": self.protocol.hash,
                "seed": seed, "device": self.device, "history": res.history}
        return Evaluation(res.metrics, Cost(time.perf_counter() - t0, res.train_s),
                          float(epochs), info)

    def describe(self) -> dict[str, Any]:
        if self._describe is None:
            d = self.data.describe()
            self._describe = {"estimator": "train", "dataset": self.dataset_name,
                              "data": d, "data_dir": self.data_dir,
                              "protocol": self.protocol.describe()}
        return dict(self._describe)

    def __repr__(self) -> str:
        return (f"TrainingEstimator({self.dataset_name!r}, protocol={self.protocol.name!r} "
                f"[{self.protocol.hash}], device={self.device!r})")


def _check_device(device: str) -> str:
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise ConfigError(f"device must be 'cpu' or 'cuda' (or 'cuda:N'), got {device!r}")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} requested but torch sees no CUDA device "
                              f"(torch {torch.__version__}); use device='cpu'")
    return device


def load_protocol_file(path: str | Path) -> Protocol:
    """A protocol from a YAML/JSON file holding a ``name`` plus overrides or all fields."""
    import yaml

    try:
        d = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read protocol file {path}: {exc}") from None
    if not isinstance(d, dict) or "name" not in d:
        raise ConfigError(f"protocol file {path} must hold a mapping with a 'name' key")
    d = dict(d)
    name = d.pop("name")
    d.pop("hash", None)
    d.pop("overrides", None)
    if name in PROTOCOLS:
        return get_protocol(name, **d)
    return get_protocol({"name": name, **d})
