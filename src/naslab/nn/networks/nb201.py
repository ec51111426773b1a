"""The NAS-Bench-201 network builder (registered as network ``nb201``; torch imported on call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError
from naslab.registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

    from naslab.spaces.base import Architecture


@register("network", "nb201")
def build_nb201_network(arch: Architecture, *, num_classes: int = 10, in_channels: int = 3,
                        C: int = 16, N: int = 5, generator: torch.Generator | None = None,
                        **options: Any) -> nn.Module:
    """NAS-Bench-201's network (width C, N cells per stage), weights from a generator.

    :class:`~naslab.nn.nb201.NB201Network` built on the meta device and materialised with
    :func:`naslab.nn.init.materialize`: PyTorch's default schemes drawn from ``generator``."""
    if options:
        raise ConfigError(f"the nb201 network builder has no option(s) {', '.join(options)}; "
                          f"options: num_classes, in_channels, C, N")
    from naslab.nn.init import materialize
    from naslab.nn.nb201 import NB201Network

    return materialize(lambda: NB201Network(arch, C=C, N=N, num_classes=num_classes,
                                            in_channels=in_channels), generator)
