"""The TransNAS-Bench-101 micro network builder (registered as network ``tnb101``; torch
imported on call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError
from naslab.registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

    from naslab.spaces.base import Architecture


@register("network", "tnb101")
def build_tnb101_network(arch: Architecture, *, num_classes: int = 100, in_channels: int = 3,
                         C: int = 64, N: int = 2,
                         generator: torch.Generator | None = None, **options: Any) -> nn.Module:
    """TransNAS-Bench-101's ``64-41414`` micro network with a linear classifier
    (:class:`~naslab.nn.transnas.TransNASMicroNetwork`), weights from ``generator``. ``C``:
    base width (TransNAS: 64); ``N``: cells per module (TransNAS: 2; the meaning ``N`` has for
    NB201, so the training and zero-cost estimators' ``C``/``N`` protocol applies - their
    defaults build another depth than the benchmark's)."""
    if options:
        raise ConfigError(f"the tnb101 network builder has no option(s) {', '.join(options)}; "
                          f"options: num_classes, in_channels, C, N")
    from naslab.nn.init import materialize
    from naslab.nn.transnas import TransNASMicroNetwork

    return materialize(lambda: TransNASMicroNetwork(arch, C=C, N=N, num_classes=num_classes,
                                                    in_channels=in_channels), generator)
