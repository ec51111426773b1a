"""Tabular ground truth: the benchmark interface, NB201 tables, source readers, the table cache
and data-directory lookup (no torch).

``load_benchmark("nb201/cifar10")`` builds a registered :class:`TabularBenchmark`;
:data:`DEFAULT_BENCHMARK` is the target commands use when none is given. Importing this package
is light: the interface loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from naslab.benchmarks.base import TabularBenchmark, load_benchmark

#: the benchmark target used when a command or estimator is given none
DEFAULT_BENCHMARK = "nb201/cifar10"

__all__ = ["DEFAULT_BENCHMARK", "TabularBenchmark", "load_benchmark"]


def __getattr__(name: str) -> Any:
    if name in ("TabularBenchmark", "load_benchmark"):
        from naslab.benchmarks import base

        value = getattr(base, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'naslab.benchmarks' has no attribute {name!r}")
