"""Training estimator: builds the network of an architecture and trains it on real images.

The network comes from the architecture's space's builder (:func:`naslab.nn.build_network`);
the training hyper-parameters from a named, versioned **protocol**
(:mod:`naslab.nn.protocol`: ``Protocol``, the built-in ``PROTOCOLS``, ``get_protocol`` and
``load_protocol_file``, re-exported here). The protocol's hash enters the experiment's
identity, so results under different protocols never mix. Any field can be overridden
(``TrainingEstimator(protocol="cpu", epochs=50, C=16)``).

Fidelity = epochs. A run at fidelity ``e`` trains ``e`` epochs from scratch with the schedule
spanning those ``e`` epochs (``anneal="fidelity"``, as NB201's separate 12-epoch runs) or the
protocol's full epochs, truncated (``anneal="full"``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from naslab.errors import ConfigError, check_int
from naslab.estimators.base import Cost, Estimator, Evaluation
from naslab.nn.protocol import (
    ANNEALS,
    AUGMENTS,
    PROTOCOLS,
    SCHEDULES,
    Protocol,
    TrainResult,
    get_protocol,
    load_protocol_file,
)
from naslab.registry import register
from naslab.spaces.base import Architecture, SearchSpace

__all__ = ["TrainingEstimator", "train", "Protocol", "PROTOCOLS", "get_protocol",
           "load_protocol_file", "TrainResult", "AUGMENTS", "SCHEDULES", "ANNEALS", "DEVICES"]

DEVICES = ("cpu", "cuda")


def train(arch: Architecture, dataset: Any, protocol: Protocol, *, epochs: int | None = None,
          seed: int = 0, device: str = "cpu", keep_model: bool = False,
          on_epoch: Callable[[dict[str, float]], None] | None = None,
          curves: bool = False) -> TrainResult:
    """Build ``arch``'s network for ``dataset`` and train it under ``protocol``.

    ``dataset`` is an :class:`~naslab.data.ImageDataset` already shaped for the protocol.
    Deterministic for a seed on CPU. See :mod:`naslab.estimators._train_loop`.
    """
    from naslab.estimators._train_loop import train as _train

    return _train(arch, dataset, protocol, epochs=epochs, seed=seed, device=device,
                  keep_model=keep_model, on_epoch=on_epoch, curves=curves)


@register("estimator", "train", aliases=("training",))
class TrainingEstimator(Estimator):
    """Trains each architecture's network (its space's builder) on a real dataset under a named
    protocol.

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
    curves: also measure validation accuracy / loss after every epoch (in ``info["history"]``;
        the final metrics are unchanged; used by ``naslab bench build``).

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
                 curves: bool = False, **overrides: Any) -> None:
        from naslab import registry

        self.dataset_name = getattr(registry.get("dataset", dataset), "registry_name", dataset)
        self.protocol = get_protocol(protocol, **overrides)
        self.data_dir = None if data_dir in (None, "") else str(data_dir)
        self.device = _check_device(device)
        self.split_seed = check_int("split_seed", split_seed, minimum=0)
        self.num_threads = None if num_threads is None else check_int("num_threads", num_threads,
                                                                       minimum=1)
        if not isinstance(curves, bool):
            raise ConfigError(f"curves must be true or false, got {curves!r}")
        self.curves = curves
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
        """Any space with a network builder (:func:`naslab.nn.network_spaces`)."""
        from naslab.nn.networks import check_network_space

        check_network_space(space.name, user="the training estimator")

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
                        device=self.device, curves=self.curves)
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
