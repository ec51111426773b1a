"""How a space's networks decompose into separately measurable kernels (no torch at import).

A latency lookup table (:mod:`naslab.nn.lut`) predicts a network's latency as the sum of the
measured latencies of its parts. The decomposition is the network builder's knowledge, so each
space declares it beside its builder, as a :class:`LatencyModel` registered under kind
``latency`` with the space's name (module ``naslab.nn.networks.<space>``)::

    @register("latency", "myspace")
    class MySpaceLatency(LatencyModel):
        space = "myspace"
        def kernels(self) -> dict[str, Kernel]: ...       # every kernel any arch can use
        def fixed_kernels(self) -> list[str]: ...         # in every arch's network (skeleton)
        def arch_kernels(self, arch) -> list[str]: ...    # the arch-dependent part
        # or, for a space whose latency is additive over its decisions:
        def decision_kernels(self) -> list[list[list[str]]]: ...   # decision -> option -> keys

A :class:`Kernel` is a key (unique for the op, its shapes and stride under this protocol), a
factory of the module to time, and the per-sample input shape(s). Keys repeat in
``fixed_kernels`` / ``arch_kernels`` as often as the network runs that kernel.

What a sum of kernels cannot see (the Python dispatch of the enclosing modules, the cost of
moving between kernels) is the LUT's **overhead**: ``measured - sum of kernels`` on the
:meth:`LatencyModel.calibration_archs`, measured as whole networks while the LUT is built.

A MobileNet-style block space declares one kernel per (block input shape, output channels,
stride, kernel size, expansion, squeeze-excite) -- blocks 2..d of a stage share their shape,
so a stage needs two families of keys -- plus stem, first block and head as fixed kernels; its
``arch_kernels`` lists the active blocks' keys (depth decides which blocks exist). For
ProxylessNAS / FBNet, :meth:`decision_kernels` (or the LUT's ``decision_table``) gives the
per-layer, per-option latencies of the expected-latency loss.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from torch import nn

    from naslab.spaces.base import Architecture

__all__ = ["Kernel", "LatencyModel", "latency_model", "latency_spaces"]

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Kernel:
    """One measurable part of a network.

    ``build()`` returns the module to time (any weights: latency does not depend on them);
    ``input_shapes`` are its per-sample input shapes (one per forward argument, batch
    excluded); ``info`` is JSON written into the LUT (op, channels, spatial size, stride ...).
    """

    key: str
    build: Callable[[], nn.Module]
    input_shapes: tuple[Shape, ...]
    info: Mapping[str, Any] = field(default_factory=dict)


def shape_key(shape: Sequence[int]) -> str:
    """``(16, 32, 32)`` -> ``"16x32x32"``."""
    return "x".join(str(int(v)) for v in shape)


class LatencyModel(ABC):
    """A space's decomposition of its networks into kernels, for one network protocol.

    ``protocol``: the network builder's keyword arguments (``C``, ``N``, ``num_classes``,
    ``in_channels`` ...) plus the input's spatial size ``image_size`` (int or (H, W)).
    Subclasses validate them in :meth:`configure` and return the network builder's keyword
    arguments (what :meth:`network_protocol` gives).
    """

    #: the space this model decomposes (its registry name under kind ``latency``)
    space: str = ""

    def __init__(self, **protocol: Any) -> None:
        self.protocol: dict[str, Any] = self.configure(**protocol)

    @abstractmethod
    def configure(self, **protocol: Any) -> dict[str, Any]:
        """Validate the protocol (ConfigError naming a bad or unknown key); return it complete
        (defaults filled in, JSON-able)."""

    @abstractmethod
    def input_shape(self) -> Shape:
        """The network's per-sample input shape, e.g. ``(3, 32, 32)``."""

    def network_protocol(self) -> dict[str, Any]:
        """Keyword arguments of ``naslab.nn.build_network`` for this protocol (default: the
        protocol without ``image_size``)."""
        return {k: v for k, v in self.protocol.items() if k != "image_size"}

    @abstractmethod
    def kernels(self) -> dict[str, Kernel]:
        """Every kernel the networks of the space can run under this protocol (key -> kernel)."""

    @abstractmethod
    def fixed_kernels(self) -> list[str]:
        """Keys of the kernels every network runs (the skeleton), repeated as often as run."""

    def decision_kernels(self) -> list[list[list[str]]] | None:
        """For a space whose networks are additive over its decisions: for each decision, for
        each option, the keys that option adds. None (default): not additive, see
        :meth:`arch_kernels`."""
        return None

    def arch_kernels(self, arch: Architecture) -> list[str]:
        """Keys of the arch-dependent kernels of ``arch``'s network, repeated as often as run.
        Default: from :meth:`decision_kernels` and the arch's decision indices."""
        table = self.decision_kernels()
        if table is None:
            raise NotImplementedError(f"{type(self).__name__} must define arch_kernels or "
                                      f"decision_kernels")
        from naslab.spaces.base import get_space

        sp = get_space(self.space)
        idx = sp.decision_indices(sp.validate(arch))
        return [k for d, o in enumerate(idx) for k in table[d][o]]

    def calibration_archs(self, n: int = 10, seed: int = 0) -> list[Architecture]:
        """Architectures measured as whole networks when a LUT is built, to estimate what the
        kernels miss (the LUT's overhead). Default: ``n`` distinct random archs of the space
        (its sampler, seeded). Random archs, not each op everywhere: an arch that repeats one
        op keeps that op's code and data hot, so it costs less beyond its kernels than a mixed
        one (measured: docs/benchmarks.md, latency_lut)."""
        import numpy as np

        from naslab.spaces.base import get_space

        sp = get_space(self.space)
        rng = np.random.default_rng(seed)
        out: list[Architecture] = []
        try:
            size: int | None = len(sp)
        except TypeError:  # not finite, or too large for len() (the block space: 2e19)
            size = None
        while len(out) < (n if size is None else min(n, size)):
            a = sp.sample(rng)
            if a not in out:
                out.append(a)
        return out

    def describe(self) -> dict[str, Any]:
        return {"space": self.space, "protocol": dict(self.protocol)}


def latency_spaces() -> list[str]:
    """Spaces whose networks have a registered latency decomposition."""
    from naslab import registry

    return registry.names("latency")


def latency_model(space: str, **protocol: Any) -> LatencyModel:
    """The registered :class:`LatencyModel` of ``space`` for ``protocol``; ConfigError naming
    the spaces that have one when ``space`` has none."""
    from naslab import registry

    have = latency_spaces()
    if space not in have:
        raise ConfigError(f"search space {space!r} has no latency decomposition (kind 'latency')"
                          f"{did_you_mean(space, have)}; spaces with one: {', '.join(have) or 'none'}")
    model: LatencyModel = registry.get("latency", space)(**protocol)
    return model
