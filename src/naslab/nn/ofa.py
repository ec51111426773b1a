"""Once-for-All's elastic supernet of the MobileNet block space (imports torch).

:class:`ElasticMobileNet` holds, at every block slot, one :class:`DynamicMBConv` of the
largest size (kernel 7, expansion 6) whose weights every sub-network shares (Cai et al., ICLR
2020):

* **elastic kernel** -- a kernel ``k < 7`` is the centre ``k x k`` of the larger kernel, put
  through a learned *kernel transform matrix* shared by the layer's channels: 7 -> 5 by a
  ``25 x 25`` matrix on the centre 5x5, 5 -> 3 by a ``9 x 9`` matrix on the centre 3x3 of the
  transformed 5x5 (initialised to the identity: plain centre cropping);
* **elastic expansion** -- a block of expansion ``e`` uses the first
  ``make_divisible(C_in * e)`` middle channels (and the first ``make_divisible(mid // 4)``
  of its squeeze-excite); :meth:`ElasticMobileNet.sort_channels` reorders every block's
  middle channels by importance (L1 norm of the point-linear weights reading them; SE's
  reduced channels by the L1 norm of the expand weights) so that the first channels are the
  important ones -- a permutation, so the largest network computes the same function;
* **elastic depth** -- a stage of depth ``d`` runs its first ``d`` blocks.

BN layers are shared too: a block uses the first channels' affine parameters and running
statistics (OFA's dynamic BN). :meth:`ElasticMobileNet.extract` slices the weights (kernel
transforms applied) into the stand-alone :class:`~naslab.nn.mobilenet.MobileNetNetwork` of
an arch, which then computes exactly what the supernet computes for that arch; recalibrate
its BN statistics (:func:`naslab.nn.block_supernet.recalibrate_bn`) before evaluating it,
as OFA does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from naslab.errors import ConfigError
from naslab.nn.mobilenet import MBConv, MobileNetNetwork, NetConfig, act_layer, make_divisible, net_config
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.mobilenet import EXPANSIONS, KERNELS, MAX_DEPTH, MobileNetSpace

__all__ = ["DynamicMBConv", "ElasticMobileNet", "center_crop"]

MAX_K, MAX_E = max(KERNELS), max(EXPANSIONS)


def center_crop(w: torch.Tensor, k: int) -> torch.Tensor:
    """The centre ``k x k`` of the last two dimensions of ``w``."""
    K = w.shape[-1]
    a = (K - k) // 2
    return w[..., a:a + k, a:a + k]


def _bn(x: torch.Tensor, bn: nn.BatchNorm2d, c: int) -> torch.Tensor:
    """OFA's dynamic BN: ``bn`` restricted to its first ``c`` channels."""
    assert bn.running_mean is not None and bn.running_var is not None
    mom = 0.0 if bn.momentum is None else bn.momentum
    if bn.training and bn.momentum is None and bn.num_batches_tracked is not None:
        bn.num_batches_tracked.add_(1)
        mom = 1.0 / float(bn.num_batches_tracked)
    return F.batch_norm(x, bn.running_mean[:c], bn.running_var[:c], bn.weight[:c], bn.bias[:c],
                        bn.training, mom, bn.eps)


class DynamicMBConv(nn.Module):
    """The largest MBConv of a slot (kernel 7, expansion 6) with elastic kernel and width."""

    def __init__(self, C_in: int, C_out: int, stride: int, *, act: str, se: bool,
                 divisor: int) -> None:
        super().__init__()
        self.C_in, self.C_out, self.stride, self.act_name = C_in, C_out, stride, act
        self.divisor, self.use_se = divisor, se
        mid = make_divisible(C_in * MAX_E, divisor)
        self.max_mid = mid
        self.ib_conv = nn.Conv2d(C_in, mid, 1, bias=False)
        self.ib_bn = nn.BatchNorm2d(mid)
        self.dw_conv = nn.Conv2d(mid, mid, MAX_K, stride=stride, padding=MAX_K // 2, groups=mid,
                                 bias=False)
        self.dw_bn = nn.BatchNorm2d(mid)
        # kernel transform matrices, 7 -> 5 and 5 -> 3 (identity: centre cropping)
        self.trans_7to5 = nn.Parameter(torch.eye(25))
        self.trans_5to3 = nn.Parameter(torch.eye(9))
        if se:
            r = make_divisible(mid // 4, divisor)
            self.se_reduce = nn.Conv2d(mid, r, 1, bias=True)
            self.se_expand = nn.Conv2d(r, mid, 1, bias=True)
        self.pl_conv = nn.Conv2d(mid, C_out, 1, bias=False)
        self.pl_bn = nn.BatchNorm2d(C_out)
        self.act = act_layer(act)
        self.residual = stride == 1 and C_in == C_out

    def reset_parameters_from(self, generator: torch.Generator | None) -> None:
        """The transform matrices start as identities (no randomness)."""
        with torch.no_grad():
            self.trans_7to5.copy_(torch.eye(25))
            self.trans_5to3.copy_(torch.eye(9))

    def mid(self, e: float) -> int:
        return make_divisible(self.C_in * e, self.divisor)

    def kernel_weight(self, k: int, mid: int) -> torch.Tensor:
        """The ``(mid, 1, k, k)`` depthwise kernel of kernel size ``k`` (OFA's transform)."""
        w = self.dw_conv.weight[:mid]
        if k == MAX_K:
            return w
        w5 = center_crop(w, 5).reshape(mid, 25) @ self.trans_7to5.t()
        w5 = w5.reshape(mid, 1, 5, 5)
        if k == 5:
            return w5
        if k != 3:
            raise ConfigError(f"elastic kernel must be one of {KERNELS}, got {k}")
        w3 = center_crop(w5, 3).reshape(mid, 9) @ self.trans_5to3.t()
        return w3.reshape(mid, 1, 3, 3)

    def forward(self, x: torch.Tensor, k: int = MAX_K, e: float = MAX_E) -> torch.Tensor:
        mid = self.mid(e)
        y = self.act(_bn(F.conv2d(x, self.ib_conv.weight[:mid]), self.ib_bn, mid))
        y = F.conv2d(y, self.kernel_weight(k, mid), stride=self.stride, padding=k // 2,
                     groups=mid)
        y = self.act(_bn(y, self.dw_bn, mid))
        if self.use_se:
            r = make_divisible(mid // 4, self.divisor)
            s = y.mean((2, 3), keepdim=True)
            s = F.relu(F.conv2d(s, self.se_reduce.weight[:r, :mid],
                                _req(self.se_reduce.bias)[:r]))
            s = F.hardsigmoid(F.conv2d(s, self.se_expand.weight[:mid, :r],
                                       _req(self.se_expand.bias)[:mid]))
            y = y * s
        y = _bn(F.conv2d(y, self.pl_conv.weight[:, :mid]), self.pl_bn, self.C_out)
        return x + y if self.residual else y

    @torch.no_grad()
    def extract(self, k: int, e: float) -> MBConv:
        """The stand-alone MBConv of kernel ``k`` and expansion ``e`` with sliced weights."""
        mid = self.mid(e)
        m = MBConv(self.C_in, self.C_out, k, e, self.stride, act=self.act_name, se=self.use_se,
                   divisor=self.divisor)
        assert m.mid == mid and m.inverted_bottleneck is not None
        _conv(m.inverted_bottleneck).weight.copy_(self.ib_conv.weight[:mid])
        _copy_bn(m.inverted_bottleneck[1], self.ib_bn, mid)
        _conv(m.depth_conv).weight.copy_(self.kernel_weight(k, mid))
        _copy_bn(m.depth_conv[1], self.dw_bn, mid)
        if m.se is not None:
            r = m.se.reduce.out_channels
            m.se.reduce.weight.copy_(self.se_reduce.weight[:r, :mid])
            _req(m.se.reduce.bias).copy_(_req(self.se_reduce.bias)[:r])
            m.se.expand.weight.copy_(self.se_expand.weight[:mid, :r])
            _req(m.se.expand.bias).copy_(_req(self.se_expand.bias)[:mid])
        _conv(m.point_linear).weight.copy_(self.pl_conv.weight[:, :mid])
        _copy_bn(m.point_linear[1], self.pl_bn, self.C_out)
        return m

    @torch.no_grad()
    def sort_channels(self) -> None:
        """Reorder the middle channels by importance (L1 norm of the point-linear weights
        reading them, largest first) and SE's reduced channels by the L1 norm of the expand
        weights reading them; the block's function is unchanged."""
        imp = self.pl_conv.weight.abs().sum((0, 2, 3))
        order = torch.argsort(imp, descending=True, stable=True)
        self.pl_conv.weight.copy_(self.pl_conv.weight[:, order])
        for conv in (self.ib_conv, self.dw_conv):
            conv.weight.copy_(conv.weight[order])
        for bn in (self.ib_bn, self.dw_bn):
            _permute_bn(bn, order)
        if self.use_se:
            self.se_expand.weight.copy_(self.se_expand.weight[order])
            eb = _req(self.se_expand.bias)
            eb.copy_(eb[order])
            self.se_reduce.weight.copy_(self.se_reduce.weight[:, order])
            r_imp = self.se_expand.weight.abs().sum((0, 2, 3))
            r_order = torch.argsort(r_imp, descending=True, stable=True)
            self.se_reduce.weight.copy_(self.se_reduce.weight[r_order])
            rb = _req(self.se_reduce.bias)
            rb.copy_(rb[r_order])
            self.se_expand.weight.copy_(self.se_expand.weight[:, r_order])


def _req(t: torch.Tensor | None) -> torch.Tensor:
    assert t is not None
    return t


def _conv(seq: nn.Module | None, i: int = 0) -> nn.Conv2d:
    assert isinstance(seq, nn.Sequential)
    return cast(nn.Conv2d, seq[i])


def _copy_bn(dst: nn.Module, src: nn.BatchNorm2d, c: int) -> None:
    assert isinstance(dst, nn.BatchNorm2d)
    assert src.running_mean is not None and src.running_var is not None
    assert dst.running_mean is not None and dst.running_var is not None
    dst.weight.copy_(src.weight[:c])
    dst.bias.copy_(src.bias[:c])
    dst.running_mean.copy_(src.running_mean[:c])
    dst.running_var.copy_(src.running_var[:c])
    if src.num_batches_tracked is not None and dst.num_batches_tracked is not None:
        dst.num_batches_tracked.copy_(src.num_batches_tracked)


def _permute_bn(bn: nn.BatchNorm2d, order: torch.Tensor) -> None:
    assert bn.running_mean is not None and bn.running_var is not None
    for t in (bn.weight, bn.bias, bn.running_mean, bn.running_var):
        t.copy_(t[order])


class ElasticMobileNet(nn.Module):
    """OFA's elastic supernet of a MobileNet block space (see the module docstring)."""

    def __init__(self, space: str | MobileNetSpace = "mobilenet", **options: Any) -> None:
        super().__init__()
        sp = get_space(space) if isinstance(space, str) else space
        if not isinstance(sp, MobileNetSpace):
            raise ConfigError(f"an elastic supernet needs a MobileNet block space, got {sp.name!r}")
        self.space = sp
        self.options = dict(options)
        cfg: NetConfig = net_config(sp, **options)
        self.cfg = cfg
        ref = MobileNetNetwork(self.largest(), **options)
        self.stem, self.first_block = ref.stem, ref.first_block
        self.final_expand, self.feature_mix = ref.final_expand, ref.feature_mix
        self.classifier = ref.classifier
        stages = []
        for s, st in enumerate(cfg.layout.stages):
            c_out = cfg.stage_widths[s]
            stages.append(nn.ModuleList(
                DynamicMBConv(cfg.stage_input(s) if b == 0 else c_out, c_out,
                              st.stride if b == 0 else 1, act=st.act, se=st.se,
                              divisor=cfg.divisor) for b in range(MAX_DEPTH)))
        self.stages = nn.ModuleList(stages)

    def largest(self) -> Architecture:
        return self.space.from_blocks([[(MAX_K, MAX_E)] * MAX_DEPTH] * self.space.n_stages)

    def config(self) -> dict[str, Any]:
        return {"space": self.space.name, "kind": "elastic", "options": dict(self.options)}

    def stage_blocks(self, s: int) -> list[DynamicMBConv]:
        """The dynamic blocks of stage ``s``."""
        return [cast(DynamicMBConv, m) for m in cast(nn.ModuleList, self.stages[s])]

    def forward(self, x: torch.Tensor, arch: Architecture | None = None) -> torch.Tensor:
        blocks = self.space.blocks(arch if arch is not None else self.largest())
        x = self.first_block(self.stem(x))
        for s, bl in enumerate(blocks):
            for mod, (k, e) in zip(self.stage_blocks(s), bl):
                x = mod(x, k, e)
        x = self.final_expand(x)
        x = self.feature_mix(x.mean((2, 3), keepdim=True))
        out: torch.Tensor = self.classifier(x.flatten(1))
        return out

    @torch.no_grad()
    def extract(self, arch: Architecture) -> MobileNetNetwork:
        """The stand-alone network of ``arch`` with the sliced (kernel-transformed) weights;
        computes what ``self(x, arch)`` computes (in eval mode; in train mode too, BN using
        batch statistics in both)."""
        net = MobileNetNetwork(arch, **self.options)
        for name in ("stem", "first_block", "final_expand", "feature_mix", "classifier"):
            getattr(net, name).load_state_dict(getattr(self, name).state_dict())
        for s, bl in enumerate(self.space.blocks(arch)):
            stage = cast(nn.Sequential, net.stages[s])
            for j, (mod, (k, e)) in enumerate(zip(self.stage_blocks(s), bl)):
                stage[j].load_state_dict(mod.extract(k, e).state_dict())
        return net

    def sort_channels(self) -> None:
        """:meth:`DynamicMBConv.sort_channels` of every block (before elastic expansion)."""
        for s in range(len(self.stages)):
            for mod in self.stage_blocks(s):
                mod.sort_channels()

    def path_modules(self, arch: Architecture) -> Sequence[nn.Module]:
        return [self]
