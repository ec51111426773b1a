"""Throughput of naslab's training loop against a plain hand-written PyTorch loop, and wall
time per epoch of a small and a large NB201 cell on digits.

Both loops train the same network (same architecture, same initial weights) on the same
digits training split, in the same process, with the same optimizer settings (SGD Nesterov,
momentum 0.9, weight decay 5e-4, cosine learning rate, batch 64), one torch thread each. The
plain loop is the shortest correct loop: shuffle indices, slice the on-device tensors, forward,
loss, backward, step, with the learning rate annealed per epoch by ``CosineAnnealingLR``; it
keeps no statistics. naslab's loop additionally anneals per iteration and sums loss and accuracy
on the device. Runs alternate (naslab first in even rounds, plain first in odd rounds) so that
load on a shared machine hits both alike; the headline figure is the ratio of the fastest
per-epoch CPU times (medians are reported beside it).

Usage: python benchmarks/training.py [--rounds 8] [--epochs 4] [--no-docs]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SMALL = "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|"
LARGE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def plain_loop(model, x, y, epochs: int, bs: int, lr: float, seed: int
               ) -> list[tuple[float, float]]:
    """A hand-written loop: returns (wall, CPU) time stamps at the start and each epoch end."""
    import torch
    import torch.nn.functional as F

    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    g = torch.Generator().manual_seed(seed)
    n = len(y)
    stamps = [(time.perf_counter(), time.process_time())]
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        stamps.append((time.perf_counter(), time.process_time()))
    return stamps


def deltas(stamps: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each epoch after the first (the first one warms caches up and
    has no start stamp inside naslab's loop)."""
    w = [b[0] - a[0] for a, b in zip(stamps[1:], stamps[2:])]
    c = [b[1] - a[1] for a, b in zip(stamps[1:], stamps[2:])]
    return w, c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8, help="alternating naslab/plain runs")
    ap.add_argument("--epochs", type=int, default=4, help="epochs per run (>= 2)")
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()
    if args.epochs < 2:
        ap.error("--epochs must be >= 2 (the first epoch of each run is not timed)")

    import torch

    from naslab.data import load_dataset
    from naslab.estimators._train_loop import build_model, train
    from naslab.estimators.training import get_protocol
    from naslab.nn.counting import count_flops, count_params
    from naslab.spaces.nb201 import NB201Space

    torch.set_num_threads(1)
    sp = NB201Space()
    ds = load_dataset("digits", seed=0)
    x = torch.from_numpy(ds.x_train.copy())
    y = torch.from_numpy(ds.y_train.copy())
    n = len(y)

    configs = [("cpu protocol (C=8, N=1)", get_protocol("cpu", epochs=args.epochs)),
               ("NB201 skeleton (C=16, N=5), batch 64",
                get_protocol("cpu", epochs=args.epochs, C=16, N=5))]
    rows_ratio, rows_epoch = [], []
    for label, proto in configs:
        for cell_name, arch_s in (("small", SMALL), ("large", LARGE)):
            arch = sp.parse(arch_s)
            ours_w, ours_c, plain_w, plain_c = [], [], [], []
            for r in range(args.rounds):
                for which in ((0, 1) if r % 2 == 0 else (1, 0)):  # alternate who goes first
                    if which == 0:
                        stamps = [(0.0, 0.0)]
                        train(arch, ds, proto, seed=r, on_epoch=lambda _rec: stamps.append(
                            (time.perf_counter(), time.process_time())))
                        w, c = deltas(stamps)
                        ours_w += w
                        ours_c += c
                    else:
                        model = build_model(arch, ds, proto, seed=r)
                        w, c = deltas(plain_loop(model, x, y, args.epochs, proto.batch_size,
                                                 proto.lr, r))
                        plain_w += w
                        plain_c += c
            med = statistics.median
            net = build_model(arch, ds, proto, 0)
            row = (label, cell_name, n / min(ours_c), n / min(plain_c),
                   min(plain_c) / min(ours_c), med(plain_c) / med(ours_c),
                   med(plain_w) / med(ours_w))
            rows_ratio.append(row)
            rows_epoch.append((label, cell_name, count_params(net),
                               count_flops(net, ds.input_shape), med(ours_w), min(ours_w),
                               max(ours_w), med(ours_c)))
            print(f"{label:40s} {cell_name}: naslab {row[2]:8.0f} img/CPU-s, plain "
                  f"{row[3]:8.0f}, ratio {row[4]:.3f} (CPU medians {row[5]:.3f}, wall "
                  f"{row[6]:.3f})", flush=True)

    md = [
        "## Training loop throughput and epoch time (digits)",
        "",
        f"digits training split ({n} images, 1x8x8), batch 64, one torch thread, CPU. "
        f"{args.rounds} alternating runs of {args.epochs} epochs per loop and network; every "
        f"epoch after the first is timed. Images/s are per CPU-second of the process "
        f"(`time.process_time`). The headline ratio compares the fastest epoch of each loop "
        f"(the least disturbed by other processes: on a shared machine medians swing by "
        f"+-15 % from run to run, minima by a few %); medians of CPU and wall times are shown "
        f"beside it. "
        f"Small cell: `{SMALL}`; large cell: all `nor_conv_3x3`.",
        "",
        "| network | cell | naslab images/CPU-s (best epoch) | plain loop images/CPU-s (best "
        "epoch) | ratio naslab / plain (target >= 0.95) | ratio of CPU medians | ratio of wall "
        "medians |",
        "|---|---|---|---|---|---|---|",
    ]
    md += [f"| {a} | {b} | {c:,.0f} | {d:,.0f} | {e:.3f} | {f:.3f} | {g:.3f} |"
           for a, b, c, d, e, f, g in rows_ratio]
    md += ["", "Time per training epoch of naslab's loop (wall: median, min, max over the "
           "epochs measured; CPU: median):", "",
           "| network | cell | params (M) | MFLOPs | wall s / epoch (median) | min | max | "
           "CPU s / epoch |",
           "|---|---|---|---|---|---|---|---|"]
    md += [f"| {a} | {b} | {p:.4f} | {f:.3f} | {m:.3f} | {lo:.3f} | {hi:.3f} | {c:.3f} |"
           for a, b, p, f, m, lo, hi, c in rows_epoch]
    import os

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    md += ["", f"Load average at the end of the run: {load:.1f} on {os.cpu_count()} cores "
           f"(a shared machine inflates wall times; CPU-time ratios are the robust figure).",
           "", f"Reproduce: `python benchmarks/training.py --rounds {args.rounds} "
           f"--epochs {args.epochs}`."]
    if not args.no_docs:
        from _docs import write_section

        write_section("training", "\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
