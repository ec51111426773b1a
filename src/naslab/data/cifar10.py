"""CIFAR-10 from the standard python-pickle batches (``cifar-10-python.tar.gz``).

Accepted layouts, looked up in ``data_dir`` (or ``$NASLAB_DATA`` when not given), in its
``cifar10/`` subdirectory, and in a ``cifar-10-batches-py/`` directory below either:
the extracted batches (``data_batch_1`` .. ``data_batch_5``, ``test_batch``, optional
``batches.meta``) or the archive ``cifar-10-python.tar.gz`` itself (read without extracting).
Each batch is a pickle of ``{b"data": uint8 (n, 3072), b"labels": [n ints]}``, rows laid out
as 1024 red, 1024 green, 1024 blue values of a 32x32 image. Images are 3 x 32 x 32 in [0, 1];
the official 10,000-image test batch is the test set.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from naslab.data.base import RawImages, check_images
from naslab.errors import DataError
from naslab.registry import register

ARCHIVE = "cifar-10-python.tar.gz"
SUBDIR = "cifar-10-batches-py"
TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST = "test_batch"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")


#: the only globals a CIFAR-10 batch needs (its ``data`` entry is a pickled numpy array)
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
            ("numpy", "ndarray"), ("numpy", "dtype"),
            ("_codecs", "encode")}  # Python 3 pickles (protocol 2) of numpy byte buffers


class _RestrictedUnpickler(pickle.Unpickler):
    """Batches hold dicts, lists, bytes, numbers and numpy arrays: refuse any other global."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global '{module}.{name}' is not allowed in a CIFAR batch")


def _unpickle(raw: bytes, where: str) -> dict[Any, Any]:
    try:
        d = _RestrictedUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a data error
        raise DataError(f"{where} is not a CIFAR-10 python batch: {exc}") from None
    if not isinstance(d, dict):
        raise DataError(f"{where} is not a CIFAR-10 python batch (a {type(d).__name__})")
    return d


def _batch(d: dict[Any, Any], where: str) -> tuple[np.ndarray, np.ndarray]:
    data = d.get(b"data", d.get("data"))
    labels = d.get(b"labels", d.get("labels"))
    if data is None or labels is None:
        raise DataError(f"{where}: a CIFAR-10 batch needs 'data' and 'labels' entries, found "
                        f"{sorted(str(k) for k in d)}")
    x = np.asarray(data)
    y = np.asarray(labels, dtype=np.int64)
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3072 or len(x) != len(y):
        raise DataError(f"{where}: expected uint8 data of shape (n, 3072) and n labels, got "
                        f"{x.dtype} {x.shape} and {y.shape}")
    return x.reshape(-1, 3, 32, 32), y


def _readers(data_dir: Path | None) -> tuple[list[Path], Callable[[str], bytes] | None, str]:
    if data_dir is not None:
        bases = [data_dir]
    else:
        env = os.environ.get("NASLAB_DATA")
        bases = [Path(env).expanduser()] if env else []
    tried: list[Path] = []
    for b in bases:
        for d in (b, b / "cifar10"):
            for sub in (d / SUBDIR, d):
                tried.append(sub)
                if (sub / TRAIN[0]).is_file():
                    return tried, (lambda name, sub=sub: (sub / name).read_bytes()), str(sub)
            arc = d / ARCHIVE
            tried.append(arc)
            if arc.is_file():
                return tried, _archive_reader(arc), str(arc)
    return tried, None, ""


def _archive_reader(arc: Path) -> Callable[[str], bytes]:
    try:
        tf = tarfile.open(arc, "r:*")
        members = {Path(m.name).name: m for m in tf.getmembers() if m.isfile()}
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"cannot read CIFAR-10 archive {arc}: {exc}") from None

    def read(name: str) -> bytes:
        m = members.get(name)
        if m is None:
            raise DataError(f"CIFAR-10 archive {arc} has no member {name!r}")
        f = tf.extractfile(m)
        if f is None:  # pragma: no cover - members are regular files
            raise DataError(f"cannot read {name!r} from {arc}")
        return f.read()

    return read


@register("dataset", "cifar10", aliases=("cifar-10",))
def load_cifar10(data_dir: Path | None = None) -> RawImages:
    """CIFAR-10: 50,000 + 10,000 colour 32x32 images of 10 classes (python-pickle batches)."""
    tried, read, where = _readers(data_dir)
    if read is None:
        raise DataError(
            f"dataset 'cifar10': no CIFAR-10 python batches ({', '.join(TRAIN)}, {TEST}) or "
            f"{ARCHIVE} found; searched {', '.join(str(t) for t in tried) or '(no directory)'}. "
            f"Download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
            f"and pass its directory as data_dir / --data-dir.")
    xs, ys = [], []
    for name in TRAIN:
        x, y = _batch(_unpickle(read(name), f"{where}:{name}"), f"{where}:{name}")
        xs.append(x)
        ys.append(y)
    x_test, y_test = _batch(_unpickle(read(TEST), f"{where}:{TEST}"), f"{where}:{TEST}")
    x = np.concatenate(xs).astype(np.float32) / 255.0
    y = np.concatenate(ys)
    xt = x_test.astype(np.float32) / 255.0
    check_images(x, y, 10, f"cifar10 train ({where})")
    check_images(xt, y_test, 10, f"cifar10 test ({where})")
    return RawImages(x, y, 10, xt, y_test, class_names=CLASSES, source=where)
