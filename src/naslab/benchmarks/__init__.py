"""Tabular ground truth: NB201 tables, official-format readers, data-directory lookup (no torch)."""

from typing import Any

DEFAULT_BENCHMARK = "nb201/cifar10"


def load_benchmark(spec: str, *, data_dir: str | None = None, **params: Any) -> Any:
    """``"NAME/DATASET"`` -> the registered benchmark NAME for that dataset."""
    from naslab.benchmarks.nb201 import load_benchmark as load

    return load(spec, data_dir=data_dir, **params)
