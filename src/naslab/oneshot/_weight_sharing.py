"""What the weight-sharing methods (SPOS, RS-WS, ENAS, SMASH) share: a cell supernet trained
on single paths, evaluation of an architecture on inherited weights, and their state (no
torch at import; a private module, not discovered by the registry).

:class:`WeightSharingMethod` builds the space's supernet (:func:`naslab.nn.build_supernet`,
width ``protocol.C``, ``protocol.N`` cells per stage, the dataset's channels and classes, BN
mode ``bn``) and trains it under the run's protocol: SGD with the protocol's learning rate,
momentum, Nesterov and weight decay, its schedule (:func:`naslab.nn.protocol.lr_at`, spanning
the run's epochs), batch size, augmentation and label smoothing, gradients clipped to
``grad_clip`` (NAS-Bench-201's search code clips at 5). Each training step runs the path(s)
a subclass's sampler returns (:meth:`train_weights`).

Evaluation on inherited weights (:meth:`evaluate`): BN recalibration for the architecture on
``recalibration_batches`` fixed training batches (:meth:`CellSupernet.recalibrate_bn`, SPOS's
recipe; skipped when 0), then accuracy of its single path in eval mode on the first
``batches`` validation batches of ``protocol.batch_size`` images (all of the validation split
when None), in a fixed order. Every architecture is scored on the same images.

Randomness (all seeded from the method seed): supernet weights ``derive_seed(seed, 1)``, data
order and augmentation a CPU ``torch.Generator`` ``derive_seed(seed, 2)``, path sampling a
numpy generator ``derive_seed(seed, 3)``, the recalibration batches ``derive_seed(seed, 4)``,
the post-training search a numpy generator ``derive_seed(seed, SEARCH_STREAM)`` (so that the
search depends on the checkpoint only).

State (:meth:`state_dict`): ``{"supernet": {"config", "state_dict"}, "optimizer", "gen",
"rng", "counts", "marginal", ...}``; the ``supernet`` entry is what
:func:`naslab.runner.oneshot.export_supernet` writes to a supernet checkpoint file for the
supernet estimator and the fidelity harness.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from naslab.errors import ConfigError, check_float, check_int
from naslab.oneshot.base import OneShotMethod
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture, SearchSpace

if TYPE_CHECKING:
    from naslab.data.base import ImageDataset
    from naslab.nn.protocol import Protocol

__all__ = ["WeightSharingMethod", "SEARCH_STREAM", "check_bn", "distinct"]

#: seed stream of the post-training search
SEARCH_STREAM = 0x5EA4


#: draws tried per wanted candidate before accepting fewer distinct ones
_TRIES = 20


def distinct(draw: Callable[[], Architecture], n: int,
             exclude: Container[Architecture] = ()) -> list[Architecture]:
    """Up to ``n`` distinct architectures from ``draw()`` (none in ``exclude``), in the order
    drawn; at most ``_TRIES * n`` draws, so a small space gives fewer."""
    out: list[Architecture] = []
    seen: set[Architecture] = set()
    for _ in range(n * _TRIES):
        if len(out) >= n:
            break
        a = draw()
        if a not in seen and a not in exclude:
            seen.add(a)
            out.append(a)
    return out


def check_bn(bn: Any) -> str:
    """``standalone`` or ``search`` (the supernet's BN modes)."""
    if bn not in ("standalone", "search"):
        raise ConfigError(f"bn must be 'standalone' (affine BN with running statistics, "
                          f"recalibrated per architecture) or 'search' (NB201's search BN: "
                          f"batch statistics, no affine parameters), got {bn!r}")
    return str(bn)


class WeightSharingMethod(OneShotMethod):
    """Base of the single-path weight-sharing methods (see the module docstring). Subclasses
    set ``bn``, ``grad_clip`` and ``recalibration_batches`` in ``__init__``, implement
    :meth:`train_epoch` (usually around :meth:`train_weights`) and the search, and may extend
    :meth:`build` (extra modules), :meth:`extra_state` / :meth:`load_extra_state`."""

    exports_supernet = True

    bn: str = "standalone"
    grad_clip: float = 5.0
    recalibration_batches: int = 20
    #: images per recalibration batch
    recalibration_batch_size: int = 128

    def _check_common(self, bn: Any, grad_clip: Any, recalibration_batches: Any) -> None:
        self.bn = check_bn(bn)
        self.grad_clip = check_float("grad_clip", grad_clip, minimum=0.0, finite=True)
        self.recalibration_batches = check_int("recalibration_batches", recalibration_batches,
                                               minimum=0)

    def check_space(self, space: SearchSpace) -> None:
        self.require_cell_supernet(space, "trains a supernet")

    # --- setup ---------------------------------------------------------------------------
    def setup(self, space: SearchSpace, dataset: ImageDataset, protocol: Protocol, *,
              seed: int, device: str = "cpu") -> None:
        super().setup(space, dataset, protocol, seed=seed, device=device)
        import torch

        g = torch.Generator(device="cpu")
        g.manual_seed(derive_seed(self.seed, 1))
        self.net = self.build_cell_supernet(self.bn, g)
        self.build(g)
        self.net.to(self.device)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=protocol.lr,
                                   momentum=protocol.momentum, nesterov=protocol.nesterov,
                                   weight_decay=protocol.weight_decay)
        self.gen = torch.Generator(device="cpu")
        self.gen.manual_seed(derive_seed(self.seed, 2))
        self.rng = np.random.default_rng(derive_seed(self.seed, 3))
        dev = torch.device(self.device)
        self._data = self.split_tensors()
        n = len(self._data["train"][1])
        rg = torch.Generator(device="cpu")
        rg.manual_seed(derive_seed(self.seed, 4))
        perm = torch.randperm(n, generator=rg)
        bs = min(self.recalibration_batch_size, n)
        self._recal: list[Any] = []
        for b in range(self.recalibration_batches):
            start = (b * bs) % n
            idx = perm[start:start + bs]
            if len(idx) < bs:
                idx = torch.cat([idx, perm[:bs - len(idx)]])
            self._recal.append(self._data["train"][0][idx.to(dev)])
        self._tracked_bn = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                               and m.track_running_stats for m in self.net.modules())
        self.sizes = [d.size for d in space.decisions]
        width = max(self.sizes)
        #: how often each option of each decision was trained (all epochs)
        self.counts = np.zeros((len(self.sizes), width), dtype=np.int64)
        #: mean training-batch accuracy per (decision, option) in the last epoch (NaN: unseen)
        self.marginal = np.full((len(self.sizes), width), np.nan)

    def build(self, generator: Any) -> None:
        """Hook: build extra modules (a hypernetwork) from ``generator`` before the supernet
        moves to the device and the optimizer is made."""

    # --- training ------------------------------------------------------------------------
    def train_weights(self, epoch: int, sample: Callable[[], Sequence[Architecture]]
                      ) -> dict[str, float]:
        """One pass over the training data; each step trains the paths ``sample()`` returns
        (their gradients summed, one optimizer step). Returns ``loss``, ``train_acc`` (of
        the trained paths on their batches) and ``lr`` (of the last step)."""
        import torch
        import torch.nn.functional as F

        from naslab.estimators._train_loop import augment_batch
        from naslab.nn.protocol import lr_at

        p, net = self.protocol, self.net
        x_tr, y_tr = self._data["train"]
        n = len(y_tr)
        bs = p.batch_size
        steps = math.ceil(n / bs)
        net.train()
        perm = torch.randperm(n, generator=self.gen).to(x_tr.device)
        loss_sum = torch.zeros((), dtype=torch.float64, device=x_tr.device)
        hit_sum = torch.zeros((), dtype=torch.int64, device=x_tr.device)
        seen = 0
        acc_sum = np.zeros_like(self.marginal)
        acc_n = np.zeros_like(self.counts)
        lr = float("nan")
        for i in range(steps):
            idx = perm[i * bs:(i + 1) * bs]
            xb = augment_batch(x_tr[idx], p, self.gen)
            yb = y_tr[idx]
            lr = lr_at(p, epoch, i / steps, self.epochs)
            for g in self.opt.param_groups:
                g["lr"] = lr
            self.opt.zero_grad(set_to_none=True)
            for arch in sample():
                out = net(xb, arch=arch)
                loss = F.cross_entropy(out, yb, label_smoothing=p.label_smoothing)
                loss.backward()
                hits = (out.detach().argmax(1) == yb).sum()
                loss_sum += loss.detach().double() * len(yb)
                hit_sum += hits
                seen += len(yb)
                acc = float(hits) / len(yb)
                for d, k in enumerate(self.space.decision_indices(arch)):
                    self.counts[d, k] += 1
                    acc_sum[d, k] += acc
                    acc_n[d, k] += 1
            if self.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(net.parameters(), self.grad_clip)
            self.opt.step()
        loss_avg = float(loss_sum) / max(seen, 1)
        if not math.isfinite(loss_avg):
            raise FloatingPointError(f"supernet training diverged at epoch {epoch + 1} "
                                     f"(loss {loss_avg})")
        with np.errstate(invalid="ignore"):
            self.marginal = np.where(acc_n > 0, acc_sum / np.maximum(acc_n, 1), np.nan)
        return {"loss": loss_avg, "train_acc": 100.0 * float(hit_sum) / max(seen, 1), "lr": lr}

    def uniform_arch(self, rng: np.random.Generator) -> Architecture:
        """Every decision's option drawn uniformly (one path shared by all cells)."""
        return self.space.from_decision_indices([int(rng.integers(s)) for s in self.sizes])

    # --- evaluation on inherited weights -------------------------------------------------
    def evaluate(self, arch: Architecture, batches: int | None = None) -> float:
        """Validation accuracy (%) of ``arch`` with inherited weights: BN recalibration (when
        configured and the supernet tracks statistics), then its path in eval mode on the
        first ``batches`` validation batches (None: the whole validation split)."""
        import torch

        net = self.net
        if self._recal and self._tracked_bn:
            net.recalibrate_bn(arch, self._recal)
        net.eval()
        x, y = self._data["val"]
        bs = self.protocol.batch_size
        end = len(y) if batches is None else min(len(y), batches * bs)
        # with batch-statistics BN the chunk is the batch; else any chunk gives the same
        chunk = bs if self.bn == "search" else max(bs, self.protocol.eval_batch_size)
        correct = torch.zeros((), dtype=torch.int64, device=x.device)
        with torch.no_grad():
            for i in range(0, end, chunk):
                j = min(i + chunk, end)
                correct += (net(x[i:j], arch=arch).argmax(1) == y[i:j]).sum()
        net.train()
        return 100.0 * float(correct) / max(end, 1)

    def search_rng(self) -> np.random.Generator:
        """The generator of the post-training search (seeded, independent of training)."""
        return np.random.default_rng(derive_seed(self.seed, SEARCH_STREAM))

    def rank(self, candidates: Sequence[Architecture], *, eval_batches: int | None,
             final_candidates: int) -> list[tuple[Architecture, float]]:
        """Score ``candidates`` (duplicates once) on ``eval_batches`` validation batches, then
        re-score the best ``final_candidates`` (when more than 1) on the whole validation
        split; best first (ties: the earlier candidate). Records ``self.search_log``."""
        uniq = list(dict.fromkeys(candidates))
        first = [(a, self.evaluate(a, eval_batches)) for a in uniq]
        order = sorted(range(len(first)), key=lambda i: (-first[i][1], i))
        ranked = [first[i] for i in order]
        log: dict[str, Any] = {"candidates": len(uniq), "eval_batches": eval_batches,
                               "first_stage": [[str(a), v] for a, v in first]}
        if final_candidates > 1 and eval_batches is not None:
            top = [(a, self.evaluate(a, None)) for a, _ in ranked[:final_candidates]]
            order = sorted(range(len(top)), key=lambda i: (-top[i][1], i))
            ranked = [top[i] for i in order] + ranked[final_candidates:]
            log["final_stage"] = [[str(a), v] for a, v in top]
        self.search_log = log
        return ranked

    def search_top(self, candidates: Sequence[Architecture], *, eval_batches: int,
                   final_candidates: int, top_k: int) -> list[Architecture]:
        """The ``top_k`` best of ``candidates`` by :meth:`rank` (``eval_batches`` 0: all
        batches), best first: the search of RS-WS, ENAS and SMASH."""
        ranked = self.rank(candidates, eval_batches=eval_batches or None,
                           final_candidates=final_candidates)
        return [a for a, _ in ranked[:top_k]]

    # --- derive / diagnostics --------------------------------------------------------------
    def marginal_arch(self) -> Architecture:
        """Per decision, the option whose trained paths had the best mean batch accuracy in the
        last epoch (unseen options last): a cheap progress indicator, not the search."""
        idx = []
        for d, s in enumerate(self.sizes):
            row = np.nan_to_num(self.marginal[d, :s], nan=-1.0)
            idx.append(int(np.argmax(row)))
        return self.space.from_decision_indices(idx)

    def diagnostics(self) -> dict[str, Any]:
        return {"op_counts": [self.counts[d, :s].tolist() for d, s in enumerate(self.sizes)]}

    def search_info(self) -> dict[str, Any]:
        return dict(getattr(self, "search_log", {}))

    # --- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"supernet": {"config": self.net.config(),
                             "state_dict": {k: v.detach().cpu()
                                            for k, v in self.net.state_dict().items()}},
                "optimizer": self.opt.state_dict(), "gen": self.gen.get_state(),
                "rng": self.rng.bit_generator.state, "counts": self.counts.tolist(),
                "marginal": [[None if math.isnan(v) else float(v) for v in row]
                             for row in self.marginal],
                **self.extra_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        from naslab.nn.supernet import check_config

        check_config(state["supernet"]["config"], self.net.config(), "in the run's state")
        self.net.load_state_dict(state["supernet"]["state_dict"], strict=True)
        self.opt.load_state_dict(state["optimizer"])
        self.gen.set_state(state["gen"])
        self.rng.bit_generator.state = state["rng"]
        self.counts = np.array(state["counts"], dtype=np.int64)
        self.marginal = np.array([[np.nan if v is None else v for v in row]
                                  for row in state["marginal"]], dtype=np.float64)
        self.load_extra_state(state)

    def extra_state(self) -> dict[str, Any]:
        """Hook: a subclass's additional state entries."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Hook: restore what :meth:`extra_state` returned."""
