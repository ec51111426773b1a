"""``ofa``: Once-for-All -- train one elastic supernet, then slice sub-networks for any latency
budget without retraining (Cai, Gan, Wang, Zhang & Han, ICLR 2020); no torch at import.

**Training: progressive shrinking.** Over the block space's ``elastic`` supernet
(:class:`~naslab.nn.ofa.ElasticMobileNet`; one largest block per slot, kernels and channels
sliced), in phases, each with its own optimizer and a cosine schedule over its epochs:

1. ``largest`` (``largest_epochs``): the largest network only (kernel 7, expansion 6, depth 4);
   it becomes the **teacher** (a frozen copy) of every later phase;
2. ``kernel`` (``kernel_epochs``): elastic kernel, kernels {3, 5, 7} (centre crop + the kernel
   transform matrices), depth 4, expansion 6;
3. ``depth`` (``depth_epochs``): elastic depth, first depths {3, 4} then {2, 3, 4} (half of
   the epochs each; all {2, 3, 4} when there is one epoch), any kernel;
4. ``expand`` (``expand_epochs``): at its start every block's middle channels are sorted by
   importance (:meth:`~naslab.nn.ofa.ElasticMobileNet.sort_channels`), then expansions
   {4, 6} then {3, 4, 6}, any kernel and depth.

Every step of phases 2-4 trains ``subnets_per_step`` sub-networks sampled uniformly among the
phase's choices (gradients summed) with knowledge distillation: ``CE + kd_ratio *
soft-CE(student, softmax(teacher))``. Shrinking phases train at ``lr * shrink_lr``.

**Search (after training).** (1) ``predictor_samples`` random sub-networks (the space's
sampler) are extracted with sliced weights, their BN statistics recalibrated on
``recalibration_batches`` fixed training batches, and scored on the validation split; (2) an
accuracy predictor -- OFA's MLP (3 hidden layers of 400, scikit-learn's ``MLPRegressor``) on
the ``ofa`` encoding (per block a one-hot kernel and expansion, zeros for absent blocks) --
is fit on them; (3) evolution (``population``, ``generations``, ``parents`` best kept,
mutation of each stage with probability ``mutation_prob``, uniform crossover of stages) on
the predictor's accuracy, under ``latency_ms`` when given: latency from ``latency_lut``
(``latency_source="lut"``) or measured on this machine (``"measure"``: each candidate's
stand-alone network timed at batch 1, one thread). ``search()`` returns the best feasible
sub-network; :meth:`OnceForAll.search_under` runs the same search under another budget on
the trained supernet (``naslab ofa search``), :meth:`OnceForAll.subnet` extracts a
sub-network with recalibrated BN (``naslab ofa export``).

Paper settings (ImageNet) and ours (CPU): OFA trains 180 epochs for the largest network,
120 for the kernel phase, 25 + 120 for depth, 25 + 120 for expansion, four sub-networks
per step, distillation ratio 1, an accuracy predictor on 16K sub-networks, evolution with
population 100 over 500 generations. Ours default to 2 / 1 / 2 / 2 epochs, one sub-network
per step, 60 predictor samples, population 40 over 15 generations. ``protocol.epochs`` is not
used: the phases' epochs are the method's parameters (their sum is the run's epochs).
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from naslab.errors import ConfigError, check_float, check_int
from naslab.oneshot.base import OneShotMethod
from naslab.registry import register
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture, SearchSpace

if TYPE_CHECKING:
    from naslab.data.base import ImageDataset
    from naslab.nn.protocol import Protocol

__all__ = ["OnceForAll", "PHASES"]

PHASES = ("largest", "kernel", "depth", "expand")
LATENCY_SOURCES = ("lut", "measure")
SEARCH_STREAM = 0x0FA5


@register("oneshot", "ofa")
class OnceForAll(OneShotMethod):
    """Once-for-All: progressive shrinking with distillation, then predictor-guided evolution
    under a latency budget (see the module docstring)."""

    def __init__(self, largest_epochs: int = 2, kernel_epochs: int = 1, depth_epochs: int = 2,
                 expand_epochs: int = 2, kd_ratio: float = 1.0, shrink_lr: float = 0.3,
                 subnets_per_step: int = 1, recalibration_batches: int = 5,
                 predictor_samples: int = 60, population: int = 40, generations: int = 15,
                 parents: int = 10, mutation_prob: float = 0.2, latency_ms: float | None = None,
                 latency_lut: str | None = None, latency_source: str = "lut",
                 grad_clip: float = 5.0) -> None:
        self.largest_epochs = check_int("largest_epochs", largest_epochs, minimum=1)
        self.kernel_epochs = check_int("kernel_epochs", kernel_epochs, minimum=0)
        self.depth_epochs = check_int("depth_epochs", depth_epochs, minimum=0)
        self.expand_epochs = check_int("expand_epochs", expand_epochs, minimum=0)
        self.kd_ratio = check_float("kd_ratio", kd_ratio, minimum=0.0, finite=True)
        self.shrink_lr = check_float("shrink_lr", shrink_lr, minimum=0.0, strict_min=True,
                                     finite=True)
        self.subnets_per_step = check_int("subnets_per_step", subnets_per_step, minimum=1)
        self.recalibration_batches = check_int("recalibration_batches", recalibration_batches,
                                               minimum=0)
        self.predictor_samples = check_int("predictor_samples", predictor_samples, minimum=5)
        self.population = check_int("population", population, minimum=2)
        self.generations = check_int("generations", generations, minimum=1)
        self.parents = check_int("parents", parents, minimum=1)
        self.mutation_prob = check_float("mutation_prob", mutation_prob, minimum=0.0,
                                         maximum=1.0)
        self.latency_ms = (None if latency_ms is None else
                           check_float("latency_ms", latency_ms, minimum=0.0, strict_min=True,
                                       finite=True))
        self.latency_lut = None if latency_lut is None else str(latency_lut)
        if latency_source not in LATENCY_SOURCES:
            raise ConfigError(f"latency_source must be one of {', '.join(LATENCY_SOURCES)}, "
                              f"got {latency_source!r}")
        self.latency_source = latency_source
        self.grad_clip = check_float("grad_clip", grad_clip, minimum=0.0, finite=True)
        if self.latency_ms is not None and self.latency_source == "lut" and \
                self.latency_lut is None:
            from naslab.oneshot._hardware_aware import NO_LUT_HELP

            raise ConfigError(f"ofa: latency_ms {self.latency_ms} with latency_source 'lut' "
                              f"needs a latency LUT of this device (latency_lut / "
                              f"--latency-lut); none was given: {NO_LUT_HELP}; or use "
                              f"latency_source=measure")

    def check_space(self, space: SearchSpace) -> None:
        from naslab.nn.supernets import block_supernet_spaces

        have = block_supernet_spaces()
        if space.name not in have:
            raise ConfigError(f"one-shot method 'ofa' trains an elastic block supernet; space "
                              f"{space.name!r} has none; spaces with one: "
                              f"{', '.join(have) or 'none'}")

    # --- phases --------------------------------------------------------------------------
    def schedule(self) -> list[dict[str, Any]]:
        """The progressive-shrinking sub-phases: name, phase, first epoch, epochs and the
        kernels / depths / expansions sampled."""
        sp: Any = getattr(self, "space", None)
        if sp is None:  # before setup: the first block space (the schedule is its choices')
            from naslab.nn.supernets import block_supernet_spaces
            from naslab.spaces.base import get_space

            sp = get_space(block_supernet_spaces()[0])
        K, D, E = (list(sp.kernel_options), list(sp.depth_options),
                   list(sp.expansion_options))
        big_k, big_d, big_e = [max(K)], [max(D)], [max(E)]
        out: list[dict[str, Any]] = []

        def add(name: str, phase: str, n: int, k: list[int], d: list[int], e: list[int]) -> None:
            if n > 0:
                start = out[-1]["start"] + out[-1]["epochs"] if out else 0
                out.append({"name": name, "phase": phase, "start": start, "epochs": n,
                            "kernels": k, "depths": d, "expansions": e})

        add("largest", "largest", self.largest_epochs, big_k, big_d, big_e)
        add("kernel", "kernel", self.kernel_epochs, K, big_d, big_e)
        n = self.depth_epochs
        add("depth-1", "depth", n // 2 if n >= 2 else 0, K, D[-2:], big_e)
        add("depth-2", "depth", n - (n // 2 if n >= 2 else 0), K, D, big_e)
        n = self.expand_epochs
        add("expand-1", "expand", n // 2 if n >= 2 else 0, K, D, E[-2:])
        add("expand-2", "expand", n - (n // 2 if n >= 2 else 0), K, D, E)
        return out

    def phase_at(self, epoch: int) -> dict[str, Any]:
        for ph in self.schedule():
            if ph["start"] <= epoch < ph["start"] + ph["epochs"]:
                return ph
        raise ConfigError(f"epoch {epoch} is past the last phase (epochs {self.epochs})")

    # --- setup ---------------------------------------------------------------------------
    def setup(self, space: SearchSpace, dataset: ImageDataset, protocol: Protocol, *,
              seed: int, device: str = "cpu") -> None:
        super().setup(space, dataset, protocol, seed=seed, device=device)
        import torch

        from naslab.nn.supernets import build_block_supernet

        self.epochs = sum(p["epochs"] for p in self.schedule())
        self.net_options = {"C": protocol.C, "num_classes": dataset.num_classes,
                            "in_channels": dataset.input_shape[0]}
        self.lut: Any = None
        if self.latency_lut is not None:
            from naslab.nn.lut import LatencyLUT
            from naslab.oneshot._hardware_aware import check_lut_for_run

            self.lut = LatencyLUT.load(self.latency_lut)
            hw = tuple(int(v) for v in dataset.input_shape[1:])
            check_lut_for_run(self.lut, space, self.net_options, (hw[0], hw[1]), "ofa")
        g = torch.Generator(device="cpu")
        g.manual_seed(derive_seed(self.seed, 1))
        self.net = build_block_supernet(space, kind="elastic", generator=g, **self.net_options)
        self.net.to(self.device)
        self.teacher: Any = None
        self.sorted = False
        self.opt = self._optimizer()
        self.gen = torch.Generator(device="cpu")
        self.gen.manual_seed(derive_seed(self.seed, 2))
        self.rng = np.random.default_rng(derive_seed(self.seed, 3))
        dev = torch.device(self.device)
        self._data = self.split_tensors()
        n = len(self._data["train"][1])
        rg = torch.Generator(device="cpu")
        rg.manual_seed(derive_seed(self.seed, 4))
        perm = torch.randperm(n, generator=rg)
        bs = min(128, n)
        self._recal = [self._data["train"][0][perm[(b * bs) % n:(b * bs) % n + bs].to(dev)]
                       for b in range(self.recalibration_batches)]

    def _optimizer(self) -> Any:
        import torch

        p = self.protocol
        return torch.optim.SGD(self.net.parameters(), lr=p.lr, momentum=p.momentum,
                               nesterov=p.nesterov, weight_decay=p.weight_decay)

    def _sample(self, ph: dict[str, Any], rng: np.random.Generator) -> Architecture:
        sp: Any = self.space
        K, D, E = ph["kernels"], ph["depths"], ph["expansions"]
        blocks = []
        for _ in range(sp.n_stages):
            d = D[int(rng.integers(len(D)))]
            blocks.append([(K[int(rng.integers(len(K)))], E[int(rng.integers(len(E)))])
                           for _ in range(d)])
        return sp.from_blocks(blocks)

    def _start_phase(self, ph: dict[str, Any]) -> None:
        """At a sub-phase's first epoch: the teacher after the largest phase, channel sorting
        before elastic expansion, a fresh optimizer."""
        if ph["phase"] != "largest" and self.teacher is None and self.kd_ratio > 0:
            self.teacher = copy.deepcopy(self.net).eval()
            for q in self.teacher.parameters():
                q.requires_grad_(False)
        if ph["phase"] == "expand" and not self.sorted:
            self.net.sort_channels()
            self.sorted = True
        self.opt = self._optimizer()

    def train_epoch(self, epoch: int) -> dict[str, float]:
        import torch
        import torch.nn.functional as F

        from naslab.estimators._train_loop import augment_batch
        from naslab.nn.protocol import lr_at

        ph = self.phase_at(epoch)
        if epoch == ph["start"]:
            self._start_phase(ph)
        p = self.protocol
        lr_proto = p if ph["phase"] == "largest" else p.override(lr=p.lr * self.shrink_lr,
                                                                 lr_min=p.lr_min * self.shrink_lr)
        x_tr, y_tr = self._data["train"]
        n = len(y_tr)
        bs = p.batch_size
        steps = math.ceil(n / bs)
        self.net.train()
        perm = torch.randperm(n, generator=self.gen).to(x_tr.device)
        loss_sum = kd_sum = 0.0
        hits = seen = 0
        lr = float("nan")
        largest = ph["phase"] == "largest"
        for i in range(steps):
            idx = perm[i * bs:(i + 1) * bs]
            xb = augment_batch(x_tr[idx], p, self.gen)
            yb = y_tr[idx]
            lr = lr_at(lr_proto, epoch - ph["start"], i / steps, ph["epochs"])
            for g in self.opt.param_groups:
                g["lr"] = lr
            self.opt.zero_grad(set_to_none=True)
            soft = None
            if not largest and self.teacher is not None:
                with torch.no_grad():
                    soft = F.softmax(self.teacher(xb), dim=1)
            archs = ([None] if largest else
                     [self._sample(ph, self.rng) for _ in range(self.subnets_per_step)])
            for arch in archs:
                out = self.net(xb, arch)
                loss = F.cross_entropy(out, yb, label_smoothing=p.label_smoothing)
                if soft is not None:
                    kd = -(soft * F.log_softmax(out, dim=1)).sum(1).mean()
                    kd_sum += float(kd.detach()) * len(yb)
                    loss = loss + self.kd_ratio * kd
                loss.backward()
                loss_sum += float(loss.detach()) * len(yb)
                hits += int((out.detach().argmax(1) == yb).sum())
                seen += len(yb)
            if self.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.grad_clip)
            self.opt.step()
        loss_avg = loss_sum / max(seen, 1)
        if not math.isfinite(loss_avg):
            raise FloatingPointError(f"OFA training diverged at epoch {epoch + 1}")
        out_m = {"loss": loss_avg, "train_acc": 100.0 * hits / max(seen, 1), "lr": lr,
                 "phase": float(PHASES.index(ph["phase"]))}
        if not largest and self.teacher is not None:
            out_m["kd_loss"] = kd_sum / max(seen, 1)
        return out_m

    def derive(self) -> list[Architecture]:
        """The largest sub-network (a cheap indicator; the answer is :meth:`search`)."""
        return [self.net.largest()]

    def diagnostics(self) -> dict[str, Any]:
        ph = self.schedule()
        return {"phases": [[p["name"], p["start"], p["epochs"]] for p in ph],
                "channels_sorted": self.sorted, "teacher": self.teacher is not None}

    # --- sub-networks ------------------------------------------------------------------------
    def subnet(self, arch: Architecture, *, recalibrate: bool = True) -> Any:
        """``arch``'s stand-alone network with the supernet's sliced weights, BN statistics
        recalibrated on the fixed training batches (OFA's recipe), in eval mode."""
        from naslab.nn.block_supernet import recalibrate_bn

        net = self.net.extract(self.space.validate(arch)).to(self.device)
        if recalibrate and self._recal:
            recalibrate_bn(net, [net], net, self._recal)
        return net.eval()

    def accuracy(self, net: Any, split: str = "val") -> float:
        """Accuracy (%) of ``net`` on the ``train`` or ``val`` split (never the test split)."""
        import torch

        if split not in ("train", "val"):
            raise ConfigError(f"split must be 'train' or 'val', got {split!r}")
        x, y = self._data[split]
        bs = max(self.protocol.eval_batch_size, 1)
        correct = 0
        with torch.no_grad():
            for i in range(0, len(y), bs):
                correct += int((net(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum())
        return 100.0 * correct / max(len(y), 1)

    def sliced_accuracy(self, arch: Architecture) -> float:
        """Validation accuracy (%) of ``arch`` sliced from the supernet (no retraining)."""
        return self.accuracy(self.subnet(arch))

    # --- latency -----------------------------------------------------------------------------
    def latency(self, arch: Architecture, source: str | None = None) -> float:
        """Latency (ms) of ``arch``'s network: the LUT's prediction or a direct measurement
        (batch 1, one thread)."""
        src = source or self.latency_source
        if src == "lut":
            if self.lut is None:
                from naslab.oneshot._hardware_aware import NO_LUT_HELP

                raise ConfigError(f"ofa: no latency LUT of this device was given: {NO_LUT_HELP}")
            return float(self.lut.predict(arch))
        cache: dict[Architecture, float] = self.__dict__.setdefault("_measured", {})
        if arch not in cache:
            from naslab.nn.latency import measure_latency

            net = self.net.extract(arch).eval()
            r = measure_latency(net, tuple(int(v) for v in self.dataset.input_shape), batch=1,
                                threads=1, min_repeats=10, max_repeats=60, max_time_s=0.5,
                                warmup_s=0.05, fingerprint=False)
            cache[arch] = float(r.median_ms)
        return cache[arch]

    # --- search ------------------------------------------------------------------------------
    def search(self) -> list[Architecture]:
        return [self.search_under(self.latency_ms)]

    def search_under(self, latency_ms: float | None, source: str | None = None) -> Architecture:
        """The best sub-network by the accuracy predictor whose latency (``source``: the
        method's ``latency_source`` unless given) is at most ``latency_ms`` (None: no
        budget); records ``self.search_log``."""
        from scipy import stats
        from sklearn.neural_network import MLPRegressor

        sp: Any = self.space
        src = source or self.latency_source
        if latency_ms is not None:
            check_float("latency_ms", latency_ms, minimum=0.0, strict_min=True, finite=True)
            self.latency(self.net.largest(), src)  # fails early without a LUT
        rng = np.random.default_rng(derive_seed(self.seed, SEARCH_STREAM))
        # 1. sliced accuracies of random sub-networks; 2. the accuracy predictor
        samples: list[Architecture] = []
        while len(samples) < self.predictor_samples:
            a = sp.sample(rng)
            if a not in samples:
                samples.append(a)
        accs = [self.sliced_accuracy(a) for a in samples]
        X = np.stack([sp.encode(a, "ofa") for a in samples])
        y = np.array(accs)
        n_hold = max(len(samples) // 5, 2)
        mlp = MLPRegressor(hidden_layer_sizes=(400, 400, 400), max_iter=600,
                           random_state=derive_seed(self.seed, SEARCH_STREAM, 1) % (2**31))
        mlp.fit(X[n_hold:], y[n_hold:])
        ph, yh = mlp.predict(X[:n_hold]), y[:n_hold]
        hold_rho = (float(stats.spearmanr(ph, yh).statistic)
                    if np.ptp(ph) > 0 and np.ptp(yh) > 0 else None)
        mlp.fit(X, y)

        def predict(archs: list[Architecture]) -> np.ndarray:
            return np.asarray(mlp.predict(np.stack([sp.encode(a, "ofa") for a in archs])))

        def feasible(a: Architecture) -> bool:
            return latency_ms is None or self.latency(a, src) <= latency_ms

        # 3. evolution on the predictor under the budget
        def random_feasible(n: int) -> list[Architecture]:
            out: list[Architecture] = []
            for _ in range(n * 50):
                if len(out) >= n:
                    break
                a = sp.sample(rng)
                if a not in out and feasible(a):
                    out.append(a)
            return out

        def mutate(a: Architecture) -> Architecture:
            blocks = sp.blocks(a)
            for s in range(sp.n_stages):
                if rng.random() < self.mutation_prob:
                    other = sp.blocks(sp.sample(rng))[s]
                    blocks[s] = other
            return sp.from_blocks(blocks)

        def cross(a: Architecture, b: Architecture) -> Architecture:
            ba, bb = sp.blocks(a), sp.blocks(b)
            return sp.from_blocks([x if rng.random() < 0.5 else z for x, z in zip(ba, bb)])

        pop = random_feasible(self.population)
        if latency_ms is not None and not pop:
            smallest = sp.from_blocks([[(3, 3)] * sp.min_depth] * sp.n_stages)
            raise ConfigError(f"ofa: no sampled sub-network meets latency_ms {latency_ms} "
                              f"(the smallest takes {self.latency(smallest, src):.3g} ms)")
        scores = dict(zip(pop, predict(pop)))
        log = []
        for gen in range(self.generations):
            ranked = sorted(scores, key=lambda a: -scores[a])
            parents = ranked[:self.parents]
            kids: list[Architecture] = []
            for _ in range(self.population * 10):
                if len(kids) >= self.population // 2 * 2:
                    break
                if len(kids) % 2 == 0:
                    c = mutate(parents[int(rng.integers(len(parents)))])
                else:
                    c = cross(parents[int(rng.integers(len(parents)))],
                              parents[int(rng.integers(len(parents)))])
                if c not in scores and c not in kids and feasible(c):
                    kids.append(c)
            if kids:
                scores.update(zip(kids, predict(kids)))
            ranked = sorted(scores, key=lambda a: -scores[a])
            keep = ranked[:self.population]
            scores = {a: scores[a] for a in keep}
            log.append({"generation": gen, "best": str(keep[0]),
                        "best_predicted_acc": float(scores[keep[0]])})
        best = max(scores, key=lambda a: scores[a])
        self.search_log = {
            "latency_ms": latency_ms, "latency_source": src if latency_ms is not None else None,
            "predictor_samples": [[str(a), float(v)] for a, v in zip(samples, accs)],
            "predictor_holdout_spearman": hold_rho, "generations": log, "best": str(best),
            "best_predicted_acc": float(scores[best]),
            "best_sliced_val_acc": self.sliced_accuracy(best),
            "best_latency_ms": None if latency_ms is None and self.lut is None
            and src == "lut" else self.latency(best, src)}
        return best

    def search_info(self) -> dict[str, Any]:
        return dict(getattr(self, "search_log", {}))

    # --- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"supernet": {k: v.detach().cpu() for k, v in self.net.state_dict().items()},
                "teacher": None if self.teacher is None else
                {k: v.detach().cpu() for k, v in self.teacher.state_dict().items()},
                "sorted": self.sorted, "optimizer": self.opt.state_dict(),
                "gen": self.gen.get_state(), "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["supernet"], strict=True)
        if state["teacher"] is not None:
            self.teacher = copy.deepcopy(self.net).eval()
            self.teacher.load_state_dict(state["teacher"], strict=True)
            for q in self.teacher.parameters():
                q.requires_grad_(False)
        else:
            self.teacher = None
        self.sorted = bool(state["sorted"])
        self.opt = self._optimizer()
        self.opt.load_state_dict(state["optimizer"])
        self.gen.set_state(state["gen"])
        self.rng.bit_generator.state = state["rng"]
