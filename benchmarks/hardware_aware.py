"""Hardware-aware one-shot NAS on the MobileNet block space: ProxylessNAS, FBNet, Once-for-All.

    nice -n 5 python benchmarks/hardware_aware.py [--out benchmarks/results/hardware_aware]
    python benchmarks/hardware_aware.py --report-only      # the docs section from what is done

CPU-sized (one torch thread): Fashion-MNIST at 16x16 (``--n-train`` 1000 / ``--n-val`` 500 /
``--n-test`` 2000 images), the block space at width ``C=4`` (a quarter of OFA's channels:
stages 8/16/24/32/40, head 240/320), stem stride 1. Phases (each a JSON file in ``--out``;
a rerun skips what is done, so the script resumes after a kill):

1. ``lut``: a latency LUT of the block space for that protocol (cpu clock, mean), and its
   prediction against direct measurement of 100 random block-space nets (MAPE, Spearman);
2. ``proxylessnas-*`` / ``fbnet-*``: each method at 4 latency weights x 2 seeds
   (``--epochs`` epochs, the first a warm-up; candidate ops k3e3, k5e6, k7e6 + skip, so that
   FBNet's all-ops forward fits the budget); the derived net's LUT latency, its measured
   latency and its accuracy trained from scratch (``--standalone-epochs``); then, per method,
   the weight interpolated for a stated target latency (the midpoint of the derived nets'
   range) and one more run at that weight;
3. ``ofa-train``: the elastic supernet by progressive shrinking (``--ofa-phases`` epochs of
   largest / kernel / depth / expand); ``ofa-slice``: 8 sub-networks spanning the space
   (smallest, largest, 6 at latency quantiles of random ones), sliced (BN recalibrated)
   against the same nets trained from scratch for the supernet's total epochs;
   ``ofa-search``: the search under 3 latency budgets (quartiles of random sub-networks'
   LUT latency) against the median random sub-network meeting each budget (30 random ones);
4. the figure: test accuracy vs measured latency of every net.

Why this size: FBNet computes every candidate op of 20 slots per step, ProxylessNAS two per
slot; at 16x16 and C=4 a step costs ~0.2-1 s on one core, so 16 searches of 3 epochs on 1000
images, 17 stand-alone trainings and an OFA run of 9 epochs fit in about an hour.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _docs import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPACE = "mobilenet"
CANDIDATES = "k3e3,k5e6,k7e6"
#: ProxylessNAS: lambda per ms as fractions of CE-scale / the LUT's latency span
PXL_FRACTIONS = (0.0, 0.5, 2.0, 8.0)
#: FBNet: beta (the exponent of log LAT)
FB_BETAS = (0.0, 1.0, 3.0, 9.0)
SEEDS = (0, 1)


def load_avg() -> float:
    return float(open("/proc/loadavg").read().split()[0])


def phase(out: Path, name: str, fn: Callable[..., dict], *args: Any, **kw: Any) -> dict:
    path = out / f"{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    t0, l0 = time.perf_counter(), load_avg()
    print(f"[run ] {name} (load {l0:.2f})", flush=True)
    res = fn(*args, **kw)
    res["phase_wall_s"] = time.perf_counter() - t0
    res["load_start"], res["load_end"] = l0, load_avg()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(res))
    tmp.replace(path)
    print(f"[done] {name} in {res['phase_wall_s']:.0f} s", flush=True)
    return res


def net_protocol(args: argparse.Namespace) -> dict[str, Any]:
    return {"C": args.C, "in_channels": 1, "num_classes": 10, "image_size": args.image_size}


def dataset(args: argparse.Namespace) -> Any:
    from naslab.data import load_dataset

    return load_dataset("fashion-mnist", image_size=args.image_size, n_train=args.n_train,
                        n_val=args.n_val, n_test=args.n_test, seed=0)


def protocol(args: argparse.Namespace, epochs: int) -> Any:
    from naslab.nn.protocol import get_protocol

    return get_protocol("cpu", C=args.C, epochs=epochs, image_size=args.image_size,
                        batch_size=64)


def measure(archs: list[Any], lut: Any, seed: int = 0) -> list[float]:
    """Direct measurements of ``archs``' networks under the LUT's own protocol (its clock and
    statistic, interleaved rounds, samples of >= 0.2 ms as when the LUT was built)."""
    from naslab.nn.latency import measure_interleaved
    from naslab.nn.lut import _network

    model = lut.model()
    items = {f"net:{a}": (_network(model, a, seed), model.input_shape()) for a in archs}
    res = measure_interleaved(items, rounds=6, samples_per_round=3, batch=1, threads=1,
                              backend="torch", min_sample_s=2e-4, seed=seed, clock=lut.clock)
    return [res[f"net:{a}"].value(lut.statistic) for a in archs]


def standalone(arch: Any, args: argparse.Namespace, epochs: int, seed: int = 0) -> dict:
    from naslab.estimators._train_loop import train

    r = train(arch, dataset(args), protocol(args, epochs), seed=seed)
    return {"val_acc": r.metrics.get("val_acc"), "test_acc": r.metrics.get("test_acc"),
            "train_s": r.train_s}


# --- phases ------------------------------------------------------------------------------
def do_lut(out: Path, args: argparse.Namespace) -> dict:
    """The LUT, built in the same interleaved rounds as 100 random nets measured whole (the
    'joint' protocol of latency_lut.py: no drift between building and measuring), and the
    library's validate_lut (a later, separate measurement) on the same nets."""
    from naslab.nn.lut import _errors, build_lut_and_measure, validate_lut
    from naslab.spaces.base import get_space

    sp = get_space(SPACE)
    rng = np.random.default_rng(0)
    archs: list[Any] = []
    while len(archs) < args.lut_archs:
        a = sp.sample(rng)
        if a not in archs:
            archs.append(a)
    t0 = time.perf_counter()
    lut, meas = build_lut_and_measure(SPACE, archs, clock="cpu", statistic="mean",
                                      rounds=args.lut_rounds, samples_per_round=3,
                                      calibration_archs=10, seed=0, **net_protocol(args))
    build_s = time.perf_counter() - t0
    lut.save(out / "lut-table.json")
    m = np.array([r.value(lut.statistic) for r in meas])
    joint = _errors(lut.predict_many(archs), m)
    joint_k = _errors(lut.predict_many(archs, overhead=False), m)
    v = validate_lut(lut, archs=archs, seed=1, rounds=6, samples_per_round=3)
    return {"build_s": build_s, "kernels": len(lut.entries), "overhead_ms": lut.overhead_ms,
            "fixed_ms": lut.fixed_ms(), "joint": joint, "joint_kernels_only": joint_k,
            "validation": v.to_json()}


def lut_span(lut: Any) -> tuple[float, float]:
    from naslab.spaces.base import get_space

    sp = get_space(SPACE)
    small = sp.parse("|".join(["k3e3-k3e3"] * 5))
    big = sp.parse("|".join(["k7e6-k7e6-k7e6-k7e6"] * 5))
    return float(lut.predict(small)), float(lut.predict(big))


def search_run(out: Path, args: argparse.Namespace, method: str, weight: float,
               seed: int) -> dict:
    import torch

    from naslab import registry
    from naslab.nn.lut import LatencyLUT
    from naslab.spaces.base import get_space

    torch.set_num_threads(1)
    lut_file = str(out / "lut-table.json")
    m = registry.create("oneshot", method, latency_lut=lut_file, latency_weight=weight,
                        warmup_epochs=1, candidates=CANDIDATES)
    m.setup(get_space(SPACE), dataset(args), protocol(args, args.epochs), seed=seed)
    trace = []
    t0 = time.perf_counter()
    for e in range(m.epochs):
        trace.append(m.train_epoch(e))
    search_s = time.perf_counter() - t0
    arch = m.derive()[0]
    lut = LatencyLUT.load(lut_file)
    meas = measure([arch], lut, seed=seed)[0]
    sa = standalone(arch, args, args.standalone_epochs, seed=seed)
    return {"method": method, "weight": weight, "seed": seed, "arch": str(arch),
            "choices": list(arch.choices), "lut_ms": float(lut.predict(arch)),
            "measured_ms": meas, "search_s": search_s, "trace": trace, **sa}


def do_ofa_train(out: Path, args: argparse.Namespace) -> dict:
    import torch

    from naslab import registry
    from naslab.oneshot.base import dump_state
    from naslab.spaces.base import get_space

    torch.set_num_threads(1)
    m = ofa_method(out, args)
    m.setup(get_space(SPACE), dataset(args), protocol(args, 1), seed=0)
    trace = []
    t0 = time.perf_counter()
    for e in range(m.epochs):
        trace.append(m.train_epoch(e))
        (out / "ofa-state.pt").write_bytes(dump_state(m.state_dict()))
    assert registry.get("oneshot", "ofa")
    return {"epochs": m.epochs, "train_s": time.perf_counter() - t0, "trace": trace,
            "schedule": m.schedule()}


def ofa_method(out: Path, args: argparse.Namespace) -> Any:
    from naslab import registry

    L, K, D, E = (int(v) for v in args.ofa_phases.split(","))
    return registry.create("oneshot", "ofa", largest_epochs=L, kernel_epochs=K, depth_epochs=D,
                           expand_epochs=E, latency_lut=str(out / "lut-table.json"),
                           predictor_samples=args.ofa_predictor_samples)


def ofa_loaded(out: Path, args: argparse.Namespace) -> Any:
    import torch

    from naslab.oneshot.base import load_state
    from naslab.spaces.base import get_space

    torch.set_num_threads(1)
    m = ofa_method(out, args)
    m.setup(get_space(SPACE), dataset(args), protocol(args, 1), seed=0)
    m.load_state_dict(load_state((out / "ofa-state.pt").read_bytes()))
    return m


def test_acc(m: Any, arch: Any) -> float:
    """Test accuracy of a sliced sub-network (BN recalibrated): the benchmark's, not the
    method's (the method never sees the test split)."""
    import torch

    net = m.subnet(arch)
    d = m.dataset
    x = torch.from_numpy(np.array(d.x_test, dtype=np.float32))
    y = torch.from_numpy(np.asarray(d.y_test, dtype=np.int64))
    with torch.no_grad():
        correct = sum(int((net(x[i:i + 512]).argmax(1) == y[i:i + 512]).sum())
                      for i in range(0, len(y), 512))
    return 100.0 * correct / len(y)


def random_subnets(m: Any, n: int, seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    out: list[Any] = []
    while len(out) < n:
        a = m.space.sample(rng)
        if a not in out:
            out.append(a)
    return out


def do_ofa_slice(out: Path, args: argparse.Namespace, total_epochs: int) -> dict:
    m = ofa_loaded(out, args)
    sp = m.space
    pool = random_subnets(m, 200, 7)
    lats = np.array([m.lut.predict(a) for a in pool])
    order = np.argsort(lats)
    picks = [sp.parse("|".join(["k3e3-k3e3"] * 5)), m.net.largest()]
    for q in (0.1, 0.25, 0.4, 0.6, 0.75, 0.9):
        picks.append(pool[int(order[int(q * (len(pool) - 1))])])
    rows = []
    for i, a in enumerate(picks):  # one file per sub-network: a kill loses one training

        def row(a: Any = a) -> dict:
            sa = standalone(a, args, total_epochs, seed=0)
            return {"arch": str(a), "lut_ms": float(m.lut.predict(a)),
                    "sliced_test_acc": test_acc(m, a), "scratch_test_acc": sa["test_acc"],
                    "scratch_train_s": sa["train_s"]}

        rows.append(phase(out, f"ofa-slice-row{i}", row))
    return {"rows": rows, "scratch_epochs": total_epochs}


def do_ofa_search(out: Path, args: argparse.Namespace) -> dict:
    m = ofa_loaded(out, args)
    rand = random_subnets(m, 30, 11)
    lut = m.lut
    rl = np.array([lut.predict(a) for a in rand])
    budgets = [float(np.quantile(rl, q)) for q in (0.25, 0.5, 0.75)]
    meas_r = measure(rand, lut, seed=3)
    racc = [test_acc(m, a) for a in rand]
    rows = []
    for b in budgets:
        best = m.search_under(b, "lut")
        log = m.search_info()
        meets = [i for i, a in enumerate(rand) if meas_r[i] <= b]
        rows.append({"budget_ms": b, "arch": str(best), "lut_ms": float(lut.predict(best)),
                     "measured_ms": measure([best], lut, seed=5)[0],
                     "test_acc": test_acc(m, best),
                     "predicted_val_acc": log["best_predicted_acc"],
                     "predictor_holdout_spearman": log["predictor_holdout_spearman"],
                     "random_meeting": len(meets),
                     "random_median_test_acc": float(np.median([racc[i] for i in meets]))
                     if meets else None})
    return {"rows": rows, "random": [{"arch": str(a), "lut_ms": float(rl[i]),
                                      "measured_ms": meas_r[i], "test_acc": racc[i]}
                                     for i, a in enumerate(rand)]}


# --- report ------------------------------------------------------------------------------
def spearman(x: list[float], y: list[float]) -> float | None:
    from scipy import stats

    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(stats.spearmanr(x, y).statistic)


def fmt(v: Any, f: str = ".2f") -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, f)


def figure(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for meth, color in (("proxylessnas", "tab:blue"), ("fbnet", "tab:orange")):
        rows = [r for r in res["runs"] if r["method"] == meth]
        if rows:
            ax.scatter([r["measured_ms"] for r in rows], [r["test_acc"] for r in rows], s=22,
                       color=color, label=f"{meth} (stand-alone)")
    s = res.get("ofa-search")
    if s:
        ax.scatter([r["measured_ms"] for r in s["random"]], [r["test_acc"] for r in s["random"]],
                   s=10, color="0.6", label="random sub-networks (sliced)")
        ax.scatter([r["measured_ms"] for r in s["rows"]], [r["test_acc"] for r in s["rows"]],
                   s=50, marker="*", color="tab:green", label="OFA search (sliced)")
    ax.set_xlabel("measured latency (ms, batch 1, one thread, cpu clock)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Fashion-MNIST 16x16, block space at C=4")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(res: dict, args: argparse.Namespace, figpath: Path | None) -> str:
    lines = ["## Hardware-aware one-shot NAS on the MobileNet block space "
             "(`benchmarks/hardware_aware.py`)", "",
             f"Fashion-MNIST at {args.image_size}x{args.image_size} (train {args.n_train}, val "
             f"{args.n_val}, test {args.n_test}), block space at C={args.C} (stage widths "
             f"8/16/24/32/40, stem stride 1), one torch thread, cpu-clock latency (mean), batch 1. "
             f"Command: `nice -n 5 python benchmarks/hardware_aware.py` (resumable; "
             f"`--report-only` re-renders). {args.note}", ""]
    lut = res.get("lut")
    if lut:
        v, j = lut["validation"], lut["joint"]
        lines += ["### LUT vs measured latency, 100 random block-space nets", "",
                  "Joint: the LUT built in the same interleaved rounds as the 100 nets measured "
                  "whole; later: `validate_lut` (two later passes, single calls per sample).", "",
                  "| space | kernels | LUT build + joint (s) | joint MAPE % | joint Spearman | "
                  "joint bias % | kernels-only MAPE % | later MAPE % | later Spearman | "
                  "repeat. MAPE % |", "|---|---|---|---|---|---|---|---|---|---|",
                  f"| mobilenet C={args.C} {args.image_size}px | {lut['kernels']} | "
                  f"{lut['build_s']:.0f} | {j['mape']:.2f} | {j['spearman']:.4f} | "
                  f"{j['bias_pct']:+.2f} | {lut['joint_kernels_only']['mape']:.2f} | "
                  f"{v['lut']['mape']:.2f} | {v['lut']['spearman']:.4f} | "
                  f"{v['repeatability']['mape']:.2f} |",
                  "| nb201 C=16 N=5 32px (latency_lut section, cpu-mean) | 22 | - | 6.33 | 0.9773 "
                  "| -0.36 | 20.42 | 7.80 | 0.9912 | 5.03 |", ""]
    runs = res["runs"]
    if runs:
        lines += ["### ProxylessNAS and FBNet at 4 latency weights x 2 seeds", "",
                  "| method | weight | seed | derived net | LUT ms | measured ms | stand-alone "
                  "test acc % | search s |", "|---|---|---|---|---|---|---|---|"]
        for r in runs:
            lines.append(f"| {r['method']} | {r['weight']:.4g} | {r['seed']} | `{r['arch']}` | "
                         f"{r['lut_ms']:.2f} | {r['measured_ms']:.2f} | {fmt(r['test_acc'])} | "
                         f"{r['search_s']:.0f} |")
        lines += ["", "| method | seed | Spearman(weight, measured latency) | target |", "|---|---|---|---|"]
        for meth in ("proxylessnas", "fbnet"):
            for seed in SEEDS:
                rs = sorted((r for r in runs if r["method"] == meth and r["seed"] == seed
                             and not r.get("target")), key=lambda r: r["weight"])
                if len(rs) == 4:
                    rho = spearman([r["weight"] for r in rs], [r["measured_ms"] for r in rs])
                    lines.append(f"| {meth} | {seed} | {fmt(rho, '.2f')} | <= -0.8 |")
        for t in res.get("targets", []):
            err = 100 * (t["measured_ms"] - t["target_ms"]) / t["target_ms"]
            lines.append(f"\n{t['method']}: target {t['target_ms']:.2f} ms -> weight "
                         f"{t['weight']:.4g} -> derived net measured {t['measured_ms']:.2f} ms "
                         f"({err:+.1f} %; target within 15 %).")
        lines.append("")
    sl = res.get("ofa-slice")
    if sl:
        d = [r["sliced_test_acc"] - r["scratch_test_acc"] for r in sl["rows"]]
        lines += ["### Once-for-All: sliced sub-networks vs the same nets trained from scratch",
                  "", f"Supernet: progressive shrinking {args.ofa_phases} epochs (largest, "
                  f"kernel, depth, expand); from scratch: {sl['scratch_epochs']} epochs (the "
                  f"supernet's total).", "",
                  "| sub-network | LUT ms | sliced test acc % | scratch test acc % |",
                  "|---|---|---|---|"]
        for r in sl["rows"]:
            lines.append(f"| `{r['arch']}` | {r['lut_ms']:.2f} | {r['sliced_test_acc']:.2f} | "
                         f"{fmt(r['scratch_test_acc'])} |")
        lines += ["", f"Mean sliced - scratch: {np.mean(d):+.2f} points (target >= -1.5).", ""]
    se = res.get("ofa-search")
    if se:
        lines += ["### Once-for-All search under 3 latency budgets vs random sub-networks", "",
                  "| budget ms | searched net | LUT ms | measured ms | test acc % | random meeting "
                  "| median random test acc % |", "|---|---|---|---|---|---|---|"]
        for r in se["rows"]:
            lines.append(f"| {r['budget_ms']:.2f} | `{r['arch']}` | {r['lut_ms']:.2f} | "
                         f"{r['measured_ms']:.2f} | {r['test_acc']:.2f} | {r['random_meeting']} "
                         f"| {fmt(r['random_median_test_acc'])} |")
        lines.append("")
    if figpath is not None:
        lines += [f"![accuracy vs latency]({figpath.relative_to(ROOT / 'docs')})", ""]
    missing = [p for p in ("lut", "ofa-slice", "ofa-search") if not res.get(p)]
    n_runs = len([r for r in runs if not r.get("target")])
    if missing or n_runs < 16:
        lines.append(f"Incomplete: {n_runs} of 16 method runs"
                     + (f"; phases not yet run: {', '.join(missing)}." if missing else "."))
    return "\n".join(lines)


def collect(out: Path) -> dict:
    res: dict[str, Any] = {"runs": [], "targets": []}
    for name in ("lut", "ofa-train", "ofa-slice", "ofa-search"):
        p = out / f"{name}.json"
        if p.exists():
            res[name] = json.loads(p.read_text())
    for p in sorted(out.glob("run-*.json")):
        r = json.loads(p.read_text())
        res["runs"].append(r)
        if r.get("target"):
            res["targets"].append(r)
    return res


def interpolate_weight(rows: list[dict], target: float) -> float:
    """The weight whose measured latency is ``target`` on the (weight, latency) curve of one
    method (log-spaced between the measured weights; the largest if never reached)."""
    rs = sorted(rows, key=lambda r: r["weight"])
    for a, b in zip(rs, rs[1:]):
        la, lb = a["measured_ms"], b["measured_ms"]
        if (la - target) * (lb - target) <= 0 and la != lb:
            f = (la - target) / (la - lb)
            wa, wb = a["weight"], b["weight"]
            if wa > 0:
                return float(math.exp(math.log(wa) + f * (math.log(wb) - math.log(wa))))
            return float(wa + f * (wb - wa))
    return float(rs[-1]["weight"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "hardware_aware"))
    ap.add_argument("--C", type=int, default=4)
    ap.add_argument("--image-size", type=int, default=16)
    ap.add_argument("--n-train", type=int, default=1000)
    ap.add_argument("--n-val", type=int, default=500)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--standalone-epochs", type=int, default=5)
    ap.add_argument("--lut-rounds", type=int, default=12)
    ap.add_argument("--lut-archs", type=int, default=100)
    ap.add_argument("--ofa-phases", default="3,2,2,2")
    ap.add_argument("--ofa-predictor-samples", type=int, default=60)
    ap.add_argument("--only", default="lut,search,ofa",
                    help="phases to run: lut, search, ofa (comma-separated)")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(","))
    if not args.report_only:
        phase(out, "lut", do_lut, out, args)
        from naslab.nn.lut import LatencyLUT

        lut = LatencyLUT.load(out / "lut-table.json")
        lo, hi = lut_span(lut)
        if "ofa" in only:
            tr = phase(out, "ofa-train", do_ofa_train, out, args)
            phase(out, "ofa-slice", do_ofa_slice, out, args, int(tr["epochs"]))
            phase(out, "ofa-search", do_ofa_search, out, args)
        if "search" in only:
            weights = {"proxylessnas": [f * 2.3 / (hi - lo) for f in PXL_FRACTIONS],
                       "fbnet": list(FB_BETAS)}
            for seed in SEEDS:
                for meth in ("proxylessnas", "fbnet"):
                    for i, w in enumerate(weights[meth]):
                        phase(out, f"run-{meth}-w{i}-s{seed}", search_run, out, args, meth, w,
                              seed)
            res = collect(out)
            for meth in ("proxylessnas", "fbnet"):
                rows = [r for r in res["runs"] if r["method"] == meth and r["seed"] == 0
                        and not r.get("target")]
                ms = [r["measured_ms"] for r in rows]
                target = (min(ms) + max(ms)) / 2
                w = interpolate_weight(rows, target)

                def run_target(meth: str = meth, w: float = w, target: float = target) -> dict:
                    r = search_run(out, args, meth, w, 0)
                    r.update(target=True, target_ms=target)
                    return r

                phase(out, f"run-{meth}-target-s0", run_target)
    res = collect(out)
    figpath = None
    if res["runs"] or res.get("ofa-search"):
        figpath = ROOT / "docs" / "figures" / "hardware_aware.png"
        figpath.parent.mkdir(parents=True, exist_ok=True)
        figure(res, figpath)
    md = markdown(res, args, figpath)
    print(md)
    if not args.no_doc:
        write_section("hardware_aware", md)


if __name__ == "__main__":
    main()
