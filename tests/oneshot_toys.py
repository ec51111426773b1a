"""A tiny tensor-holding one-shot method for the runner's tests (not registered).

``TinyShared`` holds what real supernet methods checkpoint -- module weights, an optimizer
with momentum buffers, a ``torch.Generator`` and architecture logits -- but costs
milliseconds per epoch: a linear classifier on flattened pixels, one SGD pass per epoch over
mini-batches shuffled by its generator, and per-decision logits ``alpha`` that move by the
generator's noise scaled by the validation loss. ``derive()`` is the per-decision argmax.
Knobs make it misbehave on purpose (stop early, an unsafe state, a test metric, a failing
search).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from naslab.oneshot.base import OneShotMethod
from naslab.spaces.base import Architecture


class TinyShared(OneShotMethod):
    registry_name = "tiny"

    def __init__(self, lr: float = 0.05, stop_after: int = 0, unsafe_state: bool = False,
                 test_metric: bool = False) -> None:
        self.lr, self.stop_after = lr, stop_after
        self.unsafe_state, self.test_metric = unsafe_state, test_metric
        #: interrupt the first ``fail_search`` searches (not a hyper-parameter: no effect on the id)
        self.fail_search = 0
        self.search_calls = 0

    def setup(self, space: Any, dataset: Any, protocol: Any, *, seed: int, device: str = "cpu") -> None:
        import torch

        super().setup(space, dataset, protocol, seed=seed, device=device)
        self.gen = torch.Generator().manual_seed(self.seed)
        d = int(np.prod(dataset.input_shape))
        self.model = torch.nn.Linear(d, dataset.num_classes)
        with torch.no_grad():
            self.model.weight.copy_(0.01 * torch.randn(self.model.weight.shape, generator=self.gen))
            self.model.bias.zero_()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.lr, momentum=0.9)
        sizes = [dec.size for dec in space.decisions]
        self.alpha = torch.zeros(len(sizes), max(sizes))
        self.mask = torch.tensor([[j < s for j in range(max(sizes))] for s in sizes])
        self.x = torch.from_numpy(np.array(dataset.x_train)).flatten(1)
        self.y = torch.from_numpy(np.array(dataset.y_train))
        self.xv = torch.from_numpy(np.array(dataset.x_val)).flatten(1)
        self.yv = torch.from_numpy(np.array(dataset.y_val))
        self.done = 0

    def train_epoch(self, epoch: int) -> dict[str, float]:
        import torch
        import torch.nn.functional as F

        n = len(self.y)
        perm = torch.randperm(n, generator=self.gen)
        losses, hits = 0.0, 0
        for i in range(0, n, 64):
            idx = perm[i:i + 64]
            out = self.model(self.x[idx])
            loss = F.cross_entropy(out, self.y[idx])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            losses += float(loss.detach()) * len(idx)
            hits += int((out.argmax(1) == self.y[idx]).sum())
        with torch.no_grad():
            out = self.model(self.xv)
            vloss = float(F.cross_entropy(out, self.yv))
            vacc = 100.0 * float((out.argmax(1) == self.yv).float().mean())
        self.alpha += vloss * torch.randn(self.alpha.shape, generator=self.gen)
        self.done += 1
        m = {"loss": losses / n, "train_acc": 100.0 * hits / n, "val_acc": vacc}
        if self.test_metric:
            m["test_acc"] = 0.0
        return m

    def derive(self) -> list[Architecture]:
        a = self.alpha.masked_fill(~self.mask, float("-inf"))
        top = a.argmax(1).tolist()
        second = a.masked_fill(a == a.max(1, keepdim=True).values, float("-inf")).argmax(1).tolist()
        return [self.space.from_decision_indices(top), self.space.from_decision_indices(second)]

    def search(self) -> list[Architecture]:
        self.search_calls += 1
        if self.search_calls <= self.fail_search:
            raise KeyboardInterrupt  # an interruption during the search phase
        return self.derive()

    def should_stop(self) -> bool:
        return bool(self.stop_after) and self.done >= self.stop_after

    def diagnostics(self) -> dict[str, Any]:
        return {"alpha_max": float(self.alpha.max()), "rows": self.alpha.shape[0]}

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"model": self.model.state_dict(), "opt": self.opt.state_dict(),
                                 "gen": self.gen.get_state(), "alpha": self.alpha.clone(),
                                 "done": self.done}
        if self.unsafe_state:
            state["arch"] = self.derive()[0]  # an Architecture object: not weights_only-safe
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.gen.set_state(state["gen"])
        self.alpha = state["alpha"].clone()
        self.done = int(state["done"])
