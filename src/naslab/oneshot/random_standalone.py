"""``random``: the supernet-free baseline of the one-shot runner (no torch at import).

No weight sharing at all. Each epoch draws one architecture uniformly at random (never one
drawn before in the run) and trains its network stand-alone, from scratch, for
``arch_epochs`` epochs (default 1: one pass over the training data, the same data budget as
one epoch of a supernet) under the run's protocol, with the schedule spanning those epochs.
It derives the ``top_k`` architectures seen so far with the best validation accuracy (ties:
the earlier one). Random search with low-fidelity stand-alone training, in other words:
what a weight-sharing method has to beat for the same number of data passes (Li &
Talwalkar 2020 make the same point with their random-search baselines).

Trace metrics per epoch: ``loss`` / ``train_acc`` (the drawn network's last training epoch),
``val_acc`` (its validation accuracy), ``best_val_acc`` (of the derived architecture).
Seeds: draws from ``np.random.default_rng(seed)``; the network of epoch ``e`` trains with
seed ``derive_seed(seed, e)`` (initialisation, shuffling). The state is the generator's state
and the history of (choices, validation accuracy): nothing to train is carried over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from naslab.errors import check_int
from naslab.oneshot.base import OneShotMethod
from naslab.registry import register
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture, SearchSpace

if TYPE_CHECKING:
    from naslab.data.base import ImageDataset
    from naslab.nn.protocol import Protocol

#: draws tried before accepting an architecture seen before (a space smaller than the epochs)
_REDRAWS = 100


@register("oneshot", "random", aliases=("random-standalone",))
class RandomStandalone(OneShotMethod):
    """Baseline without weight sharing: one random network trained stand-alone per epoch,
    the best by validation accuracy derived."""

    def __init__(self, arch_epochs: int = 1, top_k: int = 1) -> None:
        self.arch_epochs = check_int("arch_epochs", arch_epochs, minimum=1)
        self.top_k = check_int("top_k", top_k, minimum=1)
        self.history: list[tuple[Architecture, float]] = []

    def check_space(self, space: SearchSpace) -> None:
        from naslab.nn.networks import check_network_space

        check_network_space(space.name, user="one-shot method 'random'")

    def setup(self, space: SearchSpace, dataset: ImageDataset, protocol: Protocol, *,
              seed: int, device: str = "cpu") -> None:
        super().setup(space, dataset, protocol, seed=seed, device=device)
        self.rng = np.random.default_rng(self.seed)
        self.history = []
        self._seen: set[Any] = set()

    def _draw(self) -> Architecture:
        for _ in range(_REDRAWS):
            arch = self.space.sample(self.rng)
            if arch.choices not in self._seen:
                return arch
        return arch

    def train_epoch(self, epoch: int) -> dict[str, float]:
        from naslab.estimators.training import train

        arch = self._draw()
        res = train(arch, self.dataset, self.protocol, epochs=self.arch_epochs,
                    seed=derive_seed(self.seed, epoch), device=self.device)
        val = float(res.metrics["val_acc"])
        self.history.append((arch, val))
        self._seen.add(arch.choices)
        best = self._ranked()[0][1]
        last = res.history[-1]
        return {"loss": float(last["train_loss"]), "train_acc": float(last["train_acc"]),
                "val_acc": val, "best_val_acc": best}

    def _ranked(self) -> list[tuple[Architecture, float]]:
        order = sorted(range(len(self.history)), key=lambda i: (-self.history[i][1], i))
        return [self.history[i] for i in order]

    def derive(self) -> list[Architecture]:
        if not self.history:  # before the first epoch: nothing trained, the first draw
            return [self.space.sample(np.random.default_rng(self.seed))]
        return [a for a, _ in self._ranked()[:self.top_k]]

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state,
                "history": [[self.arch_state(a), v] for a, v in self.history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.history = [(self.arch_from_state(c), float(v)) for c, v in state["history"]]
        self._seen = {a.choices for a, _ in self.history}
