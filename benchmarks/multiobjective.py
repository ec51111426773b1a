"""Multi-objective search on NB201 CIFAR-10: NSGA-II, MO-RE and MO random search against the
exact Pareto fronts of (accuracy, latency) on three device settings; and what multi-objective
bookkeeping costs per query.

    taskset -c 0 python benchmarks/multiobjective.py [--data-dir ../shared/data] [--seeds 30]
        [--devices 1080ti_1,gold_6226,pixel3] [--budgets 100,300,1000] [--results FILE]

Every run is an ordinary ``Experiment`` (tabular estimator, in-memory storage, the default
reference point) that searches on single-run validation accuracy (one recorded run drawn per
query, as NB201's API does) and the device latency. Its final front after 100 / 300 / 1,000
queries is then scored two ways against exact fronts over all 15,625 architectures:

* **test**: the front's architectures scored on (200-epoch test accuracy, latency) against the
  exact front of those columns — what a user of the result gets;
* **val**: the same architectures scored on (validation accuracy averaged over the recorded
  runs, latency) against the exact front of those columns — how well the search did on the
  quantity it optimised, without the luck of one run's noise.

Figures: normalised hypervolume ratio (objectives scaled by the exact front's ideal and nadir,
reference point 1.1), IGD in that normalised space, recall = share of the exact Pareto set's
architectures on the final front, and recall of the evaluated set (share the search evaluated
at all). Mann-Whitney U (two-sided) of each strategy against MO random search per budget.
Results are appended to a JSON-lines file as they come (``--results``; a rerun skips what is
there), then written into the "multiobjective" section of docs/benchmarks.md with one front
figure per device in docs/figures/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _docs import write_section  # noqa: E402

from naslab import registry  # noqa: E402
from naslab.analysis.pareto import exact_front, front_quality  # noqa: E402
from naslab.analysis.stats import mann_whitney, mean_ci  # noqa: E402
from naslab.benchmarks import load_benchmark  # noqa: E402
from naslab.estimators.tabular import TabularEstimator  # noqa: E402
from naslab.runner import Experiment, MaxTrials  # noqa: E402
from naslab.spaces import get_space  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STRATEGIES = {"NSGA-II": "nsga2", "MO-RE": "mo_re", "MO-RS": "mo_rs"}
KIND = {"1080ti_1": "GPU (GTX 1080 Ti, batch 1)", "gold_6226": "CPU (Xeon Gold 6226)",
        "pixel3": "phone (Pixel 3)"}


def exact_fronts(data_dir: str, device: str) -> dict[str, Any]:
    b = load_benchmark("nb201/cifar10", data_dir=data_dir, val="mean")
    lat = b.column("latency_ms", device=device)
    cols = {"test": {"acc": b.column("test_acc"), "lat": lat},
            "val": {"acc": b.column("val_acc"), "lat": lat}}
    objs = [("acc", "max"), ("lat", "min")]
    return {k: (exact_front(c, objs), c) for k, c in cols.items()}


def exhaustive_recall(data_dir: str, device: str, ef_test: Any, draws: int = 30) -> np.ndarray:
    """The ceiling of any search on single-run validation accuracy: every architecture
    evaluated once (its recorded run drawn at random, ``draws`` times), the front of those
    values, and its recall of the exact (test accuracy, latency) front."""
    from naslab.analysis.pareto import non_dominated

    b = load_benchmark("nb201/cifar10", data_dir=data_dir, val="run")
    lat = b.column("latency_ms", device=device)
    n = lat.size
    out = []
    for d in range(draws):
        seeds = np.random.default_rng(d).integers(0, 2**31, n)
        val = np.array([b.val_acc(i, int(seeds[i])) for i in range(n)])
        out.append(ef_test.recall(non_dominated(np.stack([val, lat], 1), ("max", "min"))))
    return np.array(out)


def one_run(est: TabularEstimator, strategy: str, seed: int, device: str, budgets: list[int],
            fronts: dict[str, Any]) -> list[dict[str, Any]]:
    space = get_space("nb201")
    t0 = time.perf_counter()
    res = Experiment(space, registry.create("strategy", strategy), est,
                     termination=MaxTrials(max(budgets)), seed=seed,
                     objective=["val_acc", f"latency_ms@{device}:min"]).run()
    wall = time.perf_counter() - t0
    index = est.bench.index
    rows = []
    for n in budgets:
        trials = res.trials[:n]
        front = [index(trials[k].arch) for k in (trials[-1].front or [])]
        evaluated = [index(t.arch) for t in trials if t.status == "complete"]
        row: dict[str, Any] = {"device": device, "strategy": strategy, "seed": seed, "budget": n,
                               "front_size": len(front), "hypervolume_raw": trials[-1].hypervolume,
                               "wall_s": wall}
        for k, (ef, cols) in fronts.items():
            q = front_quality(ef, cols, front, evaluated)
            for name in ("hv_ratio", "igd", "recall", "recall_evaluated"):
                row[f"{name}_{k}"] = q[name]
        row["front"] = front if n == max(budgets) else None
        rows.append(row)
    return rows


def timing(data_dir: str, reps: int, n: int) -> list[dict[str, Any]]:
    """Per-query wall time of whole runs through the runner, interleaved repetitions, the
    fastest of ``reps``; single-objective RE is the unit."""
    from naslab.runner import SQLiteStorage

    space = get_space("nb201")
    est = TabularEstimator("nb201/cifar10", data_dir=data_dir, devices=["pixel3"])
    mo = ["val_acc", "latency_ms@pixel3:min"]
    cases = [("RE, 1 objective", "re", "val_acc"), ("MO-RS", "rs", mo), ("RE, 2 objectives", "re", mo),
             ("NSGA-II", "nsga2", mo), ("MO-RE", "mo_re", mo)]
    out = []
    for storage in ("memory", "sqlite"):
        best = {c[0]: np.inf for c in cases}
        for c in cases:  # warm up: imports (pymoo), caches
            Experiment(space, registry.create("strategy", c[1]), est, termination=MaxTrials(50),
                       objective=c[2]).run()
        for rep in range(reps):
            for label, strat, obj in cases:
                st = None
                if storage == "sqlite":
                    path = ROOT / ".bench-mo-timing.db"
                    for p in (path, Path(str(path) + "-wal"), Path(str(path) + "-shm")):
                        p.unlink(missing_ok=True)
                    st = SQLiteStorage(path)
                t = time.perf_counter()
                Experiment(space, registry.create("strategy", strat), est, termination=MaxTrials(n),
                           objective=obj, seed=rep, storage=st).run()
                best[label] = min(best[label], (time.perf_counter() - t) / n)
                if st is not None:
                    st.close()
        base = best[cases[0][0]]
        for label, _, _ in cases:
            out.append({"storage": storage, "case": label, "us_per_query": best[label] * 1e6,
                        "ratio_to_re": best[label] / base})
    for p in (ROOT / ".bench-mo-timing.db",):
        for q in (p, Path(str(p) + "-wal"), Path(str(p) + "-shm")):
            q.unlink(missing_ok=True)
    return out


def fmt_ci(v: np.ndarray, spec: str = ".4f") -> str:
    m, h, _ = mean_ci(v)
    return f"{format(float(m[0]), spec)} ± {format(float(h[0]), spec)}"


def summarise(rows: list[dict[str, Any]], devices: list[str], budgets: list[int],
              fronts: dict[str, dict[str, Any]],
              ceilings: dict[str, np.ndarray] | None = None) -> tuple[str, dict[str, Any]]:
    lines: list[str] = []
    verdict: dict[str, Any] = {}
    for dev in devices:
        ef_t, ef_v = fronts[dev]["test"][0], fronts[dev]["val"][0]
        lines += [f"### {KIND.get(dev, dev)}: latency_ms@{dev}",
                  "",
                  f"Exact fronts: {ef_t.indices.size} archs on (test acc., latency), "
                  f"{ef_v.indices.size} on (mean val. acc., latency); "
                  f"{np.intersect1d(ef_t.indices, ef_v.indices).size} archs are on both.",
                  ""]
        if ceilings and dev in ceilings:
            c = ceilings[dev]
            lines += [f"Ceiling of recall (test) for a search on single-run validation accuracy: "
                      f"every architecture evaluated once ({c.size} random draws of the recorded "
                      f"runs) gives {c.mean():.3f} (min {c.min():.3f}, max {c.max():.3f}).", ""]
        lines += [
                  "| strategy | queries | HV ratio (test) | recall (test) | IGD (test) | "
                  "evaluated (test) | HV ratio (val) | recall (val) | front size | "
                  "p HV vs MO-RS | p recall vs MO-RS |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for n in budgets:
            sel = {lab: [r for r in rows if r["device"] == dev and r["strategy"] == s and r["budget"] == n]
                   for lab, s in STRATEGIES.items()}
            base = sel["MO-RS"]
            for lab, rs in sel.items():
                if not rs:
                    continue

                def col(k: str, rs: list[dict[str, Any]] = rs) -> np.ndarray:
                    return np.array([r[k] for r in rs], dtype=np.float64)

                p_hv = p_rc = "–"
                if lab != "MO-RS" and base:
                    mh = mann_whitney(col("hv_ratio_test"), [r["hv_ratio_test"] for r in base])
                    mr = mann_whitney(col("recall_test"), [r["recall_test"] for r in base])
                    p_hv, p_rc = f"{mh.p:.1e}", f"{mr.p:.1e}"
                    ahead = (mh.p < 0.01 and col("hv_ratio_test").mean() > np.mean([r["hv_ratio_test"] for r in base])
                             and mr.p < 0.01 and col("recall_test").mean() > np.mean([r["recall_test"] for r in base]))
                    verdict.setdefault(dev, {}).setdefault(lab, {})[f"ahead_at_{n}"] = bool(ahead)
                if lab == "NSGA-II" and n == max(budgets):
                    verdict.setdefault(dev, {}).setdefault(lab, {}).update(
                        hv_ratio_test=float(col("hv_ratio_test").mean()),
                        recall_test=float(col("recall_test").mean()),
                        hv_ratio_val=float(col("hv_ratio_val").mean()),
                        recall_val=float(col("recall_val").mean()),
                        recall_evaluated_test=float(col("recall_evaluated_test").mean()))
                lines.append(
                    f"| {lab} | {n} | {fmt_ci(col('hv_ratio_test'))} | {fmt_ci(col('recall_test'), '.3f')} | "
                    f"{fmt_ci(col('igd_test'))} | {fmt_ci(col('recall_evaluated_test'), '.3f')} | "
                    f"{fmt_ci(col('hv_ratio_val'))} | {fmt_ci(col('recall_val'), '.3f')} | "
                    f"{col('front_size').mean():.1f} | {p_hv} | {p_rc} |")
        lines.append("")
        lines.append(f"![fronts on {dev}](figures/mo-front-{dev}.png)")
        lines.append("")
    return "\n".join(lines), verdict


def front_figures(rows: list[dict[str, Any]], devices: list[str], budgets: list[int],
                  fronts: dict[str, dict[str, Any]]) -> None:
    from naslab.reports import plots
    from naslab.reports.fronts import front_figure

    for dev in devices:
        ef, cols = fronts[dev]["test"]
        found: dict[str, list[np.ndarray]] = {}
        for lab, s in STRATEGIES.items():
            rs = sorted((r for r in rows if r["device"] == dev and r["strategy"] == s
                         and r["budget"] == max(budgets)), key=lambda r: r["hv_ratio_test"])
            found[lab] = [np.stack([cols["acc"][r["front"]], cols["lat"][r["front"]]], axis=1) for r in rs]
        col = plots.colors(list(found), "MO-RS")
        fig = front_figure(["test accuracy (%)", f"latency on {dev} (ms)"], ["max", "min"],
                           ef.values, found, col,
                           f"NB201 CIFAR-10, {max(budgets)} queries: fronts scored on test accuracy")
        fig.axes[0].set_xlim(80, 95)
        path = ROOT / "docs" / "figures" / f"mo-front-{dev}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(plots.png_bytes(fig))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("NASLAB_DATA") or str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--devices", default="1080ti_1,gold_6226,pixel3")
    ap.add_argument("--budgets", default="100,300,1000")
    ap.add_argument("--results", default=str(ROOT / ".bench-multiobjective.jsonl"))
    ap.add_argument("--timing-reps", type=int, default=5)
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()
    devices = args.devices.split(",")
    budgets = sorted(int(x) for x in args.budgets.split(","))
    res_path = Path(args.results)
    done: list[dict[str, Any]] = []
    if res_path.exists():
        done = [json.loads(line) for line in res_path.read_text().splitlines() if line.strip()]
    have = {(r["device"], r["strategy"], r["seed"]) for r in done if r["budget"] == max(budgets)}
    fronts = {d: exact_fronts(args.data_dir, d) for d in devices}
    t_all = time.perf_counter()
    for dev in devices:
        est = TabularEstimator("nb201/cifar10", data_dir=args.data_dir, devices=[dev])
        for s in STRATEGIES.values():
            for seed in range(args.seeds):
                if (dev, s, seed) in have:
                    continue
                rows = one_run(est, s, seed, dev, budgets, fronts[dev])
                with res_path.open("a") as f:
                    for r in rows:
                        f.write(json.dumps(r) + "\n")
                done += rows
            print(f"{dev} {s}: {args.seeds} seeds ({time.perf_counter() - t_all:.0f} s)", file=sys.stderr)
    rows = [r for r in done if r["device"] in devices and r["seed"] < args.seeds and r["budget"] in budgets]
    ceilings = {d: exhaustive_recall(args.data_dir, d, fronts[d]["test"][0]) for d in devices}
    text, verdict = summarise(rows, devices, budgets, fronts, ceilings)
    t = timing(args.data_dir, args.timing_reps, 1000)
    print(text)
    print(json.dumps(verdict, indent=1))
    print(json.dumps(t, indent=1))
    if args.no_docs:
        return
    front_figures(rows, devices, budgets, fronts)
    tim = ["| storage | run | µs per query | × single-objective RE |", "|---|---|---:|---:|"]
    tim += [f"| {r['storage']} | {r['case']} | {r['us_per_query']:.0f} | {r['ratio_to_re']:.2f} |" for r in t]
    md = f"""## Multi-objective search on NB201 CIFAR-10 (`benchmarks/multiobjective.py`)

`taskset -c 0 python benchmarks/multiobjective.py --seeds {args.seeds}` (one core, one process).
NSGA-II (`nsga2`, population 20), MO-RE (`mo_re`, P = 50, S = 25) and MO random search
(`mo_rs` = `rs`), {args.seeds} seeds each, search on **single-run validation accuracy** and the
device latency of the NB201 data (HELP tables); default reference point (worst of the space).
Each final front after {", ".join(map(str, budgets))} queries is scored against exact fronts over
all 15,625 architectures, its architectures looked up in two ways:

* **test** = (200-epoch test accuracy, latency) against the exact front of those columns;
* **val** = (validation accuracy averaged over the recorded runs, latency) against the exact
  front of those columns.

HV ratio: normalised hypervolume (ideal 0 / nadir 1 of the exact front, reference 1.1) over the
exact front's; recall: share of the exact Pareto set's architectures on the final front;
evaluated: share of them the search evaluated at all; IGD in the normalised space. Mean ± 95 %
interval over seeds; p: two-sided Mann-Whitney U against MO-RS on the test figures.
The two exact fronts share fewer than half their architectures, which caps what any search on
validation data can recall of the test front.

{text}

### Cost per query (1,000-query runs through the runner, fastest of {args.timing_reps}, interleaved; latency on pixel3)

{chr(10).join(tim)}
"""
    write_section("multiobjective", md)


if __name__ == "__main__":
    main()
