"""Cell operations of NAS-Bench-201 (and the DARTS-style ops that share them).

Each op maps ``(C_in, C_out, stride)`` to a module, built exactly as NB201's ``OPS`` table
builds it (Dong & Yang, ICLR 2020): convolutions are ReLU -> Conv (no bias) -> BatchNorm;
average pooling is 3x3 with ``count_include_pad=False`` (preceded by a 1x1 ReLU-Conv-BN when the
channel count changes); ``skip_connect`` is the identity, or a factorized reduction when the
stride or the channel count changes; ``none`` outputs zeros of the right shape.

The residual reduction block between NB201 stages is :class:`ResNetBasicblock`.
Weight-sharing supernets reuse :data:`OPS` and :func:`make_op`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from naslab.errors import ConfigError, did_you_mean


class ReLUConvBN(nn.Module):
    """ReLU -> Conv2d (bias only without affine BN) -> BatchNorm2d."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 dilation: int = 1, *, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding,
                      dilation=dilation, bias=not affine),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Identity(nn.Module):
    """``skip_connect`` with equal shapes: returns its input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Zero(nn.Module):
    """``none``: zeros shaped like the op's output (strided / re-channelled as needed)."""

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.C_in == self.C_out:
            if self.stride == 1:
                return x.mul(0.0)
            return x[:, :, ::self.stride, ::self.stride].mul(0.0)
        shape = list(x.shape)
        shape[1] = self.C_out
        shape[2] = (shape[2] + self.stride - 1) // self.stride
        shape[3] = (shape[3] + self.stride - 1) // self.stride
        return x.new_zeros(shape)

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


class FactorizedReduce(nn.Module):
    """``skip_connect`` that changes the stride or the channel count (as NB201 builds it)."""

    def __init__(self, C_in: int, C_out: int, stride: int, *, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.stride = stride
        self.relu = nn.ReLU(inplace=False)
        if stride == 2:
            half = C_out // 2
            self.convs = nn.ModuleList([
                nn.Conv2d(C_in, half, 1, stride=2, padding=0, bias=not affine),
                nn.Conv2d(C_in, C_out - half, 1, stride=2, padding=0, bias=not affine)])
            self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0.0)
        elif stride == 1:
            self.conv = nn.Conv2d(C_in, C_out, 1, stride=1, padding=0, bias=not affine)
        else:
            raise ConfigError(f"FactorizedReduce stride must be 1 or 2, got {stride!r}")
        self.bn = nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 2:
            x = self.relu(x)
            y = self.pad(x)
            out = torch.cat([self.convs[0](x), self.convs[1](y[:, :, 1:, 1:])], dim=1)
        else:
            out = self.conv(x)
        return self.bn(out)


class Pooling(nn.Module):
    """3x3 average (or max) pooling; a 1x1 ReLU-Conv-BN first when the channel count changes."""

    def __init__(self, C_in: int, C_out: int, stride: int, mode: str = "avg", *,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.preprocess = (None if C_in == C_out else
                           ReLUConvBN(C_in, C_out, 1, 1, 0, 1, affine=affine,
                                      track_running_stats=track_running_stats))
        if mode == "avg":
            self.op: nn.Module = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
        elif mode == "max":
            self.op = nn.MaxPool2d(3, stride=stride, padding=1)
        else:
            raise ConfigError(f"pooling mode must be 'avg' or 'max', got {mode!r}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.op(x)


class ResNetBasicblock(nn.Module):
    """NB201's residual reduction block between stages.

    ``conv_a`` = 3x3 ReLU-Conv-BN with ``stride``, ``conv_b`` = 3x3 ReLU-Conv-BN; the shortcut
    is 2x2 average pooling (stride 2) followed by a 1x1 conv without BN when ``stride == 2``,
    a 1x1 ReLU-Conv-BN when only the channel count changes, else the identity.
    """

    def __init__(self, C_in: int, C_out: int, stride: int, *, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ConfigError(f"ResNetBasicblock stride must be 1 or 2, got {stride!r}")
        kw = {"affine": affine, "track_running_stats": track_running_stats}
        self.conv_a = ReLUConvBN(C_in, C_out, 3, stride, 1, 1, **kw)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1, 1, **kw)
        self.downsample: nn.Module | None
        if stride == 2:
            self.downsample = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(C_in, C_out, 1, stride=1, padding=0, bias=False))
        elif C_in != C_out:
            self.downsample = ReLUConvBN(C_in, C_out, 1, 1, 0, 1, **kw)
        else:
            self.downsample = None
        self.C_in, self.C_out, self.stride = C_in, C_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_b(self.conv_a(x))
        residual = x if self.downsample is None else self.downsample(x)
        return residual + out


OpFactory = Callable[..., nn.Module]


def _skip(C_in: int, C_out: int, stride: int, affine: bool, track: bool) -> nn.Module:
    if stride == 1 and C_in == C_out:
        return Identity()
    return FactorizedReduce(C_in, C_out, stride, affine=affine, track_running_stats=track)


#: op name -> factory(C_in, C_out, stride, affine, track_running_stats), as NB201's OPS table
OPS: dict[str, OpFactory] = {
    "none": lambda C_in, C_out, stride, affine, track: Zero(C_in, C_out, stride),
    "skip_connect": _skip,
    "nor_conv_1x1": lambda C_in, C_out, stride, affine, track: ReLUConvBN(
        C_in, C_out, 1, stride, 0, 1, affine=affine, track_running_stats=track),
    "nor_conv_3x3": lambda C_in, C_out, stride, affine, track: ReLUConvBN(
        C_in, C_out, 3, stride, 1, 1, affine=affine, track_running_stats=track),
    "avg_pool_3x3": lambda C_in, C_out, stride, affine, track: Pooling(
        C_in, C_out, stride, "avg", affine=affine, track_running_stats=track),
    "max_pool_3x3": lambda C_in, C_out, stride, affine, track: Pooling(
        C_in, C_out, stride, "max", affine=affine, track_running_stats=track),
    "nor_conv_5x5": lambda C_in, C_out, stride, affine, track: ReLUConvBN(
        C_in, C_out, 5, stride, 2, 1, affine=affine, track_running_stats=track),
    "nor_conv_7x7": lambda C_in, C_out, stride, affine, track: ReLUConvBN(
        C_in, C_out, 7, stride, 3, 1, affine=affine, track_running_stats=track),
}


def make_op(name: str, C_in: int, C_out: int, stride: int = 1, *, affine: bool = True,
            track_running_stats: bool = True) -> nn.Module:
    """Build op ``name`` (see :data:`OPS`); unknown names raise ConfigError with suggestions."""
    try:
        factory = OPS[name]
    except KeyError:
        raise ConfigError(f"unknown operation {name!r}{did_you_mean(name, OPS)}; "
                          f"operations are {', '.join(OPS)}") from None
    return factory(C_in, C_out, stride, affine, track_running_stats)
