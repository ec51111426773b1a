"""``rsws``: random search with weight sharing (Li & Talwalkar, UAI 2019 / 2020); no torch at
import.

**Supernet training.** Every training step trains one uniformly random path (as SPOS; Li &
Talwalkar sample a random architecture per mini-batch), under the run's protocol
(:class:`~naslab.oneshot._weight_sharing.WeightSharingMethod`). BN is NAS-Bench-201's search
BN by default (``bn="search"``: the cells normalise with batch statistics and have no affine
parameters; NB201's RSPS baseline), so no recalibration is needed.

**Search (after training).** Random search over inherited weights: ``candidates`` random
architectures (distinct) are scored on the first ``eval_batches`` validation batches (the same
images for all), then the ``final_candidates`` best are re-scored on the whole validation
split and ``search()`` returns the ``top_k`` best. Li & Talwalkar score 1000 random
architectures on a few mini-batches and re-score the best 10 fully; NAS-Bench-201's RSPS
scores 100 (``select_num``) and keeps the best. Defaults: 100 candidates, 10 batches of
``protocol.batch_size`` images each, best 10 re-scored.

Paper / NB201 training settings (CIFAR-10, the ``nb201-oneshot`` protocol): 250 epochs, batch
64, SGD lr 0.025 cosine to 0.001, momentum 0.9 Nesterov, weight decay 5e-4, gradient clipping
5. Deviations: none beyond the smaller candidate pool on CPU; ``recalibration_batches > 0``
with ``bn="standalone"`` gives the SPOS-style evaluation for comparison.

``derive()`` after each epoch is the cheap per-decision indicator of
:meth:`~naslab.oneshot._weight_sharing.WeightSharingMethod.marginal_arch`.
"""

from __future__ import annotations

from naslab.errors import check_int
from naslab.oneshot._weight_sharing import WeightSharingMethod, distinct
from naslab.registry import register
from naslab.spaces.base import Architecture

@register("oneshot", "rsws", aliases=("rs-ws", "rsps"))
class RandomSearchWS(WeightSharingMethod):
    """Random single-path supernet training, then random search on inherited weights."""

    def __init__(self, candidates: int = 100, eval_batches: int = 10,
                 final_candidates: int = 10, top_k: int = 1, bn: str = "search",
                 recalibration_batches: int = 0, grad_clip: float = 5.0) -> None:
        self.candidates = check_int("candidates", candidates, minimum=1)
        self.eval_batches = check_int("eval_batches", eval_batches, minimum=0)
        self.final_candidates = check_int("final_candidates", final_candidates, minimum=0)
        self.top_k = check_int("top_k", top_k, minimum=1)
        self._check_common(bn, grad_clip, recalibration_batches)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        return self.train_weights(epoch, lambda: [self.uniform_arch(self.rng)])

    def derive(self) -> list[Architecture]:
        return [self.marginal_arch()]

    def search(self) -> list[Architecture]:
        rng = self.search_rng()
        return self.search_top(distinct(lambda: self.uniform_arch(rng), self.candidates),
                               eval_batches=self.eval_batches,
                               final_candidates=self.final_candidates, top_k=self.top_k)
