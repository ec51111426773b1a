"""``gdas``: Searching for a Robust Neural Architecture in Four GPU Hours (Dong & Yang, CVPR
2019); no torch at import.

Every forward (weight and architecture steps) samples one op per edge (shared by all cells):
Gumbel noise added to ``log_softmax(alpha)``, a softmax at temperature ``tau``, its argmax as a
one-hot weight with the soft sample's gradient (``hard - soft.detach() + soft``,
:func:`~naslab.oneshot._differentiable.gumbel_hard_sample`), so each forward computes one op
per edge and the gradient reaches every logit. ``tau`` is annealed linearly from ``tau_max``
(10) to ``tau_min`` (0.1) over the run's epochs (NB201's GDAS search). The weight step samples
its own path and does not update ``alpha``; the architecture step is first order.

NAS-Bench-201's GDAS search uses 250 epochs of SGD 0.025 -> 0.001, batch 64, wd 5e-4 (the
``nb201-oneshot`` protocol here), Adam 3e-4 on ``alpha`` (our defaults). Deviation: the
diagnostics' Hessian eigenvalue is that of the softmax relaxation's validation loss (the hard
sample's loss is piecewise in ``alpha``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError, check_float
from naslab.oneshot._differentiable import DifferentiableMethod, gumbel_hard_sample
from naslab.registry import register

if TYPE_CHECKING:
    import torch


@register("oneshot", "gdas")
class GDAS(DifferentiableMethod):
    """GDAS: Gumbel-softmax with hard one-hot samples, temperature annealed."""

    def __init__(self, tau_max: float = 10.0, tau_min: float = 0.1, arch_lr: float = 3e-4,
                 arch_weight_decay: float = 1e-3, derivation: str = "argmax", eig_every: int = 5,
                 eig_iters: int = 20, eig_batches: int = 2, bn: str = "search",
                 grad_clip: float = 5.0) -> None:
        self.tau_max = check_float("tau_max", tau_max, minimum=0.0, strict_min=True, finite=True)
        self.tau_min = check_float("tau_min", tau_min, minimum=0.0, strict_min=True, finite=True)
        if self.tau_min > self.tau_max:
            raise ConfigError(f"tau_min ({self.tau_min}) must be <= tau_max ({self.tau_max})")
        self._init_common(order=1, arch_lr=arch_lr, arch_weight_decay=arch_weight_decay,
                          derivation=derivation, eig_every=eig_every, eig_iters=eig_iters,
                          eig_batches=eig_batches, bn=bn, grad_clip=grad_clip)
        self.tau = self.tau_max

    def tau_at(self, epoch: int) -> float:
        """The temperature of epoch ``epoch`` (linear from tau_max to tau_min)."""
        frac = epoch / max(self.epochs - 1, 1)
        return self.tau_max - (self.tau_max - self.tau_min) * min(frac, 1.0)

    def begin_epoch(self, epoch: int) -> None:
        self.tau = self.tau_at(epoch)

    def arch_weights(self, epoch: int) -> torch.Tensor:
        w, _ = gumbel_hard_sample(self.alpha, self.tau, self.noise)
        return w

    def train_weights_of(self, epoch: int, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        w, _ = gumbel_hard_sample(self.alpha.detach(), self.tau, self.noise)
        return w.detach()

    def extra_diagnostics(self) -> dict[str, Any]:
        return {"tau": self.tau}
