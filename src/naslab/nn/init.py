"""Weight initialisation from an explicit ``torch.Generator`` (imports torch).

:func:`init_parameters` draws PyTorch's default initialisation of every layer from a given
generator, so building a network never touches torch's global RNG (no ``fork_rng``).
The schemes are those of the layers' own ``reset_parameters`` (torch 2.x):

* ``Conv*d`` / ``ConvTranspose*d`` / ``Linear``: weight ``kaiming_uniform_(a=sqrt(5))``, i.e.
  ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``; bias ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``;
* ``Bilinear``: weight and bias ``U(-1/sqrt(in1_features), 1/sqrt(in1_features))``;
* ``Embedding``: ``N(0, 1)``, the padding row zero;
* BatchNorm / InstanceNorm / LayerNorm / GroupNorm / RMSNorm: weight 1, bias 0, running statistics reset
  (no randomness).

Modules are visited in registration order (``module.modules()``), which for naslab's networks
is their construction order: a network built and initialised from a generator seeded ``s``
holds exactly the weights that default construction after ``torch.manual_seed(s)`` gives
(tested). A module with parameters or buffers of its own that none of these covers must define
``reset_parameters_from(generator)``; otherwise :func:`init_parameters` raises ``ConfigError``
rather than leave memory uninitialised.

:func:`materialize` builds a module on the meta device (no memory, no initialisation), allocates
it on the CPU and initialises it with :func:`init_parameters`: what every network builder of
:mod:`naslab.nn.networks` does. Weights are drawn on the CPU, so they do not depend on the
device the caller moves the network to.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import nn
from torch.nn import init

from naslab.errors import ConfigError

M = TypeVar("M", bound=nn.Module)

def _fan_in_uniform(t: torch.Tensor, fan_in: int, generator: torch.Generator | None) -> None:
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    init.uniform_(t, -bound, bound, generator=generator)


def _init_module(m: nn.Module, generator: torch.Generator | None) -> None:
    """Initialise ``m``'s own parameters and buffers (not its children's)."""
    own = getattr(m, "reset_parameters_from", None)
    if callable(own):
        own(generator)
    elif isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
        w = m.weight
        init.kaiming_uniform_(w, a=math.sqrt(5), generator=generator)
        if m.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(w)
            _fan_in_uniform(m.bias, fan_in, generator)
    elif isinstance(m, nn.Bilinear):
        fan_in = m.weight.size(1)
        _fan_in_uniform(m.weight, fan_in, generator)
        if m.bias is not None:
            _fan_in_uniform(m.bias, fan_in, generator)
    elif isinstance(m, nn.Embedding):
        init.normal_(m.weight, generator=generator)
        if m.padding_idx is not None:
            m.weight[m.padding_idx].fill_(0)
    elif isinstance(m, (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm,
                        nn.RMSNorm)):
        m.reset_parameters()  # ones / zeros and running statistics: no random numbers
    else:
        names = [n for n, _ in m.named_parameters(recurse=False)] + \
            [n for n, _ in m.named_buffers(recurse=False)]
        if names:
            raise ConfigError(
                f"init_parameters cannot initialise {type(m).__name__} (its own parameters / "
                f"buffers: {', '.join(names)}); give the module a "
                f"reset_parameters_from(generator) method")


def init_parameters(module: nn.Module, generator: torch.Generator | None) -> None:
    """Initialise every parameter and buffer of ``module`` in place with PyTorch's default
    schemes, drawing from ``generator`` (``None``: torch's global generator, as the layers'
    own ``reset_parameters`` would)."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ConfigError(f"generator must be a torch.Generator or None, got "
                          f"{type(generator).__name__}")
    with torch.no_grad():
        for m in module.modules():
            _init_module(m, generator)


def materialize(factory: Callable[[], M], generator: torch.Generator | None) -> M:
    """``factory()`` built on the meta device, allocated on the CPU and initialised from
    ``generator`` with :func:`init_parameters` (the global RNG is not used unless
    ``generator`` is None).

    ``factory`` must keep every tensor of the module as a parameter or buffer (a plain tensor
    attribute created in ``__init__`` would stay on the meta device).
    """
    with torch.device("meta"):
        module = factory()
    _allocate(module)
    init_parameters(module, generator)
    return module


def _allocate(module: nn.Module) -> None:
    """Replace every meta parameter / buffer by uninitialised CPU memory of the same shape and
    dtype (what ``Module.to_empty`` does, about 3x faster for networks of many small layers, and
    keeping parameters shared between modules shared)."""
    params: dict[int, nn.Parameter] = {}
    buffers: dict[int, torch.Tensor] = {}
    for m in module.modules():
        for k, p in m._parameters.items():
            if p is None:
                continue
            if id(p) not in params:
                if type(p) is not nn.Parameter:  # e.g. lazy modules' UninitializedParameter
                    raise ConfigError(f"cannot materialise parameter {k!r} of type "
                                      f"{type(p).__name__} in {type(m).__name__}")
                params[id(p)] = nn.Parameter(torch.empty_like(p, device="cpu"), p.requires_grad)
            m._parameters[k] = params[id(p)]
        for k, b in m._buffers.items():
            if b is None:
                continue
            if id(b) not in buffers:
                buffers[id(b)] = torch.empty_like(b, device="cpu")
            m._buffers[k] = buffers[id(b)]
