"""MobileNet-style networks of the block space (:mod:`naslab.spaces.mobilenet`); imports torch.

:class:`MBConv` is OFA's inverted-residual block: 1x1 "inverted bottleneck" conv (``C_in ->
mid``, BN, activation; absent at expansion 1), ``k x k`` depthwise conv (stride, BN,
activation), optional squeeze-excite (global pool, 1x1 conv to ``mid // 4`` with bias, ReLU,
1x1 conv back with bias, h-sigmoid, channel-wise scale), 1x1 "point linear" conv (``mid ->
C_out``, BN, no activation); a residual connection when stride is 1 and ``C_in == C_out``.
``mid = make_divisible(C_in * expansion, divisor)``, the SE's ``make_divisible(mid // 4,
divisor)``; convs have no bias (BN follows).

:class:`MobileNetNetwork` is OFA MobileNetV3 (``ofa_mbv3``): stem (3x3 conv, ``stem_stride``,
BN, h-swish; stride 1 by default, for the small images naslab trains on -- OFA's ImageNet
networks use 2, as CIFAR variants of these networks drop it), the fixed first block (MBConv k3 e1, ReLU), the arch's stages, final expand
(1x1 conv to 960, BN, h-swish), global average pooling, feature mix (1x1 conv to 1280, no BN,
h-swish) and the linear classifier. Every channel count is ``make_divisible(width *
width_mult * C / 16, divisor)`` (OFA keeps the feature mix at 1280 for multipliers <= 1; we scale it
too, so that small CPU networks stay small). No dropout.

:func:`mobilenet_counts` gives the exact parameter and MAC counts in closed form (the units of
:func:`naslab.nn.counting.count_params` / ``count_flops``: millions; convs and linear layers,
a multiply-accumulate = one FLOP; BN, activations, SE's scaling and pooling count zero).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from naslab.errors import ConfigError, InvalidArchitectureError, check_int
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.mobilenet import BlockLayout, MobileNetSpace, make_layout

__all__ = ["make_divisible", "MBConv", "SqueezeExcite", "MobileNetNetwork", "mobilenet_counts",
           "NetConfig", "net_config", "BUILDER_OPTIONS"]

BUILDER_OPTIONS = ("num_classes", "in_channels", "C", "N", "width_mult", "se", "stem_stride",
                   "divisor")


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """MobileNet's channel rounding: the nearest multiple of ``divisor`` (at least
    ``min_value``, default ``divisor``), never more than 10 % below ``v``."""
    m = divisor if min_value is None else min_value
    new = max(m, int(v + divisor / 2) // divisor * divisor)
    if new < 0.9 * v:
        new += divisor
    return new


def act_layer(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "h_swish":
        return nn.Hardswish(inplace=True)
    raise ConfigError(f"activation must be 'relu' or 'h_swish', got {name!r}")


class SqueezeExcite(nn.Module):
    """OFA's SE: pool, reduce (1x1 conv + bias, ReLU), expand (1x1 conv + bias), h-sigmoid."""

    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1, bias=True)
        self.relu = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(reduced, channels, 1, bias=True)
        self.gate = nn.Hardsigmoid(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.mean((2, 3), keepdim=True)
        y = self.gate(self.expand(self.relu(self.reduce(y))))
        return x * y


class MBConv(nn.Module):
    """An inverted-residual block (see the module docstring)."""

    def __init__(self, C_in: int, C_out: int, kernel: int, expansion: float, stride: int, *,
                 act: str = "relu", se: bool = False, divisor: int = 8,
                 mid: int | None = None) -> None:
        super().__init__()
        self.C_in, self.C_out, self.kernel, self.stride = C_in, C_out, kernel, stride
        self.expansion = expansion
        mid = make_divisible(C_in * expansion, divisor) if mid is None else mid
        self.mid = mid
        if expansion == 1 and mid == C_in:
            self.inverted_bottleneck: nn.Sequential | None = None
        else:
            self.inverted_bottleneck = nn.Sequential(
                nn.Conv2d(C_in, mid, 1, bias=False), nn.BatchNorm2d(mid), act_layer(act))
        self.depth_conv = nn.Sequential(
            nn.Conv2d(mid, mid, kernel, stride=stride, padding=kernel // 2, groups=mid,
                      bias=False),
            nn.BatchNorm2d(mid), act_layer(act))
        self.se = SqueezeExcite(mid, make_divisible(mid // 4, divisor)) if se else None
        self.point_linear = nn.Sequential(nn.Conv2d(mid, C_out, 1, bias=False),
                                          nn.BatchNorm2d(C_out))
        self.residual = stride == 1 and C_in == C_out

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        if self.inverted_bottleneck is not None:
            x = self.inverted_bottleneck(x)
        x = self.depth_conv(x)
        if self.se is not None:
            x = self.se(x)
        out: torch.Tensor = self.point_linear(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branch(x)
        return x + out if self.residual else out

    def extra_repr(self) -> str:
        return (f"C_in={self.C_in}, C_out={self.C_out}, k={self.kernel}, e={self.expansion}, "
                f"mid={self.mid}, stride={self.stride}, residual={self.residual}")


@dataclass(frozen=True)
class NetConfig:
    """Resolved channel counts and options of a MobileNet network (no arch)."""

    layout: BlockLayout
    num_classes: int
    in_channels: int
    stem_stride: int
    divisor: int
    C: int = 16

    @property
    def scale(self) -> float:
        """The channel multiplier: the space's ``width_mult`` times ``C / 16``."""
        return self.layout.width_mult * self.C / 16

    def ch(self, width: int) -> int:
        return make_divisible(width * self.scale, self.divisor)

    @property
    def stem(self) -> int:
        return self.ch(self.layout.stem_width)

    @property
    def first(self) -> int:
        return self.ch(self.layout.first_block_width)

    @property
    def stage_widths(self) -> list[int]:
        return [self.ch(s.width) for s in self.layout.stages]

    @property
    def final_expand(self) -> int:
        return self.ch(self.layout.final_expand_width)

    @property
    def feature_mix(self) -> int:
        return self.ch(self.layout.feature_mix_width)

    def stage_input(self, s: int) -> int:
        return self.first if s == 0 else self.stage_widths[s - 1]

    def to_json(self) -> dict[str, Any]:
        return {"layout": self.layout.to_json(), "num_classes": self.num_classes,
                "in_channels": self.in_channels, "stem_stride": self.stem_stride,
                "divisor": self.divisor, "C": self.C}


def net_config(space: str | MobileNetSpace = "mobilenet", *, num_classes: int = 10,
               in_channels: int = 3, C: int = 16, N: int | None = None,
               width_mult: float | None = None, se: str | Sequence[bool] | None = None,
               stem_stride: int = 1, divisor: int = 8) -> NetConfig:
    """The network configuration of ``space`` (its ``se`` / ``width_mult`` unless given).

    ``C`` is the stem width (OFA's is 16): every channel count scales by ``C / 16``, so a
    training protocol's ``C`` sets the width as it does for the cell spaces. ``N`` is
    accepted and unused (the depth is part of the arch), so that protocol-driven callers
    (the training estimator passes ``C`` and ``N`` to every builder) build this space too."""
    sp = get_space(space) if isinstance(space, str) else space
    if not isinstance(sp, MobileNetSpace):
        raise ConfigError(f"a MobileNet network needs a MobileNet block space, got {sp.name!r}")
    layout = sp.layout
    if width_mult is not None or se is not None:
        layout = make_layout(sp.se if se is None else se,
                             sp.width_mult if width_mult is None else width_mult)
    stride = check_int("stem_stride", stem_stride, minimum=1, maximum=2)
    if N is not None:
        check_int("N", N, minimum=0)
    return NetConfig(layout, check_int("num_classes", num_classes, minimum=1),
                     check_int("in_channels", in_channels, minimum=1), stride,
                     check_int("divisor", divisor, minimum=1), check_int("C", C, minimum=1))


def _check_arch(arch: Architecture | str, space: str = "mobilenet") -> tuple[Architecture,
                                                                             MobileNetSpace]:
    sp = get_space(arch.space if isinstance(arch, Architecture) else space)
    if not isinstance(sp, MobileNetSpace):
        raise InvalidArchitectureError(
            f"a MobileNet network needs an architecture of a MobileNet block space, got space "
            f"{sp.name!r}")
    if isinstance(arch, str):
        return sp.parse(arch), sp
    if not isinstance(arch, Architecture):
        raise InvalidArchitectureError(
            f"MobileNet network needs an Architecture or arch string, got {type(arch).__name__}")
    return sp.validate(arch), sp


class MobileNetNetwork(nn.Module):
    """The stand-alone network of a block-space architecture (see the module docstring)."""

    def __init__(self, arch: Architecture | str, *, num_classes: int = 10, in_channels: int = 3,
                 C: int = 16, N: int | None = None, width_mult: float | None = None,
                 se: str | Sequence[bool] | None = None, stem_stride: int = 1,
                 divisor: int = 8) -> None:
        super().__init__()
        self.arch, sp = _check_arch(arch)
        cfg = net_config(sp, num_classes=num_classes, in_channels=in_channels, C=C, N=N,
                         width_mult=width_mult, se=se, stem_stride=stem_stride, divisor=divisor)
        self.cfg = cfg
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, cfg.stem, 3, stride=stem_stride, padding=1, bias=False),
            nn.BatchNorm2d(cfg.stem), nn.Hardswish(inplace=True))
        self.first_block = MBConv(cfg.stem, cfg.first, 3, 1, 1, act="relu", se=False,
                                  divisor=divisor, mid=cfg.stem)
        stages = []
        for s, (st, blocks) in enumerate(zip(cfg.layout.stages, sp.blocks(self.arch))):
            c_in = cfg.stage_input(s)
            c_out = cfg.stage_widths[s]
            mods = []
            for b, (k, e) in enumerate(blocks):
                mods.append(MBConv(c_in if b == 0 else c_out, c_out, k, e,
                                   st.stride if b == 0 else 1, act=st.act, se=st.se,
                                   divisor=divisor))
            stages.append(nn.Sequential(*mods))
        self.stages = nn.ModuleList(stages)
        self.final_expand = nn.Sequential(
            nn.Conv2d(cfg.stage_widths[-1], cfg.final_expand, 1, bias=False),
            nn.BatchNorm2d(cfg.final_expand), nn.Hardswish(inplace=True))
        self.feature_mix = nn.Sequential(nn.Conv2d(cfg.final_expand, cfg.feature_mix, 1,
                                                   bias=False), nn.Hardswish(inplace=True))
        self.classifier = nn.Linear(cfg.feature_mix, num_classes)

    def head(self, x: torch.Tensor) -> torch.Tensor:
        x = self.final_expand(x)
        x = self.feature_mix(x.mean((2, 3), keepdim=True))
        out: torch.Tensor = self.classifier(x.flatten(1))
        return out

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Stem, first block and stages (the input of :meth:`head`)."""
        x = self.first_block(self.stem(x))
        for st in self.stages:
            x = st(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.cfg.in_channels:
            raise ConfigError(f"MobileNetNetwork input must be a (batch, {self.cfg.in_channels}, "
                              f"H, W) tensor, got shape {tuple(x.shape)}")
        return self.head(self.features(x))

    def extra_repr(self) -> str:
        return f"arch={self.arch!s}"


class Head(nn.Module):
    """A network's head (final expand, pooling, feature mix, classifier) as one module (the
    latency model's ``head`` kernel)."""

    def __init__(self, net: MobileNetNetwork) -> None:
        super().__init__()
        self.final_expand, self.feature_mix = net.final_expand, net.feature_mix
        self.classifier = net.classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.final_expand(x)
        x = self.feature_mix(x.mean((2, 3), keepdim=True))
        out: torch.Tensor = self.classifier(x.flatten(1))
        return out


# --- closed-form counts --------------------------------------------------------------------
def _out(h: int, stride: int) -> int:
    return math.ceil(h / stride)


def _mbconv_counts(c_in: int, c_out: int, k: int, e: float, stride: int, se: bool,
                   divisor: int, h: int, w: int, mid: int | None = None) -> tuple[int, int, int, int]:
    """(params, MACs, out_h, out_w) of one MBConv at input ``h x w``."""
    mid = make_divisible(c_in * e, divisor) if mid is None else mid
    params = macs = 0
    if not (e == 1 and mid == c_in):
        params += c_in * mid + 2 * mid
        macs += h * w * c_in * mid
    oh, ow = _out(h, stride), _out(w, stride)
    params += k * k * mid + 2 * mid
    macs += oh * ow * k * k * mid
    if se:
        r = make_divisible(mid // 4, divisor)
        params += mid * r + r + r * mid + mid
        macs += mid * r + r + r * mid + mid
    params += mid * c_out + 2 * c_out
    macs += oh * ow * mid * c_out
    return params, macs, oh, ow


def mobilenet_counts(arch: Architecture | str, *, image_size: int | Sequence[int] = 32,
                     **options: Any) -> dict[str, float]:
    """Exact ``params_m`` (trainable parameters, millions) and ``flops_m`` (MACs of one
    image, millions) of ``arch``'s network, without building it. ``options``: the builder's
    (:data:`BUILDER_OPTIONS`)."""
    a, sp = _check_arch(arch)
    bad = [k for k in options if k not in BUILDER_OPTIONS]
    if bad:
        raise ConfigError(f"mobilenet_counts has no option(s) {', '.join(bad)}; options: "
                          f"{', '.join(BUILDER_OPTIONS)}")
    cfg = net_config(sp, **options)
    h, w = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    d = cfg.divisor
    h, w = _out(h, cfg.stem_stride), _out(w, cfg.stem_stride)
    params = 9 * cfg.in_channels * cfg.stem + 2 * cfg.stem
    macs = h * w * 9 * cfg.in_channels * cfg.stem
    p, m, h, w = _mbconv_counts(cfg.stem, cfg.first, 3, 1, 1, False, d, h, w, mid=cfg.stem)
    params, macs = params + p, macs + m
    for s, (st, blocks) in enumerate(zip(cfg.layout.stages, sp.blocks(a))):
        c_out = cfg.stage_widths[s]
        for b, (k, e) in enumerate(blocks):
            p, m, h, w = _mbconv_counts(cfg.stage_input(s) if b == 0 else c_out, c_out, k, e,
                                        st.stride if b == 0 else 1, st.se, d, h, w)
            params, macs = params + p, macs + m
    c = cfg.stage_widths[-1]
    params += c * cfg.final_expand + 2 * cfg.final_expand
    macs += h * w * c * cfg.final_expand
    params += cfg.final_expand * cfg.feature_mix
    macs += cfg.final_expand * cfg.feature_mix
    params += cfg.feature_mix * cfg.num_classes + cfg.num_classes
    macs += cfg.feature_mix * cfg.num_classes + cfg.num_classes
    return {"params_m": params / 1e6, "flops_m": macs / 1e6}
