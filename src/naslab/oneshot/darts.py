"""``darts``: Differentiable Architecture Search (Liu et al., ICLR 2019), first or second order;
no torch at import.

Each edge of the cell supernet is relaxed to the mixture ``sum_o softmax(alpha)_o o(x)``;
``alpha`` (one ``(edges, ops)`` tensor shared by all cells) and the supernet weights are
optimised alternately, an architecture step on a validation batch then a weight step on a
training batch (:mod:`naslab.oneshot._differentiable`). ``order=1`` uses the gradient of the
validation loss at the current weights; ``order=2`` the unrolled gradient with the
finite-difference Hessian-vector product (one virtual SGD step of the weights).

Settings (NAS-Bench-201's DARTS search: ``configs/nas-benchmark/algos/DARTS.config`` and the
arch optimiser of ``exps/algos/DARTS-V1.py`` / ``DARTS-V2.py``) and ours:

============================  ===============================  ===========================
setting                        NB201 (CIFAR-10)                 naslab default
============================  ===============================  ===========================
alpha optimiser                Adam lr 3e-4, betas (0.5, 0.999),  the same (``arch_lr``,
                               weight decay 1e-3                 ``arch_weight_decay``)
weight optimiser               SGD lr 0.025 -> 0.001 cosine,      the run's protocol
                               momentum 0.9, Nesterov, wd 5e-4,   (``nb201-darts``: the same;
                               batch 64, 50 epochs, clip 5        ``darts-cpu`` at C=8, N=1)
cell BN                        affine=False                     ``bn="search"`` (batch
                                                                statistics, no affine)
derivation                     argmax incl. ``none``             ``derivation="argmax"``
                                                                (``argmax_no_none``: DARTS')
============================  ===============================  ===========================

Deviations: the architecture step comes first in both orders (the DARTS paper's order; NB201's
first-order script steps the weights first); the second-order virtual step includes the SGD
momentum buffer and weight decay, as the DARTS code, but not Nesterov's look-ahead;
the data are split into the method's training and validation splits by the run's dataset
(NB201 halves CIFAR-10's training set).
"""

from __future__ import annotations

from naslab.oneshot._differentiable import DifferentiableMethod
from naslab.registry import register


@register("oneshot", "darts")
class DARTS(DifferentiableMethod):
    """DARTS, first (``order=1``) or second order (``order=2``)."""

    def __init__(self, order: int = 1, arch_lr: float = 3e-4, arch_weight_decay: float = 1e-3,
                 derivation: str = "argmax", eig_every: int = 5, eig_iters: int = 20,
                 eig_batches: int = 2, bn: str = "search", grad_clip: float = 5.0) -> None:
        self._init_common(order=order, arch_lr=arch_lr, arch_weight_decay=arch_weight_decay,
                          derivation=derivation, eig_every=eig_every, eig_iters=eig_iters,
                          eig_batches=eig_batches, bn=bn, grad_clip=grad_clip)
