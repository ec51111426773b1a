"""REINFORCE policy-gradient search (Williams 1992; Zoph & Le 2017), as the NB201 baseline."""

from __future__ import annotations

from typing import Any

import numpy as np

from naslab.errors import ConfigError
from naslab.estimators.base import Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture
from naslab.strategies.base import Strategy


@register("strategy", "reinforce", aliases=("rl", "policy_gradient"))
class Reinforce(Strategy):
    """A factorised policy (one softmax per decision) trained with REINFORCE.

    This is NB201's REINFORCE baseline: the policy's logits (initialised near zero) are updated
    after every result with Adam on ``-(r - b) log p(arch) - entropy_weight * H(p)``, where ``r``
    is the objective (as a number to maximise, in its own units: accuracy in percent) and ``b``
    an exponential moving average of past rewards (momentum ``baseline_momentum``). Adam's
    steps do not change when the loss is multiplied by a constant, so a reward scale would
    change nothing but the balance with the entropy bonus, which ``entropy_weight`` (per unit
    of the objective) sets alone; there is no separate scale parameter. The policy
    has one softmax per declared decision of the space (``space.decisions``, e.g. one per
    cell edge over its candidate ops); it needs a space declared as a fixed vector of
    categorical decisions. Pure numpy: tabular searches never import torch.
    """

    def __init__(self, learning_rate: float = 0.01, baseline_momentum: float = 0.9,
                 entropy_weight: float = 0.0) -> None:
        self.learning_rate = learning_rate
        self.baseline_momentum = baseline_momentum
        self.entropy_weight = entropy_weight

    def _setup(self) -> None:
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if not 0 <= self.baseline_momentum < 1:
            raise ConfigError(f"baseline_momentum must be in [0, 1), got {self.baseline_momentum!r}")
        if self.entropy_weight < 0:
            raise ConfigError(f"entropy_weight must be >= 0, got {self.entropy_weight!r}")
        if not self.space.decisions:
            raise ConfigError(
                f"REINFORCE needs a space declared as a fixed vector of categorical decisions "
                f"(SearchSpace.decisions); space {self.space.name!r} declares none"
            )
        self._sizes = tuple(d.size for d in self.space.decisions)
        k = max(self._sizes)
        self._mask = np.array([[j < s for j in range(k)] for s in self._sizes])
        self.logits = 1e-3 * self.rng.standard_normal((len(self._sizes), k))
        self._m = np.zeros_like(self.logits)
        self._v = np.zeros_like(self.logits)
        self._t = 0
        self.baseline: float | None = None

    def probs(self) -> np.ndarray:
        z = np.where(self._mask, self.logits, -np.inf)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return p

    def ask(self, n: int = 1) -> list[Architecture]:
        p = self.probs()
        cdf = np.cumsum(p, axis=1)
        out = []
        for _ in range(n):
            u = self.rng.random(len(self._sizes))
            choices = tuple(int(min(np.searchsorted(cdf[i], u[i], side="right"), s - 1))
                            for i, s in enumerate(self._sizes))
            out.append(self.space.from_decision_indices(choices))
        return out

    def tell(self, arch: Architecture, evaluation: Evaluation) -> None:
        r = self.objective.score(evaluation)
        if self.baseline is None:
            self.baseline = r
        adv = r - self.baseline
        p = self.probs()
        onehot = np.zeros_like(p)
        onehot[np.arange(len(self._sizes)), np.asarray(self.space.decision_indices(arch))] = 1.0
        # gradient of the loss -(adv * log p(a) + w * H) with respect to the logits
        grad = -adv * (onehot - p)
        if self.entropy_weight:
            logp = np.log(np.where(p > 0, p, 1.0))
            h = -(p * logp).sum(axis=1, keepdims=True)
            grad += self.entropy_weight * p * (logp + h)  # dH/dz = -p (log p + H)
        grad = np.where(self._mask, grad, 0.0)
        self._adam(grad)
        m = self.baseline_momentum
        self.baseline = m * self.baseline + (1 - m) * r

    def _adam(self, grad: np.ndarray, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> None:
        self._t += 1
        self._m = b1 * self._m + (1 - b1) * grad
        self._v = b2 * self._v + (1 - b2) * grad * grad
        mhat = self._m / (1 - b1**self._t)
        vhat = self._v / (1 - b2**self._t)
        self.logits = self.logits - self.learning_rate * mhat / (np.sqrt(vhat) + eps)

    def _state(self) -> dict[str, Any]:
        return {"logits": self.logits.tolist(), "m": self._m.tolist(), "v": self._v.tolist(),
                "t": self._t, "baseline": self.baseline}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.logits = np.asarray(state["logits"], dtype=float)
        self._m = np.asarray(state["m"], dtype=float)
        self._v = np.asarray(state["v"], dtype=float)
        self._t = int(state["t"])
        self.baseline = state["baseline"]
