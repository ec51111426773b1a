"""``rdarts-es``: DARTS with RobustDARTS' early stopping, DARTS-ES (Zela et al., ICLR 2020); no
torch at import.

DARTS (first or second order) with the dominant eigenvalue of the Hessian of the validation
loss with respect to ``alpha`` computed after every epoch (``eig_every=1``; power iteration on
autograd Hessian-vector products, :func:`~naslab.oneshot._differentiable.dominant_eigenvalue`).
Training stops after epoch ``i`` when the mean eigenvalue over epochs ``i-2k+1 .. i-k`` divided
by the mean over ``i-k+1 .. i`` is below ``ratio`` (k = ``window``; the paper's k=5, 0.75,
:func:`~naslab.oneshot._differentiable.es_fires`), and the run returns the cell derived at
epoch ``i - k`` (before the curvature grew).

Deviations: the eigenvalue is estimated on ``eig_batches`` validation batches, not the whole
validation split; ``window`` should be scaled down for short CPU runs (the benchmark's
setting is in docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

from naslab.errors import check_float, check_int
from naslab.oneshot._differentiable import DifferentiableMethod, es_fires
from naslab.registry import register
from naslab.spaces.base import Architecture


@register("oneshot", "rdarts-es")
class RDARTSES(DifferentiableMethod):
    """DARTS-ES: stop when the windowed dominant Hessian eigenvalue grows past ``1/ratio``."""

    def __init__(self, window: int = 5, ratio: float = 0.75, order: int = 1,
                 arch_lr: float = 3e-4, arch_weight_decay: float = 1e-3,
                 derivation: str = "argmax", eig_every: int = 1, eig_iters: int = 20,
                 eig_batches: int = 2, bn: str = "search", grad_clip: float = 5.0) -> None:
        self.window = check_int("window", window, minimum=1)
        self.ratio = check_float("ratio", ratio, minimum=0.0, maximum=1.0, strict_min=True)
        self._init_common(order=order, arch_lr=arch_lr, arch_weight_decay=arch_weight_decay,
                          derivation=derivation, eig_every=eig_every, eig_iters=eig_iters,
                          eig_batches=eig_batches, bn=bn, grad_clip=grad_clip)
        check_int("eig_every", self.eig_every, minimum=1, maximum=1,
                  expected="1 for rdarts-es (its rule reads the eigenvalue of every epoch)")
        self.stopped_at: int | None = None

    def setup(self, *args: Any, **kwargs: Any) -> None:
        super().setup(*args, **kwargs)
        self.stopped_at = None

    def end_epoch(self, epoch: int) -> None:
        if self.stopped_at is None and es_fires(self.eigenvalues(), self.window, self.ratio):
            self.stopped_at = epoch

    def stop_now(self) -> bool:
        return self.stopped_at is not None

    def search(self) -> list[Architecture]:
        if self.stopped_at is None:
            return self.derive()
        back = max(self.stopped_at - self.window, 0)
        return [self.arch_from_state(self.derived_history[back])]

    def extra_diagnostics(self) -> dict[str, Any]:
        return {"es_stopped_at": self.stopped_at}

    def extra_state(self) -> dict[str, Any]:
        return {"stopped_at": self.stopped_at}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.stopped_at = state["stopped_at"]
