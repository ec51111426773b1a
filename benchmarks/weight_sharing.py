"""How far weight sharing bends the truth: SPOS, RS-WS, ENAS and SMASH against a local reference
benchmark (stand-alone training) and against NAS-Bench-201's CIFAR-10 test accuracy.

For every configuration (a method with its settings) and supernet seed:

1. **one-shot run** (:class:`naslab.runner.oneshot.OneShotRun`, resumable in ``OUT/runs.db``):
   the supernet trained on the reference's data (same dataset, image size and split) with the
   ``oneshot-cpu`` protocol (the ``cpu`` protocol at 30 epochs; C=8, N=1: the reference's
   network; ``--epochs`` changes it), then the method's own search; its ledger gives the
   supernet training and search time;
2. **inherited scores**: the run's supernet exported (:func:`export_supernet`) and every
   reference architecture scored by the supernet estimator (BN recalibrated on 20 x 128
   training images, validation accuracy on the whole validation split);
3. **stand-alone training of the derived architecture** with the reference's own protocol and
   seeds (the numbers it would have in the reference), cached per architecture.

Each step's result is written to ``OUT/results/<config>-s<seed>.json`` as it finishes, so the
script can be killed and run again (finished steps are read back; the one-shot run resumes
from its last epoch). The report (``--report-only`` re-draws it from the saved results, e.g.
when the reference build has advanced) gives, per configuration: Kendall tau / Spearman rho /
precision@top-10 % of inherited accuracy against the reference's mean stand-alone test
accuracy over its seeds (per supernet seed with bootstrap 95 % intervals and p-values, and
the mean over supernet seeds with a joint bootstrap interval), the same against NB201
CIFAR-10 test accuracy, the reference's noise ceiling (Kendall tau between its seeds), the
cost of each phase, and the derived architecture's stand-alone accuracy and its rank in the
reference distribution; plus one scatter figure per configuration.

    taskset -c 1 python benchmarks/weight_sharing.py --reference REF.json --out OUT \\
        [--configs spos,rsws,enas,smash] [--seeds 0,1,2] [--epochs 30] \\
        [--param CONFIG.KEY=VALUE ...] [--report-only] [--no-docs]

``--param`` overrides a configuration's method parameter (e.g. ``spos.population=4`` for a
smoke run). The settings (epochs, parameters) are stored with each result; a result directory
made with other settings is refused (use another ``--out``). Runs with one torch thread (pin
it to one core with ``taskset``); the reference may be unfinished (the statistics against it
then use its architectures with every seed trained, and say so).
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

#: configuration name -> (method, method params, protocol overrides, what it is)
CONFIGS: dict[str, tuple[str, dict[str, Any], dict[str, Any], str]] = {
    "spos": ("spos", {}, {}, "SPOS, uniform sampling, evolution 20 x 5 (defaults)"),
    "rsws": ("rsws", {}, {}, "RS-WS, 100 candidates on 10 val batches, best 10 re-scored"),
    "enas": ("enas", {}, {}, "ENAS, NB201 controller settings (50 x 20 samples / epoch)"),
    "smash": ("smash", {}, {}, "SMASH, linear-head hypernetwork (embed 16)"),
    "spos-fair": ("spos", {"sampling": "fair"}, {},
                  "SPOS with FairNAS strict-fair sampling (5 paths / step)"),
    "spos-e90": ("spos", {}, {"epochs": 90}, "SPOS, 90 supernet epochs"),
}
DEFAULT_CONFIGS = "spos,rsws,enas,smash"
SUPERNET_EPOCHS = 30
NB201 = "nb201/cifar10"


def _load_json(p: Path) -> Any:
    return json.loads(p.read_text()) if p.exists() else None


def _save_json(p: Path, d: Any) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(json.dumps(d))
    os.replace(tmp, p)


# ------------------------------------------------------------------------------------------
class Bench:
    def __init__(self, ref_path: str, out: Path, *, epochs: int = SUPERNET_EPOCHS,
                 params: dict[str, dict[str, Any]] | None = None) -> None:
        from naslab.runner.bench_build import read_benchmark_file

        self.ref_path, self.out = ref_path, out
        self.epochs = epochs
        self.params = {c: dict(v) for c, v in (params or {}).items()}
        self.doc = read_benchmark_file(ref_path)
        ds = self.doc["dataset"]
        self.data_kw = {k: ds[k] for k in ("n_train", "n_val", "n_test") if ds.get(k)}
        self.image_size = ds.get("image_size")
        self.split_seed = int(ds.get("seed", 0))
        self.dataset_name = ds["dataset"]

    @property
    def space(self) -> Any:
        from naslab.spaces.base import get_space

        return get_space(self.doc["space"])

    def archs(self) -> list[Any]:
        from naslab.spaces.base import Architecture

        return [Architecture.from_json({"space": self.doc["space"], "choices": c})
                for c in self.doc["choices"]]

    # --- 1. the one-shot run ---------------------------------------------------------------
    def oneshot(self, cfg: str, seed: int) -> dict[str, Any]:
        from naslab import registry
        from naslab.data import load_dataset
        from naslab.nn.protocol import get_protocol
        from naslab.runner import SQLiteStorage
        from naslab.runner.oneshot import OneShotRun, default_final_estimator, export_supernet

        method, params, overrides, _ = CONFIGS[cfg]
        params = {**params, **self.params.get(cfg, {})}
        # what `naslab oneshot --protocol oneshot-cpu --image-size 16` builds (same run id)
        proto = get_protocol("oneshot-cpu").override(
            **{"epochs": self.epochs, "image_size": self.image_size, **overrides})
        data = load_dataset(self.dataset_name, seed=self.split_seed, channels=proto.channels,
                            image_size=proto.image_size, **self.data_kw)
        est, _why = default_final_estimator(self.space, self.dataset_name, proto,
                                            split_seed=self.split_seed, **self.data_kw)
        store = SQLiteStorage(self.out / "runs.db")
        try:
            run = OneShotRun(self.space, registry.create("oneshot", method, **params),
                             dataset=data, protocol=proto, estimator=est, storage=store,
                             seed=seed, meta={"command": "benchmarks/weight_sharing.py",
                                              "threads": 1})
            t0 = time.perf_counter()
            res = run.run(on_epoch=lambda r: print(
                f"  [{cfg} s{seed}] epoch {r['epoch'] + 1}: loss {r['metrics'].get('loss', 0):.3f}"
                f" train {r['metrics'].get('train_acc', 0):.1f} ({r['cost']['wall_s']:.0f} s)",
                flush=True))
            ckpt = export_supernet(store, res.experiment_id,
                                   self.out / "supernets" / f"{cfg}-s{seed}.pt")
            search = res.search_record or {}
            return {"experiment_id": res.experiment_id, "ledger": res.ledger,
                    "derived": str(res.archs[0]), "derived_choices": list(res.archs[0].choices),
                    "search_info": {k: v for k, v in (search.get("info") or {}).items()
                                    if k not in ("scored", "first_stage")},
                    "n_scored": len((search.get("info") or {}).get("scored", [])) or
                    (search.get("info") or {}).get("candidates"),
                    "checkpoint": str(ckpt), "session_s": time.perf_counter() - t0}
        finally:
            store.close()

    # --- 2. inherited scores of the reference archs -----------------------------------------
    def inherited(self, checkpoint: str) -> dict[str, Any]:
        from naslab.estimators.supernet import SupernetEstimator

        est = SupernetEstimator(checkpoint, recalibration_batches=20, batch_size=128,
                                test=False, num_threads=1)
        t0 = time.perf_counter()
        scores = []
        for k, a in enumerate(self.archs()):
            scores.append(float(est.evaluate(a).metrics["val_acc"]))
            if (k + 1) % 20 == 0:
                print(f"  inherited {k + 1}/{len(self.doc['archs'])}", flush=True)
        return {"val_acc": scores, "wall_s": time.perf_counter() - t0}

    # --- 3. stand-alone training of a derived arch ------------------------------------------
    def standalone(self, arch_text: str) -> dict[str, Any]:
        cache = self.out / "standalone.json"
        done = _load_json(cache) or {}
        if arch_text in done and len(done[arch_text]["runs"]) == len(self.doc["seeds"]):
            return dict(done[arch_text])
        from naslab.estimators.training import TrainingEstimator
        from naslab.nn.protocol import get_protocol

        proto = get_protocol(self.doc["protocol"])
        if proto.hash != self.doc["protocol"]["hash"]:
            raise SystemExit(f"the reference's protocol does not rebuild (hash {proto.hash}, "
                             f"recorded {self.doc['protocol']['hash']})")
        est = TrainingEstimator(self.dataset_name, proto, split_seed=self.split_seed,
                                num_threads=1, **self.data_kw)
        arch = self.space.parse(arch_text)
        entry = done.get(arch_text, {"runs": []})
        for s in self.doc["seeds"][len(entry["runs"]):]:
            ev = est.evaluate(arch, seed=int(s))
            entry["runs"].append({"seed": int(s), "val_acc": ev.metrics["val_acc"],
                                  "test_acc": ev.metrics["test_acc"],
                                  "train_time_s": ev.metrics["train_time_s"]})
            done = _load_json(cache) or {}
            done[arch_text] = entry
            _save_json(cache, done)
            print(f"  stand-alone {arch_text} seed {s}: test {ev.metrics['test_acc']:.2f}",
                  flush=True)
        return dict(entry)

    # --- driver ------------------------------------------------------------------------------
    def settings(self, cfg: str) -> dict[str, Any]:
        """What a result depends on besides the reference (checked on resume)."""
        method, params, overrides, _ = CONFIGS[cfg]
        return {"method": method, "params": {**params, **self.params.get(cfg, {})},
                "epochs": int(overrides.get("epochs", self.epochs)),
                "reference": {"protocol": self.doc["protocol"]["hash"],
                              "archs": len(self.doc["archs"])}}

    def run_one(self, cfg: str, seed: int) -> dict[str, Any]:
        path = self.out / "results" / f"{cfg}-s{seed}.json"
        want = self.settings(cfg)
        res = _load_json(path) or {"config": cfg, "seed": seed, "settings": want}
        if res.get("settings") != want:
            raise SystemExit(f"{path} was made with other settings ({res.get('settings')}); "
                             f"these are {want}: use another --out")
        if "oneshot" not in res:
            print(f"[{cfg} s{seed}] one-shot run", flush=True)
            res["oneshot"] = self.oneshot(cfg, seed)
            _save_json(path, res)
        if "inherited" not in res:
            print(f"[{cfg} s{seed}] inherited scores", flush=True)
            res["inherited"] = self.inherited(res["oneshot"]["checkpoint"])
            _save_json(path, res)
        if "standalone" not in res:
            print(f"[{cfg} s{seed}] stand-alone training of {res['oneshot']['derived']}",
                  flush=True)
            res["standalone"] = self.standalone(res["oneshot"]["derived"])
            _save_json(path, res)
        return res


# ------------------------------------------------------------------------------------------
def _mean_tau_interval(preds: list[np.ndarray], ref: np.ndarray, n_boot: int, seed: int
                       ) -> tuple[float, float, float]:
    """Mean over supernet seeds of Kendall tau, with a joint percentile bootstrap over
    architectures (the same resample for every seed)."""
    from naslab.analysis.fidelity import kendall_rows

    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7A0]))
    n = len(ref)
    idx = rng.integers(0, n, (n_boot, n))
    boot = np.mean([kendall_rows(p[idx], ref[idx]) for p in preds], axis=0)
    value = float(np.mean([kendall_rows(p[None], ref[None])[0] for p in preds]))
    lo, hi = np.nanpercentile(boot, [2.5, 97.5])
    return value, float(lo), float(hi)


def _cell(text: str) -> str:
    """``text`` inside a Markdown table cell (pipes escaped)."""
    return text.replace("|", "\\|")


def _f(v: float | None, fmt: str = ".3f") -> str:
    return "n/a" if v is None or not math.isfinite(v) else format(v, fmt)


def _verdicts(cfg: str, method: str, per: list[dict[str, Any]], preds_ref: list[Any],
              stats_ref: list[Any], mean_ref: str, tops: list[float], n_ref: int,
              n_seeds: int, *, provisional: bool = False) -> list[str]:
    """Met / not met for the issue's targets of this configuration."""
    if not stats_ref:
        return [f"- `{cfg}`: no verdict (fewer than 3 reference architectures complete)"]
    note = "" if len(per) == n_seeds else f" (provisional: {len(per)} of {n_seeds} supernet seeds)"
    if provisional:
        note += (" (provisional: unfinished reference, or not the issue's settings of 30 "
                 "epochs and default parameters)")
    taus = [st.kendall.value for st in stats_ref]
    out = []
    if method == "spos":
        m = float(np.mean(taus))
        out.append(f"- `{cfg}`: mean τ vs reference {mean_ref} ≥ 0.5: "
                   f"**{'met' if m >= 0.5 else 'not met'}**{note}")
        if tops:
            t = float(np.mean(tops))
            out.append(f"- `{cfg}`: derived architecture in the top 20 % of the reference "
                       f"(mean top {t:.0f} %): **{'met' if t <= 20 else 'not met'}**{note}")
    else:
        ps = [st.kendall.p_value for st in stats_ref]
        sig = all(p is not None and p < 0.05 and t > 0 for p, t in zip(ps, taus))
        out.append(f"- `{cfg}`: τ significantly above 0 (p < 0.05) for every supernet seed "
                   f"(p = {', '.join(f'{p:.1g}' for p in ps if p is not None)}): "
                   f"**{'met' if sig else 'not met'}**{note}")
    return out


def report(bench: Bench, configs: list[str], seeds: list[int], *, n_boot: int,
           docs: bool, command: str) -> str:
    from naslab.analysis.fidelity import fidelity_figure, fidelity_stats, seed_ceiling
    from naslab.benchmarks import load_benchmark
    from naslab.runner.bench_build import run_matrix

    doc = bench.doc
    test = run_matrix(doc, "test_acc")
    complete = np.isfinite(test).all(axis=1)
    n_ref = int(complete.sum())
    ref_mean = test[complete].mean(axis=1) if n_ref else np.zeros(0)
    archs = bench.archs()
    nb = load_benchmark(NB201)
    nb_test = np.array([nb.query(a, "test_acc") for a in archs], dtype=np.float64)
    ceiling = seed_ceiling(test[complete], n_boot=n_boot) if n_ref >= 3 else None
    ds, pr = doc["dataset"], doc["protocol"]
    size = ds.get("image_size")
    shape = f"{size}×{size}" if size else "native size"
    sizes = ", ".join(f"{k.split('_')[1]} {ds[k]}" for k in ("n_train", "n_val", "n_test")
                      if ds.get(k))
    epochs = sorted({int((r.get("settings") or {}).get("epochs", bench.epochs))
                     for c in configs for s in seeds
                     if (r := _load_json(bench.out / "results" / f"{c}-s{s}.json"))})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "## Weight sharing: SPOS, RS-WS, ENAS, SMASH against stand-alone training "
        "(`benchmarks/weight_sharing.py`)", "",
        f"Reference `{bench.ref_path}` ({'complete' if doc.get('complete') else 'INCOMPLETE'}): "
        f"{len(archs)} architectures, {n_ref} with all {len(doc['seeds'])} seeds trained "
        f"(the statistics against the reference use those {n_ref}; those against NB201 all "
        f"{len(archs)}); {ds['dataset']} {shape} ({sizes}), C={pr.get('C')}, N={pr.get('N')}, "
        f"protocol `{pr['name']}` [{pr['hash']}] {doc['epochs']} epochs. Supernets: the same "
        f"data split and network, protocol `oneshot-cpu` (SGD 0.05 cosine, batch 64) for "
        f"{'/'.join(map(str, epochs)) or bench.epochs} epochs, one torch thread on one core "
        f"of a machine shared with other jobs (times are wall seconds under that load; load "
        f"average {load:.1f} when this report was written). Inherited accuracy: supernet "
        f"estimator, BN recalibrated on 20 × 128 training images (none for the batch-statistics "
        f"BN of rsws / enas), accuracy on the whole validation split. Reference value: mean "
        f"stand-alone test accuracy over the reference's seeds. Derived architecture: what "
        f"the method's own search returned, trained stand-alone with the reference's protocol "
        f"and seeds; its rank is among the {n_ref} reference architectures by the same value.",
        ""]
    if command:
        lines += ["```", command, "```", ""]
    if ceiling is not None and ceiling.get("kendall"):
        k = ceiling["kendall"]
        lines += [f"**Noise ceiling** of the reference (Kendall τ between two training seeds, "
                  f"mean over seed pairs): {k['value']:.3f} [{k['lo']:.3f}, {k['hi']:.3f}] on "
                  f"{n_ref} architectures.", ""]
    summary = ["| config | runs | mean τ vs reference [joint 95 %] | mean ρ vs reference | "
               "mean P@10 % | mean τ vs NB201 C10 test [95 %] | supernet training s | "
               f"search s | inherited scoring s ({len(archs)} archs) | derived: stand-alone test acc | "
               "derived: top-% of reference |", "|" + "---|" * 11]
    table = ["| config | seed | τ vs reference [95 %] (p) | ρ | P@10 % | τ vs NB201 C10 "
             "(p) | supernet training s | search s | derived arch | stand-alone test acc | "
             "rank in reference |", "|" + "---|" * 11]
    figs = []
    verdicts: list[str] = []
    for cfg in configs:
        per = [r for s in seeds
               if (r := _load_json(bench.out / "results" / f"{cfg}-s{s}.json")) is not None
               and "inherited" in r]
        if not per:
            continue
        preds_ref, preds_nb, sas, tops = [], [], [], []
        stats_ref = []
        for r in per:
            inh = np.array(r["inherited"]["val_acc"], dtype=np.float64)
            led = r["oneshot"]["ledger"]
            st_nb = fidelity_stats(inh, nb_test, n_boot=n_boot)
            preds_nb.append(inh)
            st = None
            if n_ref >= 3:
                st = fidelity_stats(inh[complete], ref_mean, n_boot=n_boot)
                preds_ref.append(inh[complete])
                stats_ref.append(st)
            sa_txt, rank_txt = "pending", "pending"
            runs = (r.get("standalone") or {}).get("runs") or []
            if runs:
                accs = [x["test_acc"] for x in runs]
                m = float(np.mean(accs))
                sas.append(m)
                sa_txt = f"{m:.2f} ± {np.std(accs):.2f} ({len(accs)} seeds)"
                if n_ref:
                    better = int((ref_mean > m).sum())
                    top = 100.0 * (better + 1) / (n_ref + 1)
                    tops.append(top)
                    rank_txt = f"{better + 1} of {n_ref + 1} (top {top:.0f} %)"
            tau_ref = (f"{st.kendall.value:.3f} [{st.kendall.lo:.2f}, {st.kendall.hi:.2f}] "
                       f"(p={st.kendall.p_value:.1g})" if st else "n/a")
            table.append(
                f"| {cfg} | {r['seed']} | {tau_ref} | {_f(st.spearman.value if st else None)} | "
                f"{_f(st.precision.value if st else None, '.2f')} | "
                f"{st_nb.kendall.value:.3f} (p={st_nb.kendall.p_value:.1g}) | "
                f"{led['supernet_training']['wall_s']:.0f} | "
                f"{led['supernet_search']['wall_s']:.0f} | `{_cell(r['oneshot']['derived'])}` | "
                f"{sa_txt} | {rank_txt} |")
            if docs and st is not None and r is per[0]:
                fig = DOC.parent / "figures" / f"weight-sharing-{cfg}.png"
                fidelity_figure(inh[complete], ref_mean, fig, stats=st,
                                xlabel="inherited-weight val acc (%)",
                                ylabel="stand-alone test acc, mean of seeds (%)",
                                title=f"{cfg}, supernet seed {r['seed']}: {n_ref} reference "
                                      f"archs")
                figs.append(f"![{cfg}](figures/weight-sharing-{cfg}.png)")
        if preds_ref:
            v, lo, hi = _mean_tau_interval(preds_ref, ref_mean, n_boot, 0)
            mean_ref = f"{v:.3f} [{lo:.3f}, {hi:.3f}]"
        else:
            mean_ref = "n/a"
        v_nb, lo_nb, hi_nb = _mean_tau_interval(preds_nb, nb_test, n_boot, 0)
        smoke = bench.epochs != SUPERNET_EPOCHS or bool(bench.params.get(cfg)) \
            or not doc.get("complete")
        verdicts += _verdicts(cfg, CONFIGS[cfg][0], per, preds_ref, stats_ref,
                              mean_ref, tops, n_ref, len(seeds), provisional=smoke)

        def mean(xs: list[float]) -> float | None:
            return float(np.mean(xs)) if xs else None

        summary.append(
            f"| {cfg} | {len(per)} | {mean_ref} | "
            f"{_f(mean([x.spearman.value for x in stats_ref]))} | "
            f"{_f(mean([x.precision.value for x in stats_ref]), '.2f')} | "
            f"{v_nb:.3f} [{lo_nb:.3f}, {hi_nb:.3f}] | "
            f"{_f(mean([r['oneshot']['ledger']['supernet_training']['wall_s'] for r in per]), '.0f')} | "
            f"{_f(mean([r['oneshot']['ledger']['supernet_search']['wall_s'] for r in per]), '.0f')} | "
            f"{_f(mean([r['inherited']['wall_s'] for r in per]), '.0f')} | "
            f"{_f(mean(sas), '.2f')} | {_f(mean(tops), '.0f')} |")
    if verdicts:
        lines += ["Targets of issue 10 (stated from the figures below; a verdict on fewer "
                  "supernet seeds or an unfinished reference is provisional):", "",
                  *verdicts, ""]
    lines += ["Summary (mean over supernet seeds; the τ interval is a joint bootstrap over "
              "architectures):", "", *summary, "", "Per supernet seed:", "", *table, ""]
    lines += ["Configurations: " + "; ".join(
        f"`{c}`: {CONFIGS[c][3]}" + (f", overridden: {json.dumps(bench.params[c])}"
                                     if bench.params.get(c) else "")
        for c in configs), ""]
    if figs:
        lines += ["Inherited accuracy against the reference (first supernet seed of each "
                  "configuration):", "", " ".join(figs), ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reference", required=True, help="the local reference benchmark file")
    ap.add_argument("--out", required=True, help="results directory (resumable)")
    ap.add_argument("--configs", default=DEFAULT_CONFIGS,
                    help=f"comma-separated, of: {', '.join(CONFIGS)}")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=SUPERNET_EPOCHS, help="supernet epochs")
    ap.add_argument("--param", action="append", default=[], metavar="CONFIG.KEY=VALUE",
                    help="override a configuration's method parameter (repeatable)")
    ap.add_argument("--order", default="seed", choices=["seed", "config"],
                    help="seed: every config's seed 0 first, then seed 1, ...")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    configs = [c for c in args.configs.split(",") if c]
    for c in configs:
        if c not in CONFIGS:
            raise SystemExit(f"unknown config {c!r}; configs: {', '.join(CONFIGS)}")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    params: dict[str, dict[str, Any]] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        cfg, dot, name = key.partition(".")
        if not sep or not dot or cfg not in CONFIGS:
            raise SystemExit(f"--param {item!r}: expected CONFIG.KEY=VALUE with CONFIG one of "
                             f"{', '.join(CONFIGS)}")
        try:
            params.setdefault(cfg, {})[name] = json.loads(value)
        except json.JSONDecodeError:
            params.setdefault(cfg, {})[name] = value
    out = Path(args.out)
    bench = Bench(args.reference, out, epochs=args.epochs, params=params)
    if not args.report_only:
        jobs = ([(c, s) for s in seeds for c in configs] if args.order == "seed"
                else [(c, s) for c in configs for s in seeds])
        for c, s in jobs:
            bench.run_one(c, s)
    command = (f"taskset -c 1 python benchmarks/weight_sharing.py --reference {args.reference} "
               f"--out {args.out} --configs {args.configs} --seeds {args.seeds}"
               + (f" --epochs {args.epochs}" if args.epochs != SUPERNET_EPOCHS else "")
               + "".join(f" --param {p}" for p in args.param))
    text = report(bench, configs, seeds, n_boot=args.n_boot, docs=not args.no_docs,
                  command=command)
    print(text)
    if not args.no_docs:
        write_section("weight_sharing", text)


if __name__ == "__main__":
    main()
