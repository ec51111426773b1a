"""Network builders: one per search space, registered as kind ``network`` (no torch at import).

A builder turns an :class:`~naslab.spaces.Architecture` of its space into an ``nn.Module``::

    @register("network", "myspace")          # the registry name is the space's name
    def build_myspace_network(arch, *, num_classes=10, in_channels=3,
                              generator=None, **options) -> nn.Module: ...

It builds on the meta device and materialises with :func:`naslab.nn.init.materialize`, so the
weights come from ``generator`` (PyTorch's default schemes) and torch's global RNG is never
used when a generator is given. Builders live in this package, one module per space, and
import torch inside the function only: discovering the ``network`` kind (``network_spaces()``,
``naslab list networks``) stays torch-free.

Training (:mod:`naslab.estimators._train_loop`), the zero-cost proxies
(:mod:`naslab.estimators.zerocost`) and, later, supernets and latency tables build through
:func:`build_network`; an estimator accepts a space exactly when it has a builder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from naslab.spaces.base import Architecture

__all__ = ["build_network", "check_network_space", "network_spaces"]


def network_spaces() -> list[str]:
    """Names of the spaces that have a network builder (sorted)."""
    from naslab import registry

    return registry.names("network")


def check_network_space(space: str, *, user: str | None = None) -> None:
    """Raise ConfigError unless search space ``space`` has a network builder; ``user`` names
    who needs it (e.g. "the training estimator") in the message."""
    have = network_spaces()
    if space not in have:
        who = f"{user} builds the architecture's network, and " if user else ""
        raise ConfigError(f"{who}search space {space!r} has no network builder; spaces with "
                          f"network builders: {', '.join(have) or 'none'}")


def build_network(arch: Architecture, *, generator: torch.Generator | None = None,
                  **protocol: Any) -> nn.Module:
    """The network of ``arch`` built by its space's builder, on the CPU.

    ``protocol``: the builder's keyword arguments (``num_classes``, ``in_channels`` and
    space-specific ones such as NB201's ``C`` and ``N``; unknown ones raise ConfigError).
    ``generator`` seeds the weights (None: torch's global generator). An architecture of a
    space without a builder raises ConfigError naming the spaces that have one.
    """
    from naslab import registry
    from naslab.spaces.base import Architecture

    if not isinstance(arch, Architecture):
        raise ConfigError(f"build_network needs an Architecture, got {type(arch).__name__}")
    check_network_space(arch.space)
    net: nn.Module = registry.get("network", arch.space)(arch, generator=generator, **protocol)
    return net
