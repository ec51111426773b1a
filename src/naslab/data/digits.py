"""scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes; bundled with scikit-learn).

Pixel values 0..16 are scaled to [0, 1]; images are 1 x 8 x 8. The images are read from the
file that ``sklearn.datasets.load_digits`` reads (identical arrays, checked by a test). There
is no official test split: :func:`~naslab.data.load_dataset` draws train / validation / test
from all images. This is the default dataset for fast CPU runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from naslab.data.base import RawImages, check_images
from naslab.errors import DataError
from naslab.registry import register


@register("dataset", "digits", aliases=("sklearn-digits",))
def load_digits(data_dir: Path | None = None) -> RawImages:
    """scikit-learn digits: 1,797 grey 8x8 images of the digits 0-9 (``data_dir`` unused)."""
    path = bundled_file()
    if path is not None:  # the file load_digits reads, parsed without importing sklearn.datasets
        raw = np.loadtxt(path, delimiter=",", dtype=np.float32)
        if raw.shape != (1797, 65):
            raise DataError(f"{path}: expected 1797 rows of 64 pixels + label, got {raw.shape}")
        x = raw[:, :64].reshape(-1, 1, 8, 8) / 16.0
        y = raw[:, 64].astype(np.int64)
        source = str(path)
    else:
        try:
            from sklearn.datasets import load_digits as _load
        except ImportError:
            raise DataError("dataset 'digits' needs scikit-learn: "
                            "pip install 'naslab[ml]'") from None
        d = _load()
        x = (np.asarray(d.images, dtype=np.float32) / 16.0)[:, None, :, :]
        y = np.asarray(d.target, dtype=np.int64)
        source = "sklearn.datasets.load_digits"
    check_images(x, y, 10, "digits")
    return RawImages(x, y, 10, class_names=tuple(str(i) for i in range(10)),
                     source=source)


def bundled_file() -> Path | None:
    """scikit-learn's ``datasets/data/digits.csv.gz``, located without importing scikit-learn
    (importing ``sklearn.datasets`` costs seconds; data workers load digits often)."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "datasets" / "data" / "digits.csv.gz"
        if p.is_file():
            return p
    return None
