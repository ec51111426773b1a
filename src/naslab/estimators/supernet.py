"""Supernet estimator: scores an architecture with the weights it inherits from a trained
supernet (torch is imported inside methods only).

``evaluate(arch)`` = BN recalibration for that architecture (every running statistic reset and
recomputed as the exact average over ``recalibration_batches`` training batches, SPOS's
recipe; Guo et al. 2020) + accuracy of the supernet's single path on the validation split
(``val_acc``, what strategies see) and on the test split (``test_acc``, for reports). So every
black-box strategy can search on inherited weights::

    naslab search --estimator supernet -e checkpoint=PATH --dataset fashion-mnist ...

The recalibration batches are drawn once from a generator seeded ``recalibration_seed`` and
are the same for every architecture and every query seed (a fair comparison; the estimator is
deterministic per architecture). The dataset options default to the ``data`` section of the
checkpoint's ``meta`` (what the supernet was trained on), so the validation split is the one
the supernet never trained on; given options override them. The cost of a query is its wall
time (``Cost(wall, wall)``: an inherited-weight evaluation really costs what it took).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from naslab.errors import ConfigError, DataError, check_int
from naslab.estimators.base import Cost, Estimator, Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture, SearchSpace

__all__ = ["SupernetEstimator", "DATA_KEYS"]

#: dataset options a checkpoint's meta["data"] may carry (load_dataset's keyword arguments)
DATA_KEYS = ("split_seed", "val_fraction", "test_fraction", "n_train", "n_val", "n_test",
             "channels", "image_size")


def _file_hash(path: Path) -> str:
    h = hashlib.blake2b(digest_size=8)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@register("estimator", "supernet", aliases=("inherited",))
class SupernetEstimator(Estimator):
    """Validation accuracy with weights inherited from a supernet checkpoint, after BN
    recalibration for the architecture.

    Parameters
    ----------
    checkpoint: a supernet checkpoint file (``CellSupernet.save``).
    dataset: a registered dataset (default: the checkpoint's ``meta["data"]["dataset"]``).
    data_dir, split_seed, val_fraction, test_fraction, n_train, n_val, n_test, channels,
        image_size: dataset options (defaults: the checkpoint's ``meta["data"]``, else
        :func:`naslab.data.load_dataset`'s).
    recalibration_batches: training batches for BN recalibration (default 20; 0 = keep the
        checkpoint's running statistics).
    batch_size: recalibration and evaluation batch size (default 128).
    recalibration_seed: seed of the draw of recalibration batches.
    test: also measure ``test_acc`` / ``test_loss`` (default True).
    device: ``cpu`` or ``cuda`` (``cuda:N``); num_threads: torch CPU threads while
        evaluating (default 1; None = torch's default).

    Metrics: ``val_acc``, ``val_loss``, ``test_acc``, ``test_loss`` (percent / mean
    cross-entropy; equal for equal architectures). ``info``: the path, the recalibration
    batches and seconds. Cost: wall seconds, also as simulated cost.
    """

    def __init__(self, checkpoint: str, dataset: str | None = None, *,
                 data_dir: str | None = None, split_seed: int | None = None,
                 val_fraction: float | None = None, test_fraction: float | None = None,
                 n_train: int | None = None, n_val: int | None = None,
                 n_test: int | None = None, channels: int | None = None,
                 image_size: int | None = None, recalibration_batches: int = 20,
                 batch_size: int = 128, recalibration_seed: int = 0, test: bool = True,
                 device: str = "cpu", num_threads: int | None = 1) -> None:
        from naslab import registry

        if not isinstance(checkpoint, (str, Path)) or not str(checkpoint):
            raise ConfigError(f"the supernet estimator needs checkpoint=PATH (a supernet "
                              f"checkpoint file), got {checkpoint!r}")
        path = Path(checkpoint).expanduser()
        if not path.is_file():  # before importing torch: a quick answer to a typo
            raise DataError(f"supernet checkpoint {path} does not exist")
        from naslab.nn.supernet import read_checkpoint

        blob = read_checkpoint(path)  # DataError when missing / not a checkpoint
        self.checkpoint = str(path)
        self.checkpoint_hash = _file_hash(path)
        self.config: dict[str, Any] = dict(blob["config"])
        self.meta: dict[str, Any] = dict(blob["meta"])
        del blob
        raw_data = self.meta.get("data")
        data_meta: dict[str, Any] = dict(raw_data) if isinstance(raw_data, dict) else {}
        name = dataset if dataset is not None else data_meta.get("dataset")
        if name is None:
            raise ConfigError(f"the supernet estimator needs dataset=... (--dataset): "
                              f"checkpoint {path} does not say which data it was trained on")
        self.dataset_name = getattr(registry.get("dataset", name), "registry_name", name)
        given = {"split_seed": split_seed, "val_fraction": val_fraction,
                 "test_fraction": test_fraction, "n_train": n_train, "n_val": n_val,
                 "n_test": n_test, "channels": channels, "image_size": image_size}
        same_data = data_meta.get("dataset") in (None, self.dataset_name)
        self.data_kw: dict[str, Any] = {}
        for k in DATA_KEYS:
            v = given[k]
            if v is None and same_data:
                v = data_meta.get(k)
            if v is not None:
                self.data_kw[k] = v
        self.data_kw["seed"] = self.data_kw.pop("split_seed", 0)
        self.data_dir = None if data_dir in (None, "") else str(data_dir)
        self.recalibration_batches = check_int("recalibration_batches", recalibration_batches,
                                               minimum=0)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.recalibration_seed = check_int("recalibration_seed", recalibration_seed, minimum=0)
        if not isinstance(test, bool):
            raise ConfigError(f"test must be true or false, got {test!r}")
        self.test = test
        from naslab.estimators.training import _check_device

        self.device = _check_device(device)
        if num_threads is not None:
            num_threads = check_int("num_threads", num_threads, minimum=1)
        self.num_threads = num_threads
        self._data: Any = None
        self._net: Any = None
        self._tensors: Any = None
        self._batches: Any = None
        self._describe: dict[str, Any] | None = None

    # loaded lazily, in whichever process evaluates, and never pickled -----------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_data=None, _net=None, _tensors=None, _batches=None)
        return state

    @property
    def data(self) -> Any:
        """The :class:`~naslab.data.ImageDataset` (loaded on first use)."""
        if self._data is None:
            from naslab.data import load_dataset

            ds = load_dataset(self.dataset_name, data_dir=self.data_dir, **self.data_kw)
            cfg = self.config
            c, _h, _w = ds.input_shape
            if cfg.get("in_channels") not in (None, c) or cfg.get("num_classes") not in (
                    None, ds.num_classes):
                raise ConfigError(
                    f"supernet checkpoint {self.checkpoint} takes {cfg.get('in_channels')}-"
                    f"channel images and predicts {cfg.get('num_classes')} classes, but dataset "
                    f"{self.dataset_name!r} as configured has {c} channel(s) and "
                    f"{ds.num_classes} classes (set channels= / use the dataset the supernet "
                    f"was trained on)")
            self._data = ds
        return self._data

    @property
    def supernet(self) -> Any:
        """The :class:`~naslab.nn.supernet.CellSupernet`, on the estimator's device."""
        if self._net is None:
            from naslab.nn.supernet import load_supernet

            self.data  # noqa: B018 - checks the shape first
            net, _meta = load_supernet(self.checkpoint, device=self.device)
            net.eval()
            self._net = net
        return self._net

    def check_space(self, space: SearchSpace) -> None:
        if space.name != self.config.get("space"):
            raise ConfigError(f"supernet checkpoint {self.checkpoint} is a supernet of space "
                              f"{self.config.get('space')!r}, but the search space is "
                              f"{space.name!r}")

    def _prepare(self) -> None:
        if self._tensors is not None:
            return
        import numpy as np
        import torch

        ds = self.data
        dev = torch.device(self.device)
        t = {}
        for split in ("train", "val", "test"):
            x = torch.from_numpy(np.array(getattr(ds, f"x_{split}"), dtype=np.float32))
            y = torch.from_numpy(np.array(getattr(ds, f"y_{split}"), dtype=np.int64))
            t[split] = (x.to(dev), y.to(dev))
        gen = torch.Generator(device="cpu")
        gen.manual_seed(self.recalibration_seed)
        n = len(t["train"][1])
        perm = torch.randperm(n, generator=gen)
        bs = min(self.batch_size, n)
        batches = []
        for b in range(self.recalibration_batches):
            idx = perm[(b * bs) % n:(b * bs) % n + bs]
            if len(idx) < bs:  # wrap around
                idx = torch.cat([idx, perm[:bs - len(idx)]])
            batches.append(t["train"][0][idx.to(dev)])
        self._tensors, self._batches = t, batches

    def _accuracy(self, arch: Architecture, split: str) -> tuple[float, float]:
        import torch
        import torch.nn.functional as F

        net = self.supernet
        x, y = self._tensors[split]
        loss = torch.zeros((), dtype=torch.float64, device=x.device)
        correct = torch.zeros((), dtype=torch.int64, device=x.device)
        bs = self.batch_size
        with torch.no_grad():
            for i in range(0, len(y), bs):
                out = net(x[i:i + bs], arch=arch)
                loss += F.cross_entropy(out, y[i:i + bs], reduction="sum").double()
                correct += (out.argmax(1) == y[i:i + bs]).sum()
        return 100.0 * float(correct) / len(y), float(loss) / len(y)

    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        if fidelity is not None:
            raise ConfigError(f"the supernet estimator has no fidelities (inherited weights "
                              f"are scored as trained), got fidelity {fidelity!r}")
        import torch

        t0 = time.perf_counter()
        threads = torch.get_num_threads()
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        try:
            net = self.supernet
            self._prepare()
            path = net.arch_to_path(arch)  # validates the architecture
            t_rec = time.perf_counter()
            if self._batches:
                net.recalibrate_bn(arch, self._batches)
            net.eval()
            rec_s = time.perf_counter() - t_rec
            metrics = {}
            metrics["val_acc"], metrics["val_loss"] = self._accuracy(arch, "val")
            if self.test:
                metrics["test_acc"], metrics["test_loss"] = self._accuracy(arch, "test")
        finally:
            torch.set_num_threads(threads)
        wall = time.perf_counter() - t0
        info = {"path": list(path), "recalibration_batches": len(self._batches or []),
                "recalibration_s": rec_s, "checkpoint": self.checkpoint}
        return Evaluation(metrics, Cost(wall, wall), None, info)

    @property
    def has_test(self) -> bool:
        return self.test

    @property
    def test_unavailable_reason(self) -> str:
        return "" if self.test else "the supernet estimator was run with test=false"

    def describe(self) -> dict[str, Any]:
        if self._describe is None:
            self._describe = {
                "estimator": "supernet", "dataset": self.dataset_name,
                "checkpoint": self.checkpoint, "checkpoint_hash": self.checkpoint_hash,
                "supernet": self.config, "data": self.data.describe(),
                "recalibration": {"batches": self.recalibration_batches,
                                  "batch_size": self.batch_size,
                                  "seed": self.recalibration_seed},
                "test": self.test}
        return dict(self._describe)

    def __repr__(self) -> str:
        return (f"SupernetEstimator({self.checkpoint!r}, dataset={self.dataset_name!r}, "
                f"recalibration_batches={self.recalibration_batches})")
