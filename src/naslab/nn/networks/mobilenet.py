"""The MobileNet block-space network builder (network ``mobilenet``) and its latency
decomposition (latency ``mobilenet``); torch imported on call."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError
from naslab.nn.latency_parts import Kernel, LatencyModel, shape_key
from naslab.registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

    from naslab.spaces.base import Architecture

_OPTIONS = ("num_classes", "in_channels", "C", "N", "width_mult", "se", "stem_stride", "divisor")


@register("network", "mobilenet")
def build_mobilenet_network(arch: Architecture, *, num_classes: int = 10, in_channels: int = 3,
                            C: int = 16, N: int | None = None,
                            width_mult: float | None = None, se: Any = None,
                            stem_stride: int = 1, divisor: int = 8,
                            generator: torch.Generator | None = None,
                            **options: Any) -> nn.Module:
    """OFA MobileNetV3's network of a block-space arch
    (:class:`~naslab.nn.mobilenet.MobileNetNetwork`), weights from ``generator``.
    ``C``: stem width, channels scale by ``C / 16`` (16 = OFA's widths); ``N``: unused (the
    depth is in the arch; accepted for protocol-driven callers); ``width_mult`` / ``se``: the
    space's unless given; ``stem_stride`` 1 (small images, the default) or 2 (OFA's ImageNet
    stem); ``divisor``: channel rounding (8)."""
    if options:
        raise ConfigError(f"the mobilenet network builder has no option(s) "
                          f"{', '.join(options)}; options: {', '.join(_OPTIONS)}")
    from naslab.nn.init import materialize
    from naslab.nn.mobilenet import MobileNetNetwork

    return materialize(lambda: MobileNetNetwork(arch, num_classes=num_classes,
                                                in_channels=in_channels, C=C, N=N,
                                                width_mult=width_mult,
                                                se=se, stem_stride=stem_stride,
                                                divisor=divisor), generator)


@register("latency", "mobilenet")
class MobileNetLatency(LatencyModel):
    """How a block-space network decomposes into latency kernels.

    Every block slot's input shape is fixed by the skeleton (a stage's first block changes
    width and stride; the later ones map ``width -> width`` at stride 1), so each option of a
    slot is one kernel (``"mbconv|<C_in>x<H>x<W>->|<C_out>|s<stride>|k<k>e<e>|se<0/1>"``; blocks
    2..4 of a stage share one key per op) and ``skip`` adds none: the model is additive over the
    decisions (:meth:`decision_kernels`, the LUT's ``decision_table`` that ProxylessNAS and
    FBNet's expected-latency losses read). Fixed kernels: stem, the first block, the head
    (final expand + pooling + feature mix + classifier). Protocol: the builder's options
    (``num_classes`` 10, ``in_channels`` 3, ``C`` 16, ``width_mult`` / ``se`` (the space's),
    ``stem_stride`` 1, ``divisor`` 8; ``N`` is refused: it does not shape these networks) and
    ``image_size`` (32, or (H, W)).
    """

    space = "mobilenet"

    def configure(self, **protocol: Any) -> dict[str, Any]:
        from naslab.errors import check_int
        from naslab.nn.mobilenet import net_config

        allowed = tuple(k for k in (*_OPTIONS, "image_size") if k != "N")
        bad = [k for k in protocol if k not in allowed]
        if bad:
            raise ConfigError(f"the mobilenet latency model has no option(s) {', '.join(bad)}; "
                              f"options: {', '.join(allowed)}")
        size = protocol.get("image_size", 32)
        hw = [size, size] if isinstance(size, int) and not isinstance(size, bool) else list(size)
        if len(hw) != 2:
            raise ConfigError(f"image_size must be an int or (H, W), got {size!r}")
        hw = [check_int("image_size", v, minimum=1) for v in hw]
        opts = {k: protocol[k] for k in _OPTIONS if k in protocol}
        cfg = net_config(self.space, **opts)
        se = opts.get("se")
        return {"num_classes": cfg.num_classes, "in_channels": cfg.in_channels, "C": cfg.C,
                "width_mult": cfg.layout.width_mult,
                "se": [s.se for s in cfg.layout.stages] if se is None or not isinstance(se, str)
                else se,
                "stem_stride": cfg.stem_stride, "divisor": cfg.divisor, "image_size": hw}

    def _cfg(self) -> Any:
        from naslab.nn.mobilenet import net_config

        p = self.protocol
        return net_config(self.space, num_classes=p["num_classes"], in_channels=p["in_channels"],
                          C=p["C"], width_mult=p["width_mult"], se=p["se"], stem_stride=p["stem_stride"],
                          divisor=p["divisor"])

    def input_shape(self) -> tuple[int, ...]:
        h, w = self.protocol["image_size"]
        return (self.protocol["in_channels"], h, w)

    def _shapes(self) -> list[tuple[tuple[int, int, int], tuple[int, int, int]]]:
        """Per stage: input shape of its first block, input shape of its later blocks."""
        import math

        cfg = self._cfg()
        h, w = self.protocol["image_size"]
        h, w = math.ceil(h / cfg.stem_stride), math.ceil(w / cfg.stem_stride)
        out = []
        for s, st in enumerate(cfg.layout.stages):
            first = (cfg.stage_input(s), h, w)
            h, w = math.ceil(h / st.stride), math.ceil(w / st.stride)
            out.append((first, (cfg.stage_widths[s], h, w)))
        self._head_shape = (cfg.stage_widths[-1], h, w)
        self._first_shape = (cfg.stem, math.ceil(self.protocol["image_size"][0] / cfg.stem_stride),
                             math.ceil(self.protocol["image_size"][1] / cfg.stem_stride))
        return out

    def _block_key(self, s: int, later: bool, op: str) -> str:
        cfg = self._cfg()
        shp = self._shapes()[s][1 if later else 0]
        st = cfg.layout.stages[s]
        return (f"mbconv|{shape_key(shp)}->{cfg.stage_widths[s]}|s{1 if later else st.stride}"
                f"|{op}|se{int(st.se)}")

    def _fixed(self) -> dict[str, tuple[str, tuple[int, ...]]]:
        self._shapes()
        cfg = self._cfg()
        return {"stem": (f"stem|{shape_key(self.input_shape())}->{cfg.stem}|s{cfg.stem_stride}",
                         self.input_shape()),
                "first": (f"first|{shape_key(self._first_shape)}->{cfg.first}", self._first_shape),
                "head": (f"head|{shape_key(self._head_shape)}->{cfg.final_expand}->"
                         f"{cfg.feature_mix}->{cfg.num_classes}", self._head_shape)}

    def kernels(self) -> dict[str, Kernel]:
        from naslab.spaces.mobilenet import BLOCK_OPS, N_STAGES

        out: dict[str, Kernel] = {}
        for part, (key, shape) in self._fixed().items():
            out[key] = Kernel(key, partial(self._skeleton, part), (shape,), {"part": part})
        shapes = self._shapes()
        for s in range(N_STAGES):
            for later in (False, True):
                for op in BLOCK_OPS:
                    key = self._block_key(s, later, op)
                    out[key] = Kernel(key, partial(self._block, s, later, op),
                                      (shapes[s][1 if later else 0],),
                                      {"part": "block", "stage": s + 1, "later": later, "op": op})
        return out

    def fixed_kernels(self) -> list[str]:
        return [k for k, _ in self._fixed().values()]

    def decision_kernels(self) -> list[list[list[str]]]:
        from naslab.spaces.mobilenet import DECISIONS, MAX_DEPTH, SKIP

        out = []
        for i, d in enumerate(DECISIONS):
            s, b = divmod(i, MAX_DEPTH)
            out.append([[] if op == SKIP else [self._block_key(s, b > 0, op)]
                        for op in d.options])
        return out

    def _block(self, s: int, later: bool, op: str) -> nn.Module:
        import torch

        from naslab.nn.init import materialize
        from naslab.nn.mobilenet import MBConv
        from naslab.spaces.mobilenet import block_op

        cfg = self._cfg()
        st = cfg.layout.stages[s]
        k, e = block_op(op) or (3, 1)
        c_out = cfg.stage_widths[s]
        c_in = c_out if later else cfg.stage_input(s)
        return materialize(lambda: MBConv(c_in, c_out, k, e, 1 if later else st.stride,
                                          act=st.act, se=st.se, divisor=cfg.divisor),
                           torch.Generator().manual_seed(0))

    def _skeleton(self, part: str) -> nn.Module:
        import numpy as np
        import torch

        from naslab.spaces.base import get_space

        sp = get_space(self.space)
        arch = sp.sample(np.random.default_rng(0))
        net: Any = build_mobilenet_network(arch, generator=torch.Generator().manual_seed(0),
                                           **self.network_protocol())
        if part == "stem":
            return net.stem
        if part == "first":
            return net.first_block
        from naslab.nn.mobilenet import Head

        return Head(net)
