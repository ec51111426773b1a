"""The NAS-Bench-201 supernet builder (registered as supernet ``nb201``; torch imported on call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError
from naslab.registry import register

if TYPE_CHECKING:
    import torch

    from naslab.nn.supernet import NB201Supernet


@register("supernet", "nb201")
def build_nb201_supernet(*, num_classes: int = 10, in_channels: int = 3, C: int = 16,
                         N: int = 5, bn: str = "standalone",
                         generator: torch.Generator | None = None,
                         **options: Any) -> NB201Supernet:
    """NAS-Bench-201's skeleton with mixed-op cells (width C, N cells per stage), weights from a
    generator; ``bn`` is ``"standalone"`` (exact inheritance) or ``"search"`` (NB201's search
    code: cell BNs without affine parameters or running statistics)."""
    if options:
        raise ConfigError(f"the nb201 supernet builder has no option(s) {', '.join(options)}; "
                          f"options: num_classes, in_channels, C, N, bn")
    from naslab.nn.init import materialize
    from naslab.nn.supernet import NB201Supernet

    return materialize(lambda: NB201Supernet("nb201", C=C, N=N, num_classes=num_classes,
                                             in_channels=in_channels, bn=bn), generator)
