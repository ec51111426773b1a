"""NAS-Bench-101's size: 423,624 unique cells, counted two ways.

1. :func:`naslab.spaces.nb101.count_cells`: isomorphism classes of valid labelled cells (every
   unlabelled full DAG of 2..7 nodes with <= 9 edges up to isomorphism, its labellings with 3
   ops up to its automorphisms, by Burnside's lemma). Exact, no hashing.
2. :func:`naslab.spaces.nb101.iter_cells` gives one (matrix, ops) per class; NB101's graph hash
   (:func:`naslab.spaces.nb101.graph_hash`) of every one of them must be distinct (the hash
   separates non-isomorphic cells of the space) - and our canonical form must be distinct too.
   NB101's own enumeration (``generate_graphs.py``) deduplicated by this hash, so distinct
   hashes over exactly the isomorphism classes reproduce its count.

Writes the figures into docs/benchmarks.md (section ``nb101_cells``)::

    python benchmarks/nb101_cells.py [--no-hash] [--no-canonical]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _docs import write_section  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-hash", action="store_true", help="skip hashing every class")
    ap.add_argument("--no-canonical", action="store_true", help="skip the canonical forms")
    ap.add_argument("--no-doc", action="store_true", help="print only")
    args = ap.parse_args()

    from naslab.spaces.base import Architecture, get_space
    from naslab.spaces.nb101 import N_CELLS, count_cells, graph_hash, iter_cells, pack

    t0 = time.perf_counter()
    counts = count_cells()
    t_count = time.perf_counter() - t0
    total = sum(counts.values())
    lines = [f"Burnside count: {total:,} unique cells ({t_count:.1f} s); NB101 states "
             f"{N_CELLS:,}: {'equal' if total == N_CELLS else 'DIFFERENT'}.", "",
             "| nodes | " + " | ".join(str(n) for n in counts) + " | total |",
             "|---|" + "---:|" * (len(counts) + 1),
             "| unique cells | " + " | ".join(f"{c:,}" for c in counts.values())
             + f" | {total:,} |", ""]
    print("\n".join(lines))
    if not args.no_hash:
        t0 = time.perf_counter()
        keys, canon, n = set(), set(), 0
        sp = get_space("nb101")
        for m, ops in iter_cells():
            n += 1
            keys.add(graph_hash(m, ops))
            if not args.no_canonical:
                canon.add(sp.canonical(Architecture("nb101", pack(m, ops))).choices)
        t_hash = time.perf_counter() - t0
        line = (f"NB101 graph hash of one representative per class: {n:,} classes, "
                f"{len(keys):,} distinct hashes ({t_hash:.0f} s)"
                + ("" if args.no_canonical else f", {len(canon):,} distinct canonical forms")
                + f": the hash {'separates' if len(keys) == n == total else 'DOES NOT separate'} "
                  f"the classes.")
        print(line)
        lines.append(line)
    lines += ["", "Reproduce: `python benchmarks/nb101_cells.py` (one core)."]
    if not args.no_doc:
        write_section("nb101_cells", "## NAS-Bench-101 size (`benchmarks/nb101_cells.py`)\n\n"
                      + "\n".join(lines))


if __name__ == "__main__":
    main()
