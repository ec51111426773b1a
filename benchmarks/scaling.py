"""Long runs stay linear: checkpoint cost, predictor refits, CLI vs API, side by side.

    taskset -c 0 python benchmarks/scaling.py [--tree today=/path/to/old/src] [--seeds 100]
        [--parts guided,cli] [--out /tmp/naslab-scaling.jsonl] [--render]
        [--tree cold='src@{"warm_start": false}'] [--ref today] [--write-docs]

Every measurement runs in its own worker process (``python scaling.py --worker SPEC``) with
``PYTHONPATH`` set to the source tree being measured, so that two trees (``--tree NAME=SRC``,
default ``new`` = this checkout's ``src``; ``NAME=SRC@JSON`` also gives the guided strategies
those parameters, e.g. ``warm_start: false``) are measured side by side, alternating A/B, on
the core the driver is pinned to. Results are appended to ``--out`` (JSON lines), so an
interrupted run resumes; ``--render`` writes the "scaling" section of docs/benchmarks.md.

Parts:

* ``guided``: BANANAS and Neural Predictor on nb201/cifar10 (``val=run``): the incumbent's
  test accuracy after 100 and 150 queries over ``--seeds`` seeds (quality) and the CPU time
  per query at 100 and 300 queries over ``--timing-seeds`` seeds (cost growth); each tree's
  incumbents against the ``--ref`` tree's on the same seeds (paired difference, its SE).
* ``cli``: RS, LS (12,000 queries) and BANANAS (1,000 queries) through ``naslab search``
  (SQLite storage, checkpoint after every trial) against the same run through the API with
  in-memory storage (no checkpoints); CPU per query at 1,000 and 12,000 queries.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GUIDED = ("bananas", "neural_predictor")


# ------------------------------------------------------------------------------------------
# workers (run inside the tree being measured)
# ------------------------------------------------------------------------------------------


def worker_guided(spec: dict[str, Any]) -> dict[str, Any]:
    """One predictor-guided run: incumbent test after each budget, CPU time after each."""
    from naslab import registry
    from naslab.estimators.tabular import TabularEstimator
    from naslab.runner import Experiment, MaxTrials
    from naslab.spaces.base import get_space

    marks = sorted(spec["marks"])
    est = TabularEstimator("nb201/cifar10", val="run")
    strat = registry.create("strategy", spec["strategy"], **spec.get("params", {}))
    cpu: dict[int, float] = {}
    t0 = time.process_time()

    def on_trial(rec: Any) -> None:
        if rec.number + 1 in marks:
            cpu[rec.number + 1] = time.process_time() - t0

    exp = Experiment(get_space("nb201"), strat, est, termination=MaxTrials(max(marks)),
                     seed=spec["seed"])
    res = exp.run(on_trial=on_trial)
    return {"test": {str(b): res.incumbent_test_at(b) for b in marks},
            "cpu": {str(b): cpu[b] for b in marks}}


def _library_imports() -> None:
    """The library modules both the API and the CLI worker import before their clocks start
    (a run's figure counts the run, from loading the benchmark on, not the interpreter
    importing naslab's runner: both pay that alike)."""
    import naslab.estimators.tabular  # noqa: F401
    import naslab.registry  # noqa: F401
    import naslab.runner  # noqa: F401
    import naslab.spaces.base  # noqa: F401


def worker_api(spec: dict[str, Any]) -> dict[str, Any]:
    """The run through the API, in-memory storage (no checkpoints)."""
    _library_imports()
    from naslab import registry
    from naslab.estimators.tabular import TabularEstimator
    from naslab.runner import Experiment, MaxTrials
    from naslab.spaces.base import get_space

    t0 = time.process_time()  # from loading the benchmark on, as the CLI figure
    est = TabularEstimator("nb201/cifar10")
    load = time.process_time() - t0
    strat = registry.create("strategy", spec["strategy"], **spec.get("params", {}))
    exp = Experiment(get_space("nb201"), strat, est, termination=MaxTrials(spec["budget"]),
                     seed=spec["seed"])
    res = exp.run()
    return {"cpu_s": time.process_time() - t0, "load_s": load, "best": str(res.best_arch),
            "n": res.n_trials}


def worker_cli(spec: dict[str, Any]) -> dict[str, Any]:
    """The same run through ``naslab search`` (in process: main() with argv), SQLite storage:
    the clock counts what the command does (parsing its options, opening storage, the run,
    the summary) after the same library imports as the API worker."""
    _library_imports()
    from naslab.cli.main import main

    with tempfile.TemporaryDirectory() as d:
        db = os.path.join(d, "s.db")
        argv = ["search", "--strategy", spec["strategy"], "--budget", str(spec["budget"]),
                "--seed", str(spec["seed"]), "--storage", db, "--no-progress",
                "--output", "json"]
        import contextlib
        import io

        buf = io.StringIO()
        t0 = time.process_time()
        with contextlib.redirect_stdout(buf):
            try:
                main(argv)
            except SystemExit as exc:
                if exc.code not in (0, None):
                    raise
        cpu = time.process_time() - t0
        out = json.loads(buf.getvalue().strip().splitlines()[-1])
        size = os.path.getsize(db)
    return {"cpu_s": cpu, "best": out["best_arch"], "n": out["trials"], "db_bytes": size}


WORKERS = {"guided": worker_guided, "api": worker_api, "cli": worker_cli}


# ------------------------------------------------------------------------------------------
# driver
# ------------------------------------------------------------------------------------------


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        if path.exists():
            self.rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    @staticmethod
    def key(spec: dict[str, Any]) -> str:
        return json.dumps({k: spec[k] for k in sorted(spec) if k not in ("result", "load", "at")},
                          sort_keys=True)

    def has(self, spec: dict[str, Any]) -> bool:
        k = self.key(spec)
        return any(self.key(r) == k for r in self.rows)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")

    def select(self, **kw: Any) -> list[dict[str, Any]]:
        return [r for r in self.rows if all(r.get(k) == v for k, v in kw.items())]


def run_worker(tree: str, spec: dict[str, Any]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=tree, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    p = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"worker failed ({spec}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def parse_tree(text: str) -> tuple[str, tuple[str, dict[str, Any]]]:
    """``NAME=SRC`` or ``NAME=SRC@JSON`` (strategy parameters for the guided / API runs)."""
    name, rest = text.split("=", 1)
    src, _, params = rest.partition("@")
    return name, (src, json.loads(params) if params else {})


def measure(store: Store, trees: dict[str, tuple[str, dict[str, Any]]],
            specs: list[dict[str, Any]]) -> None:
    """Each spec on every tree, alternating the tree order from one spec to the next."""
    names = list(trees)
    for src, _ in trees.values():
        # byte-code as an installed package has it (pip compiles on install): a tree run from
        # source without __pycache__ (PYTHONDONTWRITEBYTECODE) would charge every worker
        # the compilation of the modules it imports
        compileall.compile_dir(src, quiet=1)
    for i, spec in enumerate(specs):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            src, params = trees[name]
            if params and spec["part"] == "cli":
                continue  # the CLI run takes the strategy's defaults
            run = dict(spec, params=params) if params else spec
            s = dict(run, tree=name)
            if store.has(s):
                continue
            t = time.time()
            res = run_worker(src, run)
            store.add(dict(s, result=res, load=os.getloadavg()[0], at=t))
            print(f"{name:8s} {json.dumps(run)} -> {json.dumps(res)[:160]}", flush=True)


def guided_specs(seeds: int, timing_seeds: int) -> list[dict[str, Any]]:
    specs = []
    for seed in range(max(seeds, timing_seeds)):  # the timed seeds (to 300 queries) first
        for strat in GUIDED:
            if seed < timing_seeds:
                specs.append({"part": "guided", "strategy": strat, "seed": seed,
                              "marks": [100, 150, 300]})
            elif seed < seeds:
                specs.append({"part": "guided", "strategy": strat, "seed": seed,
                              "marks": [100, 150]})
    return specs


#: the CLI part's strategies and their budgets (queries)
CLI_BUDGETS = {"rs": (1000, 12000), "ls": (1000, 12000), "bananas": (1000,)}


def cli_specs(reps: int, strategies: list[str]) -> list[dict[str, Any]]:
    budgets = CLI_BUDGETS
    specs = []
    for rep in range(reps):
        for strat in strategies:
            for b in budgets[strat]:
                for how in ("api", "cli"):
                    specs.append({"part": how, "strategy": strat, "budget": b, "seed": rep})
    return specs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--tree", action="append", default=[],
                    help="NAME=SRC: a source tree to measure (repeatable; default new=./src)")
    ap.add_argument("--parts", default="guided,cli")
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--timing-seeds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3, help="repetitions of each CLI/API run")
    ap.add_argument("--cli-strategies", default="rs,ls,bananas")
    ap.add_argument("--out", default="/tmp/naslab-scaling.jsonl")
    ap.add_argument("--render", action="store_true", help="only print what --out holds")
    ap.add_argument("--ref", help="the tree the others' incumbents are compared with "
                                  "(default: the first --tree)")
    ap.add_argument("--write-docs", action="store_true",
                    help="write the tables into docs/benchmarks.md (section scaling-guided)")
    args = ap.parse_args()
    bad = sorted(set(args.parts.split(",")) - {"guided", "cli"})
    if bad:
        ap.error(f"--parts takes guided and/or cli, got {', '.join(bad)}")
    bad = sorted(set(args.cli_strategies.split(",")) - set(CLI_BUDGETS))
    if bad:
        ap.error(f"--cli-strategies takes {', '.join(CLI_BUDGETS)}, got {', '.join(bad)}")
    for flag, v in (("--reps", args.reps), ("--seeds", args.seeds),
                    ("--timing-seeds", args.timing_seeds)):
        if v < 1:
            ap.error(f"{flag} must be >= 1, got {v}")
    if args.worker:
        spec = json.loads(args.worker)
        print(json.dumps(WORKERS[spec["part"]](spec)))
        return
    trees = dict(parse_tree(t) for t in args.tree) or {"new": (str(ROOT / "src"), {})}
    store = Store(Path(args.out))
    parts = args.parts.split(",")
    if not args.render:
        if "guided" in parts:
            measure(store, trees, guided_specs(args.seeds, args.timing_seeds))
        if "cli" in parts:
            measure(store, trees, cli_specs(args.reps, args.cli_strategies.split(",")))
    text = render(store, list(trees), args.ref or list(trees)[0])
    print(text)
    if args.write_docs:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from _docs import write_section

        write_section("scaling-guided", text)


def _mean(xs: list[float]) -> float:
    return statistics.fmean(xs) if xs else float("nan")


def _sd(xs: list[float]) -> float:
    return statistics.stdev(xs) if len(xs) > 1 else float("nan")


def render(store: Store, trees: list[str], ref: str) -> str:
    """Markdown tables of what ``store`` holds (means over seeds / repetitions)."""
    lines = []
    rows = [r for r in store.rows if r["part"] in ("api", "cli")]
    if rows:
        lines += ["CLI (SQLite storage, checkpoint after every trial) against the API (in-memory "
                  "storage, no checkpoints); CPU seconds of the run, mean over repetitions:", "",
                  "| tree | strategy | queries | API CPU-s | CLI CPU-s | CLI / API | CLI ms/query "
                  "| storage file |", "|---|---|---|---|---|---|---|---|"]
        per_q: dict[tuple[str, str, int], float] = {}
        for tree in trees:
            for strat in ("rs", "ls", "bananas"):
                for b in (1000, 12000):
                    api = [r["result"]["cpu_s"] for r in store.select(part="api", tree=tree,
                                                                      strategy=strat, budget=b)]
                    cli = [r["result"]["cpu_s"] for r in store.select(part="cli", tree=tree,
                                                                      strategy=strat, budget=b)]
                    if not cli:
                        continue
                    size = _mean([r["result"]["db_bytes"] for r in store.select(
                        part="cli", tree=tree, strategy=strat, budget=b)])
                    per_q[(tree, strat, b)] = _mean(cli) / b
                    lines.append(f"| {tree} | {strat} | {b:,} | {_mean(api):.2f} | "
                                 f"{_mean(cli):.2f} | {_mean(cli) / _mean(api):.2f}x | "
                                 f"{1000 * _mean(cli) / b:.3f} | {size / 1e6:.1f} MB |")
        growth = [f"{tree} {strat}: {per_q[(tree, strat, 12000)] / per_q[(tree, strat, 1000)]:.2f}x"
                  for tree in trees for strat in ("rs", "ls")
                  if (tree, strat, 1000) in per_q and (tree, strat, 12000) in per_q]
        if growth:
            lines += ["", "CLI CPU per query at 12,000 queries over that at 1,000 (target <= 1.3x): "
                      + "; ".join(growth)]
    g = [r for r in store.rows if r["part"] == "guided"]
    if g:
        lines += ["", "Predictor-guided strategies (nb201/cifar10, `val=run`, 200-epoch fidelity, "
                  "API): incumbent 200-epoch test accuracy, mean ± sd over seeds; Δ = mean "
                  f"paired difference against `{ref}` on the same seeds ± its standard error; "
                  "CPU ms per query (cumulative CPU of the run / queries) over the seeds timed "
                  "to 300 queries:", "",
                  "| tree | strategy | seeds | test @100 | Δ @100 | test @150 | Δ @150 | "
                  "timed seeds | ms/query @100 | ms/query @300 | @300 / @100 |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for strat in GUIDED:
            base = {r["seed"]: r["result"]["test"] for r in g
                    if r["tree"] == ref and r["strategy"] == strat}
            for tree in trees:
                rs = [r for r in g if r["tree"] == tree and r["strategy"] == strat]
                if not rs:
                    continue
                cells = []
                for b in ("100", "150"):
                    t = [r["result"]["test"][b] for r in rs]
                    cells.append(f"{_mean(t):.3f} ± {_sd(t):.3f}")
                    d = [r["result"]["test"][b] - base[r["seed"]][b] for r in rs
                         if r["seed"] in base]
                    cells.append("–" if tree == ref or not d else
                                 f"{_mean(d):+.3f} ± {_sd(d) / len(d) ** 0.5:.3f} ({len(d)})")
                timed = [r for r in rs if "300" in r["result"]["cpu"]]
                c100 = _mean([r["result"]["cpu"]["100"] / 100 for r in timed]) * 1000
                c300 = _mean([r["result"]["cpu"]["300"] / 300 for r in timed]) * 1000
                lines.append(f"| {tree} | {strat} | {len(rs)} | {cells[0]} | {cells[1]} | "
                             f"{cells[2]} | {cells[3]} | {len(timed)} | {c100:.1f} | "
                             f"{c300:.1f} | {c300 / c100:.2f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
