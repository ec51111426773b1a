"""Parameter and FLOP counts of a built network, in NB201's units and conventions.

``count_params`` = trainable parameters in millions (BatchNorm affine weights included, running
statistics excluded), the ``params`` of the NB201 / NATS-Bench records.

``count_flops`` reproduces the ``flop`` field of the NB201 / NATS-Bench records (checked
exactly against the official records of archs 0, 11 and 284 on all three datasets): one
forward pass of a batch of one, a multiply-accumulate counted as one FLOP, in millions, with
these layers counted:

* ``Conv2d``: ``out_H * out_W * k_h * k_w * C_in * C_out / groups`` (+ ``out_H * out_W * C_out``
  with a bias);
* ``Linear``: ``in * out`` (+ ``out`` with a bias).

NB201's counter registers a pooling hook but leaves pooling layers out of its sum, so the
published FLOPs count pooling as zero (a 3x3 average pool on every edge of a C=16, N=5
network would add 1.29 MFLOPs at 32x32). ``convention="full"`` adds pooling
(``C * out_H * out_W * k * k`` for ``AvgPool2d`` / ``MaxPool2d``). BatchNorm, activations,
additions, the ``none`` op and global (adaptive) pooling count zero in both conventions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from naslab.errors import ConfigError


def count_params(model: nn.Module) -> float:
    """Trainable parameters of ``model`` in millions."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6


def _conv_flops(m: nn.Conv2d, out: torch.Tensor) -> float:
    n, _, h, w = out.shape
    kh, kw = m.kernel_size
    f = n * h * w * kh * kw * m.in_channels * m.out_channels / m.groups
    if m.bias is not None:
        f += n * h * w * m.out_channels
    return float(f)


def _linear_flops(m: nn.Linear, out: torch.Tensor) -> float:
    rows = out.numel() // m.out_features
    f = rows * m.in_features * m.out_features
    if m.bias is not None:
        f += rows * m.out_features
    return float(f)


def _pool_flops(m: nn.AvgPool2d | nn.MaxPool2d, out: torch.Tensor) -> float:
    k = m.kernel_size
    kk = k * k if isinstance(k, int) else k[0] * k[1]
    return float(out.numel() * kk)


FLOP_CONVENTIONS = ("nb201", "full")


def count_flops(model: nn.Module, input_shape: Sequence[int], *,
                convention: str = "nb201") -> float:
    """MFLOPs of one forward pass of ``model`` on a single input of ``input_shape``.

    ``input_shape`` is ``(C, H, W)`` (a batch of one is used) or ``(1, C, H, W)``. The model is
    run once in eval mode on zeros under ``torch.no_grad()``; its training mode is restored.
    ``convention``: ``"nb201"`` (the published figures: convolutions and linear layers) or
    ``"full"`` (pooling layers too).
    """
    if convention not in FLOP_CONVENTIONS:
        raise ConfigError(f"count_flops convention must be one of {FLOP_CONVENTIONS}, got "
                          f"{convention!r}")
    pools = convention == "full"
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 3:
        shape = (1, *shape)
    if len(shape) != 4 or shape[0] != 1 or min(shape) < 1:
        raise ConfigError(f"count_flops input_shape must be (C, H, W) or (1, C, H, W), got "
                          f"{tuple(input_shape)!r}")
    total = [0.0]

    def hook(m: nn.Module, _inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        if isinstance(m, nn.Conv2d):
            total[0] += _conv_flops(m, out)
        elif isinstance(m, nn.Linear):
            total[0] += _linear_flops(m, out)
        elif pools and isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)):
            total[0] += _pool_flops(m, out)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear, nn.AvgPool2d, nn.MaxPool2d))]
    was_training = model.training
    try:
        p = next(model.parameters(), None)
        x = torch.zeros(shape, device=None if p is None else p.device,
                        dtype=torch.float32 if p is None else p.dtype)
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return total[0] / 1e6


#: bump when what :func:`flops_column` computes changes meaning (invalidates cached files)
FLOPS_TABLE_VERSION = 1


def flops_column(space: Any, *, input_shape: Sequence[int], convention: str = "nb201",
                 verify: int = 32, seed: int = 0, cache: bool = True,
                 **builder: Any) -> tuple[Any, dict[str, Any]]:
    """MFLOPs (:func:`count_flops`) of every architecture of a finite ``space``, in index
    order, for networks built by the space's builder with ``builder`` options; and how it was
    computed.

    Counting 15,625 networks one by one takes minutes, so the column is first assumed
    additive over the space's decisions (each decision's option adds its own FLOPs, as in a
    cell space where every edge's op is computed on its own): the all-first-options network
    plus, per decision and option, the difference that option makes (1 + sum(options - 1)
    counts). ``verify`` random architectures are then counted directly; if any differs (1e-9
    relative), every architecture is counted directly instead. The info says which
    (``method``: ``additive`` | ``direct``, ``verified_on``, ``max_rel_error``). The result is
    cached as ``.npz`` in the cache directory (``$NASLAB_CACHE``), keyed by the space, the
    options and this function's version.
    """
    import hashlib
    import json

    import numpy as np

    from naslab.benchmarks.datadir import cache_dir
    from naslab.nn.networks import build_network

    shape = [int(s) for s in input_shape]
    key_src = json.dumps({"space": space.name, "n": len(space), "input_shape": shape,
                          "convention": convention, "builder": builder, "verify": verify,
                          "seed": seed, "version": FLOPS_TABLE_VERSION},
                         sort_keys=True, default=str)
    key = hashlib.blake2b(key_src.encode(), digest_size=8).hexdigest()
    path = cache_dir() / f"flops-{space.name}-{key}.npz"
    if cache and path.exists():
        with np.load(path, allow_pickle=False) as z:
            return z["flops"].copy(), json.loads(str(z["info"]))

    def count(arch: Any) -> float:
        gen = torch.Generator().manual_seed(0)
        return count_flops(build_network(arch, generator=gen, **builder), shape,
                           convention=convention)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny single-image passes: one thread is fastest
    try:
        col, info = _flops_column(space, shape, convention, verify, seed, builder, count)
    finally:
        torch.set_num_threads(threads)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, flops=col, info=np.array(json.dumps(info)))
        tmp.replace(path)
    return col, info


def _flops_column(space: Any, shape: list[int], convention: str, verify: int, seed: int,
                  builder: dict[str, Any], count: Any) -> tuple[Any, dict[str, Any]]:
    import numpy as np

    n = len(space)
    decisions = space.decisions
    info: dict[str, Any] = {"space": space.name, "input_shape": shape, "builder": builder,
                            "convention": convention}
    col = None
    if decisions:
        base_idx = [0] * len(decisions)
        base = count(space.from_decision_indices(base_idx))
        delta = []
        for d, dec in enumerate(decisions):
            row = [0.0]
            for o in range(1, dec.size):
                idx = list(base_idx)
                idx[d] = o
                row.append(count(space.from_decision_indices(idx)) - base)
            delta.append(row)
        table = np.array([space.decision_indices(space.from_index(i)) for i in range(n)])
        col = base + sum(np.asarray(delta[d])[table[:, d]] for d in range(len(decisions)))
        rng = np.random.default_rng(seed)
        picks = rng.choice(n, size=min(verify, n), replace=False)
        err = max((abs(count(space.from_index(int(i))) - col[int(i)]) / max(abs(col[int(i)]), 1e-12)
                   for i in picks), default=0.0)
        info.update(method="additive", verified_on=int(picks.size), max_rel_error=float(err),
                    counts=1 + sum(dec.size - 1 for dec in decisions) + int(picks.size))
        if err > 1e-9:
            col = None
            info["additive_rejected"] = float(err)
    if col is None:
        col = np.array([count(space.from_index(i)) for i in range(n)])
        info.update(method="direct", counts=n)
    return np.asarray(col, dtype=np.float64), info
