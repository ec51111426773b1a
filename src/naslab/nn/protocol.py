"""Training protocols: named, versioned sets of training hyper-parameters (no torch).

A **protocol** fixes how a network is trained: optimizer, schedule, batch size, epochs,
augmentation, network width / depth and input shape. Its hash enters an experiment's identity,
so results under different protocols never mix. The training estimator
(:mod:`naslab.estimators.training`, which re-exports these names) and the one-shot methods train
under protocols. Built-in protocols:

``nb201`` (v1)
    NAS-Bench-201's training: SGD with Nesterov momentum 0.9, learning rate 0.1 annealed
    towards 0 by a cosine schedule stepped once per epoch (NB201's scheduler), weight decay
    5e-4 on all parameters, batch 256, 200 epochs, random crop (padding H/8) + horizontal
    flip, C=16, N=5, cross-entropy.
``cpu`` (v1)
    A CPU-scale protocol for small data (digits): the same optimizer and schedule, batch 64,
    lr 0.05, 10 epochs, no augmentation, C=8, N=1 (one cell per stage).
``nb201-darts`` / ``darts-cpu`` (v1)
    The weight optimiser of NAS-Bench-201's DARTS / GDAS-style searches (SGD 0.025 -> 0.001,
    batch 64, wd 5e-4): 50 epochs at C=16, N=5 with crop + flip (GPU), or 30 epochs at C=8,
    N=1 on 16x16 images without augmentation (CPU).

Any field can be overridden (``get_protocol("nb201", epochs=50, C=8)``); the overridden protocol
keeps its name and records the changes (``overrides``) and a new hash. ``C`` and ``N`` (and the
input shape) are passed to the space's network builder.

Fidelity = epochs: a run at fidelity ``e`` trains ``e`` epochs from scratch with the schedule
spanning those ``e`` epochs (``anneal="fidelity"``, as NB201's separate 12-epoch runs) or the
protocol's full epochs, truncated (``anneal="full"``); :func:`lr_at` is that schedule.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from naslab.errors import ConfigError, check_float, check_int, did_you_mean, read_text_file

__all__ = ["Protocol", "PROTOCOLS", "get_protocol", "load_protocol_file", "lr_at", "TrainResult",
           "AUGMENTS", "SCHEDULES", "ANNEALS"]

AUGMENTS = ("none", "crop", "flip", "crop_flip")
SCHEDULES = ("cosine", "constant", "cosine_iter")
ANNEALS = ("fidelity", "full")


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
        where = f"protocol {self.name!r}: "

        def pos_int(name: str, v: Any, minimum: int = 1) -> None:
            # normalised in place (numpy integers become ints; the hash reads plain ints)
            object.__setattr__(self, name, check_int(where + name, v, minimum=minimum,
                                                     expected=f"an integer >= {minimum}"))

        def num(name: str, v: Any, minimum: float = 0.0) -> None:
            check_float(where + name, v, minimum=minimum, finite=True)

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
    # one-shot supernet training on the CPU: the cpu protocol for 30 epochs at 16x16, what
    # benchmarks/weight_sharing.py trains its supernets with (docs/benchmarks.md).
    "oneshot-cpu": Protocol(name="oneshot-cpu", version=1, epochs=30, batch_size=64, lr=0.05,
                            lr_min=0.0, momentum=0.9, nesterov=True, weight_decay=5e-4,
                            schedule="cosine", augment="none", C=8, N=1, image_size=16),
    # NAS-Bench-201's search settings for GPU users (CIFAR-10 32x32, C=16, N=5); untested here
    # (no GPU). RSPS / weight sharing (configs/nas-benchmark/algos/RANDOM.config): for spos,
    # rsws, smash.
    "nb201-oneshot": Protocol(name="nb201-oneshot", version=1, epochs=250, batch_size=64,
                              lr=0.025, lr_min=0.001, momentum=0.9, nesterov=True,
                              weight_decay=5e-4, schedule="cosine", augment="crop_flip",
                              C=16, N=5),
    # ENAS (configs/nas-benchmark/algos/ENAS.config): shared weights of enas
    "nb201-enas": Protocol(name="nb201-enas", version=1, epochs=310, batch_size=128, lr=0.05,
                           lr_min=5e-4, momentum=0.9, nesterov=True, weight_decay=2.5e-4,
                           schedule="cosine", augment="crop_flip", C=16, N=5),
    # differentiable NAS (darts, gdas, darts-plus, rdarts-*, sdarts-*): NAS-Bench-201's DARTS
    # search (configs/nas-benchmark/algos/DARTS.config: SGD 0.025 -> 0.001 cosine, Nesterov,
    # wd 5e-4, batch 64, 50 epochs; CIFAR-10 32x32, C=16, N=5) for GPU users; untested here
    "nb201-darts": Protocol(name="nb201-darts", version=1, epochs=50, batch_size=64, lr=0.025,
                            lr_min=0.001, momentum=0.9, nesterov=True, weight_decay=5e-4,
                            schedule="cosine", augment="crop_flip", C=16, N=5),
    # the same optimiser at CPU scale (C=8, N=1, 16x16 images, no augmentation, 30 epochs):
    # what benchmarks/differentiable.py searches with (docs/benchmarks.md)
    "darts-cpu": Protocol(name="darts-cpu", version=1, epochs=30, batch_size=64, lr=0.025,
                          lr_min=0.001, momentum=0.9, nesterov=True, weight_decay=5e-4,
                          schedule="cosine", augment="none", C=8, N=1, image_size=16),
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


def load_protocol_file(path: str | Path) -> Protocol:
    """A protocol from a YAML/JSON file holding a ``name`` plus overrides or all fields."""
    import yaml

    text = read_text_file(path, "protocol file")
    try:
        d = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"protocol file {str(path)!r} is not valid YAML: {exc}") from None
    if not isinstance(d, dict) or "name" not in d:
        raise ConfigError(f"protocol file {path} must hold a mapping with a 'name' key")
    d = dict(d)
    name = d.pop("name")
    if not isinstance(name, str):
        raise ConfigError(f"protocol file {str(path)!r}: 'name' must be a protocol name (one of "
                          f"{', '.join(PROTOCOLS)}) or a new name, got {name!r}")
    if not all(isinstance(k, str) for k in d):
        raise ConfigError(f"protocol file {str(path)!r}: every key must be a field name, got "
                          f"{[k for k in d if not isinstance(k, str)]!r}")
    d.pop("hash", None)
    d.pop("overrides", None)
    if name in PROTOCOLS:
        return get_protocol(name, **d)
    return get_protocol({"name": name, **d})


def lr_at(protocol: Protocol, epoch: int, iter_frac: float, total: int) -> float:
    """Learning rate in iteration ``iter_frac`` (0..1) of epoch ``epoch`` (0-based) of a
    schedule spanning ``total`` epochs, as NB201's scheduler computes it.

    Linear warm-up per iteration over ``warmup_epochs``; then cosine annealing stepped per
    epoch: ``lr_min + (lr - lr_min) * (1 + cos(pi * e / T)) / 2`` with ``e`` the epoch after
    warm-up and ``T = total - warmup_epochs`` (NB201 uses ``T = total``; equal without warm-up).
    The last epoch of a 200-epoch run thus trains at 6e-6, not 0, exactly as NB201.
    ``schedule="cosine_iter"`` anneals per iteration instead (``e`` = epochs after warm-up
    including the fraction of this one), so a short run ends near ``lr_min`` too: stepped per
    epoch, the last of 3 epochs would train at a quarter of ``lr``.
    """
    p = protocol
    if p.warmup_epochs and epoch < p.warmup_epochs:
        return p.lr * (epoch + iter_frac) / p.warmup_epochs
    if p.schedule == "constant":
        return p.lr
    if epoch >= total:
        return p.lr_min
    e, T = epoch - p.warmup_epochs, max(total - p.warmup_epochs, 1)
    if p.schedule == "cosine_iter":
        return p.lr_min + (p.lr - p.lr_min) * 0.5 * (1.0 + math.cos(math.pi * (e + iter_frac) / T))
    return p.lr_min + (p.lr - p.lr_min) * 0.5 * (1.0 + math.cos(math.pi * e / T))


# ------------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    """What training under a protocol returns (:func:`naslab.estimators.training.train`):
    metrics (percent / mean loss), the training epochs' wall seconds, epochs, the per-epoch
    history and (when kept) the trained model."""

    metrics: dict[str, float]
    train_s: float
    epochs: int
    history: list[dict[str, float]]
    model: Any = None
