"""The NAS-Bench-101 network builder (registered as network ``nb101``; torch imported on call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError
from naslab.registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

    from naslab.spaces.base import Architecture


@register("network", "nb101")
def build_nb101_network(arch: Architecture, *, num_classes: int = 10, in_channels: int = 3,
                        C: int = 128, N: int = 3, num_stacks: int = 3,
                        generator: torch.Generator | None = None, **options: Any) -> nn.Module:
    """NAS-Bench-101's network (stem width C, N cells per stack), weights from a generator.

    :class:`~naslab.nn.nb101.NB101Network` built on the meta device and materialised with
    :func:`naslab.nn.init.materialize`. NB101: C=128, N=3, 3 stacks."""
    if options:
        raise ConfigError(f"the nb101 network builder has no option(s) {', '.join(options)}; "
                          f"options: num_classes, in_channels, C, N, num_stacks")
    from naslab.nn.init import materialize
    from naslab.nn.nb101 import NB101Network

    return materialize(lambda: NB101Network(arch, C=C, N=N, num_stacks=num_stacks,
                                            num_classes=num_classes, in_channels=in_channels),
                       generator)
