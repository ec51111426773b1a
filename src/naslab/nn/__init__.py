"""PyTorch networks built from architectures (imports torch; never imported by ``import naslab``).

``NB201Network`` / ``build_nb201`` (:mod:`naslab.nn.nb201`), the cell operations
(:mod:`naslab.nn.ops`) and parameter / FLOP counting (:mod:`naslab.nn.counting`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["NB201Network", "build_nb201", "count_params", "count_flops", "OPS", "make_op"]

_WHERE = {"NB201Network": "nb201", "build_nb201": "nb201", "count_params": "counting",
          "count_flops": "counting", "OPS": "ops", "make_op": "ops"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"naslab.nn.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'naslab.nn' has no attribute {name!r}")
