"""Torch helpers shared by the neural predictors (imported only inside fit/predict)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def torch_session(seed: int, num_threads: int | None) -> Iterator[torch.Generator]:
    """Seeded, isolated torch work: the global torch RNG is forked (restored afterwards), the
    thread count is set to ``num_threads`` for the duration (tiny models train fastest and
    bit-reproducibly on one thread), and a ``torch.Generator`` seeded with ``seed`` is yielded
    for data shuffling."""
    prev = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        if num_threads is not None and num_threads != prev:
            torch.set_num_threads(int(num_threads))
        try:
            yield torch.Generator().manual_seed(int(seed))
        finally:
            if num_threads is not None and num_threads != prev:
                torch.set_num_threads(prev)


def check_device(device: object) -> str:
    """``device`` if it is ``cpu`` or an available ``cuda[:N]``; ConfigError otherwise."""
    from naslab.errors import ConfigError

    if not isinstance(device, str) or device.split(":")[0] not in ("cpu", "cuda"):
        raise ConfigError(f"device must be 'cpu' or 'cuda' (or 'cuda:N'), got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but torch sees no CUDA device "
                          f"(torch {torch.__version__}); use device='cpu'")
    return device


def pairwise_rank_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean logistic loss over all ordered pairs with different targets:
    ``log(1 + exp(-(p_i - p_j)))`` for every pair with ``y_i > y_j``."""
    diff = pred.unsqueeze(1) - pred.unsqueeze(0)
    better = target.unsqueeze(1) > target.unsqueeze(0)
    if not bool(better.any()):
        return pred.sum() * 0.0
    return torch.nn.functional.softplus(-diff[better]).mean()
