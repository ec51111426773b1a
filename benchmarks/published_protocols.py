"""Published search tables reproduced: NB201 (ICLR 2020) Table 5 and NATS-Bench (TPAMI 2021)
Table 4 (topology space), RS / REA / REINFORCE / BOHB, 500 runs each.

Every run is ``naslab.runner.protocols.protocol_experiment`` (the protocol as the authors'
scripts ran it: 12-epoch search fidelity, simulated-time budget with the protocol's
over-budget rule, every proposal charged, the scripts' hyper-parameters); the figure is read
off the run as the paper's table is (NB201: the incumbent at the end, reported on all three
datasets; NATS-Bench: interpolated at the budget). Variants on nb201-paper / CIFAR-10 measure
what each difference from the paper is worth.

Results go to a JSON-lines file, one line per run, so the script resumes where it stopped;
``--render`` rewrites the docs section from that file alone. One process, one core.

    taskset -c 0 python benchmarks/published_protocols.py [--runs 500] [--out FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _docs import write_section  # noqa: E402

from naslab.benchmarks.protocol import PublishedProtocol, get_protocol  # noqa: E402
from naslab.runner.protocols import (  # noqa: E402
    ReportTables,
    protocol_estimator,
    protocol_experiment,
    protocol_figures,
)

PROTOCOLS = ("nb201-paper", "nats-tss")
STRATEGIES = ("rs", "re", "reinforce", "bohb")
#: what each variant changes in nb201-paper (CIFAR-10 only); "paper" is the protocol itself
VARIANTS = {
    "valtime": "budget / 1.033: as if each query were also charged its validation pass "
               "(3.3 %, the mean share in the three official cifar10-valid records)",
    "reuse": "repeated proposals answered from the run's record at no cost (naslab's default)",
    "keep": "the query that crosses the budget is kept (naslab's default rule)",
    "fid200": "search on the 200-epoch validation accuracy at 200-epoch cost (naslab before "
              "this protocol; the issue's outside check)",
}


SOURCES = """
### Where the published numbers come from

Every number in the "paper" columns is held, with its source, in
`src/naslab/benchmarks/nb201_protocols.py` (`PublishedProtocol.published`).

- **nb201-paper**: Dong & Yang, *NAS-Bench-201*, ICLR 2020 (arXiv:2001.00326v2), Table 5, the
  non-weight-sharing rows (mean ± std over 500 runs; validation = `cifar10-valid` / `x-valid`,
  test = `ori-test` for CIFAR-10, `x-test` otherwise, 200-epoch means over the recorded runs).
  CIFAR-10 test of RS (93.70 ± 0.36) and REINFORCE (93.85 ± 0.37): checked against the paper by
  the issue's outside check. REA (93.92 ± 0.30), BOHB (93.61 ± 0.52) and every other cell: the
  values as quoted (they are also what `benchmarks/tabular_search.py` quoted before); they
  could **not** be re-read from the paper on this machine (no network; the search tool's page
  store returns page openings, never the tables), so they remain "as commonly quoted".
  The reproduction above lands within 0.02 (REA) and 0.04 (BOHB) of them.
- **nats-tss**: Dong, Liu, Musial & Gabrys, *NATS-Bench*, IEEE TPAMI 2021 (arXiv:2009.00437),
  Table 4, topology search space, the four multi-trial rows (500 runs); numbers as quoted,
  **not re-checked against the paper** for the same reason; check them before citing.
- Hyper-parameters, budgets, the cost charged and the budget rules were read from the authors'
  scripts in D-X-Y/AutoDL-Projects: `exps/NAS-Bench-201-algos/{RANDOM,R_EA,reinforce}.py`,
  `exps/algos/BOHB.py` (the NB201-era version: hpbandster BOHB, `min_budget=12`,
  `max_budget=200`, `eta=3`, a worker that answers every budget with the 12-epoch result),
  `scripts-search/NAS-Bench-201-algos/{R-EA,REINFORCE,BOHB,Random}.sh` (`--time_budget 12000`,
  P=10 S=3, REINFORCE lr 0.001 and EMA 0.9, BOHB `--num_samples 4 --random_fraction 0.0
  --bandwidth_factor 3`), `exps/NATS-algos/{random_wo_share,regularized_ea,reinforce,bohb}.py`,
  `docs/NATS-Bench.md` (REINFORCE lr 0.01) and `exps/NATS-Bench/draw-table.py` (budgets 20,000 /
  40,000 / 120,000 s, interpolation at the budget); the cost of a query is
  `train-all-time + valid-per-time` of the 12-epoch run (NATS-Bench `api_utils.simulate_train_eval`).
- The issue quoted BOHB's `min_bandwidth` as 1e-3 (hpbandster's own default); the authors'
  scripts never pass it, so their argparse default **0.3** applies, which the protocol uses.
"""


def variant(proto: PublishedProtocol, name: str) -> PublishedProtocol:
    if name == "paper":
        return proto
    if name == "valtime":
        return dataclasses.replace(proto, search={k: v / 1.033 for k, v in proto.search.items()})
    if name == "reuse":
        return dataclasses.replace(proto, reuse=True)
    if name == "keep":
        return dataclasses.replace(proto, over_budget="keep")
    if name == "fid200":
        return dataclasses.replace(proto, fidelity=200.0, estimator={})
    raise ValueError(name)


def jobs(runs: int, protocols: list[str], variants: list[str]) -> list[tuple[str, str, str, str]]:
    out = []
    for v in ["paper", *variants]:  # the published rows first, then nb201-paper's variants
        for pname in protocols:
            if v != "paper" and pname != "nb201-paper":
                continue
            for tgt in get_protocol(pname).search:
                for s in STRATEGIES:
                    out.append((pname, v, tgt, s))
    return out


def run(args: argparse.Namespace) -> None:
    out = Path(args.out)
    done: set[tuple[Any, ...]] = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["protocol"], r["variant"], r["target"], r["strategy"], r["seed"]))
    tables: dict[str, ReportTables] = {}
    with out.open("a") as f:
        for pname, v, tgt, s in jobs(args.runs, args.protocols, args.variants):
            todo = [seed for seed in range(args.runs) if (pname, v, tgt, s, seed) not in done]
            if not todo:
                continue
            proto = variant(get_protocol(pname), v)
            rep = proto.report_targets(tgt)
            key = ",".join(rep)
            if key not in tables:
                tables[key] = ReportTables(rep, data_dir=args.data_dir)
            est = protocol_estimator(proto, s, tgt, data_dir=args.data_dir)
            t0 = time.perf_counter()
            for seed in todo:
                res = protocol_experiment(proto, s, target=tgt, seed=seed, estimator=est).run()
                fig = protocol_figures(proto, tgt, res.trials, tables[key])
                other = dataclasses.replace(
                    proto, figure="final" if proto.figure == "interpolate" else "interpolate")
                alt = protocol_figures(other, tgt, res.trials, tables[key])
                f.write(json.dumps({
                    "protocol": pname, "variant": v, "target": tgt, "strategy": s, "seed": seed,
                    "figures": fig, "alt_figures": alt, "trials": res.n_trials,
                    "simulated_s": res.simulated_cost_s, "discarded": res.discarded,
                    "wall_s": res.wall_s}) + "\n")
                f.flush()
            print(f"{pname} {v} {tgt} {s}: {len(todo)} runs in {time.perf_counter() - t0:.1f} s",
                  flush=True)


def _fmt(m: float, s: float) -> str:
    return f"{m:.2f} ± {s:.2f}"


def render(args: argparse.Namespace) -> str:
    rows = [json.loads(line) for line in Path(args.out).read_text().splitlines()]
    by: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault((r["protocol"], r["variant"], r["target"], r["strategy"]), []).append(r)
    md = ["## Published search protocols (`benchmarks/published_protocols.py`)", "",
          f"Command: `taskset -c 0 python benchmarks/published_protocols.py --runs {args.runs}` "
          f"(one process on one core; results kept in `--out`, `--render` rewrites this "
          f"section). Every run is `naslab.runner.protocols.protocol_experiment`; `naslab "
          f"search --protocol NAME` runs one of them. naslab's figures: mean ± std (population "
          f"std, as the papers' `np.std`) over runs with seeds 0..{args.runs - 1}; the found "
          f"architecture's 200-epoch validation / test accuracy is the mean over the recorded "
          f"runs, as both papers report it. \"within\": |naslab − paper| ≤ the paper's std. "
          f"{len(rows):,} runs, {sum(r['wall_s'] for r in rows) / 60:.0f} min of run wall time "
          f"in all (one core; BOHB's density model is most of it).", ""]
    for pname in PROTOCOLS:
        proto = get_protocol(pname)
        md.append(f"### `{pname}`: {proto.title}")
        md.append("")
        md.append(f"Source: {proto.source}. Budget: "
                  + ", ".join(f"{t.split('/')[1]} {b:,.0f} s" for t, b in proto.search.items())
                  + f"; fidelity {proto.fidelity:g} epochs; over budget: {proto.over_budget}; "
                    f"figure: {proto.figure}; repeats charged: {not proto.reuse}.")
        md.append("")
        for tgt in proto.search:
            for rt in proto.report_targets(tgt):
                head = (f"Search on {tgt.split('/')[1]}, reported on {rt.split('/')[1]}"
                        if len(proto.report_targets(tgt)) > 1 else f"{tgt.split('/')[1]}")
                md.append(f"**{head}**")
                md.append("")
                md.append("| method | runs | queries | naslab val | naslab test | paper val | "
                          "paper test | Δ test | within 1 std |")
                md.append("|---|---:|---:|---|---|---|---|---:|---|")
                for s in STRATEGIES:
                    rs = by.get((pname, "paper", tgt, s), [])
                    if not rs:
                        continue
                    val = [r["figures"][rt]["val"] for r in rs if rt in r["figures"]]
                    test = [r["figures"][rt]["test"] for r in rs if rt in r["figures"]]
                    pub = proto.published.get(s, {}).get(rt, {})
                    pv, pt = pub.get("val"), pub.get("test")
                    d = np.mean(test) - pt.mean if pt else float("nan")
                    md.append(
                        f"| {proto.labels.get(s, s)} | {len(rs)} | "
                        f"{np.mean([r['trials'] for r in rs]):.0f} | {_fmt(np.mean(val), np.std(val))} | "
                        f"{_fmt(np.mean(test), np.std(test))} | "
                        f"{_fmt(pv.mean, pv.std) if pv else 'n/a'} | "
                        f"{_fmt(pt.mean, pt.std) if pt else 'n/a'} | {d:+.2f} | "
                        f"{'yes' if pt and abs(d) <= pt.std else 'no'} |")
                md.append("")
        if pname == "nats-tss":
            md.append("Read at the end of each run instead of interpolated at the budget "
                      "(test accuracy; the run stops after the trial that reaches the budget):")
            md.append("")
            md.append("| method | " + " | ".join(t.split("/")[1] for t in proto.search) + " |")
            md.append("|---|" + "---|" * len(proto.search))
            for s in STRATEGIES:
                cells = []
                for tgt in proto.search:
                    rs = by.get((pname, "paper", tgt, s), [])
                    t = [r["alt_figures"][tgt]["test"] for r in rs if tgt in r["alt_figures"]]
                    cells.append(_fmt(np.mean(t), np.std(t)) if t else "n/a")
                md.append(f"| {proto.labels.get(s, s)} | " + " | ".join(cells) + " |")
            md.append("")
        md.append("Where naslab's run of this protocol differs from the paper's:")
        md.append("")
        md.extend(f"- {n}" for n in proto.notes)
        md.append("")
    md.extend(SOURCES.strip().splitlines())
    md.append("")
    proto = get_protocol("nb201-paper")
    c10 = "nb201/cifar10"
    md.append("### What each difference is worth (`nb201-paper`, CIFAR-10 test accuracy)")
    md.append("")
    md.append("| variant | what changes | " + " | ".join(proto.labels[s] for s in STRATEGIES)
              + " | queries (REA) |")
    md.append("|---|---|" + "---|" * len(STRATEGIES) + "---:|")
    for v in ["paper", *VARIANTS]:
        cells = []
        for s in STRATEGIES:
            rs = by.get(("nb201-paper", v, c10, s), [])
            t = [r["figures"][c10]["test"] for r in rs if c10 in r["figures"]]
            cells.append(_fmt(np.mean(t), np.std(t)) if t else "n/a")
        rea = by.get(("nb201-paper", v, c10, "re"), [])
        q = f"{np.mean([r['trials'] for r in rea]):.0f}" if rea else "n/a"
        what = "the protocol as published" if v == "paper" else VARIANTS[v]
        md.append(f"| {v} | {what} | " + " | ".join(cells) + f" | {q} |")
    md.append("")
    return "\n".join(md)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--out", default="/tmp/naslab-published-protocols.jsonl")
    ap.add_argument("--protocols", nargs="*", default=list(PROTOCOLS))
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--render", action="store_true", help="only rewrite the docs section")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if not args.render:
        run(args)
    md = render(args)
    if args.no_write:
        print(md)
    else:
        write_section("published_protocols", md)


if __name__ == "__main__":
    main()
