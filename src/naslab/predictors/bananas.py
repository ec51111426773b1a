"""BANANAS predictor (White et al., AAAI 2021): an ensemble of feed-forward networks on the
path encoding; the spread of the members is the uncertainty that the acquisition uses.

The members are trained together as one batched network (one ``bmm`` per layer for the whole
ensemble), each with its own initialisation and its own mini-batch order, which is what makes
an ensemble of 5 x 10-layer MLPs cheap enough to refit every few queries on a laptop CPU.

Differences from the paper (see docs/architecture.md): the path encoding counts paths on the
reduced cell graph (skip connections add no op, see :mod:`naslab.predictors.encodings`);
targets are standardised and the loss is the mean absolute error (the paper uses a MAPE-style
loss on validation error; NASLib's re-implementation uses MAE).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from naslab.errors import check_float, check_int
from naslab.predictors.base import EncodedPredictor, check_choice, standardize
from naslab.registry import register

LOSSES = ("mae", "mse")


class _EnsembleMLP:
    """E independent MLPs stored as stacked weight tensors [E, d_in, d_out]."""

    def __init__(self, n_members: int, d_in: int, width: int, layers: int, gen: Any) -> None:
        import torch

        dims = [d_in] + [width] * layers + [1]
        self.weights: list[torch.Tensor] = []
        self.biases: list[torch.Tensor] = []
        for i in range(len(dims) - 1):
            fan_in, fan_out = dims[i], dims[i + 1]
            bound = float(np.sqrt(6.0 / (fan_in + fan_out)))  # Glorot uniform, as Keras
            w = (torch.rand(n_members, fan_in, fan_out, generator=gen) * 2 - 1) * bound
            self.weights.append(w.requires_grad_())
            self.biases.append(torch.zeros(n_members, 1, fan_out, requires_grad=True))

    def parameters(self) -> list[Any]:
        return self.weights + self.biases

    def __call__(self, x: Any) -> Any:
        import torch

        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = torch.relu(h)
        return h.squeeze(-1)  # [E, n]


@register("predictor", "bananas", aliases=("mlp_ensemble",))
class BananasPredictor(EncodedPredictor):
    """Ensemble of MLPs on the path encoding (BANANAS); ``predict_std`` = members' spread.

    Parameters
    ----------
    ensemble: number of networks (paper: 5). layers, width: hidden layers and their width
        (paper: 10 x 20). epochs, batch_size, lr: Adam (paper: 200, 32, 0.01).
    loss: ``mae`` or ``mse`` on standardised targets.
    encoding: a flat encoding (default ``path``; see :mod:`naslab.predictors.encodings`).
    zc_proxies, zc_params: zero-cost proxies as extra features (with ``+zc`` in ``encoding``).
    seed: initialisation and mini-batch order of every member. num_threads: torch threads.
    """

    def __init__(self, ensemble: int = 5, layers: int = 10, width: int = 20, epochs: int = 200,
                 batch_size: int = 32, lr: float = 0.01, loss: str = "mae",
                 encoding: str = "path", zc_proxies: Sequence[str] = (),
                 zc_params: dict[str, Any] | None = None, seed: int = 0,
                 num_threads: int | None = 1) -> None:
        self.ensemble = ensemble
        self.layers = layers
        self.width = width
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.loss = loss
        self.encoding = encoding
        self.zc_proxies = zc_proxies
        self.zc_params = zc_params
        self.seed = seed
        self.num_threads = num_threads

    def has_std(self) -> bool:
        return int(self.ensemble) >= 2

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("ensemble", "layers", "width", "epochs", "batch_size"):
            check_int(name, getattr(self, name), minimum=1)
        check_float("lr", self.lr, minimum=0, strict_min=True, finite=True)
        check_choice("loss", self.loss, LOSSES)
        if self.num_threads is not None:
            check_int("num_threads", self.num_threads, minimum=1)

    def _fit_x(self, X: np.ndarray, y: np.ndarray) -> None:
        from naslab.predictors._torch import torch_session

        ys, self.y_mean_, self.y_std_ = standardize(y)
        # features are standardised too (counts and zc scores have different scales)
        self.x_mean_ = X.mean(axis=0)
        self.x_std_ = np.where(X.std(axis=0) > 1e-8, X.std(axis=0), 1.0)
        n, d = X.shape
        e = int(self.ensemble)
        with torch_session(int(self.seed), self.num_threads) as gen:
            net = _EnsembleMLP(e, d, int(self.width), int(self.layers), gen)
            self._train(net, X, ys, int(self.epochs) * -(-n // min(int(self.batch_size), n)),
                        gen)
        self.net_ = net

    def supports_update(self) -> bool:
        return True

    def _update_x(self, X: np.ndarray, y: np.ndarray, n_new: int, seed: int,
                  effort: float) -> None:
        """Warm start: the members keep their weights and the scaling of the first fit; a fresh
        Adam runs ``ceil(effort * epochs * n_new / batch_size)`` steps on all rows."""
        from naslab.predictors._torch import torch_session

        steps = int(np.ceil(effort * int(self.epochs) * n_new / int(self.batch_size)))
        if steps == 0:
            return
        ys = (y - self.y_mean_) / self.y_std_
        with torch_session(seed, self.num_threads) as gen:
            self._train(self.net_, X, ys, steps, gen)

    def _train(self, net: _EnsembleMLP, X: np.ndarray, ys: np.ndarray, steps: int,
               gen: Any) -> None:
        """``steps`` Adam steps: epochs of one random order per member, mini-batches of it."""
        import torch

        n = X.shape[0]
        e = int(self.ensemble)
        bs = min(int(self.batch_size), n)
        xt = torch.from_numpy(((X - self.x_mean_) / self.x_std_).astype(np.float32))
        yt = torch.tensor(ys, dtype=torch.float32)
        for p in net.parameters():
            p.requires_grad_(True)
        opt = torch.optim.Adam(net.parameters(), lr=float(self.lr), fused=True)
        done = 0
        while done < steps:
            # each member its own order: argsort of uniform noise = E random permutations
            perm = torch.argsort(torch.rand(e, n, generator=gen), dim=1)
            for k in range(0, n, bs):
                idx = perm[:, k:k + bs]
                pred = net(xt[idx])
                err = pred - yt[idx]
                loss = err.abs().mean() if self.loss == "mae" else (err ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                done += 1
                if done == steps:
                    break
        for p in net.parameters():
            p.requires_grad_(False)

    def _members(self, X: np.ndarray) -> np.ndarray:
        import torch

        from naslab.predictors._torch import torch_session

        with torch_session(0, self.num_threads), torch.no_grad():
            xt = torch.from_numpy(((X - self.x_mean_) / self.x_std_).astype(np.float32))
            out = self.net_(xt.unsqueeze(0).expand(int(self.ensemble), -1, -1)).numpy()
        return out.astype(np.float64) * self.y_std_ + self.y_mean_

    def _predict_x(self, X: np.ndarray) -> np.ndarray:
        return self._members(X).mean(axis=0)

    def _predict_std_x(self, X: np.ndarray) -> np.ndarray:
        return self._members(X).std(axis=0)

    def member_predictions(self, archs: Sequence[Any]) -> np.ndarray:
        """Every member's prediction, shape (ensemble, n) (for acquisition functions)."""
        archs = self._check_predict(archs)
        return self._members(self._features(archs))
