"""Supernet builders: one per cell space, registered as kind ``supernet`` (no torch at import).

A builder turns a space (and the skeleton's options) into a
:class:`~naslab.nn.supernet.CellSupernet`::

    @register("supernet", "myspace")          # the registry name is the space's name
    def build_myspace_supernet(*, num_classes=10, in_channels=3, bn="standalone",
                               generator=None, **options) -> CellSupernet: ...

It builds on the meta device and materialises with :func:`naslab.nn.init.materialize`
(weights from ``generator``, torch's global RNG untouched). One-shot methods, the supernet
estimator and checkpoint loading (:func:`naslab.nn.supernet.load_supernet`) build through
:func:`build_supernet`, so they name no space.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError

if TYPE_CHECKING:
    import torch

    from naslab.nn.supernet import CellSupernet
    from naslab.spaces.base import SearchSpace

__all__ = ["build_supernet", "supernet_spaces", "build_block_supernet", "block_supernet_spaces"]


def supernet_spaces() -> list[str]:
    """Names of the spaces that have a supernet builder (sorted)."""
    from naslab import registry

    return registry.names("supernet")


def build_supernet(space: SearchSpace | str, *, generator: torch.Generator | None = None,
                   **options: Any) -> CellSupernet:
    """The supernet of ``space`` (a space or its name) built by its registered builder, on the
    CPU, weights drawn from ``generator``. ``options``: the builder's (``C``, ``N``,
    ``num_classes``, ``in_channels``, ``bn``); unknown ones raise ConfigError."""
    from naslab import registry

    name = space if isinstance(space, str) else space.name
    have = supernet_spaces()
    if name not in have:
        raise ConfigError(f"search space {name!r} has no supernet builder; spaces with "
                          f"supernets: {', '.join(have) or 'none'}")
    net: CellSupernet = registry.get("supernet", name)(generator=generator, **options)
    return net


def block_supernet_spaces() -> list[str]:
    """Names of the spaces that have a block supernet builder (kind ``block_supernet``: the
    MobileNet-style block spaces of ProxylessNAS, FBNet and Once-for-All)."""
    from naslab import registry

    return registry.names("block_supernet")


def build_block_supernet(space: SearchSpace | str, *, kind: str = "mixed",
                         generator: torch.Generator | None = None, **options: Any) -> Any:
    """The block supernet of ``space`` (``kind`` ``mixed`` or ``elastic``), weights from
    ``generator``; ConfigError naming the spaces that have one."""
    from naslab import registry

    name = space if isinstance(space, str) else space.name
    have = block_supernet_spaces()
    if name not in have:
        raise ConfigError(f"search space {name!r} has no block supernet (kind "
                          f"'block_supernet'); spaces with one: {', '.join(have) or 'none'}")
    return registry.get("block_supernet", name)(kind=kind, generator=generator, **options)
