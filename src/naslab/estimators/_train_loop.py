"""The training loop behind :class:`~naslab.estimators.training.TrainingEstimator` (imports torch).

Kept lean so that its throughput matches a plain hand-written PyTorch loop
(``benchmarks/training.py``): the whole dataset lives on the device as one tensor, a batch is an
index into it, augmentation runs on the batch tensor, and losses / accuracies are summed on the
device and read once per epoch.

Randomness: the network comes from its space's builder (:func:`naslab.nn.build_network`) with
weights drawn from a CPU ``torch.Generator`` seeded ``derive_seed(seed, 1)``; shuffling and
augmentation draw from a second one seeded ``derive_seed(seed, 2)``. torch's global RNG is
never used. Same seed, same numbers on CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from naslab.errors import ConfigError
from naslab.nn.networks import build_network
from naslab.nn.protocol import Protocol, TrainResult, lr_at
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture

__all__ = ["build_model", "lr_at", "augment_batch", "evaluate_model", "train"]


def build_model(arch: Architecture, dataset: Any, protocol: Protocol, seed: int) -> nn.Module:
    """``arch``'s network (its space's builder) with the dataset's channels and classes and
    the protocol's ``C`` / ``N``; weights from a generator seeded ``derive_seed(seed, 1)``."""
    gen = torch.Generator(device="cpu")
    gen.manual_seed(derive_seed(seed, 1))
    return build_network(arch, generator=gen, C=protocol.C, N=protocol.N,
                         num_classes=dataset.num_classes, in_channels=dataset.input_shape[0])


def augment_batch(x: torch.Tensor, protocol: Protocol, gen: torch.Generator) -> torch.Tensor:
    """Random crop (zero padding ``crop_padding``) and/or horizontal flip of a batch."""
    mode = protocol.augment
    if mode == "none":
        return x
    n, _c, h, w = x.shape
    if mode in ("crop", "crop_flip"):
        pad = protocol.crop_padding if protocol.crop_padding is not None else max(h // 8, 1)
        if pad > 0:
            xp = F.pad(x, (pad, pad, pad, pad))
            oy = torch.randint(0, 2 * pad + 1, (n,), generator=gen).to(x.device)
            ox = torch.randint(0, 2 * pad + 1, (n,), generator=gen).to(x.device)
            rows = (oy[:, None] + torch.arange(h, device=x.device)[None, :])  # (n, h)
            cols = (ox[:, None] + torch.arange(w, device=x.device)[None, :])  # (n, w)
            bi = torch.arange(n, device=x.device)[:, None, None]
            # xp[b, :, rows[b, i], cols[b, j]] -> (n, h, w, c)
            x = xp.permute(0, 2, 3, 1)[bi, rows[:, :, None], cols[:, None, :]]
            x = x.permute(0, 3, 1, 2).contiguous()
    if mode in ("flip", "crop_flip"):
        flip = (torch.rand(n, generator=gen) < 0.5).to(x.device)
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
    return x


@torch.no_grad()
def evaluate_model(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                   batch_size: int) -> tuple[float, float]:
    """(accuracy in percent, mean cross-entropy) of ``model`` in eval mode."""
    model.eval()
    loss = torch.zeros((), device=x.device, dtype=torch.float64)
    correct = torch.zeros((), device=x.device, dtype=torch.int64)
    for i in range(0, len(y), batch_size):
        out = model(x[i:i + batch_size])
        yb = y[i:i + batch_size]
        loss += F.cross_entropy(out, yb, reduction="sum").double()
        correct += (out.argmax(1) == yb).sum()
    n = len(y)
    return 100.0 * float(correct) / n, float(loss) / n


def _tensors(dataset: Any, device: torch.device) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    out = {}
    for split in ("train", "val", "test"):
        x = np.asarray(getattr(dataset, f"x_{split}"), dtype=np.float32)
        y = np.asarray(getattr(dataset, f"y_{split}"), dtype=np.int64)
        out[split] = (torch.from_numpy(np.array(x)).to(device),
                      torch.from_numpy(np.array(y)).to(device))
    return out


def train(arch: Architecture, dataset: Any, protocol: Protocol, *, epochs: int | None = None,
          seed: int = 0, device: str = "cpu", keep_model: bool = False,
          on_epoch: Callable[[dict[str, float]], None] | None = None,
          curves: bool = False) -> TrainResult:
    """Train ``arch``'s network on ``dataset`` for ``epochs`` (default: the protocol's).

    ``curves=True`` also evaluates the validation split after every epoch (``val_acc`` /
    ``val_loss`` in each history record, measured outside ``time_s``); evaluation draws no
    random numbers and leaves the weights alone, so the trained network and the final metrics
    equal those of a run without curves.
    """
    p = protocol
    E = p.epochs if epochs is None else int(epochs)
    if E < 1:
        raise ConfigError(f"epochs must be >= 1, got {epochs!r}")
    schedule_epochs = E if p.anneal == "fidelity" else max(p.epochs, E)
    dev = torch.device(device)
    data = _tensors(dataset, dev)
    x_tr, y_tr = data["train"]
    n = len(y_tr)
    model = build_model(arch, dataset, p, seed).to(dev)
    # weight decay on every parameter (BatchNorm included), as NB201
    opt = torch.optim.SGD(model.parameters(), lr=p.lr, momentum=p.momentum, nesterov=p.nesterov,
                          weight_decay=p.weight_decay)
    criterion = nn.CrossEntropyLoss(label_smoothing=p.label_smoothing)
    gen = torch.Generator(device="cpu")
    gen.manual_seed(derive_seed(seed, 2))
    bs = p.batch_size
    steps = math.ceil(n / bs)
    history: list[dict[str, float]] = []
    train_s = 0.0
    cur_lr = float("nan")
    for epoch in range(E):
        t_ep = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=gen).to(dev)
        losses, hits = [], []
        for i in range(steps):
            idx = perm[i * bs:(i + 1) * bs]
            xb = augment_batch(x_tr[idx], p, gen)
            yb = y_tr[idx]
            lr = lr_at(p, epoch, i / steps, schedule_epochs)
            if lr != cur_lr:  # changes once per epoch (every iteration during warm-up)
                for g in opt.param_groups:
                    g["lr"] = lr
                cur_lr = lr
            out = model(xb)
            loss = criterion(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            # statistics stay on the device; read once per epoch
            losses.append(loss.detach() * len(yb))
            hits.append((out.detach().argmax(1) == yb).sum())
        loss_sum = torch.stack(losses).double().sum()
        correct = torch.stack(hits).sum()
        tr_loss, tr_acc = float(loss_sum) / n, 100.0 * float(correct) / n
        if not math.isfinite(tr_loss):
            raise FloatingPointError(f"training diverged at epoch {epoch + 1} (loss {tr_loss})")
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        train_s += time.perf_counter() - t_ep
        rec = {"epoch": epoch + 1, "train_loss": tr_loss, "train_acc": tr_acc, "lr": lr,
               "time_s": train_s}
        if curves:
            rec["val_acc"], rec["val_loss"] = evaluate_model(model, *data["val"],
                                                             p.eval_batch_size)
        history.append(rec)
        if on_epoch is not None:
            on_epoch(rec)
    val_acc, val_loss = evaluate_model(model, *data["val"], p.eval_batch_size)
    test_acc, test_loss = evaluate_model(model, *data["test"], p.eval_batch_size)
    from naslab.nn.counting import count_flops, count_params

    metrics = {"train_acc": history[-1]["train_acc"], "train_loss": history[-1]["train_loss"],
               "val_acc": val_acc, "val_loss": val_loss, "test_acc": test_acc,
               "test_loss": test_loss, "params_m": count_params(model),
               "flops_m": count_flops(model, dataset.input_shape), "train_time_s": train_s,
               "epochs": float(E)}
    return TrainResult(metrics, train_s, E, history, model if keep_model else None)
