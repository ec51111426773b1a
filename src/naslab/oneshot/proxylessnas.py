"""``proxylessnas``: ProxylessNAS with binary gates and a latency loss (Cai, Zhu & Han, ICLR
2019); no torch at import.

Over the block space's ``mixed`` supernet (:mod:`naslab.oneshot._hardware_aware`): each slot
has architecture logits ``alpha`` over its options, the zero op ``skip`` included where the
slot may be absent (so depth is searched as in the paper: a zero op per layer).

Each training step:

1. **weights** -- binary gates: one option per slot sampled from ``p = softmax(alpha)``; only
   that path runs (one path's memory) and its weights take an SGD step on a training batch;
2. **architecture** (after ``warmup_epochs``), on a validation batch -- path binarisation
   with two sampled paths: per slot two options ``i, j`` are drawn from ``p`` without
   replacement, their probabilities renormalised (``q = softmax(alpha[[i, j]])``) and one of
   them is active (gate ``g = 1``, the other 0). Both candidate outputs are computed and the
   output is ``g_i o_i + g_j o_j``, so back-propagation gives ``dL/dg``; the paper's estimate
   ``dL/dalpha_i = sum_j dL/dg_j q_j (delta_ij - q_i)`` (over the two) is the logits'
   gradient. With a LUT, ``latency_weight * E[LAT]`` (``E[LAT] = sum p * lat`` from the LUT,
   ms) is added to the loss and its exact gradient to every logit. An Adam step follows
   (the paper's: lr 6e-3, betas (0, 0.999)), then the two sampled logits of each slot are
   shifted by the same amount so that their total probability mass is what it was before the
   step (the paper's rescaling: the paths not sampled keep their probabilities).

Loss: ``CE + latency_weight * E[LAT]`` (the paper's additive form, eq. 5, with ``lambda_2 =
latency_weight`` per millisecond; weight decay of the network is the protocol's).
``derive()`` is the most likely option of every slot (the paper's final architecture).

Deviations: the paper warms the weights up for 40 of 200 epochs and alternates one weight
and one architecture step per batch as here; we count warm-up in epochs of the run's
protocol (``warmup_epochs`` = 1 by default). The paper's ImageNet networks are 224 px with a
stride-2 stem; naslab's CPU runs use small images (see docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

from naslab.oneshot._hardware_aware import LatencyAwareMethod
from naslab.registry import register


@register("oneshot", "proxylessnas")
class ProxylessNAS(LatencyAwareMethod):
    """ProxylessNAS (gradient mode): binary gates, two sampled paths per architecture step,
    expected latency from a LUT as a differentiable loss term."""

    def __init__(self, latency_lut: str | None = None, latency_weight: float = 0.0,
                 warmup_epochs: int = 1, arch_lr: float = 6e-3, arch_weight_decay: float = 0.0,
                 grad_clip: float = 5.0, candidates: str | list[str] | None = None) -> None:
        self._init_common(latency_lut, latency_weight, warmup_epochs, arch_lr,
                          arch_weight_decay, grad_clip, candidates)

    def arch_step(self, xv: Any, yv: Any) -> tuple[float, int]:
        """One architecture step (two-path binarisation, the paper's gradient estimate, the
        latency term, Adam, rescaling); (CE loss, correct)."""
        import torch
        import torch.nn.functional as F

        n_slots, width = self.mask.shape
        with torch.no_grad():
            p = self.probs().detach().cpu()
        pairs = torch.multinomial(p, 2, replacement=False, generator=self.sample_gen)
        old = self.logits.detach().gather(1, pairs.to(self.logits.device))        # (S, 2)
        q = torch.softmax(old, dim=1).cpu()
        pick = torch.multinomial(q, 1, generator=self.sample_gen)[:, 0]          # 0 or 1
        gates = torch.zeros(n_slots, width, device=self.logits.device)
        chosen = pairs[torch.arange(n_slots), pick]
        gates[torch.arange(n_slots), chosen.to(gates.device)] = 1.0
        gates.requires_grad_(True)
        self.net.zero_grad(set_to_none=True)
        out = self.net(xv, weights=gates, active=pairs.tolist())
        loss = F.cross_entropy(out, yv)
        (g_grad,) = torch.autograd.grad(loss, gates)
        # dL/dalpha_i = sum_j dL/dg_j q_j (delta_ij - q_i), over the two sampled options
        gg = g_grad.gather(1, pairs.to(g_grad.device))                            # (S, 2)
        qd = q.to(gg.device)
        # = q_i (dL/dg_i - sum_j q_j dL/dg_j)
        est = qd * (gg - (gg * qd).sum(1, keepdim=True))
        self.arch_opt.zero_grad(set_to_none=True)
        grad = torch.zeros_like(self.logits)
        grad.scatter_(1, pairs.to(grad.device), est)
        if self.lut is not None and self.latency_weight > 0:
            lat = self.expected_latency(self.probs())
            (lg,) = torch.autograd.grad(self.latency_weight * lat, self.logits)
            grad = grad + lg
        self.logits.grad = grad
        self.arch_opt.step()
        with torch.no_grad():  # the paper's rescaling of the two sampled logits
            idx = pairs.to(self.logits.device)
            new = self.logits.gather(1, idx)
            offset = torch.logsumexp(new, 1) - torch.logsumexp(old, 1)
            self.logits.scatter_(1, idx, new - offset[:, None])
        return float(loss.detach()), int((out.detach().argmax(1) == yv).sum())

    def train_epoch(self, epoch: int) -> dict[str, float]:
        from naslab.nn.protocol import lr_at

        self.net.train()
        search = epoch >= self.warmup_epochs
        loss_sum = hits = seen = 0.0
        vloss = vhits = vseen = 0.0
        lr = float("nan")
        for i, steps, xb, yb in self.epoch_batches():
            lr = lr_at(self.protocol, epoch, i / steps, self.epochs)
            loss, hit = self.weight_step(xb, yb, lr, path=self.sample_path())
            loss_sum += loss * len(yb)
            hits += hit
            seen += len(yb)
            if search:
                xv, yv = self.val_batch()
                vl, vh = self.arch_step(xv, yv)
                vloss += vl * len(yv)
                vhits += vh
                vseen += len(yv)
        out = {"loss": loss_sum / max(seen, 1), "train_acc": 100.0 * hits / max(seen, 1),
               "lr": lr, "searching": float(search)}
        if vseen:
            out.update(val_loss=vloss / vseen, val_acc=100.0 * vhits / vseen)
        out.update(self.latency_metrics())
        return out
