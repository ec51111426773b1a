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
