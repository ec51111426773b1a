"""Dataset object, deterministic splits and the input-shape transform shared by all sources.

A source (registered with ``@register("dataset", name)``) is a function
``(data_dir: Path | None) -> RawImages`` returning uint8-or-float images ``(n, C, H, W)`` scaled
to [0, 1], labels, and an official test split when the dataset has one. :func:`load_dataset`
turns it into an :class:`ImageDataset`:

1. **Splits** (stratified, from ``seed``): with an official test split, the test set is that
   split and ``val_fraction`` of the official training images (per class) become the
   validation set; without one, ``test_fraction`` and ``val_fraction`` of all images (per class)
   become test and validation. ``n_train`` / ``n_val`` / ``n_test`` then keep a stratified,
   seeded subset of a split (for quick CPU runs on large sets).
2. **Input shape**: ``channels`` (None = native) replicates a grey channel to 3, or turns RGB
   into one luminance channel (ITU-R BT.601 weights); ``image_size`` (None = native) resizes to
   ``image_size x image_size`` with bilinear interpolation (antialiased when shrinking).
3. **Normalisation**: each channel minus the training split's mean, divided by its std
   (``normalize=False`` keeps [0, 1] pixels).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from naslab.errors import ConfigError, DataError, check_float, check_int


@dataclass
class RawImages:
    """What a source returns: images in [0, 1] as float32 ``(n, C, H, W)`` and int64 labels."""

    x: np.ndarray
    y: np.ndarray
    num_classes: int
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    class_names: tuple[str, ...] = ()
    source: str = ""  # where the images came from (file paths or package)


@dataclass
class ImageDataset:
    """Train / validation / test images of one dataset, ready for a network.

    ``x_*`` are float32 arrays ``(n, C, H, W)`` (normalised, see :mod:`naslab.data.base`),
    ``y_*`` int64 labels in ``0..num_classes-1``. ``input_shape = (C, H, W)``.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    class_names: tuple[str, ...] = ()
    source: str = ""
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        c, h, w = (int(s) for s in self.x_train.shape[1:])
        return c, h, w

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}

    def fingerprint(self) -> str:
        """blake2b-64 of every split's bytes: equal data, equal fingerprint."""
        h = hashlib.blake2b(digest_size=8)
        for a in (self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test):
            h.update(str(a.shape).encode())
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    def describe(self) -> dict[str, Any]:
        """JSON-able identity: name, split configuration, sizes, shape and data fingerprint."""
        return {"dataset": self.name, **self.config, "sizes": self.sizes,
                "input_shape": list(self.input_shape), "num_classes": self.num_classes,
                "fingerprint": self.fingerprint()}

    def __repr__(self) -> str:
        s = self.sizes
        return (f"ImageDataset({self.name!r}, train={s['train']}, val={s['val']}, "
                f"test={s['test']}, input_shape={self.input_shape}, classes={self.num_classes})")


def dataset_names() -> list[str]:
    """Names of the registered dataset sources."""
    from naslab import registry

    return registry.names("dataset")


def _stratified_split(y: np.ndarray, fractions: tuple[float, ...], rng: np.random.Generator
                      ) -> list[np.ndarray]:
    """Split indices per class: ``fractions`` of each class go to parts 1.., the rest to part 0."""
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        start = 0
        counts = [int(round(f * len(idx))) for f in fractions]
        for k, n in enumerate(counts, start=1):
            parts[k].append(idx[start:start + n])
            start += n
        parts[0].append(idx[start:])
    return [np.sort(np.concatenate(p)) if p else np.empty(0, dtype=np.int64) for p in parts]


def _subset(y: np.ndarray, n: int | None, rng: np.random.Generator, what: str) -> np.ndarray:
    idx = np.arange(len(y))
    if n is None or n >= len(y):
        return idx
    frac = n / len(y)
    keep = _stratified_split(y, (frac,), rng)[1]
    if len(keep) != n:  # rounding per class: top up / trim with a seeded draw
        rest = np.setdiff1d(idx, keep)
        if len(keep) < n:
            keep = np.sort(np.concatenate([keep, rng.choice(rest, n - len(keep), replace=False)]))
        else:
            keep = np.sort(rng.choice(keep, n, replace=False))
    return keep


def to_shape(x: np.ndarray, *, channels: int | None, image_size: int | None) -> np.ndarray:
    """Bring float images ``(n, C, H, W)`` in [0, 1] to ``channels`` and ``image_size``."""
    c = x.shape[1]
    if channels is not None and channels != c:
        if c == 1:
            x = np.repeat(x, channels, axis=1)
        elif c == 3 and channels == 1:
            w = np.array([0.299, 0.587, 0.114], dtype=np.float32).reshape(1, 3, 1, 1)
            x = (x * w).sum(axis=1, keepdims=True, dtype=np.float32)
        else:
            raise ConfigError(f"channels: cannot turn {c}-channel images into {channels} channels "
                              f"(1 -> any and 3 -> 1 are supported)")
    if image_size is not None and (x.shape[2], x.shape[3]) != (image_size, image_size):
        import torch
        import torch.nn.functional as F

        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        shrink = image_size < max(x.shape[2], x.shape[3])
        out = []
        for chunk in torch.split(t, 4096):
            out.append(F.interpolate(chunk, size=(image_size, image_size), mode="bilinear",
                                     align_corners=False, antialias=shrink))
        x = torch.cat(out).clamp_(0.0, 1.0).numpy()
    return np.ascontiguousarray(x, dtype=np.float32)


_MEMO: dict[tuple[Any, ...], ImageDataset] = {}


def load_dataset(name: str, *, data_dir: str | Path | None = None, seed: int = 0,
                 val_fraction: float = 0.2, test_fraction: float = 0.2,
                 n_train: int | None = None, n_val: int | None = None, n_test: int | None = None,
                 channels: int | None = None, image_size: int | None = None,
                 normalize: bool = True, cache: bool = True) -> ImageDataset:
    """Load dataset ``name`` with deterministic splits from ``seed`` (see module docstring).

    ``data_dir`` is where the files are (per source; ``None`` = the source's default lookup).
    Unknown names and unreadable files raise :class:`~naslab.errors.NaslabError` subclasses.
    Results are memoised per process (``cache=False`` reloads); treat the arrays as read-only.
    """
    from naslab import registry

    if not isinstance(name, str):
        raise ConfigError(f"dataset name must be a string, got {name!r}")
    source = registry.get("dataset", name)
    canonical = getattr(source, "registry_name", name)
    seed = check_int("seed", seed, minimum=0)
    vf = check_float("val_fraction", val_fraction, minimum=0.0, maximum=0.9)
    tf = check_float("test_fraction", test_fraction, minimum=0.0, maximum=0.9)
    caps = {}
    for k, v in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        caps[k] = None if v is None else check_int(k, v, minimum=1)
    if channels is not None:
        channels = check_int("channels", channels, minimum=1)
    if image_size is not None:
        image_size = check_int("image_size", image_size, minimum=4)
    ddir = None if data_dir is None or str(data_dir) == "" else Path(data_dir).expanduser()
    key = (canonical, str(ddir), seed, vf, tf, caps["n_train"], caps["n_val"], caps["n_test"],
           channels, image_size, bool(normalize))
    if cache and key in _MEMO:
        return _MEMO[key]

    raw: RawImages = source(ddir)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))
    if raw.x_test is not None and raw.y_test is not None:
        if vf + 0 >= 1.0:
            raise ConfigError(f"val_fraction must be < 1, got {vf}")
        tr, va = _stratified_split(raw.y, (vf,), rng)
        x_tr, y_tr, x_va, y_va = raw.x[tr], raw.y[tr], raw.x[va], raw.y[va]
        x_te, y_te = raw.x_test, raw.y_test
        split = {"split": "official test; val_fraction of official train", "val_fraction": vf}
    else:
        if vf + tf >= 0.95:
            raise ConfigError(f"val_fraction + test_fraction must be < 0.95, got {vf} + {tf}")
        tr, va, te = _stratified_split(raw.y, (vf, tf), rng)
        x_tr, y_tr, x_va, y_va = raw.x[tr], raw.y[tr], raw.x[va], raw.y[va]
        x_te, y_te = raw.x[te], raw.y[te]
        split = {"split": "stratified from all images", "val_fraction": vf, "test_fraction": tf}
    parts = []
    for (x, y), cap, what in (((x_tr, y_tr), caps["n_train"], "n_train"),
                              ((x_va, y_va), caps["n_val"], "n_val"),
                              ((x_te, y_te), caps["n_test"], "n_test")):
        keep = _subset(y, cap, rng, what)
        parts.append((x[keep], y[keep]))
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = parts
    if len(y_tr) == 0 or len(y_va) == 0 or len(y_te) == 0:
        raise ConfigError(f"dataset {canonical!r}: the split left an empty part "
                          f"(train {len(y_tr)}, val {len(y_va)}, test {len(y_te)}); "
                          f"change val_fraction / test_fraction / n_*")
    x_tr, x_va, x_te = (to_shape(x, channels=channels, image_size=image_size)
                        for x in (x_tr, x_va, x_te))
    c = x_tr.shape[1]
    if normalize:
        mean = x_tr.mean(axis=(0, 2, 3), dtype=np.float64)
        std = x_tr.std(axis=(0, 2, 3), dtype=np.float64)
        std = np.where(std > 1e-8, std, 1.0)
        m4 = mean.astype(np.float32).reshape(1, c, 1, 1)
        s4 = std.astype(np.float32).reshape(1, c, 1, 1)
        x_tr, x_va, x_te = ((x - m4) / s4 for x in (x_tr, x_va, x_te))
    else:
        mean, std = np.zeros(c), np.ones(c)
    config = {"seed": seed, **split, **{k: v for k, v in caps.items() if v is not None},
              "channels": channels, "image_size": image_size, "normalize": bool(normalize)}
    ds = ImageDataset(canonical, x_tr, y_tr.astype(np.int64), x_va, y_va.astype(np.int64),
                      x_te, y_te.astype(np.int64), raw.num_classes,
                      tuple(float(v) for v in mean), tuple(float(v) for v in std),
                      raw.class_names, raw.source, config)
    for a in (ds.x_train, ds.x_val, ds.x_test):
        a.setflags(write=False)
    if cache:
        _MEMO[key] = ds
    return ds


def check_images(x: np.ndarray, y: np.ndarray, num_classes: int, where: str) -> None:
    """DataError unless ``x`` is (n, C, H, W) and ``y`` holds n labels in 0..num_classes-1."""
    if x.ndim != 4 or len(x) != len(y) or len(y) == 0:
        raise DataError(f"{where}: expected n images (n, C, H, W) and n labels, got images "
                        f"{x.shape} and labels {y.shape}")
    if y.min() < 0 or y.max() >= num_classes:
        raise DataError(f"{where}: labels must be in 0..{num_classes - 1}, got "
                        f"{int(y.min())}..{int(y.max())}")
