"""Supernets over the MobileNet block space (imports torch).

:class:`MixedBlockSupernet` -- ProxylessNAS / FBNet's over-parameterised network: the
skeleton of :class:`~naslab.nn.mobilenet.MobileNetNetwork` (stem, fixed first block, head)
with, at every block slot of the space, one :class:`MixedBlock` holding a separate MBConv for
every kernel x expansion option (no weight sharing between options) and, on skippable slots,
the zero op ``skip`` (the slot passes its input through: the residual branch is zero).

Forward modes (``supernet(x, ...)``, one of):

* ``arch=`` / ``path=``: a single path (an Architecture of the space, or one option index per
  slot); exactly the stand-alone network of that arch (:meth:`MixedBlockSupernet.extract`
  copies the chosen ops' weights into a :class:`~naslab.nn.mobilenet.MobileNetNetwork`);
* ``weights=`` a ``(n_slots, max_options)`` tensor: slot output ``sum_k w[s, k] * op_k(x)``
  (``op_skip(x) = x``), over the options listed in ``active[s]`` (default: those whose weight
  is not zero) -- FBNet's Gumbel-softmax mixture (every option active), ProxylessNAS's binary
  gates with two sampled paths (``active`` = the two, ``weights`` one-hot: one path's value,
  gradients for both gates).

The builders are registered as kind ``block_supernet`` (:mod:`naslab.nn.supernets`), so that
one-shot methods find a space's block supernet by the space's name without naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import torch
from torch import nn

from naslab.errors import ConfigError, InvalidArchitectureError
from naslab.nn.mobilenet import MBConv, MobileNetNetwork, NetConfig, net_config
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.mobilenet import DECISIONS, MAX_DEPTH, SKIP, MobileNetSpace, block_op

__all__ = ["MixedBlock", "MixedBlockSupernet", "recalibrate_bn"]


class MixedBlock(nn.Module):
    """Every option of one block slot: an MBConv per kernel x expansion, ``skip`` = identity."""

    def __init__(self, options: Sequence[str], c_in: int, c_out: int, stride: int, *, act: str,
                 se: bool, divisor: int, candidates: Sequence[str] | None = None) -> None:
        super().__init__()
        self.options = tuple(options)
        mods: list[nn.Module] = []
        self.module_of: list[int | None] = []
        for op in self.options:
            ke = block_op(op)
            if ke is not None and candidates is not None and op not in candidates:
                self.module_of.append(-1)  # not built: never on a path
                continue
            if ke is None:
                if not (stride == 1 and c_in == c_out):
                    raise ConfigError(f"option {SKIP!r} needs a slot with stride 1 and equal "
                                      f"widths")
                self.module_of.append(None)
                continue
            self.module_of.append(len(mods))
            mods.append(MBConv(c_in, c_out, ke[0], ke[1], stride, act=act, se=se,
                               divisor=divisor))
        self.ops = nn.ModuleList(mods)

    def run(self, x: torch.Tensor, k: int) -> torch.Tensor:
        m = self.module_of[k]
        if m is None:
            return x
        if m < 0:
            raise InvalidArchitectureError(f"option {self.options[k]!r} is not a candidate of "
                                           f"this supernet")
        out: torch.Tensor = self.ops[m](x)
        return out

    def forward(self, x: torch.Tensor, k: int | None = None, weights: torch.Tensor | None = None,
                active: Sequence[int] | None = None) -> torch.Tensor:
        if k is not None:
            return self.run(x, k)
        if weights is None:
            raise ConfigError("MixedBlock needs an option index k or weights")
        idx = (list(active) if active is not None else
               [i for i in range(len(self.options)) if float(weights[i].detach()) != 0.0])
        out: torch.Tensor | None = None
        for i in idx:
            y = weights[i] * self.run(x, i)
            out = y if out is None else out + y
        if out is None:
            raise ConfigError("MixedBlock: every option's weight is zero")
        return out


class MixedBlockSupernet(nn.Module):
    """ProxylessNAS / FBNet's supernet of the block space (see the module docstring)."""

    def __init__(self, space: str | MobileNetSpace = "mobilenet", *,
                 candidates: Sequence[str] | None = None, **options: Any) -> None:
        super().__init__()
        sp = get_space(space) if isinstance(space, str) else space
        if not isinstance(sp, MobileNetSpace):
            raise ConfigError(f"a block supernet needs a MobileNet block space, got {sp.name!r}")
        self.space = sp
        self.options = dict(options)
        if candidates is not None:
            known = set(sp.block_ops) | {SKIP}
            bad = [c for c in candidates if c not in known]
            if bad or len({c for c in candidates if c != SKIP}) < 2:
                raise ConfigError(f"candidates must be block options of the space "
                                  f"({', '.join(sorted(known))}), at least two besides "
                                  f"{SKIP!r} (every slot needs a choice); got "
                                  f"{list(candidates)!r}")
        self.candidates = None if candidates is None else tuple(candidates)
        cfg: NetConfig = net_config(sp, **options)
        self.cfg = cfg
        ref = MobileNetNetwork(sp.parse("|".join(["k3e3-k3e3"] * sp.n_stages)), **options)
        self.stem, self.first_block = ref.stem, ref.first_block
        self.final_expand, self.feature_mix = ref.final_expand, ref.feature_mix
        self.classifier = ref.classifier
        slots = []
        for i, d in enumerate(DECISIONS):
            s, b = divmod(i, MAX_DEPTH)
            st = cfg.layout.stages[s]
            c_out = cfg.stage_widths[s]
            slots.append(MixedBlock(d.options, cfg.stage_input(s) if b == 0 else c_out, c_out,
                                    st.stride if b == 0 else 1, act=st.act, se=st.se,
                                    divisor=cfg.divisor, candidates=self.candidates))
        self.slots = nn.ModuleList(slots)
        self.sizes = [d.size for d in DECISIONS]
        self.width = max(self.sizes)

    def slot(self, i: int) -> MixedBlock:
        """The mixed block of slot ``i``."""
        return cast(MixedBlock, self.slots[i])

    def option_mask(self) -> torch.Tensor:
        """``(n_slots, width)`` bool: which entries of a weight tensor are options of the slot
        that this supernet holds (all, or the candidates)."""
        m = torch.zeros(len(self.sizes), self.width, dtype=torch.bool)
        for s in range(len(self.sizes)):
            for k, mod in enumerate(self.slot(s).module_of):
                m[s, k] = mod is None or mod >= 0
        return m

    def config(self) -> dict[str, Any]:
        return {"space": self.space.name, "kind": "mixed", "options": dict(self.options),
                "candidates": None if self.candidates is None else list(self.candidates)}

    def _path(self, arch: Architecture | None, path: Sequence[int] | None) -> list[int]:
        if arch is not None:
            return list(self.space.decision_indices(self.space.validate(arch)))
        assert path is not None
        p = [int(v) for v in path]
        if len(p) != len(self.sizes) or not all(0 <= v < n for v, n in zip(p, self.sizes)):
            raise InvalidArchitectureError(f"a block-supernet path needs one option index per "
                                           f"slot ({len(self.sizes)}), got {list(path)!r}")
        return p

    def head(self, x: torch.Tensor) -> torch.Tensor:
        x = self.final_expand(x)
        x = self.feature_mix(x.mean((2, 3), keepdim=True))
        out: torch.Tensor = self.classifier(x.flatten(1))
        return out

    def forward(self, x: torch.Tensor, arch: Architecture | None = None, *,
                path: Sequence[int] | None = None, weights: torch.Tensor | None = None,
                active: Sequence[Sequence[int]] | None = None) -> torch.Tensor:
        if (arch is None and path is None) == (weights is None):
            raise ConfigError("MixedBlockSupernet.forward needs one of arch=, path= or weights=")
        x = self.first_block(self.stem(x))
        if weights is None:
            for slot, k in zip(self.slots, self._path(arch, path)):
                x = slot(x, k)
        else:
            for s, slot in enumerate(self.slots):
                x = slot(x, weights=weights[s], active=None if active is None else active[s])
        return self.head(x)

    def extract(self, arch: Architecture) -> MobileNetNetwork:
        """The stand-alone network of ``arch`` with the supernet's weights of its path."""
        p = self._path(arch, None)
        net = MobileNetNetwork(arch, **self.options)
        sd = {}
        for name in ("stem", "first_block", "final_expand", "feature_mix", "classifier"):
            for k, v in getattr(self, name).state_dict().items():
                sd[f"{name}.{k}"] = v
        for s in range(self.space.n_stages):
            j = 0
            for i in self.space.stage_slots(s):
                slot = self.slot(i)
                m = slot.module_of[p[i]]
                if m is None:
                    continue
                if m < 0:
                    raise InvalidArchitectureError(f"{arch} uses option "
                                                   f"{slot.options[p[i]]!r}, not a candidate "
                                                   f"of this supernet")
                for k, v in slot.ops[m].state_dict().items():
                    sd[f"stages.{s}.{j}.{k}"] = v
                j += 1
        net.load_state_dict(sd, strict=True)
        return net

    def path_modules(self, arch: Architecture) -> list[nn.Module]:
        p = self._path(arch, None)
        mods: list[nn.Module] = [self.stem, self.first_block, self.final_expand]
        for i, k in enumerate(p):
            slot = self.slot(i)
            m = slot.module_of[k]
            if m is not None and m >= 0:
                mods.append(slot.ops[m])
        return mods

    def recalibrate_bn(self, arch: Architecture, batches: Iterable[torch.Tensor]) -> int:
        """Reset and re-estimate the running statistics of ``arch``'s path on ``batches``."""
        return recalibrate_bn(self, self.path_modules(arch),
                              lambda x: self(x, arch=arch), batches)


def recalibrate_bn(model: nn.Module, modules: Sequence[nn.Module], run: Any,
                   batches: Iterable[torch.Tensor]) -> int:
    """SPOS / OFA's BN recalibration: reset the running statistics of the BNs in
    ``modules``, accumulate them (cumulative average) over ``run(batch)`` in train mode;
    returns the number of batches."""
    bns = [m for mod in modules for m in mod.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [(m.momentum, m.training) for m in bns]
    was = model.training
    n = 0
    try:
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        model.train()
        with torch.no_grad():
            for xb in batches:
                run(xb)
                n += 1
    finally:
        for m, (mom, _t) in zip(bns, saved):
            m.momentum = mom
        model.train(was)
    return n
