"""``spos``: Single Path One-Shot NAS with uniform sampling (Guo et al., ECCV 2020); no torch
at import.

**Supernet training.** Every training step samples one path uniformly (each decision's option
with equal probability, one path shared by all cells) and trains only its weights on the batch
(:class:`~naslab.oneshot._weight_sharing.WeightSharingMethod`: the run's protocol, SGD,
gradients clipped at ``grad_clip``). ``sampling="fair"`` is the strict-fairness variant of
FairNAS (Chu et al. 2021), kept as an option: each step trains ``max option count`` paths
whose options are a fresh permutation per decision, so every option of every decision is
trained exactly once per step (gradients summed, one update): as many forward/backward passes
per step as options, i.e. that many times the cost of an epoch.

**Search (after training).** Evolution on inherited weights, every candidate scored by
:meth:`~WeightSharingMethod.evaluate`: BN statistics recalibrated for it on
``recalibration_batches`` x 128 fixed training images, then its validation accuracy
(``eval_batches`` batches; 0 = the whole validation split). Generation 0 is ``population``
random architectures; each later generation is ``mutations`` mutants (each decision redrawn
uniformly with probability ``mutation_prob``) and ``crossovers`` uniform crossovers of two
parents drawn from the ``parents`` best architectures scored so far, topped up with random
architectures to ``population``; architectures already scored are never scored again.
``search()`` returns the ``top_k`` best scored.

Paper settings (ImageNet) and ours, scaled to the CPU task (about 100 evaluations instead of
1000; the same proportions):

============================  =========================  ==============================
setting                        Guo et al. 2020            naslab default
============================  =========================  ==============================
population / generations       50 / 20                    20 / 5
parents (top-k) / mutation p   10 / 0.1                   5 / 0.1
mutations / crossovers         25 / 25 per generation     10 / 10
recalibration images           20,000 training images     20 x 128 training images
evaluation                     50,000 val images          the whole validation split
supernet training              120 epochs, batch 1024,    the run's protocol (``cpu``:
                               lr 0.5 linear, wd 4e-5     SGD 0.05 cosine, batch 64)
============================  =========================  ==============================

Deviations: no FLOPs / latency constraint in the search (the paper searches under one);
gradient clipping at 5 (NAS-Bench-201's search code) - ``grad_clip=0`` turns it off; the
supernet's BN is the stand-alone network's (affine, running statistics, recalibrated per
candidate), as in the paper; ``bn="search"`` gives NB201's batch-statistics BN instead.

``derive()`` after each epoch is a cheap indicator (per decision the option whose trained
paths had the best batch accuracy that epoch); the answer is ``search()``.
"""

from __future__ import annotations

from typing import Any

from naslab.errors import ConfigError, check_float, check_int
from naslab.oneshot._weight_sharing import WeightSharingMethod, distinct
from naslab.registry import register
from naslab.spaces.base import Architecture

@register("oneshot", "spos")
class SPOS(WeightSharingMethod):
    """Single Path One-Shot: uniform single-path supernet training, then evolution on
    inherited weights with BN recalibration."""

    def __init__(self, sampling: str = "uniform", population: int = 20, generations: int = 5,
                 parents: int = 5, mutations: int = 10, crossovers: int = 10,
                 mutation_prob: float = 0.1, eval_batches: int = 0,
                 recalibration_batches: int = 20, top_k: int = 1, bn: str = "standalone",
                 grad_clip: float = 5.0) -> None:
        if sampling not in ("uniform", "fair"):
            raise ConfigError(f"sampling must be 'uniform' (SPOS) or 'fair' (FairNAS strict "
                              f"fairness), got {sampling!r}")
        self.sampling = sampling
        self.population = check_int("population", population, minimum=2)
        self.generations = check_int("generations", generations, minimum=1)
        self.parents = check_int("parents", parents, minimum=1)
        self.mutations = check_int("mutations", mutations, minimum=0)
        self.crossovers = check_int("crossovers", crossovers, minimum=0)
        self.mutation_prob = check_float("mutation_prob", mutation_prob, minimum=0.0,
                                         maximum=1.0, strict_min=True)
        self.eval_batches = check_int("eval_batches", eval_batches, minimum=0)
        self.top_k = check_int("top_k", top_k, minimum=1)
        self._check_common(bn, grad_clip, recalibration_batches)

    # --- training ------------------------------------------------------------------------
    def _fair_paths(self) -> list[Architecture]:
        width = max(self.sizes)
        perms = [self.rng.permutation(width) % s for s in self.sizes]
        return [self.space.from_decision_indices([int(p[j]) for p in perms])
                for j in range(width)]

    def train_epoch(self, epoch: int) -> dict[str, float]:
        if self.sampling == "fair":
            return self.train_weights(epoch, self._fair_paths)
        return self.train_weights(epoch, lambda: [self.uniform_arch(self.rng)])

    def derive(self) -> list[Architecture]:
        return [self.marginal_arch()]

    # --- evolutionary search ---------------------------------------------------------------
    def search(self) -> list[Architecture]:
        rng = self.search_rng()
        batches = self.eval_batches or None
        scores: dict[Architecture, float] = {}
        order: list[Architecture] = []
        generations: list[dict[str, Any]] = []

        def score(cands: list[Architecture]) -> None:
            for a in cands:
                if a not in scores:
                    scores[a] = self.evaluate(a, batches)
                    order.append(a)

        def ranked() -> list[Architecture]:
            pos = {a: i for i, a in enumerate(order)}
            return sorted(order, key=lambda a: (-scores[a], pos[a]))

        def fresh(make: Any, want: int, taken: set[Architecture]) -> list[Architecture]:
            out = distinct(make, want, exclude=set(scores) | taken)
            taken.update(out)
            return out

        for g in range(self.generations):
            taken: set[Architecture] = set()
            if g == 0:
                cands = fresh(lambda: self.uniform_arch(rng), self.population, taken)
            else:
                top = ranked()[:self.parents]
                idx = [self.space.decision_indices(a) for a in top]

                def mutate() -> Architecture:
                    p = idx[int(rng.integers(len(idx)))]
                    child = [int(rng.integers(s)) if rng.random() < self.mutation_prob else v
                             for v, s in zip(p, self.sizes)]
                    return self.space.from_decision_indices(child)

                def cross() -> Architecture:
                    a, b = idx[int(rng.integers(len(idx)))], idx[int(rng.integers(len(idx)))]
                    return self.space.from_decision_indices(
                        [u if rng.random() < 0.5 else v for u, v in zip(a, b)])

                cands = fresh(mutate, self.mutations, taken)
                cands += fresh(cross, self.crossovers, taken)
                cands += fresh(lambda: self.uniform_arch(rng),
                               max(self.population - len(cands), 0), taken)
            score(cands)
            best = ranked()[0]
            generations.append({"generation": g, "scored": len(cands),
                                "best": str(best), "best_val_acc": scores[best]})
        self.search_log = {"evaluations": len(order), "eval_batches": batches,
                           "recalibration_batches": self.recalibration_batches,
                           "generations": generations,
                           "scored": [[str(a), scores[a]] for a in order]}
        return ranked()[:self.top_k]

