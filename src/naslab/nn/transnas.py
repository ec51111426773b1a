"""TransNAS-Bench-101's micro-space network for its classification tasks (imports torch).

:class:`TransNASMicroNetwork` follows TransNAS-Bench-101's ``MacroNet`` with the fixed skeleton
``64-41414`` and its feed-forward head: a stem (3x3 conv, stride 2, to C/2 channels + BN, then
a 3x3 ReLU-Conv-BN, stride 2, to C), five modules of ``N`` (TransNAS: 2) cells each - ``4`` = the first cell
halves the resolution and doubles the width, ``1`` = both kept - then global average pooling and
a linear classifier. A cell (:class:`TransNASCell`) is NB201's 4-node DAG whose edges from the
cell input carry the stride and the width change (``C_in -> C_out``), the other edges
``C_out -> C_out``; ops from :data:`naslab.nn.ops.OPS` (none, skip = identity or factorized
reduction, ReLU-Conv-BN 1x1 / 3x3). Differences from TransNAS's code: PyTorch's default
initialisation drawn from a generator (TransNAS re-initialises convs with Kaiming normal),
and only the classification head (jigsaw's siamese head and room layout's regression head
are not built: ``num_classes`` gives the width of the linear output).
"""

from __future__ import annotations

import torch
from torch import nn

from naslab.errors import ConfigError
from naslab.nn.ops import ReLUConvBN, make_op
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.transnas import EDGES, MACRO, OPS


class TransNASCell(nn.Module):
    """One micro cell: node i sums its edges from nodes 0..i-1; the output is node 3."""

    def __init__(self, choices: tuple[int, ...], C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList()
        self._src = []
        self._dst = []
        for (dst, src), op in zip(EDGES, choices):
            if src == 0:
                self.edges.append(make_op(OPS[op], C_in, C_out, stride))
            else:
                self.edges.append(make_op(OPS[op], C_out, C_out, 1))
            self._src.append(src)
            self._dst.append(dst)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for node in (1, 2, 3):
            terms = [self.edges[e](nodes[self._src[e]]) for e in range(len(self.edges))
                     if self._dst[e] == node]
            nodes.append(torch.stack(terms).sum(0))
        return nodes[3]


class TransNASMicroNetwork(nn.Module):
    """The ``64-41414-<cell>`` network (width ``C``, ``N`` cells per module) with a linear
    classifier."""

    def __init__(self, arch: Architecture | str, *, C: int = 64, N: int = 2,
                 num_classes: int = 100, in_channels: int = 3,
                 macro: str = MACRO.split("-")[1]) -> None:
        super().__init__()
        space = get_space("tnb101")
        a = space.parse(arch) if isinstance(arch, str) else space.validate(arch)
        for name, v in (("C", C), ("N", N), ("num_classes", num_classes),
                        ("in_channels", in_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"TransNAS network {name} must be a positive integer, got {v!r}")
        if C % 2:
            raise ConfigError(f"TransNAS network C must be even, got {C}")
        if not macro or any(c not in "1234" for c in macro):
            raise ConfigError(f"TransNAS macro code must be digits 1..4, got {macro!r}")
        self.arch = a
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, C // 2, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C // 2),
            ReLUConvBN(C // 2, C, 3, 2, 1, 1))
        layers: list[nn.Module] = []
        width = C
        for code in macro:
            t = int(code)        # 2, 4: double the width; 3, 4: halve the resolution
            out = width * 2 if t % 2 == 0 else width
            stride = 2 if t > 2 else 1
            layers.append(TransNASCell(a.choices, width, out, stride))
            layers += [TransNASCell(a.choices, out, out, 1) for _ in range(N - 1)]
            width = out
        self.cells = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.cells(self.stem(x))).flatten(1))
