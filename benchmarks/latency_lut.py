"""Latency LUT on this CPU: build time, LUT vs direct measurement on 200 NB201 archs.

Run on one core, batch 1, one thread (the machine is shared; see docs/benchmarks.md):

    taskset -c 1 python benchmarks/latency_lut.py [--archs 200] [--rounds 16] [--out benchmarks/results/latency_lut]

For each measurement protocol (``wall`` clock + median, the library's default; ``cpu`` clock
+ mean, the protocol made for a shared machine) it builds a LUT (timed), then measures the
same 200 random archs (seed 0) twice -- two passes of interleaved rounds, each arch's
samples spread over the pass -- and compares: LUT vs the measurement (pooled over both passes),
and pass 2 vs pass 1 (the measurement's own repeatability). The decomposition study compares
what the fixed part absorbs (sum nodes as kernels or not, the calibrated overhead or not) and,
to see which parts the LUT misses, fits each op's in-network cost by least squares on the
measured latencies and sets it beside the LUT's isolated kernels. Each phase's result is a JSON
file in ``--out``; a rerun skips the phases already done (resumable).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _docs import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {"wall-median": ("wall", "median"), "cpu-mean": ("cpu", "mean")}


def load_avg() -> float:
    return float(open("/proc/loadavg").read().split()[0])


def cores() -> str:
    return ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))


def phase(out: Path, name: str, fn: Callable[..., dict], *args: Any, **kw: Any) -> dict:
    path = out / f"{name}.json"
    if path.exists():
        print(f"[skip] {name}: {path}", flush=True)
        return json.loads(path.read_text())
    t0 = time.perf_counter()
    l0 = load_avg()
    print(f"[run ] {name} (load {l0:.2f})", flush=True)
    res = fn(*args, **kw)
    res["phase_wall_s"] = time.perf_counter() - t0
    res["load_start"], res["load_end"] = l0, load_avg()
    res["cores"] = cores()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(res))
    tmp.replace(path)
    print(f"[done] {name} in {res['phase_wall_s']:.0f} s (load {res['load_end']:.2f})", flush=True)
    return res


def do_build(out: Path, variant: str, rounds: int, samples: int) -> dict:
    from naslab.nn.lut import build_lut

    clock, stat = VARIANTS[variant]
    t0 = time.perf_counter()
    lut = build_lut("nb201", C=16, N=5, image_size=32, batch=1, threads=1, clock=clock,
                    statistic=stat, rounds=rounds, samples_per_round=samples, seed=0)
    wall = time.perf_counter() - t0
    lut.save(out / f"lut-{variant}.json")
    return {"build_s": wall, "build": lut.build, "overhead_ms": lut.overhead_ms,
            "calibration": lut.calibration, "fixed_ms": lut.fixed_ms(overhead=False)}


def do_validate(out: Path, variant: str, archs: int, rounds: int, samples: int) -> dict:
    from naslab.nn.lut import LatencyLUT, validate_lut

    lut = LatencyLUT.load(out / f"lut-{variant}.json")
    v = validate_lut(lut, archs=archs, seed=0, rounds=rounds, samples_per_round=samples)
    return v.to_json()


def do_joint(out: Path, variant: str, archs: list[str], rounds: int, samples: int) -> dict:
    """A LUT built in the same interleaved rounds as the networks it predicts (no drift
    between building and measuring): what is left is the decomposition's own error."""
    from naslab.nn.lut import build_lut_and_measure
    from naslab.spaces.base import get_space

    clock, stat = VARIANTS[variant]
    sp = get_space("nb201")
    arch_objs = [sp.parse(a) for a in archs]
    lut, res = build_lut_and_measure("nb201", arch_objs, C=16, N=5, image_size=32, batch=1,
                                     threads=1, clock=clock, statistic=stat, rounds=rounds,
                                     samples_per_round=samples, seed=1)
    meas = np.array([r.value(stat) for r in res])
    pred = lut.predict_many(arch_objs)
    pred_k = lut.predict_many(arch_objs, overhead=False)
    return {"lut": errors(pred, meas), "lut_kernels_only": errors(pred_k, meas),
            "measured_ms": meas.tolist(), "predicted_ms": pred.tolist(),
            "overhead_ms": lut.overhead_ms, "wall_s": lut.build["wall_s"],
            "noise_iqr_rel": float(np.median([r.iqr_rel for r in res]))}


def errors(pred: np.ndarray, meas: np.ndarray) -> dict:
    from scipy import stats

    rel = (pred - meas) / meas
    return {"mape": float(np.mean(np.abs(rel)) * 100), "max": float(np.max(np.abs(rel)) * 100),
            "bias": float(np.mean(rel) * 100),
            "spearman": float(stats.spearmanr(pred, meas).statistic)}


def study(out: Path, variant: str, val: dict) -> dict:
    """Decomposition choices and the per-op in-network cost."""
    from naslab.nn.lut import LatencyLUT
    from naslab.spaces.base import get_space
    from naslab.spaces.nb201 import OPS

    lut = LatencyLUT.load(out / f"lut-{variant}.json")
    sp = get_space("nb201")
    archs = [sp.parse(a) for a in val["archs"]]
    meas = np.array(val["measured_ms"])
    add_ms = sum(lut.part_ms(k) for k in lut.fixed_keys if k.startswith("add|"))
    full = np.array(val["predicted_ms"])
    kern = np.array(val["predicted_kernels_only_ms"])
    choices = {"kernels, sum nodes ignored": kern - add_ms,
               "kernels + sum-node kernels": kern,
               "kernels + sum nodes + calibrated overhead (the LUT)": full}
    # fit: measured = b + sum_op count_op * w_op (skip_connect as the reference op, since the
    # 6 edge counts sum to 6): in-network marginal cost of each op relative to skip
    counts = np.array([[a.choices.count(o) for o in range(len(OPS))] for a in archs], float)
    ref = OPS.index("skip_connect")
    cols = [o for o in range(len(OPS)) if o != ref]
    X = np.column_stack([np.ones(len(archs)), counts[:, cols]])
    coef, *_ = np.linalg.lstsq(X, meas, rcond=None)
    fitted = X @ coef
    table = lut.decision_table()
    lut_op = table[0]  # all 6 NB201 edges have the same options and shapes
    per_op = []
    for j, o in enumerate(cols):
        per_op.append({"op": OPS[o], "fit_ms_per_edge": float(coef[1 + j]),
                       "lut_ms_per_edge": float(lut_op[o] - lut_op[ref])})
    lut_intercept = lut.fixed_ms() + 6 * lut_op[ref]
    cal = {c["arch"] for c in lut.calibration}
    return {"choices": {k: errors(v, meas) for k, v in choices.items()},
            "calibration_in_validation": len(cal & set(val["archs"])),
            "fit": {"intercept_ms": float(coef[0]), "lut_intercept_ms": float(lut_intercept),
                    "per_op": per_op, "fit_errors": errors(fitted, meas)},
            "add_ms": add_ms}


def figure(vals: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(vals)
    fig, axes = plt.subplots(n, 2, figsize=(10, 4.2 * n), squeeze=False)
    for row, (variant, v) in enumerate(vals.items()):
        meas = np.array(v["measured_ms"])
        lo, hi = meas.min() * 0.9, meas.max() * 1.1
        ax = axes[row][0]
        ax.plot([lo, hi], [lo, hi], "--", color="0.5", lw=1)
        ax.scatter(meas, v["predicted_kernels_only_ms"], s=8, alpha=0.5, color="tab:orange",
                   label=f"kernels only: MAPE {v['lut_kernels_only']['mape']:.1f} %")
        ax.scatter(meas, v["predicted_ms"], s=8, alpha=0.7, color="tab:blue",
                   label=f"LUT: MAPE {v['lut']['mape']:.1f} %, Spearman {v['lut']['spearman']:.3f}")
        ax.set_xlabel("measured (ms)")
        ax.set_ylabel("LUT prediction (ms)")
        ax.set_title(f"{variant}: LUT vs measured, {len(meas)} NB201 archs")
        ax.legend(fontsize=8)
        ax = axes[row][1]
        ax.plot([lo, hi], [lo, hi], "--", color="0.5", lw=1)
        r = v["repeatability"]
        ax.scatter(v["first_ms"], v["second_ms"], s=8, alpha=0.7, color="tab:green",
                   label=f"MAPE {r['mape']:.1f} %, Spearman {r['spearman']:.3f}")
        ax.set_xlabel("measurement 1 (ms)")
        ax.set_ylabel("measurement 2 (ms)")
        ax.set_title(f"{variant}: the same arch measured twice")
        ax.legend(fontsize=8)
    fig.suptitle("NB201 C=16 N=5 32x32, batch 1, 1 thread, torch eager, one core", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def markdown(builds: dict, vals: dict, studies: dict, joints: dict, args: argparse.Namespace) -> str:
    lines = ["## Latency lookup tables on this CPU (`benchmarks/latency_lut.py`)", "",
             "NB201 networks (C=16, N=5, 32x32 input, 10 classes), batch 1, one torch thread, "
             f"torch eager, `inference_mode`, pinned to one core (`taskset -c {args.core}`). LUT: every "
             "(op, stage shape) kernel (15), the stem, the 2 reduction blocks, the head and the "
             "cell additions (3 shapes), measured in interleaved rounds, plus 10 random calibration "
             "archs (their own seed; none among the validation archs) measured whole for the "
             "overhead. Validation: "
             f"{args.archs} random archs (seed 0), each measured twice (two passes of "
             f"{args.rounds // 2} interleaved rounds x 3 samples); the measurement = both "
             "passes pooled. Measurement protocols: `wall-median` (perf_counter, median: the "
             "library's default) and `cpu-mean` (the thread's CPU time, mean: descheduled time "
             "does not count, and a mean of kernels adds up like the network's mean); run here: "
             f"{', '.join(f'`{v}`' for v in vals)}.", "",
             "| protocol | LUT build (s) | kernels | LUT MAPE % | LUT Spearman | LUT max error % "
             "| LUT bias % | repeat. MAPE % | repeat. Spearman | repeat. max % | noise IQR/median % "
             "| load avg (start-end) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    if args.note:
        lines[3:3] = ["", f"Machine load: {args.note}"]
    for variant, v in vals.items():
        b, f, r = builds[variant], v["lut"], v["repeatability"]
        lines.append(
            f"| {variant} | {b['build_s']:.1f} | {b['build']['kernels']} | {f['mape']:.2f} | "
            f"{f['spearman']:.4f} | {f['max_ape']:.1f} | {f['bias_pct']:+.2f} | {r['mape']:.2f} | "
            f"{r['spearman']:.4f} | {r['max_ape']:.1f} | {v['noise_iqr_rel'] * 100:.1f} | "
            f"{b['load_start']:.1f}-{v['load_end']:.1f} |")
    lines += ["", "Targets: MAPE <= 10 % and Spearman >= 0.95 (goal <= 5 %). Repeatability = the "
              "same 200 archs measured again (pass 2 vs pass 1), the floor the LUT error is read "
              "against.", ""]
    if joints:
        lines += ["Joint: a second LUT built in the same interleaved rounds as the same archs' "
                  f"networks ({args.joint_rounds} rounds x 2 samples; no time between building "
                  "and measuring, so drift of the machine's load cannot enter):", "",
                  "| protocol | LUT MAPE % | LUT Spearman | LUT max error % | LUT bias % | kernels-only "
                  "MAPE % | noise IQR/median % | wall (s) | load avg (start-end) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for variant, j in joints.items():
            f, k = j["lut"], j["lut_kernels_only"]
            lines.append(f"| {variant} | {f['mape']:.2f} | {f['spearman']:.4f} | {f['max']:.1f} | "
                         f"{f['bias']:+.2f} | {k['mape']:.2f} | {j['noise_iqr_rel'] * 100:.1f} | "
                         f"{j['wall_s']:.0f} | {j['load_start']:.1f}-{j['load_end']:.1f} |")
        lines.append("")
    lines += [ "### What the fixed part absorbs (same measurements)", "",
              "| protocol | decomposition | MAPE % | Spearman | max error % | bias % |",
              "|---|---|---|---|---|---|"]
    for variant, s in studies.items():
        for name, e in s["choices"].items():
            lines.append(f"| {variant} | {name} | {e['mape']:.2f} | {e['spearman']:.4f} | "
                         f"{e['max']:.1f} | {e['bias']:+.2f} |")
    lines += ["", "### Which parts the LUT misses: in-network cost per edge op", "",
              "Least-squares fit `measured = b + sum_op count_op * w_op` over the 200 archs "
              "(relative to `skip_connect`, since an arch's 6 edge counts sum to 6), beside the "
              "LUT's isolated kernels (summed over the 3 stages x 5 cells of one edge).", "",
              "| protocol | op | fitted ms per edge | LUT ms per edge | LUT / fit |",
              "|---|---|---|---|---|"]
    for variant, s in studies.items():
        for p in s["fit"]["per_op"]:
            ratio = p["lut_ms_per_edge"] / p["fit_ms_per_edge"] if p["fit_ms_per_edge"] else float("nan")
            lines.append(f"| {variant} | {p['op']} | {p['fit_ms_per_edge']:.3f} | "
                         f"{p['lut_ms_per_edge']:.3f} | {ratio:.3f} |")
        f = s["fit"]
        lines.append(f"| {variant} | intercept (skeleton + 6 skips) | {f['intercept_ms']:.3f} | "
                     f"{f['lut_intercept_ms']:.3f} | "
                     f"{f['lut_intercept_ms'] / f['intercept_ms']:.3f} |")
    lines += ["", "![LUT vs measured](figures/latency-lut.png)", "",
              f"Reproduce: `taskset -c {args.core} python benchmarks/latency_lut.py --archs {args.archs} "
              f"--rounds {args.rounds} --build-rounds {args.build_rounds} --joint-rounds "
              f"{args.joint_rounds} --variants {','.join(vals)}` (phases cached in "
              f"`{os.path.relpath(args.out, ROOT)}`; delete it to rerun)."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=16, help="validation rounds (two passes)")
    ap.add_argument("--build-rounds", type=int, default=30)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--joint-rounds", type=int, default=8,
                    help="rounds of the joint phase (LUT and networks in the same rounds; 0: skip)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latency_lut"))
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--note", default="", help="what else ran on the machine (into the docs)")
    args = ap.parse_args()
    args.core = cores()
    if len(os.sched_getaffinity(0)) != 1:
        print("warning: run pinned to one core (taskset -c N) as the benchmark prescribes",
              file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    builds, vals, studies, joints = {}, {}, {}, {}
    for variant in args.variants.split(","):
        builds[variant] = phase(out, f"build-{variant}", do_build, out, variant,
                                args.build_rounds, 5)
        vals[variant] = phase(out, f"validate-{variant}", do_validate, out, variant, args.archs,
                              args.rounds, 3)
        studies[variant] = study(out, variant, vals[variant])
        if args.joint_rounds:
            joints[variant] = phase(out, f"joint-{variant}", do_joint, out, variant,
                                    vals[variant]["archs"], args.joint_rounds, 2)
        print(json.dumps({"variant": variant, "lut": vals[variant]["lut"],
                          "repeatability": vals[variant]["repeatability"]}), flush=True)
    figure(vals, (out if args.no_doc else ROOT / "docs" / "figures") / "latency-lut.png")
    md = markdown(builds, vals, studies, joints, args)
    (out / "section.md").write_text(md + "\n")
    if not args.no_doc:
        write_section("latency_lut", md)
    print(md)


if __name__ == "__main__":
    main()
