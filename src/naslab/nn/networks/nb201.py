"""The NAS-Bench-201 network builder (registered as network ``nb201``) and its latency
decomposition (registered as latency ``nb201``); torch imported on call."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError
from naslab.nn.latency_parts import Kernel, LatencyModel, shape_key
from naslab.registry import register
from naslab.spaces.nb201 import EDGES, OPS

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


@register("latency", "nb201")
class NB201Latency(LatencyModel):
    """How an NB201 network decomposes into latency kernels.

    Per stage ``s`` (``C·2^s`` channels at ``H/2^s x W/2^s``) each of the 5 ops is one kernel
    (``"<op>|<C>x<H>x<W>|s1"``); every cell runs each of its 6 edges, dead ones included, so
    an arch adds, for each edge, its op's kernel ``N`` times per stage (the model is additive
    over the decisions: :meth:`decision_kernels`). Fixed kernels: the stem, the two residual
    reduction blocks, the head (BN + ReLU + global pooling + classifier) and the cell's
    additions: node 2 sums two edges, node 3 three, so 3 additions per cell (``"add|..."``).
    What none of them sees -- the cells' own Python dispatch -- is the LUT's calibrated
    overhead. Protocol: ``C`` (16), ``N`` (5), ``num_classes`` (10), ``in_channels`` (3),
    ``image_size`` (32, or (H, W); divisible by 4).
    """

    space = "nb201"

    def configure(self, **protocol: Any) -> dict[str, Any]:
        from naslab.errors import check_int

        allowed = ("C", "N", "num_classes", "in_channels", "image_size")
        bad = [k for k in protocol if k not in allowed]
        if bad:
            raise ConfigError(f"the nb201 latency model has no option(s) {', '.join(bad)}; "
                              f"options: {', '.join(allowed)}")
        size = protocol.get("image_size", 32)
        hw = [size, size] if isinstance(size, int) and not isinstance(size, bool) else list(size)
        if len(hw) != 2:
            raise ConfigError(f"image_size must be an int or (H, W), got {size!r}")
        hw = [check_int("image_size", v, minimum=4) for v in hw]
        if any(v % 4 for v in hw):
            raise ConfigError(f"image_size must be divisible by 4 (two stride-2 reductions), "
                              f"got {size!r}")
        return {"C": check_int("C", protocol.get("C", 16), minimum=1),
                "N": check_int("N", protocol.get("N", 5), minimum=0),
                "num_classes": check_int("num_classes", protocol.get("num_classes", 10), minimum=1),
                "in_channels": check_int("in_channels", protocol.get("in_channels", 3), minimum=1),
                "image_size": hw}

    def input_shape(self) -> tuple[int, ...]:
        h, w = self.protocol["image_size"]
        return (self.protocol["in_channels"], h, w)

    def _stages(self) -> list[tuple[int, int, int]]:
        C = self.protocol["C"]
        h, w = self.protocol["image_size"]
        return [(C << s, h >> s, w >> s) for s in range(3)]

    def _keys(self) -> dict[str, Any]:
        p = self.protocol
        st = self._stages()
        return {"stem": f"stem|{shape_key(self.input_shape())}->{p['C']}",
                "reduction": [f"reduction|{shape_key(st[s])}->{st[s + 1][0]}|s2" for s in range(2)],
                "head": f"head|{shape_key(st[2])}->{p['num_classes']}",
                "add": [f"add|{shape_key(s)}" for s in st],
                "op": [[f"{op}|{shape_key(s)}|s1" for s in st] for op in OPS]}

    def kernels(self) -> dict[str, Kernel]:
        keys = self._keys()
        st = self._stages()
        N = self.protocol["N"]
        out: dict[str, Kernel] = {}
        out[keys["stem"]] = Kernel(keys["stem"], partial(self._skeleton, "stem"),
                                   (self.input_shape(),), {"part": "stem"})
        for s in range(2):
            out[keys["reduction"][s]] = Kernel(
                keys["reduction"][s], partial(self._skeleton, "reduction", s), (st[s],),
                {"part": "reduction", "C_in": st[s][0], "C_out": st[s + 1][0], "stride": 2})
        out[keys["head"]] = Kernel(keys["head"], partial(self._skeleton, "head"), (st[2],),
                                   {"part": "head"})
        if N:
            for s, shape in enumerate(st):
                out[keys["add"][s]] = Kernel(keys["add"][s], _add_kernel, (shape, shape),
                                             {"part": "add", "shape": list(shape)})
        for o, op in enumerate(OPS):
            for s, shape in enumerate(st):
                k = keys["op"][o][s]
                out[k] = Kernel(k, partial(_op_kernel, op, shape[0]), (shape,),
                                {"part": "op", "op": op, "C": shape[0], "H": shape[1],
                                 "W": shape[2], "stride": 1})
        return out

    def fixed_kernels(self) -> list[str]:
        keys = self._keys()
        N = self.protocol["N"]
        adds = [k for k in keys["add"] for _ in range(3 * N)]
        return [keys["stem"], *keys["reduction"], keys["head"], *adds]

    def decision_kernels(self) -> list[list[list[str]]]:
        ops = self._keys()["op"]
        N = self.protocol["N"]
        return [[[k for k in ops[o] for _ in range(N)] for o in range(len(OPS))] for _ in EDGES]

    def _skeleton(self, part: str, stage: int = 0) -> nn.Module:
        """The skeleton module ``part`` taken from a built NB201 network (exactly the module
        the network runs)."""
        import torch
        from torch import nn as tnn

        from naslab.spaces.base import Architecture

        arch = Architecture("nb201", (1,) * len(EDGES))
        net: Any = build_nb201_network(arch, generator=torch.Generator().manual_seed(0),
                                       **self.network_protocol())
        N = self.protocol["N"]
        if part == "stem":
            return net.stem
        if part == "reduction":
            return net.cells[N + stage * (N + 1)]
        return tnn.Sequential(net.lastact, net.global_pooling, tnn.Flatten(1), net.classifier)


def _add_kernel() -> nn.Module:
    from naslab.nn.latency import AddKernel

    return AddKernel()


def _op_kernel(op: str, c: int) -> nn.Module:
    import torch

    from naslab.nn.init import materialize
    from naslab.nn.ops import make_op

    return materialize(lambda: make_op(op, c, c, 1), torch.Generator().manual_seed(0))
