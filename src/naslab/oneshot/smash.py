"""``smash``: one-shot model architecture search through hypernetworks (Brock et al., ICLR
2018); no torch at import.

A hypernetwork (:class:`naslab.nn.hypernet.ArchHyperNet`, attached to the supernet) generates
every convolution weight of the cells from the architecture's encoding (one-hot of its path).
**Training**: every step samples a uniformly random architecture and trains the hypernetwork
(and the ordinary weights: BN, stem, reduction blocks, classifier) through the network with the
generated weights, under the run's protocol
(:class:`~naslab.oneshot._weight_sharing.WeightSharingMethod`). **Ranking** (after training):
``candidates`` random architectures (distinct) scored by validation accuracy with their
generated weights (after BN recalibration for each, ``recalibration_batches``), on the first
``eval_batches`` validation batches (0 = all), the ``final_candidates`` best re-scored on the
whole split; ``search()`` returns the ``top_k`` best.

Because the hypernetwork is part of the supernet, its checkpoint is an ordinary supernet
checkpoint (the config names the hypernetwork): the supernet estimator and the fidelity harness
score architectures with generated weights without knowing about SMASH, and ``extract(arch)``
returns the stand-alone network with the generated weights.

Paper settings and deviations: SMASH's hypernetwork is convolutional, reading a 3-D
"memory-bank" encoding of a DenseNet-like network; ours reads a cell space's one-hot path and
has a linear head per convolution (:mod:`naslab.nn.hypernet`; ``embed_dim`` 16, ``hidden``
64). SMASH trains with Adam; we train every method under the same SGD protocol so that they are
compared at equal training. SMASH scores candidates with generated weights as we do; BN
recalibration per candidate is ours (the network's BN keeps running statistics that, as in
SPOS, mix all sampled architectures).
"""

from __future__ import annotations

from typing import Any

from naslab.errors import check_int
from naslab.oneshot._weight_sharing import WeightSharingMethod, distinct
from naslab.registry import register
from naslab.spaces.base import Architecture

@register("oneshot", "smash")
class SMASH(WeightSharingMethod):
    """A hypernetwork generating the cells' conv weights from the architecture, trained on
    random architectures; candidates ranked with generated weights."""

    def __init__(self, embed_dim: int = 16, hidden: int = 64, candidates: int = 100,
                 eval_batches: int = 0, final_candidates: int = 0, top_k: int = 1,
                 bn: str = "standalone", recalibration_batches: int = 20,
                 grad_clip: float = 5.0) -> None:
        self.embed_dim = check_int("embed_dim", embed_dim, minimum=1)
        self.hidden = check_int("hidden", hidden, minimum=1)
        self.candidates = check_int("candidates", candidates, minimum=1)
        self.eval_batches = check_int("eval_batches", eval_batches, minimum=0)
        self.final_candidates = check_int("final_candidates", final_candidates, minimum=0)
        self.top_k = check_int("top_k", top_k, minimum=1)
        self._check_common(bn, grad_clip, recalibration_batches)

    def build(self, generator: Any) -> None:
        from naslab.nn.hypernet import ArchHyperNet
        from naslab.nn.init import materialize

        net = self.net
        self.net.attach_hypernet(materialize(
            lambda: ArchHyperNet(net, embed_dim=self.embed_dim, hidden=self.hidden), generator))

    def train_epoch(self, epoch: int) -> dict[str, float]:
        return self.train_weights(epoch, lambda: [self.uniform_arch(self.rng)])

    def derive(self) -> list[Architecture]:
        return [self.marginal_arch()]

    def search(self) -> list[Architecture]:
        rng = self.search_rng()
        return self.search_top(distinct(lambda: self.uniform_arch(rng), self.candidates),
                               eval_batches=self.eval_batches,
                               final_candidates=self.final_candidates, top_k=self.top_k)
