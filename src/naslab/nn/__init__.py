"""PyTorch networks built from architectures (torch is imported by the submodules that need it;
``import naslab`` never imports this package).

* :func:`build_network` (:mod:`naslab.nn.networks`): the network of any architecture whose
  space has a registered builder (kind ``network``), weights drawn from a ``torch.Generator``;
  :func:`network_spaces` lists those spaces.
* :func:`init_parameters` (:mod:`naslab.nn.init`): PyTorch's default initialisation drawn from
  a given generator.
* :mod:`naslab.nn.protocol`: training protocols (torch-free).
* ``NB201Network`` / ``build_nb201`` (:mod:`naslab.nn.nb201`), the cell operations
  (:mod:`naslab.nn.ops`), parameter / FLOP counting (:mod:`naslab.nn.counting`) and the
  zero-cost proxy math (:mod:`naslab.nn.zerocost`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_network", "network_spaces", "init_parameters", "NB201Network", "build_nb201",
           "count_params", "count_flops", "OPS", "make_op"]

_WHERE = {"build_network": "networks", "network_spaces": "networks", "init_parameters": "init",
          "NB201Network": "nb201", "build_nb201": "nb201", "count_params": "counting",
          "count_flops": "counting", "OPS": "ops", "make_op": "ops"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"naslab.nn.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'naslab.nn' has no attribute {name!r}")
