"""``enas``: Efficient NAS via parameter sharing (Pham et al., ICML 2018), NAS-Bench-201's
version; no torch at import.

An LSTM controller (:class:`naslab.nn.controller.ArchController`) samples an architecture
decision by decision over ``space.decisions``. Each epoch alternates two phases:

1. **shared weights**: one pass over the training data; every step trains the path the
   controller samples (no controller gradient), under the run's protocol
   (:class:`~naslab.oneshot._weight_sharing.WeightSharingMethod`, gradients clipped at 5);
2. **controller**: ``controller_steps`` Adam steps, each averaging the REINFORCE gradient of
   ``controller_aggregate`` sampled paths. The reward of a path is its accuracy (0..1) on
   the next validation batch (supernet in eval mode, no gradient) plus ``entropy_weight``
   times the policy's entropy; the baseline is a moving average of rewards
   (``b <- b - (1 - baseline_decay) (b - reward)``, updated after every sample, started at
   the first reward); the loss is ``-log p(path) (reward - b)``; gradients clipped at 5.

``derive()`` is the controller's greedy path. **Search** (after training): ``candidates``
paths sampled from the controller (distinct), each scored on the first ``eval_batches``
validation batches; the ``final_candidates`` best re-scored on the whole validation split
(1 = no second stage, NB201's ``get_best_arch``).

Defaults are NAS-Bench-201's ENAS settings: controller LSTM 32 units x 2 layers, temperature
5, tanh constant 2.5, Adam lr 0.001 betas (0, 0.999) eps 1e-3, entropy weight 1e-4, baseline
decay 0.99, 50 controller steps x 20 samples per epoch, 100 candidates; BN ``search`` (batch
statistics, NB201's BN0 setting). Shared weights in NB201 (``nb201-enas`` protocol): 310
epochs, batch 128, SGD lr 0.05 cosine to 5e-4, weight decay 2.5e-4, Nesterov.

Deviations: NB201's code keeps the baseline of the previous epoch fixed for a whole controller
phase (it only updates it between epochs); we update it after every sample, as the original
ENAS. ENAS micro uses lstm_size 64, 1 layer, tanh constant 1.10 (we follow NB201). NB201
scores each candidate on a different validation batch; we score all on the same batches. The
controller always runs on the CPU (it is tiny; its draws come from a CPU generator).
"""

from __future__ import annotations

from typing import Any

from naslab.errors import check_float, check_int
from naslab.oneshot._weight_sharing import WeightSharingMethod, distinct
from naslab.registry import register
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture


@register("oneshot", "enas")
class ENAS(WeightSharingMethod):
    """ENAS: an LSTM controller trained by REINFORCE on the shared weights' validation
    accuracy, alternating with training the shared weights on its samples."""

    def __init__(self, lstm_size: int = 32, lstm_layers: int = 2, temperature: float = 5.0,
                 tanh_constant: float = 2.5, controller_lr: float = 0.001,
                 entropy_weight: float = 1e-4, baseline_decay: float = 0.99,
                 controller_steps: int = 50, controller_aggregate: int = 20,
                 candidates: int = 100, eval_batches: int = 1, final_candidates: int = 1,
                 top_k: int = 1, bn: str = "search", recalibration_batches: int = 0,
                 grad_clip: float = 5.0) -> None:
        self.lstm_size = check_int("lstm_size", lstm_size, minimum=1)
        self.lstm_layers = check_int("lstm_layers", lstm_layers, minimum=1)
        self.temperature = check_float("temperature", temperature, minimum=0.0,
                                       strict_min=True)
        self.tanh_constant = check_float("tanh_constant", tanh_constant, minimum=0.0,
                                         strict_min=True)
        self.controller_lr = check_float("controller_lr", controller_lr, minimum=0.0,
                                         strict_min=True)
        self.entropy_weight = check_float("entropy_weight", entropy_weight, minimum=0.0)
        self.baseline_decay = check_float("baseline_decay", baseline_decay, minimum=0.0,
                                          maximum=1.0)
        self.controller_steps = check_int("controller_steps", controller_steps, minimum=0)
        self.controller_aggregate = check_int("controller_aggregate", controller_aggregate,
                                              minimum=1)
        self.candidates = check_int("candidates", candidates, minimum=1)
        self.eval_batches = check_int("eval_batches", eval_batches, minimum=0)
        self.final_candidates = check_int("final_candidates", final_candidates, minimum=0)
        self.top_k = check_int("top_k", top_k, minimum=1)
        self._check_common(bn, grad_clip, recalibration_batches)

    def build(self, generator: Any) -> None:
        import torch

        from naslab.nn.controller import build_controller

        g = torch.Generator(device="cpu")
        g.manual_seed(derive_seed(self.seed, 5))
        self.controller = build_controller(
            [d.size for d in self.space.decisions], generator=g, lstm_size=self.lstm_size,
            lstm_layers=self.lstm_layers, temperature=self.temperature,
            tanh_constant=self.tanh_constant)
        self.ctrl_opt = torch.optim.Adam(self.controller.parameters(), lr=self.controller_lr,
                                         betas=(0.0, 0.999), eps=1e-3)
        #: the controller's sampling generator (CPU)
        self.cgen = torch.Generator(device="cpu")
        self.cgen.manual_seed(derive_seed(self.seed, 6))
        self.baseline: float | None = None
        self._val_pos = 0
        self._val_perm: Any = None

    # --- training ------------------------------------------------------------------------
    def _sample(self) -> Architecture:
        import torch

        with torch.no_grad():
            choices, _, _ = self.controller.sample(self.cgen)
        return self.space.from_decision_indices(choices)

    def _val_batch(self) -> tuple[Any, Any]:
        """The next batch of a shuffled pass over the validation split (reshuffled from the
        data generator at the end of each pass)."""
        import torch

        x, y = self._data["val"]
        bs = min(self.protocol.batch_size, len(y))
        if self._val_perm is None or self._val_pos + bs > len(y):
            self._val_perm = torch.randperm(len(y), generator=self.gen).to(x.device)
            self._val_pos = 0
        idx = self._val_perm[self._val_pos:self._val_pos + bs]
        self._val_pos += bs
        return x[idx], y[idx]

    def train_epoch(self, epoch: int) -> dict[str, float]:
        import torch

        self.controller.eval()
        metrics = self.train_weights(epoch, lambda: [self._sample()])
        # controller phase
        net = self.net
        net.eval()
        self.controller.train()
        rewards, accs, ents = [], [], []
        self.ctrl_opt.zero_grad(set_to_none=True)
        for _step in range(self.controller_steps):
            for _ in range(self.controller_aggregate):
                choices, log_prob, entropy = self.controller.sample(self.cgen)
                arch = self.space.from_decision_indices(choices)
                xb, yb = self._val_batch()
                with torch.no_grad():
                    acc = float((net(xb, arch=arch).argmax(1) == yb).float().mean())
                reward = acc + self.entropy_weight * float(entropy.detach())
                b = reward if self.baseline is None else (
                    self.baseline - (1 - self.baseline_decay) * (self.baseline - reward))
                self.baseline = b
                loss = -log_prob * (reward - b) / self.controller_aggregate
                loss.backward()
                rewards.append(reward)
                accs.append(acc)
                ents.append(float(entropy.detach()))
            torch.nn.utils.clip_grad_norm_(self.controller.parameters(), 5.0)
            self.ctrl_opt.step()
            self.ctrl_opt.zero_grad(set_to_none=True)
        net.train()
        self.controller.eval()
        if accs:
            metrics.update(val_acc=100.0 * sum(accs) / len(accs),
                           reward=sum(rewards) / len(rewards),
                           entropy=sum(ents) / len(ents), baseline=float(self.baseline or 0.0))
        return metrics

    def derive(self) -> list[Architecture]:
        self.controller.eval()
        return [self.space.from_decision_indices(self.controller.greedy())]

    def diagnostics(self) -> dict[str, Any]:
        return {**super().diagnostics(), "policy": self.controller.probabilities()}

    # --- search --------------------------------------------------------------------------
    def search(self) -> list[Architecture]:
        import torch

        g = torch.Generator(device="cpu")
        g.manual_seed(derive_seed(self.seed, 0x5EA4, 1))
        self.controller.eval()
        with torch.no_grad():
            cands = distinct(lambda: self.space.from_decision_indices(
                self.controller.sample(g)[0]), self.candidates)
        return self.search_top(cands, eval_batches=self.eval_batches,
                               final_candidates=self.final_candidates, top_k=self.top_k)

    # --- state -----------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"controller": {k: v.detach().cpu() for k, v in
                               self.controller.state_dict().items()},
                "controller_optimizer": self.ctrl_opt.state_dict(),
                "cgen": self.cgen.get_state(), "baseline": self.baseline,
                "val_pos": self._val_pos,
                "val_perm": None if self._val_perm is None else self._val_perm.cpu()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.controller.load_state_dict(state["controller"])
        self.ctrl_opt.load_state_dict(state["controller_optimizer"])
        self.cgen.set_state(state["cgen"])
        self.baseline = state["baseline"]
        self._val_pos = int(state["val_pos"])
        vp = state["val_perm"]
        self._val_perm = None if vp is None else vp.to(self._data["val"][0].device)
