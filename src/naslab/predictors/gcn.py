"""Graph convolutional predictor in the manner of Wen et al. 2020 ("Neural Predictor for Neural
Architecture Search").

The cell is a DAG with operations on nodes (:func:`naslab.predictors.encodings.graph_batch`).
Each layer propagates node states along the edges in both directions with separate weights,
``h' = (relu(Â_fwd h W_f) + relu(Â_bwd h W_b)) / 2`` where ``Â_fwd`` averages a node's
predecessors and itself and ``Â_bwd`` its successors and itself (Wen et al.'s bidirectional
GCN); a global pooling over the nodes and an MLP head give the prediction.

Differences from Wen et al. (measured in docs/benchmarks.md, predictors section):

* ``graph="reduced"`` (default) feeds the reduced graph - ``none`` nodes removed,
  ``skip_connect`` nodes contracted, dead nodes dropped - instead of the raw op-on-node graph
  (``graph="raw"``, Wen et al.'s input). Isomorphic cells then look alike to the network.
* ``pool="summax"`` (default) concatenates sum and max pooling; Wen et al. average (``mean``).
* ``loss="rank"`` (default): a pairwise logistic ranking loss over all pairs of a mini-batch;
  ``"mse"`` is Wen et al.'s regression loss, ``"rank+mse"`` the sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from naslab.errors import check_float, check_int
from naslab.predictors.base import Predictor, check_choice, standardize
from naslab.registry import register
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture

LOSSES = ("rank", "mse", "rank+mse")
POOLS = ("summax", "mean", "sum")
AGGREGATIONS = ("mean", "sum")


def _norm_adjacency(adj: np.ndarray, mask: np.ndarray,
                    aggregation: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """Aggregation matrices with self loops on live nodes: (forward, backward); ``mean``
    row-normalises them (Wen et al.), ``sum`` keeps the counts."""
    eye = np.eye(adj.shape[1], dtype=np.float32)[None] * mask[:, :, None]
    fwd = np.transpose(adj, (0, 2, 1)) + eye  # row v: predecessors of v and v
    bwd = adj + eye  # row v: successors of v and v
    if aggregation == "mean":
        fwd /= np.maximum(fwd.sum(-1, keepdims=True), 1.0)
        bwd /= np.maximum(bwd.sum(-1, keepdims=True), 1.0)
    return fwd.astype(np.float32), bwd.astype(np.float32)


def _build_model(n_features: int, hidden: int, layers: int, pool: str, dropout: float,
                 n_extra: int = 0) -> Any:
    import torch
    from torch import nn

    class GCN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            dims = [n_features] + [hidden] * layers
            self.fwd = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(layers))
            self.bwd = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(layers))
            width = (2 * hidden if pool == "summax" else hidden) + n_extra
            self.head = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(hidden, 1))

        def forward(self, af: torch.Tensor, ab: torch.Tensor, x: torch.Tensor,
                    mask: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
            m = mask.unsqueeze(-1)
            h = x
            for lf, lb in zip(self.fwd, self.bwd):
                h = (torch.relu(af @ lf(h)) + torch.relu(ab @ lb(h))) * 0.5 * m
            if pool == "mean":
                g = h.sum(1) / mask.sum(1, keepdim=True)
            elif pool == "sum":
                g = h.sum(1)
            else:
                g = torch.cat([h.sum(1), (h + (m - 1.0) * 1e4).amax(1)], dim=-1)
            if n_extra:
                g = torch.cat([g, z], dim=-1)
            return self.head(g).squeeze(-1)

    return GCN()


@register("predictor", "gcn", aliases=("gnn",))
class GCNPredictor(Predictor):
    """Bidirectional graph convolutional network on the cell graph (Wen et al. 2020).

    Parameters
    ----------
    graph: ``reduced`` (none removed, skips contracted) or ``raw`` (the op-on-node graph).
    hidden, layers: width of every graph-convolution layer and how many there are.
    pool: ``summax`` (sum and max pooling), ``mean`` (Wen et al.) or ``sum``.
    aggregation: ``mean`` over a node's neighbours and itself (Wen et al.) or ``sum``.
    loss: ``rank`` (pairwise logistic), ``mse`` (Wen et al.) or ``rank+mse``.
    epochs, batch_size, lr, weight_decay: Adam with cosine learning-rate decay.
    dropout: before the last layer of the head.
    ensemble: number of independently initialised networks; with 2 or more the prediction is
        their mean and ``predict_std`` their standard deviation.
    zc_proxies, zc_params: zero-cost proxy scores (see
        :class:`~naslab.predictors.encodings.ZeroCostFeatures`), standardised and concatenated
        to the pooled graph embedding before the head.
    seed: initialisation and mini-batch order. num_threads: torch threads while fitting and
        predicting (1 = fastest for this model size, and bit-reproducible). device: cpu/cuda.
    """

    def __init__(self, graph: str = "reduced", hidden: int = 64, layers: int = 3,
                 pool: str = "summax", aggregation: str = "mean", loss: str = "rank", epochs: int = 150,
                 batch_size: int = 64, lr: float = 2e-3, weight_decay: float = 1e-4,
                 dropout: float = 0.0, ensemble: int = 1, zc_proxies: Sequence[str] = (),
                 zc_params: dict[str, Any] | None = None, seed: int = 0,
                 num_threads: int | None = 1, device: str = "cpu") -> None:
        self.graph = graph
        self.hidden = hidden
        self.layers = layers
        self.pool = pool
        self.aggregation = aggregation
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.ensemble = ensemble
        self.zc_proxies = zc_proxies
        self.zc_params = zc_params
        self.seed = seed
        self.num_threads = num_threads
        self.device = device

    def has_std(self) -> bool:
        return int(self.ensemble) >= 2

    def _check_params(self) -> None:
        from naslab.predictors.encodings import GRAPH_KINDS

        check_choice("graph", self.graph, GRAPH_KINDS)
        check_choice("pool", self.pool, POOLS)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_choice("loss", self.loss, LOSSES)
        for name in ("hidden", "layers", "epochs", "batch_size", "ensemble"):
            check_int(name, getattr(self, name), minimum=1)
        check_float("lr", self.lr, minimum=0, strict_min=True, finite=True)
        check_float("weight_decay", self.weight_decay, minimum=0, finite=True)
        if not 0.0 <= float(self.dropout) < 1.0:
            from naslab.errors import ConfigError

            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")
        check_int("seed", self.seed, minimum=0)
        if isinstance(self.zc_proxies, str):
            from naslab.errors import ConfigError

            raise ConfigError(f"zc_proxies must be a list of proxy names, got {self.zc_proxies!r}")
        if self.num_threads is not None:
            check_int("num_threads", self.num_threads, minimum=1)
        from naslab.predictors._torch import check_device

        check_device(self.device)

    def _tensors(self, archs: list[Architecture]) -> tuple[Any, Any, Any, Any, Any]:
        import torch

        from naslab.predictors.encodings import graph_batch

        adj, x, mask = graph_batch(self.space_, archs, self.graph)
        af, ab = _norm_adjacency(adj, mask, self.aggregation)
        if self.zc_proxies:
            z = (self.zc_.features(archs) - self.z_mean_) / self.z_std_
        else:
            z = np.zeros((len(archs), 0), dtype=np.float32)
        dev = torch.device(self.device)
        af_t, ab_t, x_t, mask_t, z_t = (
            torch.from_numpy(np.ascontiguousarray(t, dtype=np.float32)).to(dev)
            for t in (af, ab, x, mask, z))
        return af_t, ab_t, x_t, mask_t, z_t

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        import torch

        from naslab.predictors._torch import pairwise_rank_loss, torch_session

        ys, self.y_mean_, self.y_std_ = standardize(y)
        if self.zc_proxies:
            from naslab.predictors.encodings import ZeroCostFeatures

            self.zc_ = ZeroCostFeatures(self.zc_proxies, self.zc_params)
            ztr = self.zc_.features(archs)
            self.z_mean_ = ztr.mean(axis=0)
            self.z_std_ = np.where(ztr.std(axis=0) > 1e-8, ztr.std(axis=0), 1.0)
        af, ab, x, mask, z = self._tensors(archs)
        target = torch.tensor(ys, dtype=torch.float32, device=af.device)
        n = len(archs)
        bs = min(int(self.batch_size), n)
        self.models_ = []
        for member in range(int(self.ensemble)):
            seed = derive_seed(int(self.seed), member) if self.ensemble > 1 else int(self.seed)
            with torch_session(seed, self.num_threads) as gen:
                model = _build_model(x.shape[-1], int(self.hidden), int(self.layers), self.pool,
                                     float(self.dropout), z.shape[1]).to(af.device)
                opt = torch.optim.Adam(model.parameters(), lr=float(self.lr),
                                       weight_decay=float(self.weight_decay), fused=True)
                sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, int(self.epochs))
                model.train()
                for _ in range(int(self.epochs)):
                    perm = torch.randperm(n, generator=gen).to(af.device)
                    for k in range(0, n, bs):
                        b = perm[k:k + bs]
                        if len(b) < 2:  # a one-item tail batch has no pair to rank
                            continue
                        pred = model(af[b], ab[b], x[b], mask[b], z[b])
                        t = target[b]
                        if self.loss == "mse":
                            loss = torch.mean((pred - t) ** 2)
                        elif self.loss == "rank":
                            loss = pairwise_rank_loss(pred, t)
                        else:
                            loss = pairwise_rank_loss(pred, t) + torch.mean((pred - t) ** 2)
                        opt.zero_grad()
                        loss.backward()
                        opt.step()
                    sched.step()
                model.eval()
            self.models_.append(model)

    def supports_update(self) -> bool:
        return True

    def _update(self, archs: list[Architecture], y: np.ndarray, n_new: int, seed: int,
                effort: float) -> None:
        """Warm start: every member keeps its weights and the scaling of the first fit; a fresh
        Adam runs ``ceil(effort * epochs * n_new / batch_size)`` steps on mini-batches of all
        rows, its learning rate decayed from ``lr`` to 0 over them (cosine, as in ``fit``)."""
        import torch

        from naslab.predictors._torch import torch_session

        steps = int(np.ceil(effort * int(self.epochs) * n_new / int(self.batch_size)))
        if steps == 0:
            return
        ys = (y - self.y_mean_) / self.y_std_
        af, ab, x, mask, z = self._tensors(archs)
        target = torch.tensor(ys, dtype=torch.float32, device=af.device)
        n = len(archs)
        bs = min(int(self.batch_size), n)
        for member, model in enumerate(self.models_):
            with torch_session(derive_seed(seed, member), self.num_threads) as gen:
                opt = torch.optim.Adam(model.parameters(), lr=float(self.lr),
                                       weight_decay=float(self.weight_decay), fused=True)
                sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
                model.train()
                done = 0
                while done < steps:
                    perm = torch.randperm(n, generator=gen).to(af.device)
                    for k in range(0, n, bs):
                        b = perm[k:k + bs]
                        if len(b) < 2:
                            continue
                        pred = model(af[b], ab[b], x[b], mask[b], z[b])
                        loss = self._loss(pred, target[b])
                        opt.zero_grad()
                        loss.backward()
                        opt.step()
                        sched.step()
                        done += 1
                        if done == steps:
                            break
                model.eval()

    def _loss(self, pred: Any, t: Any) -> Any:
        import torch

        from naslab.predictors._torch import pairwise_rank_loss

        if self.loss == "mse":
            return torch.mean((pred - t) ** 2)
        if self.loss == "rank":
            return pairwise_rank_loss(pred, t)
        return pairwise_rank_loss(pred, t) + torch.mean((pred - t) ** 2)

    def _member_predictions(self, archs: list[Architecture]) -> np.ndarray:
        import torch

        from naslab.predictors._torch import torch_session

        af, ab, x, mask, z = self._tensors(archs)
        out = np.empty((len(self.models_), len(archs)))
        with torch_session(0, self.num_threads), torch.no_grad():
            for i, model in enumerate(self.models_):
                parts = [model(af[k:k + 4096], ab[k:k + 4096], x[k:k + 4096], mask[k:k + 4096],
                               z[k:k + 4096]) for k in range(0, len(archs), 4096)]
                out[i] = torch.cat(parts).cpu().numpy()
        return out * self.y_std_ + self.y_mean_

    def _predict(self, archs: list[Architecture]) -> np.ndarray:
        return self._member_predictions(archs).mean(axis=0)

    def _predict_std(self, archs: list[Architecture]) -> np.ndarray:
        return self._member_predictions(archs).std(axis=0)
