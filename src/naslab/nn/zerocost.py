"""Zero-cost proxies: scores of an untrained network, computed from one forward/backward pass.

Each function takes any ``nn.Module`` (not modified: the proxies work on a deep copy unless
``inplace=True``) and returns one float, larger = predicted better. Definitions follow
Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS" (ICLR 2021) and their reference
code, which sums each per-weight saliency over the weights of every ``Conv2d`` and ``Linear``
layer:

* ``synflow`` (Tanaka et al. 2020): in float64, with every parameter replaced by its absolute
  value and BatchNorm layers removed (identity), ``R = sum(f(1))`` for an all-ones input of batch
  one; score ``sum |theta * dR/dtheta|``. Needs no data.
* ``snip`` (Lee et al. 2019): ``sum |theta * dL/dtheta|`` for the cross-entropy ``L`` of a batch.
* ``grad_norm``: sum over layers of the Euclidean norm of ``dL/dW``.
* ``grasp`` (Wang et al. 2020): ``sum -theta * (H g)`` with ``g = dL/dtheta`` and ``H`` the
  Hessian of ``L`` (a Hessian-gradient product by double backpropagation).
* ``fisher`` (Theis et al. 2018; Turner et al. 2020): per output channel ``k`` of each layer,
  ``0.5 * mean_n (sum_hw a * dL/da)^2`` of the layer's output activation ``a``; as the reference
  code does, each channel's value is counted once per weight of that channel (times
  ``C_in * k_h * k_w``) before summing.
* ``jacob_cov`` (Mellor et al. 2021 v1): the per-sample input Jacobians ``J`` of the summed
  output, their correlation matrix ``C``, score ``-sum(log(v + 1e-5) + 1 / (v + 1e-5))`` over
  the eigenvalues ``v`` of ``C`` (``eigvalsh``; round-off below zero clipped to zero).
* ``nwot`` (Mellor et al. 2021 v2, "NASWOT"): binary codes ``c`` (input > 0) of every ReLU for
  each sample, ``K = sum_relu (c c^T + (1 - c)(1 - c)^T)``, score ``log |det K|``. Which
  modules count (``hooks``): ``"relu"`` (default) every ``nn.ReLU``; ``"name"`` every module
  whose class name contains ``ReLU``, the NASWOT reference code's rule (and NASLib's), which
  also counts each ``ReLUConvBN`` block on its input, i.e. the ReLU inside every conv edge
  twice: scores ~5.6 % higher on NB201, the same ranking.

Data-dependent proxies run the network in training mode (BatchNorm uses batch statistics), as
the reference does. A network whose output does not depend on its input (e.g. every cell op
``none``) has an undefined ``jacob_cov`` / ``nwot`` (a singular matrix); those scores are
``-inf``, the lowest possible.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from naslab.errors import ConfigError

#: proxies that need no data (only the input shape)
DATA_FREE = ("synflow", "params", "flops")
#: proxies computed from a batch of labelled data
DATA_DEPENDENT = ("snip", "grad_norm", "grasp", "fisher", "jacob_cov", "nwot")


def _layers(net: nn.Module) -> list[nn.Conv2d | nn.Linear]:
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _weights(net: nn.Module) -> list[torch.Tensor]:
    """The weight tensors of every conv / linear layer (what the proxies sum over)."""
    return [cast(torch.Tensor, m.weight) for m in _layers(net)]


def _remove_batchnorm(net: nn.Module) -> None:
    for name, child in list(net.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(net, name, nn.Identity())
        else:
            _remove_batchnorm(child)


def _shape(input_shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 4 and shape[0] == 1:
        shape = shape[1:]
    if len(shape) != 3 or min(shape) < 1:
        raise ConfigError(f"input_shape must be (C, H, W), got {tuple(input_shape)!r}")
    return shape


def synflow(model: nn.Module, input_shape: Sequence[int] = (3, 32, 32), *,
            inplace: bool = False) -> float:
    """SynFlow score of ``model`` for inputs of ``input_shape`` = (C, H, W); needs no data.

    ``inplace=True`` works on ``model`` itself (faster; it is left in float64, with absolute
    weights and no BatchNorm: use it for throw-away networks only).
    """
    shape = _shape(input_shape)
    net = (model if inplace else copy.deepcopy(model)).to(torch.float64)
    _remove_batchnorm(net)
    net.train()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    dev = _device(net)
    net.zero_grad(set_to_none=True)
    out = net(torch.ones((1, *shape), dtype=torch.float64, device=dev))
    out.sum().backward()
    total = torch.zeros((), dtype=torch.float64, device=dev)
    with torch.no_grad():
        for w in _weights(net):
            if w.grad is not None:
                total += (w * w.grad).abs().sum()
    return float(total)


def _device(net: nn.Module) -> torch.device:
    p = next(net.parameters(), None)
    return torch.device("cpu") if p is None else p.device


def _prepare(model: nn.Module, x: torch.Tensor, y: torch.Tensor, inplace: bool
             ) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    if x.dim() != 4:
        raise ConfigError(f"proxy inputs must be a (batch, C, H, W) tensor, got shape {tuple(x.shape)}")
    if y.dim() != 1 or y.shape[0] != x.shape[0]:
        raise ConfigError(f"proxy targets must be a vector of {x.shape[0]} class labels, got shape "
                          f"{tuple(y.shape)}")
    if x.shape[0] < 2:
        raise ConfigError(f"data-dependent proxies need a batch of at least 2 examples, got {x.shape[0]}")
    net = model if inplace else copy.deepcopy(model)
    net.train()
    dev = _device(net)
    dtype = next(net.parameters()).dtype if next(net.parameters(), None) is not None else torch.float32
    return net, x.to(dev, dtype), y.to(dev)


def _weight_grads(net: nn.Module, x: torch.Tensor, y: torch.Tensor
                  ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, dL/dweight) of every conv / linear layer, cross-entropy on one batch."""
    net.zero_grad(set_to_none=True)
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    return [(w, w.grad) for w in _weights(net) if w.grad is not None]


def snip(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
         inplace: bool = False) -> float:
    """SNIP: ``sum |theta * dL/dtheta|`` over conv / linear weights, cross-entropy on (x, y)."""
    net, x, y = _prepare(model, x, y, inplace)
    grads = _weight_grads(net, x, y)
    with torch.no_grad():
        return float(sum(float((w * g).abs().sum()) for w, g in grads))


def grad_norm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
              inplace: bool = False) -> float:
    """Sum over conv / linear layers of ``||dL/dW||_2``."""
    net, x, y = _prepare(model, x, y, inplace)
    grads = _weight_grads(net, x, y)
    with torch.no_grad():
        return float(sum(float(g.norm()) for _, g in grads))


def grasp(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
          inplace: bool = False) -> float:
    """GraSP: ``sum -theta * (H g)`` over conv / linear weights."""
    net, x, y = _prepare(model, x, y, inplace)
    weights = _weights(net)
    loss = F.cross_entropy(net(x), y)
    g = torch.autograd.grad(loss, weights, allow_unused=True)
    loss = F.cross_entropy(net(x), y)
    g2 = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    pairs = [(w, a, b) for w, a, b in zip(weights, g, g2) if a is not None and b is not None]
    z = torch.zeros((), dtype=x.dtype, device=x.device)
    for _, a, b in pairs:
        z = z + (a.detach() * b).sum()
    if not z.requires_grad:  # no weight influences the loss (e.g. every cell op is none)
        return 0.0
    used = [w for w, _, _ in pairs]
    hg = torch.autograd.grad(z, used, allow_unused=True)
    with torch.no_grad():
        return float(sum(float((-w * h).sum()) for w, h in zip(used, hg) if h is not None))


def fisher(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
           inplace: bool = False) -> float:
    """Fisher (channel saliency of the conv / linear outputs), as the reference code sums it."""
    net, x, y = _prepare(model, x, y, inplace)
    total = [0.0]
    handles = []

    def make_hook(layer: nn.Conv2d | nn.Linear) -> Callable[..., None]:
        per_weight = int(np.prod(tuple(cast(torch.Tensor, layer.weight).shape[1:])))

        def fwd(_m: nn.Module, _inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            if not out.requires_grad:
                return
            act = out.detach()

            def bwd(grad: torch.Tensor) -> None:
                g = act * grad
                if g.dim() > 2:
                    g = g.sum(dim=tuple(range(2, g.dim())))
                total[0] += float(g.pow(2).mean(0).mul(0.5).sum()) * per_weight

            out.register_hook(bwd)

        return fwd

    for m in _layers(net):
        handles.append(m.register_forward_hook(make_hook(m)))
    try:
        net.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
    finally:
        for h in handles:
            h.remove()
    return total[0]


def jacob_cov(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
              inplace: bool = False) -> float:
    """Jacobian covariance score (``-inf`` when the output does not depend on the input)."""
    net, x, _ = _prepare(model, x, y, inplace)
    x = x.clone().requires_grad_(True)
    net.zero_grad(set_to_none=True)
    out = net(x)
    out.backward(torch.ones_like(out))
    if x.grad is None:
        return -math.inf
    jac = x.grad.detach().reshape(x.shape[0], -1).double().cpu().numpy()
    if not np.all(np.std(jac, axis=1) > 0):
        return -math.inf
    corr = np.corrcoef(jac)
    if not np.all(np.isfinite(corr)):
        return -math.inf
    v = np.clip(np.linalg.eigvalsh(corr), 0.0, None)
    k = 1e-5
    return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


#: ``nwot``'s rules for which modules' inputs are coded (see the module docstring)
NWOT_HOOKS = ("relu", "name")


def nwot(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
         inplace: bool = False, hooks: str = "relu") -> float:
    """NASWOT: ``log |det K|`` of the ReLU activation-pattern kernel (``-inf`` if singular).

    ``hooks``: ``"relu"`` codes the input of every ``nn.ReLU``; ``"name"`` that of every
    module whose class name contains ``ReLU`` (the reference code's rule)."""
    if hooks not in NWOT_HOOKS:
        from naslab.errors import ConfigError

        raise ConfigError(f"nwot hooks must be 'relu' (every nn.ReLU) or 'name' (every module "
                          f"whose class name contains 'ReLU', as the NASWOT reference code), "
                          f"got {hooks!r}")
    net, x, _ = _prepare(model, x, y, inplace)
    n = x.shape[0]
    K = torch.zeros((n, n), dtype=torch.float64)

    def pre(_m: nn.Module, inp: tuple[torch.Tensor, ...]) -> None:
        c = (inp[0].detach().reshape(n, -1) > 0).to(torch.float64).cpu()
        K.add_(c @ c.t()).add_((1.0 - c) @ (1.0 - c).t())

    coded: list[nn.Module] = [
        m for m in net.modules()
        if (isinstance(m, nn.ReLU) if hooks == "relu" else "ReLU" in type(m).__name__)]
    handles = [m.register_forward_pre_hook(pre) for m in coded]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    sign, logdet = torch.linalg.slogdet(K)
    return float(logdet) if float(sign) != 0 else -math.inf


def params(model: nn.Module, input_shape: Sequence[int] = (3, 32, 32), *,
           inplace: bool = False) -> float:
    """Trainable parameters in millions (``input_shape`` unused; for a uniform signature)."""
    from naslab.nn.counting import count_params

    return count_params(model)


def flops(model: nn.Module, input_shape: Sequence[int] = (3, 32, 32), *,
          inplace: bool = False) -> float:
    """MFLOPs of one forward pass (NB201 convention: conv and linear layers)."""
    from naslab.nn.counting import count_flops

    return count_flops(model, _shape(input_shape))


#: proxy name -> function; data-free ones take (model, input_shape), the others (model, x, y)
PROXIES: dict[str, Callable[..., float]] = {
    "synflow": synflow, "params": params, "flops": flops,
    "snip": snip, "grad_norm": grad_norm, "grasp": grasp, "fisher": fisher,
    "jacob_cov": jacob_cov, "nwot": nwot,
}
