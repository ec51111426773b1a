"""Differentiable NAS and its pathologies: DARTS (1st / 2nd order) collapse and the repairs
(GDAS, DARTS+, RobustDARTS-ES / -L2, SDARTS-RS / -ADV) on one CPU-sized task, same seeds and
budget.

Task: Fashion-MNIST at 16x16, 5,000 training + 5,000 validation images (split seed 0), the
NB201 cell space's supernet at C=8, N=1 (``darts-cpu`` protocol: SGD 0.025 -> 0.001 cosine,
batch 64) for ``--epochs`` (15) epochs, every method at alpha learning rate ``--arch-lr``
(3e-3: ten times NB201's 3e-4, so that the drift NB201's 50 epochs produce shows within 15
CPU epochs) and the dominant Hessian eigenvalue after every epoch (``eig_every=1``, so every
method has the trajectory). Each run is a :class:`naslab.runner.oneshot.OneShotRun` in
``OUT/runs.db`` (resumable: kill it and run the same command again) with NAS-Bench-201's
CIFAR-10 table as the final estimator and as the per-epoch reference (the derived cell's
NB201 test accuracy every epoch). ``--standalone`` also trains each final derived cell on the
search task (``cpu`` protocol at 16x16, 10 epochs, 3 seeds), cached per cell.

Per (configuration, seed) the result is written to ``OUT/results/<config>-s<seed>.json`` when
the run finishes; ``--report-only`` redraws docs/benchmarks.md's section from the results
present. Runs with one torch thread; run one process at a time.

    nice -n 5 python benchmarks/differentiable.py --out OUT [--configs darts,sdarts-rs,...] \\
        [--seeds 0,1,2] [--epochs 15] [--arch-lr 3e-3] [--standalone] [--report-only]
        [--cost-ratio]

``--cost-ratio`` measures second- against first-order DARTS side by side (interleaved steps in
one process) and the cost of one eigenvalue computation, then redraws the report.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _docs import DOC, write_section  # noqa: E402

#: configuration -> (method, method params, what it is)
CONFIGS: dict[str, tuple[str, dict[str, Any], str]] = {
    "darts": ("darts", {"order": 1}, "DARTS, first order"),
    "darts-2nd": ("darts", {"order": 2}, "DARTS, second order (unrolled, finite-difference HVP)"),
    "gdas": ("gdas", {}, "GDAS, Gumbel hard samples, tau 10 -> 0.1"),
    "darts-plus": ("darts-plus", {"stop": "skip", "max_skips": 2},
                   "DARTS+, stop at >= 2 skip edges"),
    "rdarts-es": ("rdarts-es", {"window": 3, "ratio": 0.75},
                  "RobustDARTS-ES, window 3 (paper 5), ratio 0.75"),
    "rdarts-l2": ("rdarts-l2", {"window": 3, "ratio": 0.75, "factor": 10.0},
                  "RobustDARTS-ADA: wd x10 when ES fires (window 3)"),
    "sdarts-rs": ("sdarts-rs", {}, "SDARTS-RS, eps 0.03 -> 0.3"),
    "sdarts-adv": ("sdarts-adv", {"attack_steps": 3},
                   "SDARTS-ADV, PGD 3 steps (paper 7), eps 0.03 -> 0.3"),
}
#: the run order: the collapse first, then one repair, then the rest, seed by seed
PRIORITY = ["darts", "sdarts-rs", "gdas", "darts-2nd", "darts-plus", "rdarts-es", "rdarts-l2",
            "sdarts-adv"]
DATA = {"dataset": "fashion-mnist", "n_train": 5000, "n_val": 5000, "split_seed": 0,
        "image_size": 16}
NB201 = "nb201/cifar10"
REPAIRS = ["gdas", "darts-plus", "rdarts-es", "rdarts-l2", "sdarts-rs", "sdarts-adv"]


def _load_json(p: Path) -> Any:
    return json.loads(p.read_text()) if p.exists() else None


def _save_json(p: Path, d: Any) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(json.dumps(d))
    os.replace(tmp, p)


class Bench:
    def __init__(self, out: Path, epochs: int, arch_lr: float) -> None:
        self.out, self.epochs, self.arch_lr = out, epochs, arch_lr

    def settings(self, cfg: str) -> dict[str, Any]:
        method, params, _ = CONFIGS[cfg]
        return {"method": method, "params": self.params(cfg), "epochs": self.epochs,
                "data": DATA}

    def params(self, cfg: str) -> dict[str, Any]:
        return {**CONFIGS[cfg][1], "arch_lr": self.arch_lr, "eig_every": 1}

    def run(self, cfg: str, seed: int) -> dict[str, Any]:
        from naslab import registry
        from naslab.data import load_dataset
        from naslab.estimators.tabular import TabularEstimator
        from naslab.nn.protocol import get_protocol
        from naslab.runner import SQLiteStorage
        from naslab.runner.oneshot import OneShotRun
        from naslab.spaces import DEFAULT_SPACE
        from naslab.spaces.base import get_space

        method = CONFIGS[cfg][0]
        proto = get_protocol("darts-cpu", epochs=self.epochs)
        data = load_dataset(DATA["dataset"], seed=DATA["split_seed"], n_train=DATA["n_train"],
                            n_val=DATA["n_val"], image_size=DATA["image_size"])
        est = TabularEstimator(NB201)
        store = SQLiteStorage(self.out / "runs.db")
        try:
            run = OneShotRun(get_space(DEFAULT_SPACE),
                             registry.create("oneshot", method, **self.params(cfg)),
                             dataset=data, protocol=proto, estimator=est, storage=store,
                             seed=seed, reference=est,
                             meta={"command": "benchmarks/differentiable.py", "threads": 1})

            def show(r: dict[str, Any]) -> None:
                d, m = r["diagnostics"], r["metrics"]
                ref = (r.get("reference") or [{}])[0].get("test_acc", float("nan"))
                print(f"  [{cfg} s{seed}] epoch {r['epoch'] + 1}: train {m['train_acc']:.1f} "
                      f"val {m['val_acc']:.1f} pf {d['param_free_edges']}/6 eig "
                      f"{d.get('eigenvalue') or float('nan'):.4g} nb201 {ref:.2f} "
                      f"({r['cost']['wall_s']:.0f} s) {r['derived'][0]}", flush=True)

            t0 = time.perf_counter()
            res = run.run(on_epoch=show)
        finally:
            store.close()
        trace = res.trace
        ops = trace[-1]["diagnostics"]["ops"]
        per_epoch = []
        for r in trace:
            d, m, cost = r["diagnostics"], r["metrics"], r["cost"]
            eig = d.get("eigenvalue")
            # the eigenvalue runs after train_epoch: its seconds are wall - simulated (the
            # derivation and the checkpoint's serialisation, < 1 %, counted with it)
            eig_s = cost["wall_s"] - cost["simulated_s"] if eig is not None else 0.0
            train_s = cost["simulated_s"]
            if "eig_s" in m:  # runs recorded before the eigenvalue left train_epoch
                eig_s, train_s = m["eig_s"], train_s - m["eig_s"]
            per_epoch.append({
                "epoch": int(r["epoch"]) + 1, "derived": r["derived"][0],
                "param_free_edges": d["param_free_edges"], "eigenvalue": eig,
                "eig_s": eig_s, "train_s": train_s,
                "train_acc": m["train_acc"], "val_acc": m["val_acc"],
                "nb201_test": (r.get("reference") or [{}])[0].get("test_acc"),
                "alpha_softmax": d["alpha_softmax"]})
        final = res.archs[0]
        best = res.best
        pf = None
        for r in trace:
            if r["derived"][0] == str(final):
                pf = r["diagnostics"]["param_free_edges"]
        if pf is None:  # rdarts-es returns an earlier epoch's cell: count from the ops
            free = set(trace[-1]["diagnostics"]["param_free_ops"])
            pf = sum(str(v) in free for v in final.choices)
        return {"config": cfg, "seed": seed, "settings": self.settings(cfg),
                "experiment_id": res.experiment_id, "ops": ops,
                "epochs_run": res.epochs_run, "stopped_early": res.stopped_early,
                "final": str(final), "param_free_edges": pf,
                "nb201_test": None if best is None else best.metrics.get("test_acc"),
                "ledger": res.ledger, "trace": per_epoch, "session_s": time.perf_counter() - t0}

    def standalone(self, arch_text: str) -> dict[str, Any]:
        cache = self.out / "standalone.json"
        done = _load_json(cache) or {}
        if arch_text in done and len(done[arch_text]["runs"]) == 3:
            return dict(done[arch_text])
        from naslab.estimators.training import TrainingEstimator
        from naslab.nn.protocol import get_protocol
        from naslab.spaces import DEFAULT_SPACE
        from naslab.spaces.base import get_space

        proto = get_protocol("cpu", image_size=DATA["image_size"])
        est = TrainingEstimator(DATA["dataset"], proto, split_seed=DATA["split_seed"],
                                num_threads=1, n_train=DATA["n_train"], n_val=DATA["n_val"])
        arch = get_space(DEFAULT_SPACE).parse(arch_text)
        entry = done.get(arch_text, {"runs": []})
        for s in range(len(entry["runs"]), 3):
            ev = est.evaluate(arch, seed=s)
            entry["runs"].append({"seed": s, "val_acc": ev.metrics["val_acc"],
                                  "test_acc": ev.metrics["test_acc"]})
            done = _load_json(cache) or {}
            done[arch_text] = entry
            _save_json(cache, done)
            print(f"  stand-alone {arch_text} seed {s}: test {ev.metrics['test_acc']:.2f}",
                  flush=True)
        return dict(entry)


def cost_ratio(out: Path, steps: int = 20) -> dict[str, Any]:
    """Second- vs first-order DARTS, side by side in one process: the two methods' training
    steps (architecture + weight step, same batches) interleaved, ``steps`` each, so that both
    see the same machine load; and one eigenvalue computation of each. Cached in
    ``OUT/cost_ratio.json``."""
    path = out / "cost_ratio.json"
    done = _load_json(path)
    if done is not None and done.get("steps") == steps:
        return dict(done)
    import torch

    from naslab import registry
    from naslab.data import load_dataset
    from naslab.nn.protocol import get_protocol
    from naslab.spaces import DEFAULT_SPACE
    from naslab.spaces.base import get_space

    proto = get_protocol("darts-cpu", epochs=15)
    data = load_dataset(DATA["dataset"], seed=DATA["split_seed"], n_train=DATA["n_train"],
                        n_val=DATA["n_val"], image_size=DATA["image_size"])
    ms = {}
    for order in (1, 2):
        m = registry.create("oneshot", "darts", order=order)
        m.setup(get_space(DEFAULT_SPACE), data, proto, seed=0)
        ms[order] = m
    t = {1: 0.0, 2: 0.0}
    bs = proto.batch_size
    (xt, yt), (xv, yv) = ms[1]._data["train"], ms[1]._data["val"]
    for i in range(steps):
        sl = slice(i * bs, (i + 1) * bs)
        for order in (1, 2) if i % 2 == 0 else (2, 1):
            m = ms[order]
            t0 = time.perf_counter()
            m.arch_step(0, xt[sl], yt[sl], xv[sl], yv[sl], proto.lr)
            m.weight_step(0, xt[sl], yt[sl])
            t[order] += time.perf_counter() - t0
    t0 = time.perf_counter()
    ms[1].hessian_eigenvalue(0)
    eig_s = time.perf_counter() - t0
    steps_per_epoch = math.ceil(DATA["n_train"] / bs)
    res = {"steps": steps, "step_s_1st": t[1] / steps, "step_s_2nd": t[2] / steps,
           "ratio": t[2] / t[1], "eig_s": eig_s,
           "eig_every5_overhead": eig_s / (5 * steps_per_epoch * t[1] / steps),
           "torch_threads": torch.get_num_threads()}
    _save_json(path, res)
    return res


# ------------------------------------------------------------------------------------------
def _eig_at(trace: list[dict[str, Any]], frac: float) -> float | None:
    """The eigenvalue after the first ``frac`` of the run's epochs (the epoch at that point)."""
    pts = [r for r in trace if r["eigenvalue"] is not None]
    if not pts:
        return None
    k = max(1, int(round(frac * len(trace))))
    cand = [r for r in pts if r["epoch"] <= k]
    return float((cand[-1] if cand else pts[0])["eigenvalue"])


_LOOKUP: dict[str, Any] = {}


def no_none_cell(res: dict[str, Any]) -> tuple[str, int, float | None]:
    """The final cell by the other derivation rule (argmax excluding ``none``, DARTS'), from the
    last epoch's softmax(alpha): (cell, parameter-free edges, NB201 CIFAR-10 test)."""
    from naslab.spaces import DEFAULT_SPACE
    from naslab.spaces.base import get_space

    sp = get_space(DEFAULT_SPACE)
    ops = res["ops"]
    a = np.asarray(res["trace"][-1]["alpha_softmax"], dtype=float)
    a[:, ops.index("none")] = -1.0
    path = [int(k) for k in a.argmax(1)]
    arch = sp.from_decision_indices([sp.decisions[e].options.index(ops[k])
                                     for e, k in enumerate(path)])
    if "est" not in _LOOKUP:
        from naslab.estimators.tabular import TabularEstimator

        _LOOKUP["est"] = TabularEstimator(NB201)
    test = _LOOKUP["est"].evaluate(arch, seed=0).metrics.get("test_acc")
    free = {"none", "skip_connect", "avg_pool_3x3"}
    return str(arch), sum(ops[k] in free for k in path), test


def summarise(res: dict[str, Any]) -> dict[str, Any]:
    tr = res["trace"]
    nn_cell, nn_pf, nn_test = no_none_cell(res)
    eig_end = next((r["eigenvalue"] for r in reversed(tr) if r["eigenvalue"] is not None), None)
    eig20 = _eig_at(tr, 0.2)
    epoch_s = [r["train_s"] for r in tr]
    eig_s = [r["eig_s"] for r in tr if r["eigenvalue"] is not None]
    accs = [r["train_acc"] for r in tr]
    return {"config": res["config"], "seed": res["seed"], "final": res["final"],
            "param_free_edges": res["param_free_edges"], "nb201_test": res["nb201_test"],
            "eig_end": eig_end, "eig_20": eig20,
            "eig_ratio": None if not eig_end or not eig20 else eig_end / eig20,
            "epoch_s": float(np.mean(epoch_s)), "eig_s": float(np.mean(eig_s)) if eig_s else None,
            "epochs_run": res["epochs_run"], "stopped_early": res["stopped_early"],
            "acc_rising": bool(accs[-1] > accs[len(accs) // 2]) if len(accs) > 1 else None,
            "search_s": float(res["ledger"]["supernet_training"]["wall_s"]),
            "no_none_cell": nn_cell, "no_none_pf": nn_pf, "no_none_test": nn_test}


def collapsed(s: dict[str, Any]) -> bool:
    return s["param_free_edges"] >= 4 and (s["nb201_test"] or 0) < 80.0


def _f(v: Any, spec: str = ".2f") -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


def report(out: Path, epochs: int, arch_lr: float, write_docs: bool = True) -> str:
    results = {}
    for p in sorted((out / "results").glob("*.json")):
        r = _load_json(p)
        results[(r["config"], r["seed"])] = r
    sums = {k: summarise(v) for k, v in results.items()}
    sa = _load_json(out / "standalone.json") or {}
    lines = [
        "## Differentiable NAS: DARTS collapse and its repairs (`benchmarks/differentiable.py`)",
        "",
        f"Task: Fashion-MNIST 16x16, {DATA['n_train']} train + {DATA['n_val']} val images "
        f"(split seed 0), NB201 cell supernet C=8, N=1, protocol `darts-cpu` at {epochs} "
        f"epochs, alpha Adam lr {arch_lr:g} (NB201: 3e-4), dominant Hessian eigenvalue every "
        f"epoch (power iteration, 2 x 64 val images), one torch thread on a shared 2-core "
        f"machine (epoch times are inflated by the other processes). NB201 test = the derived "
        f"cell's NAS-Bench-201 CIFAR-10 test accuracy (mean over its seeds); parameter-free "
        f"= edges with none / skip / avg-pool. Collapse = >= 4 of 6 parameter-free edges and "
        f"NB201 test < 80 %.",
        "",
        "    nice -n 5 python benchmarks/differentiable.py --out OUT "
        f"--epochs {epochs} --arch-lr {arch_lr:g}",
        "",
        "| config | seed | derived cell | param.-free | NB201 test | stand-alone test | "
        "eig. at 20 % | eig. end | ratio | epochs | epoch s | eig. s | w/o none: param.-free, "
        "NB201 test |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for cfg in PRIORITY:
        for (c, seed), s in sorted(sums.items()):
            if c != cfg:
                continue
            st = sa.get(s["final"])
            st_txt = _f(float(np.mean([x["test_acc"] for x in st["runs"]]))) if st else "–"
            lines.append(
                f"| {cfg} | {seed} | `{s['final']}` | {s['param_free_edges']}/6 | "
                f"{_f(s['nb201_test'])} | {st_txt} | {_f(s['eig_20'], '.3g')} | "
                f"{_f(s['eig_end'], '.3g')} | {_f(s['eig_ratio'], '.2f')} | "
                f"{s['epochs_run']}{' (stopped)' if s['stopped_early'] else ''} | "
                f"{_f(s['epoch_s'], '.1f')} | {_f(s['eig_s'], '.1f')} | "
                f"{s['no_none_pf']}/6, {_f(s['no_none_test'])} |")
    lines += ["", "Settings against the papers: every method at the same 15 epochs and alpha "
              "lr (GDAS' tau schedule 10 -> 0.1 thus spans 15 epochs, NB201 runs it for 250); "
              "RobustDARTS' window 3 (paper 5) for 15 epochs; SDARTS-ADV 3 PGD steps (paper 7); "
              "derivation argmax including `none` (NB201's rule), the last column re-derives "
              "the final alpha without `none` (DARTS' rule). Each run's eigenvalue is on 2 fixed "
              "validation batches of 64 (noisy: batch-statistics BN)."]
    missing = [f"{c} s{sd}" for sd in (0, 1, 2) for c in PRIORITY if (c, sd) not in sums]
    if missing:
        lines += ["", f"Not run yet ({len(missing)} of {3 * len(PRIORITY)}; the same command "
                  f"resumes): {', '.join(missing)}."]
    lines += ["", "Targets of issue 11 (on the runs above; seeds missing are not run yet):", ""]
    by: dict[str, list[dict[str, Any]]] = {}
    for (c, _), s in sums.items():
        by.setdefault(c, []).append(s)
    for c in ("darts", "darts-2nd"):
        if c in by:
            ss = by[c]
            n_col = sum(collapsed(s) for s in ss)
            n_eig = sum((s["eig_ratio"] or 0) >= 2 for s in ss)
            lines.append(f"- {c} collapses in {n_col} of {len(ss)} seeds (target >= 2 of 3); "
                         f"final eigenvalue >= 2x its value at 20 % of epochs in {n_eig} of "
                         f"{len(ss)}; supernet train acc. still rising at the end in "
                         f"{sum(bool(s['acc_rising']) for s in ss)} of {len(ss)}.")
    for c in REPAIRS:
        if c in by:
            ss = by[c]
            ok = sum((s["nb201_test"] or 0) >= 90 for s in ss)
            extra = ""
            if c.startswith("sdarts") and "darts" in by:
                d_end = [s["eig_end"] for s in by["darts"] if s["eig_end"] is not None]
                below = sum(s["eig_end"] is not None and d_end and s["eig_end"] < np.mean(d_end)
                            for s in ss)
                extra = f"; final eigenvalue below DARTS' mean in {below} of {len(ss)}"
            lines.append(f"- {c}: derived cell NB201 test >= 90 % in {ok} of {len(ss)} seeds "
                         f"(target >= 2 of 3){extra}.")
    if "darts" in by and "darts-2nd" in by:
        r = np.mean([s["epoch_s"] for s in by["darts-2nd"]]) / np.mean(
            [s["epoch_s"] for s in by["darts"]])
        lines.append(f"- 2nd-order / 1st-order DARTS epoch time over the runs: {r:.2f}x "
                     f"(target <= 2.5x; runs at different times, machine load differs).")
    cr = _load_json(out / "cost_ratio.json")
    if cr:
        lines.append(f"- side by side (`--cost-ratio`, {cr['steps']} interleaved steps each, one "
                     f"process): 2nd-order step {cr['step_s_2nd']:.2f} s / 1st-order "
                     f"{cr['step_s_1st']:.2f} s = {cr['ratio']:.2f}x (target <= 2.5x); one "
                     f"eigenvalue {cr['eig_s']:.1f} s = +{100 * cr['eig_every5_overhead']:.1f} % "
                     f"of 5 first-order epochs (target <= 15 %).")
    # darts-plus and rdarts-es compute exactly what darts does (same seed streams, eigenvalue
    # every epoch) until their rule fires: where they have not run, their rule is replayed on
    # the darts trace of the same seed (labelled as such)
    from naslab.oneshot._differentiable import es_fires

    for (c, seed), r in sorted(results.items()):
        if c != "darts":
            continue
        tr = r["trace"]
        if ("darts-plus", seed) not in results:
            fire = next((i for i, t in enumerate(tr) if t["derived"].count("skip_connect") >= 2),
                        None)
            lines.append(f"- darts-plus seed {seed} (replayed on the darts trace, not run): "
                         + ("its rule never fires (at most "
                            f"{max(t['derived'].count('skip_connect') for t in tr)} skip edge), "
                            "so it returns darts' cell" if fire is None else
                            f"stops after epoch {fire + 1} with NB201 test "
                            f"{_f(tr[fire]['nb201_test'])}") + ".")
        if ("rdarts-es", seed) not in results:
            w = int(CONFIGS["rdarts-es"][1]["window"])
            eig = [t["eigenvalue"] for t in tr]
            fire = next((i for i in range(len(eig)) if es_fires(eig[:i + 1], w, 0.75)), None)
            lines.append(f"- rdarts-es seed {seed} (replayed on the darts trace, not run): "
                         + ("its rule never fires" if fire is None else
                            f"stops after epoch {fire + 1}, returns epoch {fire + 1 - w}'s cell "
                            f"({tr[fire - w]['param_free_edges']}/6 parameter-free, NB201 test "
                            f"{_f(tr[fire - w]['nb201_test'])})") + ".")
    allsum = [s for s in sums.values() if s["eig_s"]]
    if allsum:
        ov = [s["eig_s"] / (5 * s["epoch_s"]) for s in allsum]
        lines.append(f"- eigenvalue diagnostic every 5 epochs: +{100 * np.mean(ov):.1f} % of "
                     f"the training time (range {100 * min(ov):.1f}-{100 * max(ov):.1f} % over "
                     f"{len(ov)} runs; target <= 15 %).")
    figs = []
    if write_docs:
        from naslab.reports import plots
        from naslab.reports.oneshot_trajectory import trajectory_figure

        for cfg in PRIORITY:
            seeds = sorted(s for (c, s) in results if c == cfg)
            if not seeds:
                continue
            r = results[(cfg, seeds[0])]
            trace = [{"epoch": e["epoch"] - 1, "metrics": {"train_acc": e["train_acc"],
                                                           "val_acc": e["val_acc"]},
                      "reference": [{"test_acc": e["nb201_test"]}],
                      "diagnostics": {"alpha_softmax": e["alpha_softmax"], "ops": r["ops"],
                                      "edges": ["0->1", "0->2", "1->2", "0->3", "1->3", "2->3"],
                                      "param_free_share": e["param_free_edges"] / 6,
                                      "param_free_ops": ["none", "skip_connect",
                                                         "avg_pool_3x3"],
                                      "eigenvalue": e["eigenvalue"]}} for e in r["trace"]]
            fig = trajectory_figure(trace, f"{cfg}, seed {seeds[0]}")
            path = DOC.parent / "figures" / f"differentiable-{cfg}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(plots.png_bytes(fig))
            figs.append(f"![{cfg}](figures/differentiable-{cfg}.png)")
    lines += ["", "Trajectories (one seed per configuration: softmax(alpha), parameter-free "
              "share, dominant eigenvalue, accuracy and the derived cell's NB201 test "
              "accuracy per epoch):", "", *figs]
    text = "\n".join(lines)
    if write_docs:
        write_section("differentiable", text)
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--configs", default=",".join(PRIORITY))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--arch-lr", type=float, default=3e-3)
    ap.add_argument("--standalone", action="store_true")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--cost-ratio", action="store_true",
                    help="measure 2nd- vs 1st-order step time side by side, then report")
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()
    cfgs = [c for c in args.configs.split(",") if c]
    for c in cfgs:
        if c not in CONFIGS:
            raise SystemExit(f"unknown config {c!r}; configs: {', '.join(CONFIGS)}")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    import torch

    torch.set_num_threads(1)
    bench = Bench(args.out, args.epochs, args.arch_lr)
    if args.cost_ratio:
        print(cost_ratio(args.out), flush=True)
    elif not args.report_only:
        order = [c for c in PRIORITY if c in cfgs]
        jobs = [(order[0], seeds[0])] if order else []
        jobs += [(c, s) for s in seeds for c in order if (c, s) not in jobs]
        for cfg, seed in jobs:
            path = args.out / "results" / f"{cfg}-s{seed}.json"
            done = _load_json(path)
            if done is not None:
                if done["settings"] != json.loads(json.dumps(bench.settings(cfg))):
                    raise SystemExit(f"{path} was made with other settings; use another --out")
            else:
                print(f"[{cfg} seed {seed}]", flush=True)
                _save_json(path, bench.run(cfg, seed))
            if args.standalone:
                bench.standalone(_load_json(path)["final"])
            print(report(args.out, args.epochs, args.arch_lr, write_docs=False)
                  .splitlines()[-1], flush=True)
    print(report(args.out, args.epochs, args.arch_lr, write_docs=not args.no_docs))


if __name__ == "__main__":
    main()
