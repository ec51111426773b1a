"""Throughput of naslab's training loop against a plain hand-written PyTorch loop, and wall
time per epoch of a small and a large NB201 cell on digits.

Both loops train the same network (same architecture, same initial weights) on the same
digits training split, in the same process, with the same optimizer settings (SGD Nesterov,
momentum 0.9, weight decay 5e-4, cosine learning rate, batch 64), one torch thread each. The
plain loop is the shortest correct loop: shuffle indices, slice the on-device tensors, forward,
loss, backward, step, with the learning rate annealed per epoch by ``CosineAnnealingLR``; it
keeps no statistics. naslab's loop additionally anneals per iteration and sums loss and accuracy
on the device. Runs alternate (naslab first in even rounds, plain first in odd rounds) so that
load on a shared machine hits both alike; the figure is the ratio of the median epoch times.

Usage: python benchmarks/training.py [--rounds 5] [--epochs 2] [--no-docs]
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


def plain_loop(model, x, y, epochs: int, bs: int, lr: float, seed: int) -> list[float]:
    """A hand-written loop: returns the wall time of each epoch."""
    import torch
    import torch.nn.functional as F

    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    g = torch.Generator().manual_seed(seed)
    n = len(y)
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="alternating naslab/plain runs")
    ap.add_argument("--epochs", type=int, default=2, help="epochs per run")
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()

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
            ours, plain = [], []
            for r in range(args.rounds):
                for which in ((0, 1) if r % 2 == 0 else (1, 0)):  # alternate who goes first
                    if which == 0:
                        res = train(arch, ds, proto, seed=r)
                        ours += [h["time_s"] - (res.history[i - 1]["time_s"] if i else 0.0)
                                 for i, h in enumerate(res.history)]
                    else:
                        model = build_model(arch, ds, proto, seed=r)
                        plain += plain_loop(model, x, y, args.epochs, proto.batch_size,
                                            proto.lr, r)
            m_ours, m_plain = statistics.median(ours), statistics.median(plain)
            net = build_model(arch, ds, proto, 0)
            rows_ratio.append((label, cell_name, n / m_ours, n / m_plain, m_plain / m_ours))
            rows_epoch.append((label, cell_name, count_params(net),
                               count_flops(net, ds.input_shape), m_ours, min(ours), max(ours)))
            print(f"{label:40s} {cell_name}: naslab {n / m_ours:8.0f} img/s, plain "
                  f"{n / m_plain:8.0f} img/s, ratio {m_plain / m_ours:.3f}", flush=True)

    md = [
        "## Training loop throughput and epoch time (digits)",
        "",
        f"digits training split ({n} images, 1x8x8), batch 64, one torch thread, CPU. "
        f"{args.rounds} alternating runs of {args.epochs} epochs per loop and network; medians "
        f"of the epoch times. Small cell: `{SMALL}`; large cell: all `nor_conv_3x3`.",
        "",
        "| network | cell | naslab images/s | plain loop images/s | ratio naslab / plain (target >= 0.95) |",
        "|---|---|---|---|---|",
    ]
    md += [f"| {a} | {b} | {c:,.0f} | {d:,.0f} | {e:.3f} |" for a, b, c, d, e in rows_ratio]
    md += ["", "Wall time per training epoch of naslab's loop (median, with min and max over "
           "all epochs measured):", "",
           "| network | cell | params (M) | MFLOPs | s / epoch (median) | min | max |",
           "|---|---|---|---|---|---|---|"]
    md += [f"| {a} | {b} | {p:.4f} | {f:.3f} | {m:.3f} | {lo:.3f} | {hi:.3f} |"
           for a, b, p, f, m, lo, hi in rows_epoch]
    md += ["", f"Reproduce: `python benchmarks/training.py --rounds {args.rounds} "
           f"--epochs {args.epochs}`."]
    if not args.no_docs:
        from _docs import write_section

        write_section("training", "\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
