"""NB201 parameter counts of naslab's builder against the published table, for all 15,625 archs.

For every architecture, ``NB201Network`` is built and its parameters counted; the counts are
compared with the ``*_params_mb`` columns of ``nb201_val_200ep.csv`` (cifar10 with 10 classes,
cifar100 with 100, imagenet16 with 120) to 1e-5 M. Each mismatch is checked against its
isomorphism class (NB201's ``to_unique_str`` key): the published table gives some archs the
count of an isomorphic twin, which then must be the count of some member of that class.

The network skeleton does not depend on the class count, so by default each arch is built once
(10 classes) and its classifier is rebuilt for 100 and 120 classes (``--rebuild`` builds the full
network for every class count: three times slower, same numbers). FLOPs of the three archs with
official NATS-Bench records (0, 11, 284) are checked against those records.

Usage: python benchmarks/nb201_params.py [--data-dir DIR] [--limit N] [--rebuild] [--no-docs]
"""

from __future__ import annotations

import argparse
import bz2
import csv
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

DATASETS = (("cifar10", "cifar10_valid_params_mb", 10, 32, "cifar10-valid"),
            ("cifar100", "cifar100_params_mb", 100, 32, "cifar100"),
            ("imagenet16", "imagenet16_params_mb", 120, 16, "ImageNet16-120"))
TOL = 1e-5


def read_published(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    archs = [r["arch"] for r in rows]
    assert [int(r["index"]) for r in rows] == list(range(len(rows))), "rows out of index order"
    return archs, {ds: np.array([float(r[col]) for r in rows]) for ds, col, *_ in DATASETS}


def count_all(limit: int | None, rebuild: bool) -> dict[str, np.ndarray]:
    import torch
    from torch import nn

    from naslab.nn.counting import count_params
    from naslab.nn.nb201 import NB201Network
    from naslab.spaces.nb201 import NB201Space

    torch.set_num_threads(1)
    sp = NB201Space()
    n = len(sp) if limit is None else min(limit, len(sp))
    out = {ds: np.empty(n) for ds, *_ in DATASETS}
    t0 = time.perf_counter()
    for i in range(n):
        arch = sp.from_index(i)
        net = NB201Network(arch, num_classes=10)
        for ds, _col, ncls, *_ in DATASETS:
            if ncls != 10:
                if rebuild:
                    net = NB201Network(arch, num_classes=ncls)
                else:
                    net.classifier = nn.Linear(net.classifier.in_features, ncls)
            out[ds][i] = count_params(net)
        if (i + 1) % 1000 == 0:
            print(f"  {i + 1}/{n} archs, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return out


def fixture_flops(data_dir: Path) -> list[tuple[int, str, float, float]]:
    from naslab.nn.counting import count_flops
    from naslab.nn.nb201 import NB201Network
    from naslab.spaces.nb201 import NB201Space

    sp = NB201Space()
    rows = []
    fx = data_dir / "nb201" / "nats-fixtures" / "NATS-tss-v1_0-3ffb9-simple"
    for idx in (0, 11, 284):
        rec = pickle.loads(bz2.BZ2File(fx / f"{idx:06d}.pickle.pbz2").read())
        res = rec["200"]["all_results"]
        for ds, _col, ncls, hw, key in DATASETS:
            official = float(res[(key, 777)]["flop"])
            ours = count_flops(NB201Network(sp.from_index(idx), num_classes=ncls), (3, hw, hw))
            rows.append((idx, ds, official, ours))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("NASLAB_DATA") or
                    str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--limit", type=int, default=None, help="only the first N archs (no docs)")
    ap.add_argument("--rebuild", action="store_true", help="build a full network per class count")
    ap.add_argument("--no-docs", action="store_true", help="print only; leave docs/benchmarks.md")
    args = ap.parse_args()
    data_dir = Path(args.data_dir)
    from naslab.spaces.nb201 import NB201Space

    sp = NB201Space()
    archs, published = read_published(data_dir / "nb201" / "nb201_val_200ep.csv")
    assert archs == [str(a) for a in sp.enumerate()], "CSV arch strings differ from official order"
    t0 = time.perf_counter()
    ours = count_all(args.limit, args.rebuild)
    build_s = time.perf_counter() - t0
    n = len(next(iter(ours.values())))
    canon = sp.class_ids()[:n]

    lines = [
        f"Every NB201 architecture built with `NB201Network` (C=16, N=5) and its parameters "
        f"counted, against the `*_params_mb` columns of `nb201_val_200ep.csv` (tolerance "
        f"{TOL:g} M). {n:,} archs x 3 datasets in {build_s:.0f} s "
        f"({'full build per class count' if args.rebuild else 'one build per arch, classifier rebuilt per class count'}).",
        "",
        "| dataset | classes | archs matching | mismatches | mismatches whose class holds a member with the published count |",
        "|---|---|---|---|---|",
    ]
    mism_all: dict[int, dict[str, tuple[float, float]]] = {}
    summary = {}
    for ds, _col, ncls, *_ in DATASETS:
        pub, mine = published[ds][:n], ours[ds]
        bad = np.flatnonzero(np.abs(pub - mine) > TOL)
        twin_ok = 0
        for i in bad:
            members = np.flatnonzero(canon == canon[i])
            if np.any(np.abs(mine[members] - pub[i]) <= TOL):
                twin_ok += 1
            mism_all.setdefault(int(i), {})[ds] = (float(pub[i]), float(mine[i]))
        summary[ds] = (n - len(bad), len(bad), twin_ok)
        lines.append(f"| {ds} | {ncls} | {n - len(bad):,} / {n:,} | {len(bad)} | {twin_ok} / {len(bad)} |")
    print("\n".join(lines))

    detail = ["", f"The {len(mism_all)} mismatching archs (index: published / naslab params in M "
              f"for cifar10; the class representative is the member with the smallest index, "
              f"`twin` a class member whose naslab count equals the published one):", ""]
    detail += ["| index | arch | published | naslab | twin index | twin arch |", "|---|---|---|---|---|---|"]
    for i in sorted(mism_all):
        d = mism_all[i]
        ds0 = next(iter(d))
        pub_i, mine_i = d[ds0]
        members = np.flatnonzero(canon == canon[i])
        twins = [int(m) for m in members if abs(ours[ds0][m] - pub_i) <= TOL]
        tw = twins[0] if twins else None
        detail.append(f"| {i} | `{archs[i]}` | {pub_i:.6f} ({ds0}) | {mine_i:.6f} | "
                      f"{'none' if tw is None else tw} | {'' if tw is None else '`' + archs[tw] + '`'} |")
    all_same = all(set(d) == {ds for ds, *_ in DATASETS} for d in mism_all.values())
    detail.insert(1, f"The same archs mismatch on all three datasets: {all_same}.")

    fl = fixture_flops(data_dir)
    flop_lines = ["", "FLOPs (NB201 convention, `count_flops`) against the official NATS-Bench records:", "",
                  "| arch | dataset | official MFLOPs | naslab MFLOPs | relative error |", "|---|---|---|---|---|"]
    for idx, ds, off, mine in fl:
        flop_lines.append(f"| {idx} | {ds} | {off:.5f} | {mine:.5f} | {abs(mine - off) / off:.2e} |")
    print("\n".join(detail[:6] + ["..."] + flop_lines))
    cmd = "python benchmarks/nb201_params.py" + (" --rebuild" if args.rebuild else "")
    if args.limit is None and not args.no_docs:
        from _docs import write_section

        write_section("nb201_params", "## NB201 parameter and FLOP counts\n\n"
                      + "\n".join(lines + detail + flop_lines) + f"\n\nReproduce: `{cmd}`.")
    ok = all(m >= 15475 or args.limit for m, _b, _t in summary.values()) and \
        all(b == t for _m, b, t in summary.values())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
