"""The MobileNet block-space supernet builders (registered as block_supernet ``mobilenet``;
torch imported on call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError
from naslab.registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

KINDS = ("mixed", "elastic")


@register("block_supernet", "mobilenet")
def build_mobilenet_block_supernet(*, kind: str = "mixed",
                                   generator: torch.Generator | None = None,
                                   **options: Any) -> nn.Module:
    """A supernet of the MobileNet block space, weights from ``generator``: ``kind="mixed"``
    (:class:`~naslab.nn.block_supernet.MixedBlockSupernet`: a separate MBConv per option of
    every slot, for ProxylessNAS / FBNet) or ``"elastic"``
    (:class:`~naslab.nn.ofa.ElasticMobileNet`: one largest block per slot whose kernels and
    channels are sliced, for Once-for-All). ``options``: the network builder's."""
    from naslab.nn.init import materialize

    if kind == "mixed":
        from naslab.nn.block_supernet import MixedBlockSupernet

        return materialize(lambda: MixedBlockSupernet("mobilenet", **options), generator)
    if kind == "elastic":
        from naslab.nn.ofa import ElasticMobileNet

        return materialize(lambda: ElasticMobileNet("mobilenet", **options), generator)
    raise ConfigError(f"block supernet kind must be one of {', '.join(KINDS)}, got {kind!r}")
