"""What ProxylessNAS and FBNet share (no torch at import; a private module, not discovered by
the registry): a block supernet with architecture logits over each slot's options, an
expected-latency term from a latency LUT, and their state.

:class:`LatencyAwareMethod` builds the space's ``mixed`` block supernet
(:func:`naslab.nn.supernets.build_block_supernet`: a separate MBConv per option of every
block slot, the zero op ``skip`` where the space allows it) at the protocol's width ``C``
with the dataset's channels and classes, and trains its weights under the run's protocol
(SGD, its learning rate / momentum / Nesterov / weight decay / schedule, batch size,
augmentation, label smoothing; gradients clipped at ``grad_clip``). Architecture logits
(``self.logits``: one row per slot, entries past a slot's options masked out) are trained
with Adam on validation batches after ``warmup_epochs`` epochs of weight training alone (both
papers warm up). ``candidates`` (default: every option) restricts the options the supernet
holds and the search may choose, e.g. ``k3e3,k5e6,k7e6`` (``skip`` stays where a slot
allows it): a smaller supernet for quick runs; the derived arch is still an arch of the
space.

**Latency.** With ``latency_lut`` (a file of ``naslab latency build-lut`` for this space and
network protocol, built on this device: :meth:`naslab.nn.lut.LatencyLUT.load` refuses
another device's), the LUT's ``decision_table`` gives the milliseconds of every option of
every slot; the expected latency of the distribution ``p`` over options is
``E[LAT] = fixed + sum_slots sum_k p[s, k] * lat[s, k]``, differentiable in ``p``. A
``latency_weight`` above 0 without a LUT is refused (ConfigError), as is a LUT of another
space or network protocol.

Randomness (seeded from the method seed): supernet weights ``derive_seed(seed, 1)``, data
order / augmentation a CPU ``torch.Generator`` ``derive_seed(seed, 2)``, path / Gumbel
sampling a ``torch.Generator`` ``derive_seed(seed, 3)``, the validation-batch order one
``derive_seed(seed, 4)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from naslab.errors import ConfigError, check_float, check_int
from naslab.oneshot.base import OneShotMethod
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture, SearchSpace

if TYPE_CHECKING:
    from naslab.data.base import ImageDataset
    from naslab.nn.protocol import Protocol

__all__ = ["LatencyAwareMethod", "check_lut_for_run", "NO_LUT_HELP"]

NO_LUT_HELP = ("build one on this machine with `naslab latency build-lut --space SPACE "
               "--out LUT.json` (with the run's network protocol) and pass --latency-lut "
               "LUT.json")


def check_lut_for_run(lut: Any, space: SearchSpace, network: dict[str, Any],
                      image_size: tuple[int, int], who: str) -> None:
    """Raise ConfigError unless ``lut`` describes ``space``'s networks under ``network`` (the
    builder options) at ``image_size``."""
    from naslab.nn.latency_parts import latency_model

    if lut.space != space.name:
        raise ConfigError(f"{who}: the latency LUT {lut.path or ''} is for space {lut.space!r}, "
                          f"the run searches {space.name!r}")
    want = latency_model(space.name, image_size=list(image_size), **network).protocol
    diff = [f"{k}: LUT {lut.protocol.get(k)!r} vs run {v!r}" for k, v in want.items()
            if lut.protocol.get(k) != v]
    if diff:
        raise ConfigError(f"{who}: the latency LUT {lut.path or ''} was built for other "
                          f"networks than the run's ({'; '.join(diff)}); build one for the "
                          f"run's protocol with `naslab latency build-lut --space {space.name} "
                          f"-p KEY=VALUE ...`")


class LatencyAwareMethod(OneShotMethod):
    """Base of ProxylessNAS and FBNet (see the module docstring). Subclasses set the common
    hyper-parameters with :meth:`_init_common` and implement :meth:`train_epoch`."""

    latency_lut: str | None = None
    latency_weight: float = 0.0
    warmup_epochs: int = 1
    arch_lr: float = 6e-3
    arch_weight_decay: float = 0.0
    grad_clip: float = 5.0
    #: Adam's betas for the logits (ProxylessNAS: (0, 0.999); FBNet: Adam's defaults)
    arch_betas: tuple[float, float] = (0.0, 0.999)

    def _init_common(self, latency_lut: Any, latency_weight: Any, warmup_epochs: Any,
                     arch_lr: Any, arch_weight_decay: Any, grad_clip: Any,
                     candidates: Any = None) -> None:
        if isinstance(candidates, str):
            candidates = [c.strip() for c in candidates.split(",") if c.strip()]
        if candidates is not None and (not isinstance(candidates, (list, tuple)) or not all(
                isinstance(c, str) for c in candidates)):
            raise ConfigError(f"candidates must be block option names (a list, or one string "
                              f"joined by ','), got {candidates!r}")
        self.candidates = None if candidates is None else list(candidates)
        if latency_lut is not None and not isinstance(latency_lut, str):
            latency_lut = str(latency_lut)
        self.latency_lut = latency_lut
        self.latency_weight = check_float("latency_weight", latency_weight, minimum=0.0,
                                          finite=True)
        self.warmup_epochs = check_int("warmup_epochs", warmup_epochs, minimum=0)
        self.arch_lr = check_float("arch_lr", arch_lr, minimum=0.0, strict_min=True,
                                   finite=True)
        self.arch_weight_decay = check_float("arch_weight_decay", arch_weight_decay,
                                             minimum=0.0, finite=True)
        self.grad_clip = check_float("grad_clip", grad_clip, minimum=0.0, finite=True)
        if self.latency_weight > 0 and self.latency_lut is None:
            raise ConfigError(f"{self.registry_name or type(self).__name__}: latency_weight "
                              f"{self.latency_weight} needs a latency LUT of this device "
                              f"(--latency-lut PATH); none was given: {NO_LUT_HELP}")

    def check_space(self, space: SearchSpace) -> None:
        from naslab.nn.supernets import block_supernet_spaces

        have = block_supernet_spaces()
        if space.name not in have:
            raise ConfigError(f"one-shot method {self.registry_name!r} searches a block space "
                              f"with a block supernet; space {space.name!r} has none; spaces "
                              f"with one: {', '.join(have) or 'none'}")

    # --- setup ---------------------------------------------------------------------------
    def network_options(self, dataset: ImageDataset, protocol: Protocol) -> dict[str, Any]:
        return {"C": protocol.C, "num_classes": dataset.num_classes,
                "in_channels": dataset.input_shape[0]}

    def setup(self, space: SearchSpace, dataset: ImageDataset, protocol: Protocol, *,
              seed: int, device: str = "cpu") -> None:
        super().setup(space, dataset, protocol, seed=seed, device=device)
        import torch

        from naslab.nn.supernets import build_block_supernet

        who = self.registry_name or type(self).__name__
        if self.warmup_epochs >= self.epochs:
            raise ConfigError(f"{who}: warmup_epochs ({self.warmup_epochs}) must be fewer than "
                              f"the run's epochs ({self.epochs}), else the architecture is "
                              f"never trained")
        self.net_options = self.network_options(dataset, protocol)
        self.lut: Any = None
        if self.latency_lut is not None:
            from naslab.nn.lut import LatencyLUT

            self.lut = LatencyLUT.load(self.latency_lut)
            hw = tuple(int(v) for v in dataset.input_shape[1:])
            check_lut_for_run(self.lut, space, self.net_options, (hw[0], hw[1]), who)
        g = torch.Generator(device="cpu")
        g.manual_seed(derive_seed(self.seed, 1))
        self.net = build_block_supernet(space, kind="mixed", generator=g,
                                        candidates=self.candidates, **self.net_options)
        self.net.to(self.device)
        dev = torch.device(self.device)
        self.mask = self.net.option_mask().to(dev)
        self.logits = torch.zeros(self.mask.shape, device=dev, requires_grad=True)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=protocol.lr,
                                   momentum=protocol.momentum, nesterov=protocol.nesterov,
                                   weight_decay=protocol.weight_decay)
        self.arch_opt = torch.optim.Adam([self.logits], lr=self.arch_lr, betas=self.arch_betas,
                                         eps=1e-8, weight_decay=self.arch_weight_decay)
        if self.lut is not None:
            t = np.nan_to_num(self.lut.decision_table(), nan=0.0)
            self.lat_table = torch.tensor(t, dtype=torch.float32, device=dev)
            self.lat_fixed = float(self.lut.fixed_ms())
        else:
            self.lat_table = torch.zeros(self.mask.shape, device=dev)
            self.lat_fixed = 0.0
        self.gen = torch.Generator(device="cpu")
        self.gen.manual_seed(derive_seed(self.seed, 2))
        self.sample_gen = torch.Generator(device="cpu")
        self.sample_gen.manual_seed(derive_seed(self.seed, 3))
        self.val_gen = torch.Generator(device="cpu")
        self.val_gen.manual_seed(derive_seed(self.seed, 4))
        self._data = self.split_tensors()
        self._val_perm: Any = None
        self._val_pos = 0

    # --- helpers -------------------------------------------------------------------------
    def probs(self) -> Any:
        """softmax of the masked logits, ``(n_slots, width)``."""
        import torch

        return torch.softmax(self.logits.masked_fill(~self.mask, float("-inf")), dim=1)

    def expected_latency(self, p: Any) -> Any:
        """``E[LAT]`` (ms, a differentiable tensor) of option weights ``p``."""
        return self.lat_fixed + (p * self.lat_table).sum()

    def val_batch(self) -> tuple[Any, Any]:
        """The next validation batch (a fresh permutation after each pass)."""
        import torch

        x, y = self._data["val"]
        n = len(y)
        bs = min(self.protocol.batch_size, n)
        if self._val_perm is None or self._val_pos + bs > n:
            self._val_perm = torch.randperm(n, generator=self.val_gen).to(x.device)
            self._val_pos = 0
        idx = self._val_perm[self._val_pos:self._val_pos + bs]
        self._val_pos += bs
        return x[idx], y[idx]

    def sample_path(self) -> list[int]:
        """One option per slot drawn from the current distribution."""
        import torch

        p = self.probs().detach().cpu()
        return [int(v) for v in torch.multinomial(p, 1, generator=self.sample_gen)[:, 0]]

    def weight_step(self, xb: Any, yb: Any, lr: float, **forward: Any) -> tuple[float, int]:
        """One SGD step of the supernet's weights on a batch; (loss, correct)."""
        import torch
        import torch.nn.functional as F

        for g in self.opt.param_groups:
            g["lr"] = lr
        self.opt.zero_grad(set_to_none=True)
        out = self.net(xb, **forward)
        loss = F.cross_entropy(out, yb, label_smoothing=self.protocol.label_smoothing)
        loss.backward()
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.grad_clip)
        self.opt.step()
        return float(loss.detach()), int((out.detach().argmax(1) == yb).sum())

    def epoch_batches(self) -> Any:
        """(step, steps, x, y) of one pass over the training split, augmented."""
        import torch

        from naslab.estimators._train_loop import augment_batch

        x_tr, y_tr = self._data["train"]
        n = len(y_tr)
        bs = self.protocol.batch_size
        steps = math.ceil(n / bs)
        perm = torch.randperm(n, generator=self.gen).to(x_tr.device)
        for i in range(steps):
            idx = perm[i * bs:(i + 1) * bs]
            yield i, steps, augment_batch(x_tr[idx], self.protocol, self.gen), y_tr[idx]

    # --- derive / diagnostics --------------------------------------------------------------
    def derive(self) -> list[Architecture]:
        """Per slot the most likely option (canonical form: the same network)."""
        p = self.probs().detach().cpu()
        idx = [int(p[s, :n].argmax()) for s, n in enumerate(self.net.sizes)]
        return [self.space.canonical(self.space.from_decision_indices(idx))]

    def diagnostics(self) -> dict[str, Any]:
        p = self.probs().detach().cpu()
        d: dict[str, Any] = {"probs": [[round(float(v), 4) for v in p[s, :n]]
                                       for s, n in enumerate(self.net.sizes)]}
        if self.lut is not None:
            d["expected_latency_ms"] = float(self.expected_latency(p.to(self.lat_table.device)))
            d["derived_lut_ms"] = float(self.lut.predict(self.derive()[0]))
        return d

    def latency_metrics(self) -> dict[str, float]:
        if self.lut is None:
            return {}
        import torch

        with torch.no_grad():
            e = float(self.expected_latency(self.probs()))
        return {"expected_latency_ms": e, "derived_lut_ms": float(self.lut.predict(self.derive()[0]))}

    # --- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"supernet": {k: v.detach().cpu() for k, v in self.net.state_dict().items()},
                "logits": self.logits.detach().cpu().clone(),
                "optimizer": self.opt.state_dict(), "arch_optimizer": self.arch_opt.state_dict(),
                "gen": self.gen.get_state(), "sample_gen": self.sample_gen.get_state(),
                "val_gen": self.val_gen.get_state(),
                "val_perm": None if self._val_perm is None else self._val_perm.cpu(),
                "val_pos": self._val_pos, **self.extra_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import torch

        self.net.load_state_dict(state["supernet"], strict=True)
        with torch.no_grad():
            self.logits.copy_(state["logits"].to(self.logits.device))
        self.opt.load_state_dict(state["optimizer"])
        self.arch_opt.load_state_dict(state["arch_optimizer"])
        self.gen.set_state(state["gen"])
        self.sample_gen.set_state(state["sample_gen"])
        self.val_gen.set_state(state["val_gen"])
        vp = state["val_perm"]
        self._val_perm = None if vp is None else vp.to(self.logits.device)
        self._val_pos = int(state["val_pos"])
        self.load_extra_state(state)

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`extra_state` returned."""
