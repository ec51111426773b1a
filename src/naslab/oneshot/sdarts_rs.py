"""``sdarts-rs``: Stabilizing DARTS with random smoothing, SDARTS-RS (Chen & Hsieh, ICML
2020); no torch at import.

First-order DARTS whose weight step runs the supernet at perturbed edge weights
``softmax(alpha) + delta``, ``delta`` uniform in ``[-eps, eps]`` per edge and op (drawn from
the method's noise generator), so the weights are trained for a neighbourhood of ``alpha`` and
the validation loss landscape in ``alpha`` stays flat. ``eps`` grows linearly over the run
from ``eps_min`` (0.03) to ``eps_max`` (0.3) as the SDARTS code's ``epsilon_alpha`` schedule;
the architecture step is DARTS' (unperturbed). The perturbation is of the mixture weights
(the softmax), as the SDARTS code, not of the logits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError, check_float
from naslab.oneshot._differentiable import DifferentiableMethod
from naslab.registry import register

if TYPE_CHECKING:
    import torch


def check_eps(eps_min: Any, eps_max: Any) -> tuple[float, float]:
    lo = check_float("eps_min", eps_min, minimum=0.0, finite=True)
    hi = check_float("eps_max", eps_max, minimum=0.0, finite=True)
    if lo > hi:
        raise ConfigError(f"eps_min ({lo}) must be <= eps_max ({hi})")
    return lo, hi


def random_perturbation(weights: torch.Tensor, eps: float, generator: torch.Generator
                        ) -> torch.Tensor:
    """``weights + delta`` with ``delta`` uniform in ``[-eps, eps]`` (SDARTS-RS)."""
    import torch

    u = torch.rand(tuple(weights.shape), generator=generator, dtype=torch.float64)
    delta = ((2.0 * u - 1.0) * eps).to(dtype=weights.dtype, device=weights.device)
    return weights + delta


@register("oneshot", "sdarts-rs")
class SDARTSRS(DifferentiableMethod):
    """SDARTS-RS: random uniform perturbation of the edge weights in the weight step."""

    def __init__(self, eps_min: float = 0.03, eps_max: float = 0.3, arch_lr: float = 3e-4,
                 arch_weight_decay: float = 1e-3, derivation: str = "argmax", eig_every: int = 5,
                 eig_iters: int = 20, eig_batches: int = 2, bn: str = "search",
                 grad_clip: float = 5.0) -> None:
        self.eps_min, self.eps_max = check_eps(eps_min, eps_max)
        self._init_common(order=1, arch_lr=arch_lr, arch_weight_decay=arch_weight_decay,
                          derivation=derivation, eig_every=eig_every, eig_iters=eig_iters,
                          eig_batches=eig_batches, bn=bn, grad_clip=grad_clip)
        self.eps = self.eps_min

    def begin_epoch(self, epoch: int) -> None:
        self.eps = self.eps_min + (self.eps_max - self.eps_min) * epoch / max(self.epochs, 1)

    def train_weights_of(self, epoch: int, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return random_perturbation(super().train_weights_of(epoch, xb, yb), self.eps,
                                   self.noise)

    def extra_diagnostics(self) -> dict[str, Any]:
        return {"eps": self.eps}
