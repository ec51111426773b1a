"""The NAS-Bench-101 network built from an :class:`Architecture` of space ``nb101``.

Skeleton, as in Ying et al. (ICML 2019) and NB101's ``model_builder``:

* stem: 3x3 conv-BN-ReLU, ``in_channels`` -> ``C`` (128 in NB101);
* ``num_stacks`` (3) stacks of ``N`` (3) cells; before every stack but the first a 2x2 max-pool
  with stride 2 halves the resolution and the channel count doubles (128, 256, 512);
* global average pooling and a dense layer (with bias) to ``num_classes``.

A cell is the *pruned* spec (NB101 trains the pruned cell: nodes on no input->output path are
not built). NB101's channel rule: the output node concatenates the interior nodes that feed it,
so their channels split the cell's output channels (``C_out // k`` each, the remainder given one
by one to the lowest-numbered of them); an interior node that does not feed the output takes
the largest channel count of its successors. An edge from the cell input to an interior node
is a 1x1 conv-BN-ReLU projection to that node's channels; an edge between interior nodes
truncates the source to the target's channels (its first channels); a node sums its inputs and
applies its op (3x3 / 1x1 conv-BN-ReLU, or a 3x3 max-pool with stride 1). An input->output edge
adds a 1x1 projection of the input to the concatenation (or is the whole cell when the cell has
no interior node). Convolutions have no bias; BatchNorm has NB101's momentum 0.997 (PyTorch
``momentum=0.003``) and epsilon 1e-5.

Trainable-parameter counts equal the ``trainable_parameters`` of NB101's records (all 30 of
``nb101/nb101_30_records.pkl``, tested).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from naslab.errors import ConfigError, InvalidArchitectureError, check_int
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.nb101 import OPS, NB101Space

#: NB101's batch-norm settings (TensorFlow momentum 0.997 = PyTorch momentum 0.003)
BN_MOMENTUM = 1.0 - 0.997
BN_EPS = 1e-5


def _space() -> NB101Space:
    sp = get_space("nb101")
    assert isinstance(sp, NB101Space)
    return sp


def _check_arch(arch: Architecture | str) -> Architecture:
    sp = _space()
    if isinstance(arch, str):
        return sp.parse(arch)
    if not isinstance(arch, Architecture):
        raise InvalidArchitectureError(
            f"NB101 network needs an nb101 Architecture or its notation, got {type(arch).__name__}")
    if arch.space != sp.name:
        raise InvalidArchitectureError(
            f"NB101 network needs an architecture of space 'nb101', got space {arch.space!r}")
    return sp.validate(arch)


class ConvBnRelu(nn.Sequential):
    """k x k convolution (no bias, 'same' padding) + BatchNorm + ReLU: NB101's conv op."""

    def __init__(self, c_in: int, c_out: int, k: int) -> None:
        super().__init__(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
                         nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM),
                         nn.ReLU(inplace=False))


def vertex_channels(c_in: int, c_out: int, matrix: list[list[int]]) -> list[int]:
    """NB101's channel count of every node of a pruned cell (input ``c_in``, output ``c_out``)."""
    n = len(matrix)
    ch = [0] * n
    ch[0], ch[n - 1] = c_in, c_out
    if n == 2:
        return ch
    feeds = [v for v in range(1, n - 1) if matrix[v][n - 1]]
    share, extra = divmod(c_out, len(feeds))
    for v in feeds:
        ch[v] = share + (1 if extra > 0 else 0)
        extra -= 1
    for v in range(n - 2, 0, -1):
        if not matrix[v][n - 1]:
            ch[v] = max(ch[w] for w in range(v + 1, n - 1) if matrix[v][w])
        if ch[v] <= 0:  # pragma: no cover - a pruned cell always gives channels
            raise ConfigError(f"NB101 cell {matrix} leaves node {v} without channels "
                              f"(output channels {c_out})")
    return ch


class NB101Cell(nn.Module):
    """One NB101 module (cell) of a pruned spec, ``c_in`` -> ``c_out`` channels."""

    def __init__(self, matrix: list[list[int]], ops: list[str], c_in: int, c_out: int) -> None:
        super().__init__()
        n = len(matrix)
        self.matrix = [list(map(int, row)) for row in matrix]
        self.n = n
        self.channels = vertex_channels(c_in, c_out, self.matrix)
        self.proj = nn.ModuleDict()
        self.ops = nn.ModuleList()
        for t in range(1, n - 1):
            c = self.channels[t]
            if self.matrix[0][t]:
                self.proj[str(t)] = ConvBnRelu(c_in, c, 1)
            op = ops[t]
            if op == OPS[0]:
                self.ops.append(ConvBnRelu(c, c, 3))
            elif op == OPS[1]:
                self.ops.append(ConvBnRelu(c, c, 1))
            elif op == OPS[2]:
                self.ops.append(nn.MaxPool2d(3, stride=1, padding=1))
            else:  # pragma: no cover - validated by the space
                raise InvalidArchitectureError(f"NB101 cell: unknown op {op!r}")
        self.out_proj = ConvBnRelu(c_in, c_out, 1) if self.matrix[0][n - 1] else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m, ch = self.n, self.matrix, self.channels
        states: list[torch.Tensor] = [x]
        for t in range(1, n - 1):
            parts = [states[s][:, : ch[t]] for s in range(1, t) if m[s][t]]
            if m[0][t]:
                parts.append(self.proj[str(t)](x))
            h = parts[0]
            for p in parts[1:]:
                h = h + p
            states.append(self.ops[t - 1](h))
        feeds = [states[t] for t in range(1, n - 1) if m[t][n - 1]]
        if not feeds:
            assert self.out_proj is not None
            out: torch.Tensor = self.out_proj(x)
            return out
        out = feeds[0] if len(feeds) == 1 else torch.cat(feeds, dim=1)
        if self.out_proj is not None:
            out = out + self.out_proj(x)
        return out


class NB101Network(nn.Module):
    """The NB101 network of ``arch`` (an nb101 :class:`Architecture` or its notation).

    ``C``: stem and first-stack channels (128 in NB101), doubled at every later stack; ``N``:
    cells per stack (3); ``num_stacks`` (3); ``num_classes`` 10 (CIFAR-10); ``in_channels`` 3.
    Any input size works (each stack after the first halves it, rounding up).
    """

    def __init__(self, arch: Architecture | str, *, C: int = 128, N: int = 3,
                 num_stacks: int = 3, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.arch = arch = _check_arch(arch)
        C = check_int("C", C, minimum=1)
        N = check_int("N", N, minimum=0)
        num_stacks = check_int("num_stacks", num_stacks, minimum=1)
        num_classes = check_int("num_classes", num_classes, minimum=1)
        in_channels = check_int("in_channels", in_channels, minimum=1)
        self.C, self.N, self.num_stacks = C, N, num_stacks
        self.num_classes, self.in_channels = num_classes, in_channels
        matrix, ops = _space().pruned_spec(arch)
        self.stem = ConvBnRelu(in_channels, C, 3)
        layers: list[nn.Module] = []
        c_prev, c = C, C
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
                c *= 2
            for _ in range(N):
                layers.append(NB101Cell(matrix, ops, c_prev, c))
                c_prev = c
        self.cells = nn.Sequential(*layers)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ConfigError(
                f"NB101Network input must be a (batch, {self.in_channels}, H, W) tensor, "
                f"got shape {tuple(x.shape)}")
        out = self.global_pooling(self.cells(self.stem(x))).flatten(1)
        logits: torch.Tensor = self.classifier(out)
        return logits

    def extra_repr(self) -> str:
        return (f"arch={self.arch!s}, C={self.C}, N={self.N}, num_stacks={self.num_stacks}, "
                f"num_classes={self.num_classes}")


def build_nb101(arch: Architecture | str, **kw: Any) -> NB101Network:
    """``NB101Network(arch, **kw)``: keyword arguments C, N, num_stacks, num_classes,
    in_channels."""
    return NB101Network(arch, **kw)
