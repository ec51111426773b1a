"""The CLI fuzz suite (tests/cli/test_bad_inputs.py, hypothesis) with many examples.

    NASLAB_DATA=/path/to/data taskset -c 0 python benchmarks/fuzz.py [--examples 2000]

Runs every ``test_fuzz_*`` property with ``NASLAB_FUZZ_EXAMPLES=--examples`` (CI runs 10
per property) in one pytest process, and prints per property the examples run, how many of
them ended in a clean exit-2 error and whether any ended in a traceback, a wrong exit status
or an unbounded run (a failing property; hypothesis prints the smallest failing input).
Results also go to ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=2000, help="examples per property")
    ap.add_argument("--out", default="/tmp/naslab-fuzz.json")
    args = ap.parse_args()
    if args.examples < 1:
        ap.error(f"--examples must be >= 1, got {args.examples}")
    env = dict(os.environ, NASLAB_FUZZ_EXAMPLES=str(args.examples),
               PYTHONPATH=str(ROOT / "src"))
    t0 = time.time()
    p = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "cli" / "test_bad_inputs.py"), "-k", "fuzz",
         "--hypothesis-show-statistics", "-rA"],
        env=env, capture_output=True, text=True, cwd=ROOT)
    out = p.stdout + p.stderr
    props: dict[str, dict[str, int]] = {}
    for block in re.split(r"\n(?=tests/cli/test_bad_inputs.py::)", out):
        m = re.match(r"tests/cli/test_bad_inputs.py::(test_fuzz_\w+):", block)
        if not m:
            continue
        # hypothesis >= 6: "- 3 passing, 0 failing, and 0 invalid test cases" per phase
        counts = re.findall(r"(\d+) passing, (\d+) failing, and (\d+) invalid", block)
        props[m.group(1)] = {"passing": sum(int(c[0]) for c in counts),
                             "failing": sum(int(c[1]) for c in counts),
                             "invalid": sum(int(c[2]) for c in counts)}
    failed = re.findall(r"FAILED (\S+)", out)
    result = {"examples_per_property": args.examples, "properties": props,
              "total_passing": sum(v["passing"] for v in props.values()),
              "failed": failed, "wall_s": round(time.time() - t0, 1), "rc": p.returncode,
              "date": time.strftime("%Y-%m-%d")}
    Path(args.out).write_text(json.dumps(result, indent=1))
    for name, v in props.items():
        print(f"{name:40s} {v['passing']:>6} passing, {v['failing']} failing")
    print(f"total {result['total_passing']} examples, {len(failed)} failing properties, "
          f"{result['wall_s']} s")
    if not props:
        print("no hypothesis statistics found in pytest's output (format changed?)")
    if p.returncode != 0 or not props:
        print(out[-6000:])
        sys.exit(1)


if __name__ == "__main__":
    main()
