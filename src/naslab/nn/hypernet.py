"""SMASH's hypernetwork: the convolution weights of a supernet's cells generated from the
architecture's encoding (Brock et al. 2018; imports torch).

:class:`ArchHyperNet` maps an architecture to the weights of every convolution on its path::

    enc  = one-hot of the path, per cell and edge          (n_cells * edges * ops)
    z    = tanh(W2 relu(W1 enc + b1) + b2)                  (embed_dim)
    W_t  = reshape(B_t + U_t z)   for each conv t on the path   (the conv's weight shape)

The encoder is shared; every target convolution ``t`` (a cell, an edge, an op, a parameter
name) has its own linear output head ``(U_t, B_t)``. Only the heads of the ops on the path are
evaluated. Attached to a supernet (:meth:`~naslab.nn.supernet.CellSupernet.attach_hypernet`),
the single-path forward uses the generated weights in place of the ops' own (SMASH's
``generated=`` hook), and so do BN recalibration, :meth:`extract`, checkpoints and the
supernet estimator: a SMASH checkpoint is a supernet checkpoint whose config names its
hypernetwork.

Where we differ from SMASH: SMASH's hypernetwork is a convolutional network reading a 3-D
"memory-bank" encoding of a DenseNet-like architecture and emitting weight slices; ours reads
the one-hot path of a cell space and has a linear head per convolution (an MLP with a linear
output layer, whose bias ``B_t`` is a base weight that every architecture shares). Both
generate every convolution weight of the cells from the architecture encoding; BN layers, the
skeleton (stem, reduction blocks, classifier) are ordinary trained weights, as in SMASH.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import nn

from naslab.errors import ConfigError, check_int
from naslab.nn.supernet import CellSupernet, MixedEdge

__all__ = ["ArchHyperNet", "HYPERNET_KIND", "build_hypernet"]

#: the ``kind`` recorded in a supernet config's ``hypernet`` section
HYPERNET_KIND = "smash-linear"


class _Head(nn.Module):
    """One target's linear output head: ``W = bias + weight @ z`` (flattened)."""

    def __init__(self, numel: int, embed_dim: int, fan_in: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(numel, embed_dim))
        self.bias = nn.Parameter(torch.empty(numel))
        self.fan_in = fan_in

    def reset_parameters_from(self, generator: torch.Generator | None) -> None:
        """``bias`` as the convolution's own default initialisation (``U(+-1/sqrt(fan_in))``),
        ``weight`` such that the arch-dependent part starts at half that scale."""
        bound = 1.0 / math.sqrt(max(self.fan_in, 1))
        with torch.no_grad():
            self.bias.uniform_(-bound, bound, generator=generator)
            k = 0.5 * bound / math.sqrt(self.weight.shape[1])
            self.weight.uniform_(-k * math.sqrt(3), k * math.sqrt(3), generator=generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.addmv(self.bias, self.weight, z)


class ArchHyperNet(nn.Module):
    """Generates the convolution weights of ``supernet``'s cells from an architecture (see the
    module docstring). ``embed_dim``: size of the architecture embedding ``z``; ``hidden``:
    width of the encoder's hidden layer."""

    def __init__(self, supernet: CellSupernet, *, embed_dim: int = 16, hidden: int = 64) -> None:
        super().__init__()
        self.embed_dim = check_int("embed_dim", embed_dim, minimum=1)
        self.hidden = check_int("hidden", hidden, minimum=1)
        self.n_cells, self.n_edges = supernet.n_cells, supernet.n_edges
        self.n_ops = len(supernet.op_names)
        n_in = self.n_cells * self.n_edges * self.n_ops
        self.encoder = nn.Sequential(nn.Linear(n_in, self.hidden), nn.ReLU(),
                                     nn.Linear(self.hidden, self.embed_dim), nn.Tanh())
        #: (cell, edge, op) -> [(parameter name, head key, shape)]
        self.targets: dict[tuple[int, int, int], list[tuple[str, str, torch.Size]]] = {}
        heads: dict[str, nn.Module] = {}
        for c, cell in enumerate(supernet.search_cells):
            for e, edge in enumerate(cell.edges):
                for k, op in enumerate(cast(MixedEdge, edge).ops):
                    for name, mod in op.named_modules():
                        w = getattr(mod, "weight", None)
                        if not isinstance(mod, nn.Conv2d) or not isinstance(w, torch.Tensor):
                            continue
                        pname = f"{name}.weight" if name else "weight"
                        key = f"c{c}_e{e}_k{k}_{pname.replace('.', '_')}"
                        fan_in = int(w.shape[1] * w[0, 0].numel())
                        heads[key] = _Head(w.numel(), self.embed_dim, fan_in)
                        self.targets.setdefault((c, e, k), []).append((pname, key, w.shape))
        self.heads = nn.ModuleDict(heads)

    def config(self) -> dict[str, Any]:
        """What rebuilds this hypernetwork on a supernet of the same config."""
        return {"kind": HYPERNET_KIND, "embed_dim": self.embed_dim, "hidden": self.hidden}

    def encode(self, paths: Sequence[Sequence[int]]) -> torch.Tensor:
        """The one-hot encoding of one path per cell (op indices per edge)."""
        first = cast(nn.Linear, self.encoder[0])
        dev = first.weight.device
        enc = torch.zeros(self.n_cells, self.n_edges, self.n_ops, device=dev)
        idx = torch.as_tensor([list(p) for p in paths], dtype=torch.long, device=dev)
        enc.scatter_(2, idx.unsqueeze(-1), 1.0)
        return enc.flatten()

    def generate(self, paths: Sequence[Sequence[int]]
                 ) -> dict[tuple[int, int], dict[str, torch.Tensor]]:
        """``(cell, edge) -> {parameter name: weight}`` for the convolutions on ``paths`` (one
        path per cell), what the supernet's ``generated=`` takes."""
        if len(paths) != self.n_cells:
            raise ConfigError(f"the hypernetwork needs one path per cell ({self.n_cells}), got "
                              f"{len(paths)}")
        z = self.encoder(self.encode(paths))
        out: dict[tuple[int, int], dict[str, torch.Tensor]] = {}
        for c, path in enumerate(paths):
            for e, k in enumerate(path):
                for pname, key, shape in self.targets.get((c, e, int(k)), ()):
                    out.setdefault((c, e), {})[pname] = self.heads[key](z).view(shape)
        return out


def build_hypernet(supernet: CellSupernet, config: dict[str, Any]) -> ArchHyperNet:
    """The hypernetwork a supernet config's ``hypernet`` section describes (weights to be
    loaded; built on the CPU without touching the global RNG)."""
    if not isinstance(config, dict) or config.get("kind") != HYPERNET_KIND:
        raise ConfigError(f"unknown hypernetwork config {config!r}; this naslab builds kind "
                          f"{HYPERNET_KIND!r}")
    from naslab.nn.init import materialize

    gen = torch.Generator(device="cpu")
    gen.manual_seed(0)  # every weight is overwritten by the checkpoint
    return materialize(lambda: ArchHyperNet(supernet, embed_dim=config["embed_dim"],
                                            hidden=config["hidden"]), gen)
