"""The one-shot method interface (no torch at import).

A one-shot method trains one object -- a weight-sharing supernet, architecture weights, a
hypernetwork -- epoch by epoch and derives architectures from it. The runner
(:class:`naslab.runner.oneshot.OneShotRun`) drives it; the method never touches storage.

What the runner calls, and when
-------------------------------

1. ``registry.create("oneshot", name, **params)``: the constructor takes the method's
   hyper-parameters only (validated there, with :func:`naslab.errors.check_int` /
   ``check_float``); nothing heavy happens.
2. ``setup(space, dataset, protocol, seed=, device=)``: once per process, from
   ``OneShotRun.__init__`` (so bad input fails before anything is stored). The base class
   binds ``self.space``, ``self.dataset``, ``self.protocol``, ``self.seed``, ``self.device``
   and ``self.epochs`` (default: ``protocol.epochs``) and calls :meth:`check_space`; a
   subclass extends it (``super().setup(...)`` first) to build its networks, optimizers and
   generators, all seeded from ``seed``. After ``setup``, :attr:`epochs` is the number of
   training epochs the runner will run (fewer when :meth:`should_stop` says stop).
   :meth:`describe` is read after ``setup`` and enters the experiment id.
3. On resume only: ``load_state_dict(state)`` with what :meth:`state_dict` returned after the
   last recorded epoch (loaded on the CPU by ``torch.load(..., weights_only=True)``).
4. For each epoch ``e`` = 0, 1, ... (continuing after the last recorded one):
   ``metrics = train_epoch(e)``; ``archs = derive()``; ``info = diagnostics()``;
   ``stop = should_stop()``; ``state = state_dict()``. The epoch's trace record (metrics,
   derived archs, diagnostics, cost) and the checkpoint (``state`` + the runner's state) are
   written in ONE transaction; then the run's ``on_epoch`` callback sees the record. The
   loop ends after :attr:`epochs` epochs or after the first epoch whose ``should_stop()``
   was true.
5. ``search()``: once, after training (default: :meth:`derive`); it may be expensive (e.g.
   evolution over inherited weights) and is recorded as the ``supernet_search`` phase. On
   resume it runs on the state loaded from the last checkpoint, so it must depend on that
   state only (its random numbers from a generator seeded from ``seed``, not from the
   trained generators' current position unless that is in the state). Then
   ``search_info()`` (JSON extras, e.g. the candidates scored) goes into the search record.
6. The runner scores the architectures ``search()`` returned with its estimator (final
   training / a tabular benchmark); the method is not involved.

Rules
-----

* Randomness: every draw from generators seeded from ``seed`` (``np.random.Generator``,
  ``torch.Generator``); never torch's global RNG; networks from
  :func:`naslab.nn.build_network` with ``generator=``. Same seed, same trace (on CPU).
* Data: ``dataset.x_train`` / ``y_train`` to train, ``x_val`` / ``y_val`` to select (DARTS'
  alpha steps, ranking on inherited weights). Never the test split: test accuracy is the
  final estimator's, reported by the runner.
* :meth:`train_epoch` returns finite floats; conventional names: ``loss`` (mean training
  loss), ``train_acc`` / ``val_acc`` (the one-shot model's accuracy in percent, e.g. the
  supernet's under the current derived or sampled paths), ``lr``; others are free. Names
  starting with ``test_`` are refused by the runner.
* :meth:`derive` is cheap and does not change anything that later epochs depend on: it
  returns a non-empty list of valid architectures of the space, best first.
* :meth:`state_dict` holds everything a freshly set-up method needs to continue exactly:
  weights, optimizer and scheduler states, ``torch.Generator.get_state()``,
  ``np.random.Generator.bit_generator.state``, counters, histories -- made of tensors,
  Python numbers, strings, booleans, None, lists, tuples and dicts only (what
  ``torch.load(weights_only=True)`` accepts, so loading a storage file runs no code);
  architectures as choice lists (:meth:`arch_state`), not :class:`Architecture` objects.
  :meth:`load_state_dict` receives CPU tensors and moves them to ``self.device``.
"""

from __future__ import annotations

import inspect
import io
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError, StorageError, check_int
from naslab.spaces.base import Architecture, SearchSpace

if TYPE_CHECKING:
    from naslab.data.base import ImageDataset
    from naslab.nn.protocol import Protocol

__all__ = ["OneShotMethod", "STATE_FORMAT", "dump_state", "load_state", "resolve_device",
           "DEVICES"]

#: version of the checkpoint layout written by :func:`dump_state` callers (the runner)
STATE_FORMAT = 1
#: device names accepted by :func:`resolve_device` (``cuda:N`` too)
DEVICES = ("cpu", "cuda", "auto")


class OneShotMethod(ABC):
    """A one-shot NAS method: trains epoch by epoch, derives architectures (see the module
    docstring for when the runner calls each method)."""

    #: the registered name (set by ``@register("oneshot", name)``)
    registry_name: str = ""
    #: training epochs the runner runs (set by :meth:`setup`)
    epochs: int = 0
    #: whether :meth:`state_dict` holds a cell supernet (``"supernet"``: config + weights)
    #: that ``naslab oneshot export`` writes for the supernet estimator and the fidelity
    #: harness (weight-sharing and differentiable methods)
    exports_supernet: bool = False

    space: SearchSpace
    dataset: ImageDataset
    protocol: Protocol
    seed: int
    device: str

    def setup(self, space: SearchSpace, dataset: ImageDataset, protocol: Protocol, *,
              seed: int, device: str = "cpu") -> None:
        """Bind the run's space, data (already shaped for the protocol), protocol, seed and
        device (``cpu``, ``cuda`` or ``cuda:N``; the runner resolves ``auto``). Subclasses
        call ``super().setup(...)`` first, then build their state from ``seed``."""
        self.check_space(space)
        self.space, self.dataset, self.protocol = space, dataset, protocol
        self.seed = check_int("seed", seed, minimum=0)
        self.device = str(device)
        self.epochs = check_int("epochs", protocol.epochs, minimum=1)

    def split_tensors(self) -> dict[str, tuple[Any, Any]]:
        """The bound dataset's ``train`` and ``val`` splits as (float32 images, int64 labels)
        tensors on ``self.device``: what a supernet method trains and selects on."""
        import numpy as np
        import torch

        dev = torch.device(self.device)
        out: dict[str, tuple[Any, Any]] = {}
        for split in ("train", "val"):
            x = torch.from_numpy(np.array(getattr(self.dataset, f"x_{split}"), dtype=np.float32))
            y = torch.from_numpy(np.array(getattr(self.dataset, f"y_{split}"), dtype=np.int64))
            out[split] = (x.to(dev), y.to(dev))
        return out

    def check_space(self, space: SearchSpace) -> None:
        """Raise ConfigError when this method cannot search ``space`` (e.g. it needs the
        space's ``graph_spec`` or a network builder). Default: any space."""

    def require_cell_supernet(self, space: SearchSpace, does: str) -> None:
        """ConfigError unless ``space`` has a cell-supernet builder (``check_space`` of the
        methods that train one; ``does`` says what the method does with it)."""
        from naslab.nn.supernets import supernet_spaces

        have = supernet_spaces()
        if space.name not in have:
            raise ConfigError(f"one-shot method {self.registry_name!r} {does}, and space "
                              f"{space.name!r} has no supernet builder; spaces with "
                              f"supernets: {', '.join(have) or 'none'}")

    def build_cell_supernet(self, bn: str, generator: Any) -> Any:
        """The cell supernet of the bound space at the protocol's C and N, for the bound
        dataset's classes and channels, initialised from ``generator``."""
        from naslab.nn.supernets import build_supernet

        return build_supernet(self.space, C=self.protocol.C, N=self.protocol.N,
                              num_classes=self.dataset.num_classes,
                              in_channels=self.dataset.input_shape[0], bn=bn,
                              generator=generator)

    @abstractmethod
    def train_epoch(self, epoch: int) -> dict[str, float]:
        """Train one epoch (``epoch`` counts from 0); return its trace metrics."""

    @abstractmethod
    def derive(self) -> list[Architecture]:
        """The architecture(s) the method would return now, best first (cheap; called after
        every epoch)."""

    def search(self) -> list[Architecture]:
        """Post-training search (e.g. evolution on inherited weights); default
        :meth:`derive`. Called once, after the last epoch."""
        return self.derive()

    def search_info(self) -> dict[str, Any]:
        """JSON-able extras for the search record (e.g. every candidate scored and its
        score); called once, after :meth:`search`. Default: none."""
        return {}

    def should_stop(self) -> bool:
        """Whether training should stop after this epoch (early stopping); default False.
        Called after :meth:`derive` of each epoch."""
        return False

    def diagnostics(self) -> dict[str, Any]:
        """JSON-able extras for this epoch's trace record (e.g. softmax(alpha) per edge, a
        Hessian eigenvalue); called after :meth:`derive`. Default: none."""
        return {}

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly after this epoch (see the module rules)."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (tensors arrive on the CPU)."""

    def describe(self) -> dict[str, Any]:
        """Registered name and hyper-parameters (the constructor's parameters read back from
        attributes of the same name); enters the experiment id."""
        params = {}
        for name in inspect.signature(type(self).__init__).parameters:
            if name != "self" and hasattr(self, name):
                params[name] = getattr(self, name)
        return {"method": self.registry_name or type(self).__name__, "params": params}

    # helpers for subclasses -----------------------------------------------------------------
    @staticmethod
    def arch_state(arch: Architecture) -> list[Any]:
        """An architecture as state (its choices as a list)."""
        return list(arch.to_json()["choices"])

    def arch_from_state(self, choices: Sequence[Any]) -> Architecture:
        """The inverse of :meth:`arch_state` (validated against the space)."""
        return self.space.validate(Architecture.from_json({"space": self.space.name,
                                                           "choices": list(choices)}))

    def __repr__(self) -> str:
        d = self.describe()
        args = ", ".join(f"{k}={v!r}" for k, v in d["params"].items())
        return f"{type(self).__name__}({args})"


# ------------------------------------------------------------------------------------------
def dump_state(state: Any) -> bytes:
    """``state`` serialised with ``torch.save`` (what a checkpoint blob holds)."""
    import torch

    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def load_state(data: bytes, *, what: str = "checkpoint") -> Any:
    """The inverse of :func:`dump_state`: ``torch.load(weights_only=True)`` onto the CPU, so
    that loading a storage file never runs code from it. A blob holding anything else (a
    pickled class, a corrupt file) raises StorageError naming ``what``."""
    import pickle

    import torch

    try:
        return torch.load(io.BytesIO(bytes(data)), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, TypeError,
            AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(f"{what} cannot be loaded safely with torch.load(weights_only=True): "
                           f"{first}. A one-shot state may hold tensors, numbers, strings, "
                           f"booleans, None, lists, tuples and dicts only") from None


def resolve_device(device: str) -> str:
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (``cuda`` when torch sees a GPU, else
    ``cpu``) -> the torch device string; ConfigError for anything else or a CUDA device
    torch cannot see."""
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES or (
            ":" in device and not device.startswith("cuda:")):
        raise ConfigError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    if device == "cpu":
        return device
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but torch sees no CUDA device (torch "
                          f"{torch.__version__}); use --device cpu or auto")
    if ":" in device:
        idx = device.split(":", 1)[1]
        n = torch.cuda.device_count()
        if not idx.isdigit() or int(idx) >= n:
            raise ConfigError(f"device {device!r}: torch sees {n} CUDA device(s) "
                              f"(cuda:0..cuda:{n - 1})")
    return device
