"""The DARTS evaluation network builder (registered as network ``darts``; torch imported on call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError
from naslab.registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

    from naslab.spaces.base import Architecture

OPTIONS = ("num_classes", "in_channels", "C", "N", "layers", "auxiliary", "stem_multiplier",
           "drop_path_prob", "affine")


@register("network", "darts")
def build_darts_network(arch: Architecture, *, num_classes: int = 10, in_channels: int = 3,
                        C: int = 36, N: int | None = None, layers: int | None = None,
                        auxiliary: bool = False,
                        stem_multiplier: int = 3, drop_path_prob: float = 0.0,
                        affine: bool = True, generator: torch.Generator | None = None,
                        **options: Any) -> nn.Module:
    """DARTS's ``NetworkCIFAR`` (:class:`~naslab.nn.darts.DartsNetwork`): width ``C``,
    ``layers`` cells, optional auxiliary head and drop-path; weights from ``generator``, which
    also draws the drop-path masks. ``N`` (normal cells per stage, the meaning it has for
    NB201's builder) is the other way to give the depth: ``layers = 3 N + 2``; default
    layers=20 (N=6). ``affine``: learnable BN scale/shift in the cell ops (the
    cells' input preprocessing always has them). DARTS's CIFAR-10 evaluation uses C=36,
    layers=20, auxiliary=True, drop_path_prob=0.2; the parameter counts recorded in NB301's
    NASLib data are exactly those of C=32, layers=8, affine=False (docs/benchmarks.md)."""
    if options:
        raise ConfigError(f"the darts network builder has no option(s) {', '.join(options)}; "
                          f"options: {', '.join(OPTIONS)}")
    from naslab.nn.darts import DartsNetwork
    from naslab.nn.init import materialize

    if N is not None:
        if isinstance(N, bool) or not isinstance(N, int) or N < 1:
            raise ConfigError(f"darts network N (normal cells per stage) must be an integer >= 1, "
                              f"got {N!r}")
        if layers is not None and layers != 3 * N + 2:
            raise ConfigError(f"darts network: N={N} means layers={3 * N + 2}, got layers={layers}; "
                              f"give one of them")
        layers = 3 * N + 2
    depth = 20 if layers is None else layers

    net = materialize(lambda: DartsNetwork(arch, C=C, layers=depth, auxiliary=auxiliary,
                                           num_classes=num_classes, in_channels=in_channels,
                                           stem_multiplier=stem_multiplier,
                                           drop_path_prob=drop_path_prob, affine=affine),
                      generator)
    net.drop_path_generator = generator
    return net
