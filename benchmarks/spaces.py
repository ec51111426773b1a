"""Predictors (and zero-cost proxies) across search spaces with labels, side by side.

One table of spaces (:data:`SPACES`) drives everything: each entry names a tabular benchmark -
a whole space (``nb201/cifar10``) or a labelled sample of one (``nb101_sample/cifar10``) - and
how to run it. The same predictor code runs on every entry: the harness
(:func:`naslab.predictors.evaluate.evaluate_predictors`) reads only the benchmark interface.

1. ``harness``: GCN, BANANAS ensemble, XGBoost, GP, RF at 50/100/200 training archs, Kendall tau
   over ``--seeds`` seeds (unique-cell pool, single-run training labels, a test set fixed
   per seed: ``test_size`` of the entry).
2. ``proxies`` (entries with ``proxies``): the zero-cost scores the benchmark records (its
   ``zc_*`` metrics) and our own proxies computed with our network builder
   (:func:`naslab.estimators.proxy_eval.evaluate_proxies`, the entry's ``proxy_params``), both
   against the benchmark's validation accuracy, over all its rows.

To add a space: add an entry to :data:`SPACES` (and, for proxies, its builder's width). Results
are JSON lines in ``--out`` (one per finished unit: resumable); ``--render`` rebuilds the
docs/benchmarks.md section ``spaces`` from them::

    python benchmarks/spaces.py [--spaces nb101,nb201] [--seeds 10] [--parts harness,proxies]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _docs import write_section  # noqa: E402

#: label -> how to run it. ``benchmark``: load_benchmark target; ``test_size``: test archs per
#: seed (the pool is the benchmark's unique cells; pool >= test_size + max(SIZES));
#: ``proxies``: our proxies to compute on every row (None: none); ``proxy_params``: their
#: parameters (the builder's network width); ``note``: one line for the docs.
SPACES: dict[str, dict[str, Any]] = {
    "nb201": {"benchmark": "nb201/cifar10", "test_size": 200, "proxies": None,
              "note": "all 15,625 archs (6,466 unique cells), 200-epoch CIFAR-10 validation "
                      "accuracy, 2-3 runs per arch"},
    "nb101": {"benchmark": "nb101_sample/cifar10", "test_size": 92,
              "proxies": ("synflow", "params", "flops"), "proxy_params": {"C": 128, "N": 3},
              "note": "a sample: the 292 unique cells of NASLib's 500 NB101 records, 108-epoch "
                      "CIFAR-10 accuracy, 1-3 runs per cell (of NB101's 423,624 cells)"},
}
PREDICTORS = ("gcn", "bananas", "xgb", "gp", "rf")
SIZES = (50, 100, 200)


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict[str, Any]] = []
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    self.rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a line cut by an interrupted write

    def has(self, **key: Any) -> bool:
        return any(all(r.get(k) == v for k, v in key.items()) for r in self.rows)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")

    def select(self, **key: Any) -> list[dict[str, Any]]:
        return [r for r in self.rows if all(r.get(k) == v for k, v in key.items())]


def run_harness(store: Store, label: str, spec: dict[str, Any], seeds: int) -> None:
    from naslab.benchmarks import load_benchmark
    from naslab.predictors.evaluate import evaluate_predictors

    bench = load_benchmark(spec["benchmark"])
    for seed in range(seeds):
        if store.has(kind="harness", space=label, seed=seed):
            continue
        t0 = time.perf_counter()
        ev = evaluate_predictors(bench, list(PREDICTORS), train_sizes=SIZES, seeds=[seed],
                                 test_size=spec["test_size"])
        for r in ev.rows:
            store.add({"kind": "harness", "space": label, "benchmark": bench.name, **asdict(r)})
        print(f"{label} seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)


def run_proxies(store: Store, label: str, spec: dict[str, Any]) -> None:
    from scipy import stats

    from naslab.benchmarks import load_benchmark
    from naslab.estimators.proxy_eval import evaluate_proxies

    bench = load_benchmark(spec["benchmark"])
    val = bench.column("val_acc")
    if not store.has(kind="recorded", space=label):
        for m in bench.metrics:
            if m.startswith("zc_") or m in ("params_m", "flops_m"):
                col = bench.column(m)
                store.add({"kind": "recorded", "space": label, "metric": m, "n": len(col),
                           "spearman": float(stats.spearmanr(col, val).statistic),
                           "kendall": float(stats.kendalltau(col, val).statistic)})
    for proxy in spec.get("proxies") or ():
        if store.has(kind="proxy", space=label, proxy=proxy):
            continue
        t0 = time.perf_counter()
        cache = Path(store.path).parent / "proxy-cache"
        ev = evaluate_proxies([proxy], benchmark=bench, metric="val_acc", sample=None, seed=0,
                              params=dict(spec.get("proxy_params") or {}), cache_dir=cache)
        r = ev.rows[0]
        row = {"kind": "proxy", "space": label, "proxy": proxy, "n": r.n,
               "spearman": r.spearman, "kendall": r.kendall, "per_arch_ms": r.per_arch_ms,
               "params": spec.get("proxy_params") or {}}
        rec = f"zc_{proxy}"
        if rec in bench.metrics:  # our score against the benchmark's recorded one
            from naslab import registry
            from naslab.estimators.zerocost import score_archs

            est = registry.create("proxy", proxy, **dict(spec.get("proxy_params") or {}))
            archs = [bench.arch(int(i)) for i in ev.indices]
            ours, _ = score_archs(est, archs, seed=0, space=bench.space,
                                  cache=r.cache if r.cache else None)
            row["spearman_vs_recorded"] = float(
                stats.spearmanr(ours, bench.column(rec)[ev.indices]).statistic)
        if proxy == "params" and "params_m" in bench.metrics:
            from naslab import registry
            from naslab.estimators.zerocost import score_archs

            est = registry.create("proxy", proxy, **dict(spec.get("proxy_params") or {}))
            archs = [bench.arch(int(i)) for i in ev.indices]
            ours, _ = score_archs(est, archs, seed=0, space=bench.space, cache=r.cache)
            row["exact_vs_recorded"] = int(np.sum(np.abs(ours - bench.column("params_m")[ev.indices])
                                                  < 5e-7))
        store.add(row)
        print(f"{label} {proxy}: {time.perf_counter() - t0:.0f} s", flush=True)


def _summ(rows: list[dict[str, Any]], key: str) -> tuple[float, float, int]:
    vals = [r[key] for r in rows if r.get(key) is not None]
    if not vals:
        return float("nan"), float("nan"), 0
    return float(np.mean(vals)), float(np.std(vals)), len(vals)


def render(store: Store, elapsed: dict[str, float]) -> str:
    out = ["## Predictors across search spaces (`benchmarks/spaces.py`)", ""]
    hr = store.select(kind="harness")
    labels = [s for s in SPACES if any(r["space"] == s for r in hr)]
    if hr:
        seeds = {s: len({r["seed"] for r in hr if r["space"] == s}) for s in labels}
        out.append(
            "The same predictors, at their defaults, on every space with labels: per seed a test "
            "set fixed across training sizes and nested training sets disjoint from it, all "
            "drawn from the benchmark's unique cells (one member per isomorphism class); "
            "training labels = one recorded run's validation accuracy; Kendall τ against the "
            "mean over recorded runs, mean ± sd over seeds. No code outside spaces/, nn/ and "
            "benchmarks/ names a space: the harness reads the benchmark interface only.")
        out.append("")
        for s in labels:
            out.append(f"- `{s}` = `{SPACES[s]['benchmark']}`: {SPACES[s]['note']}; test set "
                       f"{SPACES[s]['test_size']} archs, {seeds[s]} seeds.")
        out.append("\n### Kendall τ at 100 training archs, side by side\n")
        out.append("| predictor | " + " | ".join(labels) + " |")
        out.append("|---|" + "---:|" * len(labels))
        for p in PREDICTORS:
            cells = []
            for s in labels:
                m, sd, k = _summ([r for r in hr if r["space"] == s and r["predictor"] == p
                                  and r["n_train"] == 100], "kendall")
                cells.append(f"{m:.3f} ± {sd:.3f}" if k else "–")
            out.append(f"| {p} | " + " | ".join(cells) + " |")
        for s in labels:
            rows = [r for r in hr if r["space"] == s]
            out.append(f"\n### {s}: Kendall τ (validation) by training-set size\n")
            out.append("| predictor | " + " | ".join(str(n) for n in SIZES)
                       + " | Spearman ρ at 100 | prec@10 % at 100 | fit s at 200 |")
            out.append("|---|" + "---:|" * (len(SIZES) + 3))
            for p in PREDICTORS:
                cells = []
                for n in SIZES:
                    m, sd, k = _summ([r for r in rows if r["predictor"] == p and r["n_train"] == n],
                                     "kendall")
                    cells.append(f"{m:.3f} ± {sd:.3f}" if k else "–")
                r100 = [r for r in rows if r["predictor"] == p and r["n_train"] == 100]
                r200 = [r for r in rows if r["predictor"] == p and r["n_train"] == 200]
                out.append(f"| {p} | " + " | ".join(cells)
                           + f" | {_summ(r100, 'spearman')[0]:.3f} | {_summ(r100, 'precision')[0]:.3f}"
                           f" | {_summ(r200, 'fit_s')[0]:.2f} |")
    rec = store.select(kind="recorded")
    prox = store.select(kind="proxy")
    for s in [s for s in SPACES if any(r["space"] == s for r in rec + prox)]:
        out.append(f"\n### {s}: zero-cost proxies against validation accuracy (all rows)\n")
        out.append("| score | source | archs | Spearman ρ | Kendall τ | notes |")
        out.append("|---|---|---:|---:|---:|---|")
        for r in [r for r in rec if r["space"] == s]:
            out.append(f"| {r['metric']} | recorded in the benchmark file | {r['n']} | "
                       f"{r['spearman']:.3f} | {r['kendall']:.3f} | |")
        for r in [r for r in prox if r["space"] == s]:
            notes = [f"{r['per_arch_ms']:.0f} ms/arch", f"builder {r['params']}"]
            if "spearman_vs_recorded" in r:
                notes.append(f"ρ with the recorded score {r['spearman_vs_recorded']:.3f}")
            if "exact_vs_recorded" in r:
                notes.append(f"equal to the recorded params for {r['exact_vs_recorded']}/{r['n']}")
            out.append(f"| {r['proxy']} | ours (naslab proxies) | {r['n']} | {r['spearman']:.3f} | "
                       f"{r['kendall']:.3f} | {'; '.join(notes)} |")
    if elapsed:
        out.append("\nWall time of this run: " + ", ".join(f"{k} {v:.0f} s" for k, v in elapsed.items())
                   + " (one core; figures from earlier runs are read back from `--out`).")
    out.append("\nReproduce: `python benchmarks/spaces.py --seeds 10` "
               "(resumable; `--render` rewrites this section from the stored rows).")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spaces", default=",".join(SPACES), help="labels of SPACES to run")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--parts", default="harness,proxies")
    ap.add_argument("--out", type=Path, default=Path("/tmp/naslab-spaces.jsonl"))
    ap.add_argument("--render", action="store_true", help="only rebuild the docs section")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    store = Store(args.out)
    elapsed: dict[str, float] = {}
    if not args.render:
        parts = {p.strip() for p in args.parts.split(",")}
        for label in [s.strip() for s in args.spaces.split(",") if s.strip()]:
            spec = SPACES[label]
            t0 = time.perf_counter()
            if "harness" in parts:
                run_harness(store, label, spec, args.seeds)
            if "proxies" in parts and spec.get("proxies") is not None:
                run_proxies(store, label, spec)
            elapsed[label] = time.perf_counter() - t0
    md = render(store, elapsed)
    print(md)
    if not args.no_doc:
        write_section("spaces", md)


if __name__ == "__main__":
    main()
