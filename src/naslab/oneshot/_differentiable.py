"""What the differentiable NAS methods share (DARTS, GDAS, DARTS+, RobustDARTS, SDARTS): the
continuous relaxation over a cell supernet, the alternating bilevel optimisation, the
per-epoch diagnostics, derivation and state (no torch at import; a private module, not
discovered by the registry).

**Relaxation.** One architecture-parameter tensor ``alpha`` of shape ``(edges, ops)`` is shared
by every cell (as NAS-Bench-201's search code), initialised ``1e-3 * N(0, 1)``; the supernet
runs its weighted-sum forward with ``softmax(alpha)`` (DARTS) or with a Gumbel sample (GDAS,
:meth:`DifferentiableMethod.arch_weights`).

**Bilevel optimisation** (one pass over the training split per epoch; step ``i`` pairs training
batch ``i`` with validation batch ``i``, the validation split cycled when it is smaller): first
an architecture step on the validation batch (Adam on ``alpha``: lr ``arch_lr``, betas (0.5,
0.999), weight decay ``arch_weight_decay``, NB201's settings), then a weight step on the
training batch (SGD on the supernet under the run's protocol: lr schedule
:func:`naslab.nn.protocol.lr_at`, momentum, Nesterov, weight decay; gradients clipped to
``grad_clip``). The architecture gradient is first order (``order=1``: the gradient of the
validation loss at the current weights) or the unrolled one (``order=2``, Liu et al. 2019,
:func:`unrolled_hypergradient`: one virtual SGD step ``w' = w - xi (momentum buf + dL_train/dw
+ wd w)`` with ``xi`` the current weight learning rate, then ``dL_val(w')/dalpha - xi *
[dL_train(w+)/dalpha - dL_train(w-)/dalpha] / (2 eps)`` with ``w+- = w +- eps dL_val(w')/dw'``
and ``eps = 0.01 / ||dL_val(w')/dw'||``: the finite-difference Hessian-vector product).

**Diagnostics** (every epoch, in the trace's ``diagnostics``): ``alpha_softmax`` (edges x ops),
``ops``, ``edges``, the derived cell, ``param_free_edges`` / ``param_free_share`` (edges whose
derived op has no parameters in the supernet: ``none``, skip, pooling), and every
``eig_every`` epochs the dominant eigenvalue of the Hessian of the validation loss with respect
to ``alpha`` (:func:`dominant_eigenvalue`: power iteration on autograd Hessian-vector products,
no explicit Hessian; always of the softmax relaxation, also for GDAS) on ``eig_batches`` fixed
validation batches, with its iterations and Hessian-vector products (``eig_iters``,
``eig_hvps``). It is computed after ``train_epoch`` (:meth:`DifferentiableMethod.finish_epoch`),
so its seconds are the epoch record's ``cost.wall_s - cost.simulated_s`` (the trace stays
deterministic). The derived cell's ground-truth accuracy per epoch is the runner's
``reference`` lookup (``naslab oneshot --reference auto``).

**Derivation** (``derivation``): per edge the op with the largest ``alpha`` (``"argmax"``,
NAS-Bench-201's genotype), or the largest excluding the ``none`` op (``"argmax_no_none"``, the
DARTS paper's rule).

Randomness (all from the method seed): supernet weights ``derive_seed(seed, 1)``, alpha's
initialisation ``derive_seed(seed, 5)``, data order / augmentation ``derive_seed(seed, 2)``,
the method's noise (Gumbel, SDARTS perturbations) ``derive_seed(seed, 3)``, the eigenvalue
batches ``derive_seed(seed, 6)`` and its start vector ``derive_seed(seed, 7, epoch)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from naslab.errors import ConfigError, check_float, check_int
from naslab.oneshot._weight_sharing import check_bn
from naslab.oneshot.base import OneShotMethod
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture, SearchSpace

if TYPE_CHECKING:
    import torch

    from naslab.data.base import ImageDataset
    from naslab.nn.protocol import Protocol

__all__ = ["DifferentiableMethod", "DERIVE_RULES", "unrolled_hypergradient",
           "dominant_eigenvalue", "gumbel_hard_sample", "es_fires", "check_order"]

#: derivation rules
DERIVE_RULES = ("argmax", "argmax_no_none")
#: the zero op's name in the cell spaces' op vocabulary (naslab.nn.ops)
NONE_OP = "none"


def check_order(order: Any) -> int:
    o = check_int("order", order, minimum=1, maximum=2)
    return o


# ------------------------------------------------------------------------------------------
# pure functions (tested on their own)
def unrolled_hypergradient(loss: Callable[[Sequence[torch.Tensor], torch.Tensor, str],
                                          torch.Tensor],
                           weights: Sequence[torch.Tensor], alpha: torch.Tensor, xi: float, *,
                           weight_decay: float = 0.0,
                           momentum: Sequence[torch.Tensor | None] | None = None,
                           r: float = 0.01, exact: bool = False
                           ) -> tuple[torch.Tensor, torch.Tensor]:
    """DARTS' second-order architecture gradient ``d L_val(w - xi * dL_train/dw, alpha) /
    d alpha``. ``loss(weights, alpha, split)`` is the loss on the ``"train"`` or ``"val"``
    batch; ``momentum`` the SGD buffers (times momentum) entering the virtual step.

    ``exact=False``: the finite-difference Hessian-vector product of Liu et al. (2019) with
    ``eps = r / ||dL_val(w')/dw'||``; ``exact=True``: autograd through the virtual step
    (second derivatives; for tests). Returns (the gradient, ``L_val(w')`` detached)."""
    import torch

    w = [t.detach().requires_grad_(True) for t in weights]
    a = alpha.detach().requires_grad_(True)
    # exact: dL_train/dw as a function of alpha too (the second-order term's source)
    gw = torch.autograd.grad(loss(w, a if exact else a.detach(), "train"), w,
                             create_graph=exact)
    mom = list(momentum) if momentum is not None else [None] * len(w)
    step = [g + weight_decay * p + (0.0 if m is None else m) for g, p, m in zip(gw, w, mom)]
    if exact:
        w1 = [p - xi * s for p, s in zip(w, step)]
        lv = loss(w1, a, "val")
        (ga,) = torch.autograd.grad(lv, [a])
        return ga.detach(), lv.detach()
    w1 = [(p - xi * s).detach().requires_grad_(True) for p, s in zip(w, step)]
    lv = loss(w1, a, "val")
    grads = torch.autograd.grad(lv, [a, *w1])
    ga, dw = grads[0], grads[1:]
    norm = torch.stack([(d.double() ** 2).sum() for d in dw]).sum().sqrt()
    if float(norm) == 0.0:
        return ga.detach(), lv.detach()
    eps = r / float(norm)
    with torch.no_grad():
        wp = [p.detach() + eps * d for p, d in zip(w, dw)]
        wm = [p.detach() - eps * d for p, d in zip(w, dw)]
    (gp,) = torch.autograd.grad(loss(wp, a, "train"), [a])
    (gm,) = torch.autograd.grad(loss(wm, a, "train"), [a])
    return (ga - xi * (gp - gm) / (2.0 * eps)).detach(), lv.detach()


def dominant_eigenvalue(hvp: Callable[[torch.Tensor], torch.Tensor], shape: Sequence[int], *,
                        generator: torch.Generator, iters: int = 20, tol: float = 1e-3,
                        dtype: Any = None, device: Any = None) -> tuple[float, int]:
    """The eigenvalue of largest magnitude of the symmetric operator ``hvp`` (a Hessian-vector
    product) by power iteration from a random unit vector drawn from ``generator``: at most
    ``iters`` iterations, stopping when the Rayleigh quotient changes by less than ``tol``
    (relative). Returns (eigenvalue, iterations used)."""
    import torch

    v = torch.randn(tuple(shape), generator=generator, dtype=torch.float64)
    v = (v / v.norm()).to(dtype=dtype or torch.float32, device=device)
    lam = float("nan")
    for k in range(1, iters + 1):
        hv = hvp(v)
        new = float((hv * v).sum())
        n = float(hv.norm())
        if not math.isfinite(new) or n == 0.0:
            return new, k
        v = hv / n
        if math.isfinite(lam) and abs(new - lam) <= tol * max(abs(new), 1e-12):
            return new, k
        lam = new
    return lam, iters


def gumbel_hard_sample(alpha: torch.Tensor, tau: float, generator: torch.Generator
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """GDAS' sample per row of ``alpha``: Gumbel noise from ``generator`` added to
    ``log_softmax(alpha)``, softmax at temperature ``tau``, its argmax as a one-hot ``hard``;
    returns (``hard - soft.detach() + soft``: one-hot values, gradients of the soft sample;
    the sampled indices). The argmax follows ``softmax(alpha)`` whatever ``tau``. Rows whose
    soft sample is not finite are redrawn."""
    import torch

    logp = torch.log_softmax(alpha, dim=-1)
    for _ in range(100):
        u = torch.empty(tuple(alpha.shape), dtype=torch.float64).exponential_(
            generator=generator)
        g = (-u.log()).to(dtype=alpha.dtype, device=alpha.device)
        soft = torch.softmax((logp + g) / tau, dim=-1)
        if bool(torch.isfinite(soft).all()):
            break
    else:  # pragma: no cover - needs 100 non-finite draws in a row
        raise FloatingPointError(f"Gumbel-softmax sample at tau={tau} is not finite")
    idx = soft.detach().argmax(-1)
    hard = torch.zeros_like(soft).scatter_(-1, idx.unsqueeze(-1), 1.0)
    return hard - soft.detach() + soft, idx


def es_fires(history: Sequence[float], window: int, ratio: float) -> bool:
    """RobustDARTS' stopping rule: with ``history`` the dominant eigenvalue per epoch, true when
    the mean over the window ``window`` epochs earlier divided by the mean over the last
    ``window`` epochs is below ``ratio`` (Zela et al. 2020: k=5, 0.75)."""
    if len(history) < 2 * window:
        return False
    now = float(np.mean(history[-window:]))
    before = float(np.mean(history[-2 * window:-window]))
    return now > 0 and before / now < ratio


# ------------------------------------------------------------------------------------------
class DifferentiableMethod(OneShotMethod):
    """Base of the differentiable methods (see the module docstring). A subclass calls
    :meth:`_init_common` in ``__init__`` and may override :meth:`arch_weights` (forward of
    the architecture step), :meth:`train_weights_of` (forward of the weight step),
    :meth:`begin_epoch`, :meth:`end_epoch`, :meth:`stop_now`, :meth:`search`,
    :meth:`extra_diagnostics` and :meth:`extra_state` / :meth:`load_extra_state`."""

    exports_supernet = True

    order: int = 1
    arch_lr: float = 3e-4
    arch_weight_decay: float = 1e-3
    derivation: str = "argmax"
    eig_every: int = 5
    eig_iters: int = 20
    eig_batches: int = 2
    bn: str = "search"
    grad_clip: float = 5.0

    def _init_common(self, *, order: Any = 1, arch_lr: Any = 3e-4,
                     arch_weight_decay: Any = 1e-3, derivation: Any = "argmax",
                     eig_every: Any = 5, eig_iters: Any = 20, eig_batches: Any = 2,
                     bn: Any = "search", grad_clip: Any = 5.0) -> None:
        self.order = check_order(order)
        self.arch_lr = check_float("arch_lr", arch_lr, minimum=0.0, strict_min=True,
                                   finite=True)
        self.arch_weight_decay = check_float("arch_weight_decay", arch_weight_decay,
                                             minimum=0.0, finite=True)
        if derivation not in DERIVE_RULES:
            raise ConfigError(f"derivation must be one of {', '.join(DERIVE_RULES)} (argmax "
                              f"over all ops per edge, or excluding the 'none' op), got "
                              f"{derivation!r}")
        self.derivation = str(derivation)
        self.eig_every = check_int("eig_every", eig_every, minimum=0)
        self.eig_iters = check_int("eig_iters", eig_iters, minimum=1)
        self.eig_batches = check_int("eig_batches", eig_batches, minimum=1)
        self.bn = check_bn(bn)
        self.grad_clip = check_float("grad_clip", grad_clip, minimum=0.0, finite=True)

    def check_space(self, space: SearchSpace) -> None:
        self.require_cell_supernet(space, "relaxes a cell supernet")

    # --- setup ---------------------------------------------------------------------------
    def setup(self, space: SearchSpace, dataset: ImageDataset, protocol: Protocol, *,
              seed: int, device: str = "cpu") -> None:
        super().setup(space, dataset, protocol, seed=seed, device=device)
        import torch

        g = torch.Generator(device="cpu")
        g.manual_seed(derive_seed(self.seed, 1))
        self.net = self.build_cell_supernet(self.bn, g)
        self.net.to(self.device)
        ops = list(self.net.op_names)
        if self.derivation == "argmax_no_none" and NONE_OP not in ops:
            raise ConfigError(f"derivation='argmax_no_none' excludes the {NONE_OP!r} op, which "
                              f"space {space.name!r} does not have (ops: {', '.join(ops)}); "
                              f"use derivation='argmax'")
        ga = torch.Generator(device="cpu")
        ga.manual_seed(derive_seed(self.seed, 5))
        a0 = 1e-3 * torch.randn(self.net.alpha_shape(), generator=ga)
        self.alpha = a0.to(self.device).requires_grad_(True)
        self.w_params = [p for p in self.net.parameters()]
        self.w_names = [n for n, _ in self.net.named_parameters()]
        self.opt = torch.optim.SGD(self.w_params, lr=protocol.lr, momentum=protocol.momentum,
                                   nesterov=protocol.nesterov,
                                   weight_decay=protocol.weight_decay)
        self.a_opt = torch.optim.Adam([self.alpha], lr=self.arch_lr, betas=(0.5, 0.999),
                                      weight_decay=self.arch_weight_decay)
        self.gen = torch.Generator(device="cpu")
        self.gen.manual_seed(derive_seed(self.seed, 2))
        self.noise = torch.Generator(device="cpu")
        self.noise.manual_seed(derive_seed(self.seed, 3))
        dev = torch.device(self.device)
        self._data = self.split_tensors()
        for split, (_, y) in self._data.items():
            if len(y) == 0:
                raise ConfigError(f"one-shot method {self.registry_name!r} needs a non-empty "
                                  f"{split} split (its {'weight' if split == 'train' else 'architecture'}"
                                  f" steps), dataset {dataset.name!r} has none")
        xv, yv = self._data["val"]
        ge = torch.Generator(device="cpu")
        ge.manual_seed(derive_seed(self.seed, 6))
        perm = torch.randperm(len(yv), generator=ge).to(dev)
        bs = protocol.batch_size
        self._eig_data = [(xv[perm[b * bs:(b + 1) * bs]], yv[perm[b * bs:(b + 1) * bs]])
                          for b in range(self.eig_batches) if b * bs < len(yv)]
        # which op of each edge has no parameters (cell 0; the cells share their layout)
        from naslab.nn.supernet import MixedEdge

        cell = self.net.search_cells[0]
        self.param_free = [[sum(p.numel() for p in op.parameters()) == 0
                            for op in cast(MixedEdge, edge).ops] for edge in cell.edges]
        #: per epoch: [epoch, eigenvalue] when computed
        self.eig_history: list[list[float]] = []
        #: per epoch: the derived architecture's choices
        self.derived_history: list[list[Any]] = []
        self._diag: dict[str, Any] = {}
        #: the last epoch trained / finished (:meth:`finish_epoch`)
        self._trained = self._finished = -1

    # --- forwards --------------------------------------------------------------------------
    def arch_weights(self, epoch: int) -> torch.Tensor:
        """Edge weights of the architecture step's forward (differentiable in ``alpha``);
        DARTS: ``softmax(alpha)``."""
        import torch

        return torch.softmax(self.alpha, dim=-1)

    def train_weights_of(self, epoch: int, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """Edge weights of the weight step's forward (no gradient to ``alpha``); DARTS:
        ``softmax(alpha)``, detached."""
        import torch

        return torch.softmax(self.alpha.detach(), dim=-1)

    def _loss(self, params: Sequence[torch.Tensor] | None, weights: torch.Tensor,
              x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        import torch.nn.functional as F

        if params is None:
            out = self.net(x, weights=weights)
        else:
            from torch.func import functional_call

            out = functional_call(self.net, dict(zip(self.w_names, params)), (x,),
                                  {"weights": weights})
        return F.cross_entropy(out, y, label_smoothing=self.protocol.label_smoothing), out

    # --- training ------------------------------------------------------------------------
    def begin_epoch(self, epoch: int) -> None:
        """Hook: before the epoch's first step (e.g. GDAS' temperature)."""

    def end_epoch(self, epoch: int) -> None:
        """Hook: after the epoch's histories are updated (e.g. RobustDARTS' rules)."""

    def arch_step(self, epoch: int, xb: torch.Tensor, yb: torch.Tensor, xv: torch.Tensor,
                  yv: torch.Tensor, lr: float) -> tuple[torch.Tensor, torch.Tensor]:
        """One Adam step on ``alpha``; returns (validation loss, validation hits)."""
        import torch

        self.a_opt.zero_grad(set_to_none=True)
        if self.order == 1:
            loss, out = self._loss(None, self.arch_weights(epoch), xv, yv)
            loss.backward()
            hits = (out.detach().argmax(1) == yv).sum()
            lv = loss.detach()
        else:
            mom_f = float(self.opt.param_groups[0]["momentum"])
            wd = float(self.opt.param_groups[0]["weight_decay"])
            bufs: list[torch.Tensor | None] = []
            for p in self.w_params:
                st = self.opt.state.get(p, {})
                b = st.get("momentum_buffer")
                bufs.append(None if b is None else mom_f * b)
            outs: dict[str, torch.Tensor] = {}

            def loss_fn(params: Sequence[torch.Tensor], a: torch.Tensor, split: str
                        ) -> torch.Tensor:
                x, y = (xb, yb) if split == "train" else (xv, yv)
                val, out = self._loss(params, torch.softmax(a, dim=-1), x, y)
                if split == "val":
                    outs["val"] = out.detach()
                return val

            ga, lv = unrolled_hypergradient(loss_fn, self.w_params, self.alpha, lr,
                                            weight_decay=wd, momentum=bufs)
            self.alpha.grad = ga
            hits = (outs["val"].argmax(1) == yv).sum()
        self.a_opt.step()
        return lv, hits

    def weight_step(self, epoch: int, xb: torch.Tensor, yb: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One SGD step on the supernet's weights; returns (training loss, hits)."""
        import torch

        w = self.train_weights_of(epoch, xb, yb)
        self.opt.zero_grad(set_to_none=True)
        loss, out = self._loss(None, w, xb, yb)
        loss.backward()
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.w_params, self.grad_clip)
        self.opt.step()
        return loss.detach(), (out.detach().argmax(1) == yb).sum()

    def train_epoch(self, epoch: int) -> dict[str, float]:
        import torch

        from naslab.estimators._train_loop import augment_batch
        from naslab.nn.protocol import lr_at

        p = self.protocol
        x_tr, y_tr = self._data["train"]
        x_va, y_va = self._data["val"]
        n, nv, bs = len(y_tr), len(y_va), p.batch_size
        steps = math.ceil(n / bs)
        self.net.train()
        self.finish_epoch()
        self.begin_epoch(epoch)
        perm = torch.randperm(n, generator=self.gen).to(x_tr.device)
        vperm = torch.randperm(nv, generator=self.gen).to(x_tr.device)
        dev = x_tr.device
        sums = {k: torch.zeros((), dtype=torch.float64, device=dev)
                for k in ("loss", "hits", "vloss", "vhits")}
        seen = vseen = 0
        lr = float("nan")
        for i in range(steps):
            idx = perm[i * bs:(i + 1) * bs]
            start = (i * bs) % nv
            vidx = vperm[start:start + bs]
            if len(vidx) < min(bs, nv):
                vidx = torch.cat([vidx, vperm[:min(bs, nv) - len(vidx)]])
            xb, yb = augment_batch(x_tr[idx], p, self.gen), y_tr[idx]
            xv, yv = augment_batch(x_va[vidx], p, self.gen), y_va[vidx]
            lr = lr_at(p, epoch, i / steps, self.epochs)
            for g in self.opt.param_groups:
                g["lr"] = lr
            lv, hv = self.arch_step(epoch, xb, yb, xv, yv, lr)
            lt, ht = self.weight_step(epoch, xb, yb)
            sums["vloss"] += lv.double() * len(yv)
            sums["vhits"] += hv
            sums["loss"] += lt.double() * len(yb)
            sums["hits"] += ht
            seen += len(yb)
            vseen += len(yv)
        loss = float(sums["loss"]) / max(seen, 1)
        if not math.isfinite(loss) or not bool(torch.isfinite(self.alpha).all()):
            raise FloatingPointError(f"{self.registry_name}: training diverged at epoch "
                                     f"{epoch + 1} (loss {loss})")
        metrics = {"loss": loss, "train_acc": 100.0 * float(sums["hits"]) / max(seen, 1),
                   "val_loss": float(sums["vloss"]) / max(vseen, 1),
                   "val_acc": 100.0 * float(sums["vhits"]) / max(vseen, 1), "lr": lr}
        derived = self.derive()[0]
        self.derived_history.append(self.arch_state(derived))
        self._trained = epoch
        return metrics

    def finish_epoch(self) -> None:
        """After the last trained epoch (once; from :meth:`diagnostics` or
        :meth:`should_stop`, whichever the runner calls first, or from the next
        :meth:`train_epoch`): the eigenvalue when due, then :meth:`end_epoch` (the methods'
        rules). Its time is outside ``train_epoch``, so the runner's epoch ``wall_s`` minus
        ``simulated_s`` is the eigenvalue's cost."""
        epoch = self._trained
        if epoch < 0 or self._finished >= epoch:
            return
        eig: float | None = None
        iters: int | None = None
        if self.eig_every and (epoch + 1) % self.eig_every == 0:
            eig, iters = self.hessian_eigenvalue(epoch)
            self.eig_history.append([epoch, eig])
        self._diag = {"eigenvalue": eig, "eig_iters": iters,
                      "eig_hvps": None if iters is None else iters * len(self._eig_data)}
        self._finished = epoch
        self.end_epoch(epoch)

    def should_stop(self) -> bool:
        self.finish_epoch()
        return self.stop_now()

    def stop_now(self) -> bool:
        """Hook: whether the method's rule stops training after this epoch (default no)."""
        return False

    # --- diagnostics ---------------------------------------------------------------------
    def hessian_eigenvalue(self, epoch: int, *, iters: int | None = None,
                           tol: float = 1e-3) -> tuple[float, int]:
        """Dominant eigenvalue of the Hessian of the validation loss (softmax relaxation,
        mean over the fixed eigenvalue batches) with respect to ``alpha``, by power iteration
        on autograd Hessian-vector products; (value, iterations)."""
        import torch

        a = self.alpha.detach().clone().requires_grad_(True)
        grads = []
        for xv, yv in self._eig_data:
            loss, _ = self._loss(None, torch.softmax(a, dim=-1), xv, yv)
            (g,) = torch.autograd.grad(loss / len(self._eig_data), [a], create_graph=True)
            grads.append(g)

        def hvp(v: torch.Tensor) -> torch.Tensor:
            out = torch.zeros_like(v)
            for g in grads:
                (h,) = torch.autograd.grad((g * v).sum(), [a], retain_graph=True)
                out += h.detach()
            return out

        gen = torch.Generator(device="cpu")
        gen.manual_seed(derive_seed(self.seed, 7, epoch))
        val, used = dominant_eigenvalue(hvp, tuple(a.shape), generator=gen,
                                        iters=iters or self.eig_iters, tol=tol, dtype=a.dtype,
                                        device=a.device)
        del grads
        self.net.zero_grad(set_to_none=True)
        return val, used

    def alpha_softmax(self) -> list[list[float]]:
        import torch

        with torch.no_grad():
            return [[round(float(v), 6) for v in row]
                    for row in torch.softmax(self.alpha.detach(), -1).cpu().tolist()]

    def derived_path(self) -> list[int]:
        import torch

        a = self.alpha.detach().clone()
        if self.derivation == "argmax_no_none":
            a[:, list(self.net.op_names).index(NONE_OP)] = -torch.inf
        return [int(v) for v in a.argmax(-1).tolist()]

    def param_free_edges(self, path: Sequence[int]) -> int:
        return sum(bool(self.param_free[e][k]) for e, k in enumerate(path))

    def derive(self) -> list[Architecture]:
        return [self.net.path_to_arch(self.derived_path())]

    def diagnostics(self) -> dict[str, Any]:
        self.finish_epoch()
        path = self.derived_path()
        ops = list(self.net.op_names)
        k = self.param_free_edges(path)
        return {"alpha_softmax": self.alpha_softmax(), "ops": ops,
                "edges": [f"{s}->{d}" for s, d in self.net.spec.edges],
                "derived_ops": [ops[i] for i in path], "param_free_edges": k,
                "param_free_share": k / max(len(path), 1),
                "param_free_ops": [o for i, o in enumerate(ops) if self.param_free[0][i]],
                **self._diag, **self.extra_diagnostics()}

    def extra_diagnostics(self) -> dict[str, Any]:
        """Hook: a subclass's additional diagnostics."""
        return {}

    def eigenvalues(self) -> list[float]:
        return [float(v) for _, v in self.eig_history]

    # --- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"supernet": {"config": self.net.config(),
                             "state_dict": {k: v.detach().cpu()
                                            for k, v in self.net.state_dict().items()}},
                "alpha": self.alpha.detach().cpu().clone(),
                "optimizer": self.opt.state_dict(), "arch_optimizer": self.a_opt.state_dict(),
                "gen": self.gen.get_state(), "noise": self.noise.get_state(),
                "eig_history": [list(r) for r in self.eig_history],
                "derived_history": [list(c) for c in self.derived_history],
                "diag": dict(self._diag), "trained": self._trained,
                "finished": self._finished, **self.extra_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import torch

        from naslab.nn.supernet import check_config

        check_config(state["supernet"]["config"], self.net.config(), "in the run's state")
        self.net.load_state_dict(state["supernet"]["state_dict"], strict=True)
        with torch.no_grad():
            self.alpha.copy_(state["alpha"].to(self.alpha.device))
        self.opt.load_state_dict(state["optimizer"])
        self.a_opt.load_state_dict(state["arch_optimizer"])
        self.gen.set_state(state["gen"])
        self.noise.set_state(state["noise"])
        self.eig_history = [list(r) for r in state["eig_history"]]
        self.derived_history = [list(c) for c in state["derived_history"]]
        self._diag = dict(state["diag"])
        # checkpoints of the first benchmark runs (eigenvalue inside train_epoch) lack these
        done = len(self.derived_history) - 1
        self._trained = int(state.get("trained", done))
        self._finished = int(state.get("finished", done))
        self.load_extra_state(state)

    def extra_state(self) -> dict[str, Any]:
        """Hook: a subclass's additional state entries."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Hook: restore what :meth:`extra_state` returned."""
