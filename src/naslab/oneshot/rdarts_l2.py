"""``rdarts-l2``: DARTS with RobustDARTS' adaptive regularisation, DARTS-ADA (Zela et al., ICLR
2020); no torch at import.

DARTS (first or second order) with the dominant Hessian eigenvalue after every epoch, as
``rdarts-es``; when DARTS-ES' rule fires (windowed mean eigenvalue grown past ``1/ratio``), the
weight decay (L2) of the supernet weights is multiplied by ``factor`` (10) and the rule's window
restarts; at most ``max_raises`` (3) times. Training runs all epochs and returns the final cell.
The starting weight decay is the protocol's.

Deviation: the paper also rolls the search back to epoch ``i - k`` before raising the
regularisation; we continue from epoch ``i`` (a rollback would keep ``k`` past checkpoints
in the method state).
"""

from __future__ import annotations

from typing import Any

from naslab.errors import check_float, check_int
from naslab.oneshot._differentiable import DifferentiableMethod, es_fires
from naslab.registry import register


@register("oneshot", "rdarts-l2")
class RDARTSL2(DifferentiableMethod):
    """DARTS-ADA: raise the weight decay when the dominant Hessian eigenvalue grows."""

    def __init__(self, factor: float = 10.0, max_raises: int = 3, window: int = 5,
                 ratio: float = 0.75, order: int = 1, arch_lr: float = 3e-4,
                 arch_weight_decay: float = 1e-3, derivation: str = "argmax", eig_every: int = 1,
                 eig_iters: int = 20, eig_batches: int = 2, bn: str = "search",
                 grad_clip: float = 5.0) -> None:
        self.factor = check_float("factor", factor, minimum=1.0, finite=True)
        self.max_raises = check_int("max_raises", max_raises, minimum=0)
        self.window = check_int("window", window, minimum=1)
        self.ratio = check_float("ratio", ratio, minimum=0.0, maximum=1.0, strict_min=True)
        self._init_common(order=order, arch_lr=arch_lr, arch_weight_decay=arch_weight_decay,
                          derivation=derivation, eig_every=eig_every, eig_iters=eig_iters,
                          eig_batches=eig_batches, bn=bn, grad_clip=grad_clip)
        check_int("eig_every", self.eig_every, minimum=1, maximum=1,
                  expected="1 for rdarts-l2 (its rule reads the eigenvalue of every epoch)")
        self.raises: list[int] = []
        self.window_start = 0

    def setup(self, *args: Any, **kwargs: Any) -> None:
        super().setup(*args, **kwargs)
        self.raises, self.window_start = [], 0

    @property
    def weight_decay(self) -> float:
        return float(self.opt.param_groups[0]["weight_decay"])

    def end_epoch(self, epoch: int) -> None:
        hist = self.eigenvalues()[self.window_start:]
        if len(self.raises) < self.max_raises and es_fires(hist, self.window, self.ratio):
            for g in self.opt.param_groups:
                g["weight_decay"] = g["weight_decay"] * self.factor
            self.raises.append(epoch)
            self.window_start = len(self.eig_history)

    def extra_diagnostics(self) -> dict[str, Any]:
        return {"weight_decay": self.weight_decay, "l2_raised_at": list(self.raises)}

    def extra_state(self) -> dict[str, Any]:
        return {"raises": list(self.raises), "window_start": self.window_start}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.raises = [int(v) for v in state["raises"]]
        self.window_start = int(state["window_start"])
