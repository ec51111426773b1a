"""``fbnet``: FBNet's differentiable, latency-aware search with Gumbel-softmax (Wu et al., CVPR
2019); no torch at import.

Over the block space's ``mixed`` supernet (:mod:`naslab.oneshot._hardware_aware`): each slot
has sampling logits ``theta`` over its options (``skip`` where the slot may be absent, as
FBNet's skip op). Every step draws a Gumbel-softmax sample ``m = softmax((theta + G) / tau)``
per slot (``G`` Gumbel noise from the method's generator) and runs the relaxed network
``sum_k m[s, k] * op_k(x)`` at every slot (all options computed, as in the paper).

Each training step: the **weights** take an SGD step on a training batch under a fresh
sample (``theta`` held fixed; loss = cross-entropy); after ``warmup_epochs``, ``theta``
takes an Adam step (the paper's lr 0.01, weight decay 5e-4) on a validation batch under the
paper's loss

    ``L = CE * alpha * log(LAT) ** beta``, ``LAT = fixed + sum_s sum_k m[s, k] * lat[s, k]``

with the latencies from the LUT (``LAT`` in units of ``latency_unit_ms``; the paper's
``alpha`` = 0.2, ``beta`` = 0.6). ``latency_weight`` is ``beta`` (0 = no latency term: the
loss is ``CE * alpha``). The temperature is annealed exponentially per epoch, ``tau_e = tau0
* temperature_decay ** e`` (the paper: tau0 = 5, decay ``exp(-0.045)`` = 0.956 per epoch).
``derive()`` is the most likely option of every slot (the paper samples several and trains
them; its most likely architecture is what we return).

Deviations: the paper trains weights alone for 10 of 90 epochs and ``theta`` on 20 % of
ImageNet-100 per epoch; we warm up ``warmup_epochs`` epochs and alternate one weight and one
``theta`` step per batch (as DARTS' first-order search). ``log(LAT)`` must be positive, so a
LUT whose fastest network takes ``<= latency_unit_ms`` is refused: pass a smaller unit.
"""

from __future__ import annotations

import math
from typing import Any

from naslab.errors import ConfigError, check_float
from naslab.oneshot._hardware_aware import LatencyAwareMethod
from naslab.registry import register


@register("oneshot", "fbnet")
class FBNet(LatencyAwareMethod):
    """FBNet: Gumbel-softmax over every slot's options, loss ``CE * alpha * log(LAT)^beta``
    (``beta`` = ``latency_weight``), temperature annealing."""

    arch_betas = (0.9, 0.999)

    def __init__(self, latency_lut: str | None = None, latency_weight: float = 0.0,
                 alpha: float = 0.2, latency_unit_ms: float = 1.0, tau0: float = 5.0,
                 temperature_decay: float = 0.956, warmup_epochs: int = 1,
                 arch_lr: float = 0.01, arch_weight_decay: float = 5e-4,
                 grad_clip: float = 5.0, candidates: str | list[str] | None = None) -> None:
        self._init_common(latency_lut, latency_weight, warmup_epochs, arch_lr,
                          arch_weight_decay, grad_clip, candidates)
        self.alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True, finite=True)
        self.latency_unit_ms = check_float("latency_unit_ms", latency_unit_ms, minimum=0.0,
                                           strict_min=True, finite=True)
        self.tau0 = check_float("tau0", tau0, minimum=0.0, strict_min=True, finite=True)
        self.temperature_decay = check_float("temperature_decay", temperature_decay,
                                             minimum=0.0, maximum=1.0, strict_min=True)

    def setup(self, space: Any, dataset: Any, protocol: Any, *, seed: int,
              device: str = "cpu") -> None:
        super().setup(space, dataset, protocol, seed=seed, device=device)
        if self.lut is not None:
            fastest = self.lut.fixed_ms() + float(sum(
                min(v for v in row if not math.isnan(v)) for row in self.lut.decision_table()))
            if fastest <= self.latency_unit_ms:
                raise ConfigError(f"fbnet: log(LAT) must be positive, and the fastest network "
                                  f"of the LUT takes {fastest:.3g} ms <= latency_unit_ms "
                                  f"{self.latency_unit_ms}; pass a smaller latency_unit_ms")

    def temperature(self, epoch: int) -> float:
        return self.tau0 * self.temperature_decay ** epoch

    def gumbel(self, tau: float) -> Any:
        """A Gumbel-softmax sample ``(n_slots, width)`` (masked entries 0), differentiable in
        ``theta``."""
        import torch

        u = torch.rand(self.mask.shape, generator=self.sample_gen).clamp_(1e-10, 1 - 1e-10)
        g = -torch.log(-torch.log(u)).to(self.logits.device)
        return torch.softmax(((self.logits + g) / tau).masked_fill(~self.mask, float("-inf")), 1)

    def fbnet_loss(self, ce: Any, m: Any) -> Any:
        """``CE * alpha * log(LAT / unit) ** beta`` (``beta`` = latency_weight)."""
        if self.lut is None or self.latency_weight == 0:
            return ce * self.alpha
        lat = self.expected_latency(m) / self.latency_unit_ms
        return ce * self.alpha * lat.log() ** self.latency_weight

    def train_epoch(self, epoch: int) -> dict[str, float]:
        import torch
        import torch.nn.functional as F

        from naslab.nn.protocol import lr_at

        self.net.train()
        tau = self.temperature(epoch)
        search = epoch >= self.warmup_epochs
        loss_sum = hits = seen = 0.0
        vloss = vhits = vseen = 0.0
        lr = float("nan")
        for i, steps, xb, yb in self.epoch_batches():
            lr = lr_at(self.protocol, epoch, i / steps, self.epochs)
            m = self.gumbel(tau).detach()
            loss, hit = self.weight_step(xb, yb, lr, weights=m)
            loss_sum += loss * len(yb)
            hits += hit
            seen += len(yb)
            if search:
                xv, yv = self.val_batch()
                m = self.gumbel(tau)
                out = self.net(xv, weights=m)
                ce = F.cross_entropy(out, yv)
                total = self.fbnet_loss(ce, m)
                self.arch_opt.zero_grad(set_to_none=True)
                (g,) = torch.autograd.grad(total, self.logits)
                self.logits.grad = g
                self.arch_opt.step()
                vloss += float(total.detach()) * len(yv)
                vhits += int((out.detach().argmax(1) == yv).sum())
                vseen += len(yv)
        out_m = {"loss": loss_sum / max(seen, 1), "train_acc": 100.0 * hits / max(seen, 1),
                 "lr": lr, "temperature": tau, "searching": float(search)}
        if vseen:
            out_m.update(val_loss=vloss / vseen, val_acc=100.0 * vhits / vseen)
        out_m.update(self.latency_metrics())
        return out_m
