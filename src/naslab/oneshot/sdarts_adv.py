"""``sdarts-adv``: Stabilizing DARTS with adversarial training, SDARTS-ADV (Chen & Hsieh, ICML
2020); no torch at import.

First-order DARTS whose weight step runs the supernet at adversarially perturbed edge weights
``softmax(alpha) + delta``: ``delta`` starts uniform in ``[-eps, eps]`` and takes
``attack_steps`` (7, as the paper) projected signed-gradient ascent steps of size
``step_size * eps`` (default 2.5 / attack_steps: the usual PGD step) on the training loss of
the batch, each projected back into ``[-eps, eps]`` and the perturbed weights clipped into
``[0, 1]`` (the SDARTS code's clip). ``eps`` grows linearly from ``eps_min`` to ``eps_max``
as in ``sdarts-rs``. Each weight step thus costs ``attack_steps`` extra forward/backward passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naslab.errors import check_float, check_int
from naslab.oneshot._differentiable import DifferentiableMethod
from naslab.oneshot.sdarts_rs import check_eps
from naslab.registry import register

if TYPE_CHECKING:
    import torch


def pgd_perturbation(loss: Any, weights: torch.Tensor, eps: float, steps: int,
                     step_size: float, generator: torch.Generator) -> torch.Tensor:
    """``weights + delta`` maximising ``loss(w)`` by ``steps`` projected sign-gradient steps
    of ``step_size`` from a uniform random start, ``|delta| <= eps`` and the result in
    ``[0, 1]`` (detached)."""
    import torch

    w0 = weights.detach()
    u = torch.rand(tuple(w0.shape), generator=generator, dtype=torch.float64)
    delta = ((2.0 * u - 1.0) * eps).to(dtype=w0.dtype, device=w0.device)
    delta = (w0 + delta).clamp(0.0, 1.0) - w0
    for _ in range(steps):
        d = delta.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(loss(w0 + d), [d])
        delta = (d.detach() + step_size * g.sign()).clamp(-eps, eps)
        delta = (w0 + delta).clamp(0.0, 1.0) - w0
    return (w0 + delta).detach()


@register("oneshot", "sdarts-adv")
class SDARTSADV(DifferentiableMethod):
    """SDARTS-ADV: PGD attack on the edge weights in the weight step."""

    def __init__(self, eps_min: float = 0.03, eps_max: float = 0.3, attack_steps: int = 7,
                 step_size: float | None = None, arch_lr: float = 3e-4,
                 arch_weight_decay: float = 1e-3, derivation: str = "argmax", eig_every: int = 5,
                 eig_iters: int = 20, eig_batches: int = 2, bn: str = "search",
                 grad_clip: float = 5.0) -> None:
        self.eps_min, self.eps_max = check_eps(eps_min, eps_max)
        self.attack_steps = check_int("attack_steps", attack_steps, minimum=1)
        self.step_size = None if step_size is None else check_float(
            "step_size", step_size, minimum=0.0, strict_min=True, finite=True)
        self._init_common(order=1, arch_lr=arch_lr, arch_weight_decay=arch_weight_decay,
                          derivation=derivation, eig_every=eig_every, eig_iters=eig_iters,
                          eig_batches=eig_batches, bn=bn, grad_clip=grad_clip)
        self.eps = self.eps_min

    def begin_epoch(self, epoch: int) -> None:
        self.eps = self.eps_min + (self.eps_max - self.eps_min) * epoch / max(self.epochs, 1)

    def train_weights_of(self, epoch: int, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        rel = self.step_size if self.step_size is not None else 2.5 / self.attack_steps

        def loss(w: torch.Tensor) -> torch.Tensor:
            return self._loss(None, w, xb, yb)[0]

        w = super().train_weights_of(epoch, xb, yb)
        return pgd_perturbation(loss, w, self.eps, self.attack_steps, rel * self.eps,
                                self.noise)

    def extra_diagnostics(self) -> dict[str, Any]:
        return {"eps": self.eps}
