"""Zero-cost proxies on NAS-Bench-201: rank correlation with test accuracy, and compute time.

1. synflow (data-free) on the CIFAR-10 network (3x32x32, 10 classes, C=16, N=5) for every
   architecture (or ``--synflow-sample N``), against the 200-epoch test accuracy of all three
   NB201 datasets. Target: Abdelfattah et al. 2021, Spearman 0.737 / 0.763 / 0.751.
2. synflow on the matching network of each dataset (CIFAR-100: 100 classes; ImageNet16-120:
   3x16x16 inputs, 120 classes) for ``--shape-sample`` archs.
3. every proxy on ``--proxy-sample`` archs; data-dependent ones on one batch of ``--dataset``
   (NB201's ground truth is CIFAR training, data naslab does not have).
4. for reference, the same correlations in NASLib's precomputed zero-cost scores on NB101 and
   NB301 (their networks and data; not computed by naslab).

Scores are cached (``--cache``, default ``<naslab cache dir>/zerocost``) so that a long run
resumes and ``naslab proxies --cache`` shares them.

    python benchmarks/zerocost.py [--synflow-sample all] [--proxy-sample 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _docs import write_section  # noqa: E402

from naslab.analysis.rank_correlation import rank_correlation  # noqa: E402
from naslab.benchmarks.datadir import cache_dir, resolve_data_dir  # noqa: E402
from naslab.benchmarks.nb201 import NB201Benchmark  # noqa: E402
from naslab.estimators.zerocost import (  # noqa: E402
    DATA_DEPENDENT,
    PROXY_NAMES,
    ZeroCostEstimator,
    cache_file,
    score_archs,
)

DATASETS = ("cifar10", "cifar100", "imagenet16")
PAPER_SYNFLOW = {"cifar10": 0.737, "cifar100": 0.763, "imagenet16": 0.751}
SPACE_SIZE = 15625


def sample(n: str | int, seed: int) -> np.ndarray:
    if str(n) == "all":
        return np.arange(SPACE_SIZE)
    return np.sort(np.random.default_rng(seed).choice(SPACE_SIZE, int(n), replace=False))


def run(est: ZeroCostEstimator, idx: np.ndarray, seed: int, cache: Path, label: str):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    last = [t0]

    def tick(_i: int, k: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 60 or k == len(idx):
            last[0] = now
            print(f"  {label}: {k}/{len(idx)} ({now - t0:.0f} s)", flush=True)

    s, w = score_archs(est, idx, seed=seed, cache=cache_file(cache, est, seed=seed), on_score=tick)
    return s, w


def _val(v: object) -> float:
    if isinstance(v, dict):  # NB301 file: {"score": s, "time": t}
        v = v.get("score")
    return float("nan") if v is None else float(v)  # type: ignore[arg-type]


def naslib_reference() -> str:
    """Spearman of NASLib's stored proxy scores against their stored accuracies."""
    rows = []
    files = {"NB101 (CIFAR-10)": "nb101/zc_nasbench101.json",
             "NB301 (CIFAR-10, surrogate accuracy)": "nb301/zc_nasbench301.json"}
    proxies = ["synflow", "jacov", "snip", "grad_norm", "grasp", "fisher", "nwot", "flops",
               "params"]
    ddir = Path(resolve_data_dir())
    for label, rel in files.items():
        p = ddir / rel
        if not p.exists():
            continue
        node = json.loads(p.read_text())
        while "val_accuracy" not in next(iter(node.values())):  # {space: {dataset: {arch: rec}}}
            node = node.get("cifar10") or next(iter(node.values()))
        recs = list(node.values())
        label = f"{label}, {len(recs)} archs"
        acc = np.array([r["val_accuracy"] for r in recs])
        cells = []
        for name in proxies:
            v = np.array([_val(r.get(name)) for r in recs], dtype=float)
            ok = np.isfinite(v)
            cells.append(f"{rank_correlation(v[ok], acc[ok])['spearman']:.2f}" if ok.sum() > 2
                         else "–")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    if not rows:
        return ""
    head = "| NASLib scores | " + " | ".join(p.replace("jacov", "jacob_cov") for p in proxies) + " |"
    return "\n".join([head, "|---" * (len(proxies) + 1) + "|", *rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--synflow-sample", default="all", help="'all' or a number of archs")
    ap.add_argument("--shape-sample", type=int, default=1000)
    ap.add_argument("--proxy-sample", type=int, default=200)
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    cache = a.cache or cache_dir() / "zerocost"
    cache.mkdir(parents=True, exist_ok=True)
    bench = {d: NB201Benchmark(d) for d in DATASETS}
    truth = {d: b.column("test_acc") for d, b in bench.items()}
    t_all = time.perf_counter()

    # 1. synflow, CIFAR-10 network, every arch -----------------------------------------------
    idx = sample(a.synflow_sample, a.seed)
    s, w = run(ZeroCostEstimator("synflow"), idx, a.seed, cache, "synflow")
    lines = ["| ground truth (200 epochs) | archs | Spearman ρ | Kendall τ | paper ρ |",
             "|---|---|---|---|---|"]
    grounds = [("cifar10 test accuracy (trained on all 50k)", truth["cifar10"], "0.737"),
               ("cifar10-valid validation accuracy (trained on 25k; mean over runs)",
                bench["cifar10"].column("val_acc"), "(0.737)"),
               ("cifar100 test accuracy", truth["cifar100"], "0.763"),
               ("imagenet16-120 test accuracy", truth["imagenet16"], "0.751")]
    rho: dict[str, float] = {}
    for name, col, ref_rho in grounds:
        c = rank_correlation(s, col[idx])
        rho[name.split()[0]] = c["spearman"]
        lines.append(f"| {name} | {len(idx)} | **{c['spearman']:.3f}** | {c['kendall']:.3f} | "
                     f"{ref_rho} |")
    syn_table = "\n".join(lines)
    syn_time = (f"{w.sum() / 3600:.2f} CPU-hours for {len(idx)} archs: {w.mean() * 1e3:.0f} ms per "
                f"arch on average (median {np.median(w) * 1e3:.0f} ms, max {w.max():.2f} s), one "
                f"thread, network built and scored")

    # 2. synflow on each dataset's own network ----------------------------------------------
    idx2 = sample(a.shape_sample, a.seed + 1)
    shapes = {"cifar100": dict(num_classes=100), "imagenet16": dict(input_shape=(3, 16, 16),
                                                                    num_classes=120)}
    lines = ["| dataset | network | archs | Spearman ρ | Kendall τ | paper ρ | ms / arch |",
             "|---|---|---|---|---|---|---|"]
    s10, w10 = run(ZeroCostEstimator("synflow"), idx2, a.seed, cache, "synflow c10 (sample)")
    c = rank_correlation(s10, truth["cifar10"][idx2])
    lines.append(f"| cifar10 | 3x32x32, 10 classes | {len(idx2)} | {c['spearman']:.3f} | "
                 f"{c['kendall']:.3f} | 0.737 | {w10.mean() * 1e3:.0f} |")
    for d, kw in shapes.items():
        est = ZeroCostEstimator("synflow", **kw)  # type: ignore[arg-type]
        sd, wd = run(est, idx2, a.seed, cache, f"synflow {d}")
        c = rank_correlation(sd, truth[d][idx2])
        shape = "x".join(map(str, est.input_shape))
        lines.append(f"| {d} | {shape}, {est.num_classes} classes | {len(idx2)} | "
                     f"{c['spearman']:.3f} | {c['kendall']:.3f} | {PAPER_SYNFLOW[d]:.3f} | "
                     f"{wd.mean() * 1e3:.0f} |")
    shape_table = "\n".join(lines)

    # 3. every proxy on a smaller sample -----------------------------------------------------
    idx3 = sample(a.proxy_sample, a.seed + 2)
    lines = ["| proxy | data | Spearman ρ (cifar10) | Kendall τ | ρ cifar100 | ρ imagenet16 | "
             "ms / arch |", "|---|---|---|---|---|---|---|"]
    for name in PROXY_NAMES:
        dd = name in DATA_DEPENDENT
        kw = {"dataset": a.dataset, "batch_size": a.batch_size} if dd else {}
        est = ZeroCostEstimator(name, **kw)  # type: ignore[arg-type]
        sp, wp = run(est, idx3, a.seed, cache, name)
        c = {d: rank_correlation(sp, truth[d][idx3]) for d in DATASETS}
        data = (f"{a.dataset} {'x'.join(map(str, est.input_shape))}, batch {a.batch_size}"
                if dd else "none")
        undefined = c["cifar10"]["n_neg_inf"]
        note = f" ({undefined} undefined, ranked lowest)" if undefined else ""
        lines.append(f"| {name} | {data} | {c['cifar10']['spearman']:.3f}{note} | "
                     f"{c['cifar10']['kendall']:.3f} | {c['cifar100']['spearman']:.3f} | "
                     f"{c['imagenet16']['spearman']:.3f} | {wp.mean() * 1e3:.0f} |")
    proxy_table = "\n".join(lines)
    wall = time.perf_counter() - t_all
    ref = naslib_reference()

    md = f"""## Zero-cost proxies on NAS-Bench-201 (`benchmarks/zerocost.py`)

**synflow** (Tanaka et al. 2020, as Abdelfattah et al. 2021 compute it: float64, |weights|,
BatchNorm removed, all-ones input, sum of |θ ⊙ ∂R/∂θ| over conv/linear weights) on NB201's
CIFAR-10 network (C=16, N=5, PyTorch default initialisation, a per-arch seed derived from seed
{a.seed}), against the 200-epoch test accuracy (mean over seeds) of each NB201 dataset. synflow
needs no data, so this is a faithful reproduction of the published figures (paper ρ: Abdelfattah
et al. 2021, which use each dataset's own network; see the second table):

{syn_table}

The paper's CIFAR-10 figure is measured against the `cifar10-valid` training (their
`nasbench2_pred.py` queries NB201 with `cifar10-valid` for CIFAR-10: networks trained on 25k
images); naslab's table holds that training's *validation* accuracy, not its test accuracy, so
the second row is the closest ground truth we have to theirs: ρ = {rho['cifar10-valid']:.3f}
against their 0.737. Against the test accuracy of the networks trained on all 50k images (the
issue's target: ρ ≥ 0.73) synflow reaches ρ = {rho['cifar10']:.3f}. Our CIFAR-100 / ImageNet16-120 rows use the CIFAR-10 network; the next table uses
each dataset's own network, as the paper does.

Compute: {syn_time}. The machine is shared with other jobs (2 cores, loaded), so absolute times
are noisy; they are CPU times of this run, not a speed claim.

synflow on each dataset's own network ({len(idx2)} sampled archs, seed {a.seed + 1}):

{shape_table}

**All proxies** on {len(idx3)} sampled archs (seed {a.seed + 2}). Data-dependent proxies use one
batch of {a.batch_size} training images of `{a.dataset}` (the same batch for every arch) and the
network built for that data's shape; NB201's ground truth comes from CIFAR-10/100 and
ImageNet16-120 training, data naslab does not have, so these correlations are **across
datasets** and do not reproduce the paper's figures for these proxies, which use CIFAR batches.
Data-free proxies use the CIFAR-10 network.

{proxy_table}

For reference, the same Spearman correlations in NASLib's precomputed zero-cost scores on other
spaces (their networks and CIFAR-10 data; accuracies as stored in the files; not computed by
naslab):

{ref}

Reproduce: `python benchmarks/zerocost.py --synflow-sample {a.synflow_sample} --shape-sample
{a.shape_sample} --proxy-sample {a.proxy_sample} --dataset {a.dataset} --threads {a.threads}`
(scores are cached; {wall:.0f} s wall for this run, cached scores included at their recorded
compute time in the figures above). One proxy from the command line:
`naslab proxies --proxy synflow --sample all --threads 1 --cache ~/.cache/naslab/zerocost`.
"""
    print(md)
    if not a.no_write:
        write_section("zerocost", md)


if __name__ == "__main__":
    main()
