"""The NAS-Bench-201 network ("TinyNetwork") built from an :class:`Architecture`.

Skeleton, as in Dong & Yang (ICLR 2020) and their reference code:

* stem: 3x3 conv (``in_channels`` -> ``C``, no bias) + BatchNorm;
* three stages of ``N`` cells with ``C``, ``2C`` and ``4C`` channels, separated by the residual
  reduction block (:class:`~naslab.nn.ops.ResNetBasicblock`, stride 2, channels doubled);
* final BatchNorm + ReLU, global average pooling, linear classifier.

Every cell edge is built, including edges whose output can never reach the cell output (an
edge reading a node that only receives ``none``, or a conv on an edge into a dead node): NB201
builds them too, so the parameter count matches the published tables. ``forward`` returns logits.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from naslab.errors import ConfigError, InvalidArchitectureError, check_int
from naslab.nn.ops import ResNetBasicblock, make_op
from naslab.spaces.base import Architecture
from naslab.spaces.nb201 import EDGES, N_OPS, OPS


def _check_arch(arch: Architecture | str) -> Architecture:
    if isinstance(arch, str):
        from naslab.spaces.base import get_space

        return get_space("nb201").parse(arch)
    if not isinstance(arch, Architecture):
        raise InvalidArchitectureError(
            f"NB201 network needs an nb201 Architecture or arch string, got {type(arch).__name__}")
    if arch.space != "nb201":
        raise InvalidArchitectureError(
            f"NB201 network needs an architecture of space 'nb201', got space {arch.space!r}")
    ch = arch.choices
    if len(ch) != len(EDGES) or not all(isinstance(c, int) and 0 <= c < N_OPS for c in ch):
        raise InvalidArchitectureError(
            f"NB201 choices must be {len(EDGES)} op indices in 0..{N_OPS - 1}, got {ch!r}")
    return arch


class NB201Cell(nn.Module):
    """One NB201 cell: node ``i`` = sum of ``op(j -> i)(node j)`` over ``j < i``; output node 3.

    ``edges[k]`` is the module of edge ``k`` in official order (1<-0, 2<-0, 2<-1, 3<-0, 3<-1,
    3<-2). Edges reading the cell input get ``C_in`` input channels and ``stride``; the others
    map ``C_out`` to ``C_out`` with stride 1 (NB201's ``InferCell``).
    """

    def __init__(self, arch: Architecture, C_in: int, C_out: int, stride: int = 1, *,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        arch = _check_arch(arch)
        self.arch = arch
        mods = []
        for (dst, src), op in zip(EDGES, arch.choices):
            cin, s = (C_in, stride) if src == 0 else (C_out, 1)
            mods.append(make_op(OPS[op], cin, C_out, s, affine=affine,
                                track_running_stats=track_running_stats))
        self.edges = nn.ModuleList(mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.edges
        n1 = e[0](x)
        n2 = e[1](x) + e[2](n1)
        out: torch.Tensor = e[3](x) + e[4](n1) + e[5](n2)
        return out


class NB201Network(nn.Module):
    """The NB201 network for ``arch`` (an nb201 :class:`Architecture` or its arch string).

    ``C`` (16 in NB201) and ``N`` (5) set the width and the cells per stage; ``num_classes``
    is 10 (CIFAR-10), 100 (CIFAR-100) or 120 (ImageNet16-120) in the benchmark.
    ``in_channels`` is the number of image channels (3 for RGB). Any spatial size divisible by
    4 works (two stride-2 reductions); the benchmark used 32x32 (CIFAR) and 16x16 (ImageNet16).
    """

    def __init__(self, arch: Architecture | str, *, C: int = 16, N: int = 5,
                 num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.arch = arch = _check_arch(arch)
        C = check_int("C", C, minimum=1)
        N = check_int("N", N, minimum=0)
        num_classes = check_int("num_classes", num_classes, minimum=1)
        in_channels = check_int("in_channels", in_channels, minimum=1)
        self.C, self.N, self.num_classes, self.in_channels = C, N, num_classes, in_channels
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(C))
        cells: list[nn.Module] = []
        c_prev = C
        for stage, c in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                cells.append(ResNetBasicblock(c_prev, c, 2))
            for _ in range(N):
                cells.append(NB201Cell(arch, c, c, 1))
            c_prev = c
        self.cells = nn.Sequential(*cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ConfigError(
                f"NB201Network input must be a (batch, {self.in_channels}, H, W) tensor, "
                f"got shape {tuple(x.shape)}")
        out = self.lastact(self.cells(self.stem(x)))
        out = self.global_pooling(out).flatten(1)
        logits: torch.Tensor = self.classifier(out)
        return logits

    def extra_repr(self) -> str:
        return f"arch={self.arch!s}, C={self.C}, N={self.N}, num_classes={self.num_classes}"


def build_nb201(arch: Architecture | str, **kw: Any) -> NB201Network:
    """``NB201Network(arch, **kw)``: keyword arguments C, N, num_classes, in_channels."""
    return NB201Network(arch, **kw)
