"""The DARTS evaluation network (Liu, Simonyan & Yang, ICLR 2019) for architectures of the
``darts`` space (imports torch).

:class:`DartsNetwork` is the DARTS code's ``NetworkCIFAR``: a 3x3 conv stem (``3 C`` channels,
BN), ``layers`` cells with reduction cells at ``layers // 3`` and ``2 * layers // 3`` (channels
doubled there), global average pooling and a linear classifier. Each :class:`DartsCell`
preprocesses its two inputs to ``C`` channels (a factorized reduction for the first input after
a reduction cell, else a 1x1 ReLU-Conv-BN), applies the genotype's 8 ops (stride 2 on the edges
that read a reduction cell's inputs) and concatenates its four nodes. Optional: the auxiliary
head of DARTS (on the output of cell ``2 * layers // 3``, trained only) and drop-path on every
op that is not an identity (per sample, ``drop_path_prob``, drawn from a ``torch.Generator``).

Ops (:data:`DARTS_OPS`) as in the DARTS code's ``operations.py``: separable convs are applied
twice (ReLU, depthwise, pointwise, BN), dilated convs once with dilation 2, pools are 3x3 with
padding 1 (average without the padding), ``skip_connect`` with stride 2 is a factorized
reduction; no conv has a bias.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from naslab.errors import ConfigError
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.darts import DartsSpace


class ReLUConvBN(nn.Module):
    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(C_out, affine=affine))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DilConv(nn.Module):
    """ReLU, depthwise conv with dilation, pointwise conv, BN."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 dilation: int, affine: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding,
                      dilation=dilation, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class SepConv(nn.Module):
    """Two rounds of ReLU, depthwise conv, pointwise conv, BN (the first with the stride)."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding, groups=C_in,
                      bias=False),
            nn.Conv2d(C_in, C_in, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=1, padding=padding, groups=C_in,
                      bias=False),
            nn.Conv2d(C_in, C_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Zero(nn.Module):
    """``none`` (supernets only): zeros with the op's stride."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, ::self.stride, ::self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """Halve the resolution: two 1x1 stride-2 convs, the second shifted by one pixel, concatenated."""

    def __init__(self, C_in: int, C_out: int, affine: bool = True) -> None:
        super().__init__()
        if C_out % 2:
            raise ConfigError(f"FactorizedReduce needs an even channel count, got {C_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


OpFactory = Callable[[int, int, bool], nn.Module]

#: op name -> factory(C, stride, affine), as the DARTS code's OPS
DARTS_OPS: dict[str, OpFactory] = {
    "none": lambda C, stride, affine: Zero(stride),
    "avg_pool_3x3": lambda C, stride, affine: nn.AvgPool2d(3, stride=stride, padding=1,
                                                           count_include_pad=False),
    "max_pool_3x3": lambda C, stride, affine: nn.MaxPool2d(3, stride=stride, padding=1),
    "skip_connect": lambda C, stride, affine: (Identity() if stride == 1
                                               else FactorizedReduce(C, C, affine=affine)),
    "sep_conv_3x3": lambda C, stride, affine: SepConv(C, C, 3, stride, 1, affine=affine),
    "sep_conv_5x5": lambda C, stride, affine: SepConv(C, C, 5, stride, 2, affine=affine),
    "dil_conv_3x3": lambda C, stride, affine: DilConv(C, C, 3, stride, 2, 2, affine=affine),
    "dil_conv_5x5": lambda C, stride, affine: DilConv(C, C, 5, stride, 4, 2, affine=affine),
}


class DropPath(nn.Module):
    """Per-sample drop-path (DARTS's ``drop_path``): in training with ``prob > 0`` each sample's
    op output is zeroed with probability ``prob`` and the rest scaled by ``1 / (1 - prob)``;
    the mask is drawn from the network's generator."""

    def __init__(self, owner: DartsNetwork) -> None:
        super().__init__()
        self._owner = [owner]   # a list: not a submodule

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net = self._owner[0]
        p = net.drop_path_prob
        if not self.training or p <= 0.0:
            return x
        keep = 1.0 - p
        mask = torch.empty((x.size(0), 1, 1, 1), dtype=x.dtype)
        mask.bernoulli_(keep, generator=net.drop_path_generator)
        return x / keep * mask.to(x.device)


class DartsCell(nn.Module):
    """One cell of :class:`DartsNetwork` (inputs ``s0`` = cell k-2, ``s1`` = cell k-1)."""

    def __init__(self, pairs: Sequence[tuple[str, int]], concat: Sequence[int], C_prev_prev: int,
                 C_prev: int, C: int, reduction: bool, reduction_prev: bool,
                 drop: Callable[[], nn.Module], affine: bool = True,
                 preprocess_affine: bool = True) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0: nn.Module = (
            FactorizedReduce(C_prev_prev, C, affine=preprocess_affine) if reduction_prev
            else ReLUConvBN(C_prev_prev, C, 1, 1, 0, affine=preprocess_affine))
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0, affine=preprocess_affine)
        self._indices = [i for _, i in pairs]
        self._concat = list(concat)
        self.multiplier = len(self._concat)
        self._ops = nn.ModuleList()
        self._drops = nn.ModuleList()
        for name, index in pairs:
            stride = 2 if reduction and index < 2 else 1
            op = DARTS_OPS[name](C, stride, affine)
            self._ops.append(op)
            self._drops.append(Identity() if isinstance(op, Identity) else drop())

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for n in range(len(self._ops) // 2):
            h = []
            for p in (2 * n, 2 * n + 1):
                h.append(self._drops[p](self._ops[p](states[self._indices[p]])))
            states.append(h[0] + h[1])
        return torch.cat([states[i] for i in self._concat], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    """DARTS's auxiliary classifier (for an 8x8 input: 32x32 images after two reductions)."""

    def __init__(self, C: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=False))
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(x.flatten(1))


class DartsNetwork(nn.Module):
    """DARTS's ``NetworkCIFAR`` for a ``darts`` architecture.

    ``forward(x)`` returns the logits. With ``auxiliary=True`` the auxiliary head runs in
    training mode and leaves its logits in ``self.logits_aux`` (None otherwise; DARTS adds
    ``auxiliary_weight`` (0.4) times its loss); :meth:`forward_aux` returns both.
    ``drop_path_prob`` (an attribute, DARTS raises it linearly over training) and
    ``drop_path_generator`` (a ``torch.Generator`` or None) control drop-path.
    """

    def __init__(self, arch: Architecture | str, *, C: int = 36, layers: int = 20,
                 auxiliary: bool = False, num_classes: int = 10, in_channels: int = 3,
                 stem_multiplier: int = 3, drop_path_prob: float = 0.0,
                 drop_path_generator: torch.Generator | None = None, affine: bool = True,
                 preprocess_affine: bool = True) -> None:
        super().__init__()
        space = get_space("darts")
        assert isinstance(space, DartsSpace)
        if isinstance(arch, str):
            arch = space.parse(arch)
        geno = space.genotype(arch)
        for name, v, lo in (("C", C, 2), ("layers", layers, 3), ("num_classes", num_classes, 1),
                            ("in_channels", in_channels, 1), ("stem_multiplier", stem_multiplier, 1)):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ConfigError(f"DARTS network {name} must be an integer >= {lo}, got {v!r}")
        if C % 2:
            raise ConfigError(f"DARTS network C must be even (factorized reductions halve it), got {C}")
        self.arch = arch
        self._layers = layers
        self._auxiliary = bool(auxiliary)
        self.drop_path_prob = float(drop_path_prob)
        self.drop_path_generator = drop_path_generator
        C_curr = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C_curr, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(C_curr))
        C_prev_prev, C_prev, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        C_aux = C_prev
        self.reductions = (layers // 3, 2 * layers // 3)
        for i in range(layers):
            reduction = i in self.reductions
            if reduction:
                C_curr *= 2
            pairs, concat = ((geno.reduce, geno.reduce_concat) if reduction
                             else (geno.normal, geno.normal_concat))
            cell = DartsCell(pairs, concat, C_prev_prev, C_prev, C_curr, reduction,
                             reduction_prev, lambda: DropPath(self), affine=affine,
                             preprocess_affine=preprocess_affine)
            reduction_prev = reduction
            self.cells.append(cell)
            C_prev_prev, C_prev = C_prev, cell.multiplier * C_curr
            if i == 2 * layers // 3:
                C_aux = C_prev
        self.auxiliary_head = AuxiliaryHeadCIFAR(C_aux, num_classes) if auxiliary else None
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)
        self.logits_aux: torch.Tensor | None = None

    def forward_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(logits, auxiliary logits or None) - the DARTS code's ``forward``."""
        aux = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1)
            if i == 2 * self._layers // 3 and self.auxiliary_head is not None and self.training:
                aux = self.auxiliary_head(s1)
        out = self.global_pooling(s1)
        return self.classifier(out.flatten(1)), aux

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits, self.logits_aux = self.forward_aux(x)
        return logits
