"""``darts-plus``: DARTS+, DARTS with early stopping (Liang et al. 2019); no torch at import.

DARTS (first or second order, :mod:`naslab.oneshot.darts`) stopped after the first epoch whose
criterion fires (``stop``):

* ``"skip"`` (criterion 1): the derived cell holds ``max_skips`` (2) or more ``skip_op``
  (``skip_connect``) edges;
* ``"stable"`` (criterion 2): the ranking of the architecture weights of the learnable ops
  (ops with parameters) on every edge has not changed for ``patience`` (10) epochs;
* ``"either"``: whichever fires first.

The run returns the cell derived when it stopped (the paper's rule). Deviation: the paper
counts skips in the normal cell of the DARTS space; a space with one cell type counts them in
its one cell, and ``patience`` should be scaled to short CPU runs.
"""

from __future__ import annotations

from typing import Any

from naslab.errors import ConfigError, check_int
from naslab.oneshot._differentiable import DifferentiableMethod
from naslab.registry import register

STOP_RULES = ("skip", "stable", "either")


@register("oneshot", "darts-plus")
class DARTSPlus(DifferentiableMethod):
    """DARTS+: DARTS with the skip-count and/or ranking-stability stopping rule."""

    def __init__(self, stop: str = "skip", max_skips: int = 2, patience: int = 10,
                 skip_op: str = "skip_connect", order: int = 1, arch_lr: float = 3e-4,
                 arch_weight_decay: float = 1e-3, derivation: str = "argmax", eig_every: int = 5,
                 eig_iters: int = 20, eig_batches: int = 2, bn: str = "search",
                 grad_clip: float = 5.0) -> None:
        if stop not in STOP_RULES:
            raise ConfigError(f"stop must be one of {', '.join(STOP_RULES)} (skip count, "
                              f"ranking stability, either), got {stop!r}")
        self.stop = str(stop)
        self.max_skips = check_int("max_skips", max_skips, minimum=1)
        self.patience = check_int("patience", patience, minimum=1)
        if not isinstance(skip_op, str):
            raise ConfigError(f"skip_op must be an op name, got {skip_op!r}")
        self.skip_op = skip_op
        self._init_common(order=order, arch_lr=arch_lr, arch_weight_decay=arch_weight_decay,
                          derivation=derivation, eig_every=eig_every, eig_iters=eig_iters,
                          eig_batches=eig_batches, bn=bn, grad_clip=grad_clip)
        self.ranking: list[list[int]] | None = None
        self.stable_epochs = 0
        self.fired: str | None = None

    def setup(self, *args: Any, **kwargs: Any) -> None:
        super().setup(*args, **kwargs)
        ops = list(self.net.op_names)
        if self.stop in ("skip", "either") and self.skip_op not in ops:
            raise ConfigError(f"{self.registry_name} stop={self.stop!r} counts {self.skip_op!r} edges, "
                              f"an op space {self.space.name!r} does not have (ops: "
                              f"{', '.join(ops)}); set skip_op or use stop='stable'")
        self.ranking, self.stable_epochs, self.fired = None, 0, None

    def skip_edges(self) -> int:
        k = list(self.net.op_names).index(self.skip_op) if self.skip_op in self.net.op_names \
            else -1
        return sum(v == k for v in self.derived_path())

    def learnable_ranking(self) -> list[list[int]]:
        """Per edge, the learnable ops (with parameters) ordered by alpha, largest first."""
        a = self.alpha.detach().cpu().tolist()
        out = []
        for e, row in enumerate(a):
            learn = [k for k in range(len(row)) if not self.param_free[e][k]]
            out.append(sorted(learn, key=lambda k: (-row[k], k)))
        return out

    def end_epoch(self, epoch: int) -> None:
        rank = self.learnable_ranking()
        self.stable_epochs = self.stable_epochs + 1 if rank == self.ranking else 0
        self.ranking = rank
        if self.fired is None:
            if self.stop in ("skip", "either") and self.skip_edges() >= self.max_skips:
                self.fired = "skip"
            elif self.stop in ("stable", "either") and self.stable_epochs >= self.patience:
                self.fired = "stable"

    def stop_now(self) -> bool:
        return self.fired is not None

    def extra_diagnostics(self) -> dict[str, Any]:
        return {"skip_edges": self.skip_edges(), "stable_epochs": self.stable_epochs,
                "stop_rule_fired": self.fired}

    def extra_state(self) -> dict[str, Any]:
        return {"ranking": self.ranking, "stable_epochs": self.stable_epochs,
                "fired": self.fired}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.ranking = None if state["ranking"] is None else [list(r) for r in state["ranking"]]
        self.stable_epochs = int(state["stable_epochs"])
        self.fired = state["fired"]
