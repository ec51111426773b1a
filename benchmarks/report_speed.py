"""Time of the NB201 comparison target: 5 strategies x 100 seeds x 150 queries on cifar10,
then its report (500 runs x 150 trials), then the report in headless Chromium.

Writes section ``report_speed`` of docs/benchmarks.md. Run:
``python benchmarks/report_speed.py [--seeds 100] [--budget 150]`` (data from $NASLAB_DATA).
The comparison is `naslab compare` (runner/compare.py); the report is `naslab report`, run as
a fresh process so that its time includes Python start-up and imports.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _docs import write_section  # noqa: E402

STRATEGIES = ["rs", "re", "ls", "reinforce", "hyperband"]


def _cpu_children() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--budget", type=int, default=150)
    ap.add_argument("--repeats", type=int, default=3, help="report runs (the median is kept)")
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="naslab-report-speed-"))
    cfg = tmp / "cmp.yaml"
    cfg.write_text(
        f"name: speed\nstrategies: [{', '.join(STRATEGIES)}]\nseeds: {args.seeds}\n"
        f"targets: [{{benchmark: nb201/cifar10}}]\nbudget: {{trials: {args.budget}}}\n"
        f"storage: {{path: {tmp / 'cmp.db'}}}\n")
    naslab = [sys.executable, "-m", "naslab"]

    def timed(cmd: list[str]) -> tuple[float, float, str]:
        c0, t0 = _cpu_children(), time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr}")
        return time.perf_counter() - t0, _cpu_children() - c0, p.stdout

    cmp_wall, cmp_cpu, _ = timed(naslab + ["compare", str(cfg), "--no-progress"])
    reps = []
    for i in range(args.repeats):
        reps.append(timed(naslab + ["report", "speed", "--storage", str(tmp / "cmp.db"),
                                    "--out", str(tmp / f"report{i}")]))
    reps.sort(key=lambda r: r[0])
    rep_wall, rep_cpu, _ = reps[len(reps) // 2]
    n_runs = len(STRATEGIES) * args.seeds

    browser = "not run (no Chromium)"
    from naslab.testing.browser import check_page, find_chromium

    if find_chromium() is not None:
        t0 = time.perf_counter()
        res = check_page(tmp / "report0" / "index.html", screenshot=tmp / "report0.png")
        bt = time.perf_counter() - t0
        browser = (f"{'ok' if res.ok else 'FAILED'}: {len(res.figures)} figures rendered "
                   f"({', '.join(f['name'] + ' ' + str(f['natural_width']) + 'x' + str(f['natural_height']) for f in res.figures)}), "
                   f"{len(res.console_errors)} console errors, {len(res.external_requests)} "
                   f"requests leaving the page; {bt:.1f} s including the browser's start")
    size = (tmp / "report0" / "index.html").stat().st_size
    text = "\n".join([
        f"`naslab compare` of {len(STRATEGIES)} strategies ({', '.join(STRATEGIES)}) × "
        f"{args.seeds} seeds × {args.budget} queries on nb201/cifar10 ({n_runs} runs, "
        f"{n_runs * args.budget:,} trials, SQLite), then `naslab report` of that comparison, each "
        f"as a fresh process (start-up and imports included). The machine is shared with other "
        f"work, so CPU time is the steadier figure.",
        "",
        "| step | wall s | CPU s |",
        "|---|---|---|",
        f"| comparison (`naslab compare`) | {cmp_wall:.1f} | {cmp_cpu:.1f} |",
        f"| report (`naslab report`, median of {args.repeats}) | {rep_wall:.1f} | {rep_cpu:.1f} |",
        f"| both | {cmp_wall + rep_wall:.1f} | {cmp_cpu + rep_cpu:.1f} |",
        "",
        f"Report page: {size / 1e3:.0f} kB, self-contained. Headless Chromium: {browser}.",
    ])
    print(text)
    if not args.no_docs:
        write_section("report_speed", "## Comparison and report time (`benchmarks/report_speed.py`)\n\n" + text)


if __name__ == "__main__":
    main()
