"""The trajectory of a one-shot run, drawn from its trace (``oneshot_epoch`` records): for
differentiable methods (whose diagnostics hold ``alpha_softmax``) the softmax(alpha) heatmap
over epochs, the derived cell's share of parameter-free ops, the dominant Hessian eigenvalue
and the derived cell's ground-truth accuracy (the run's ``reference`` lookup), next to the
one-shot model's train / validation accuracy. Used by the report of a one-shot experiment and
by ``benchmarks/differentiable.py``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from naslab.reports import html as H
from naslab.reports import plots

__all__ = ["has_alpha", "trajectory_rows", "trajectory_figure", "trajectory_section"]


def has_alpha(trace: Sequence[dict[str, Any]]) -> bool:
    """Whether the trace's diagnostics hold softmax(alpha) (a differentiable method)."""
    return bool(trace) and "alpha_softmax" in (trace[-1].get("diagnostics") or {})


def _ref_test(rec: dict[str, Any]) -> float:
    ref = rec.get("reference") or []
    v = ref[0].get("test_acc") if ref else None
    return float("nan") if v is None else float(v)


def trajectory_rows(trace: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per epoch: derived cell, parameter-free edges and share, eigenvalue and its
    seconds, one-shot train / val accuracy, the reference's test accuracy of the cell."""
    rows = []
    for r in trace:
        d, m = r.get("diagnostics") or {}, r.get("metrics") or {}
        rows.append({"epoch": int(r["epoch"]) + 1, "derived": (r.get("derived") or [""])[0],
                     "param_free_edges": d.get("param_free_edges"),
                     "param_free_share": d.get("param_free_share"),
                     "eigenvalue": d.get("eigenvalue"), "eig_s": d.get("eig_s"),
                     "train_acc": m.get("train_acc"), "val_acc": m.get("val_acc"),
                     "reference_test_acc": None if np.isnan(_ref_test(r)) else _ref_test(r),
                     "train_s": (r.get("cost") or {}).get("simulated_s")})
    return rows


def trajectory_figure(trace: Sequence[dict[str, Any]], title: str) -> Any:
    """A 2 x 2 figure: softmax(alpha) per (edge, op) over epochs; parameter-free share of the
    derived cell; dominant eigenvalue; one-shot train / val accuracy and the derived cell's
    reference test accuracy."""
    plt = plots.pyplot()
    last = trace[-1]["diagnostics"]
    ops, edges = list(last["ops"]), list(last["edges"])
    epochs = np.array([int(r["epoch"]) + 1 for r in trace])
    a = np.array([np.asarray(r["diagnostics"]["alpha_softmax"], dtype=float).reshape(-1)
                  for r in trace]).T  # (edges*ops, epochs)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.2))
    ax = axes[0, 0]
    im = ax.imshow(a, aspect="auto", cmap="viridis", interpolation="nearest",
                   extent=(epochs[0] - 0.5, epochs[-1] + 0.5, a.shape[0] - 0.5, -0.5))
    ax.set_yticks(range(a.shape[0]))
    ax.set_yticklabels([f"{e} {o}" for e in edges for o in ops], fontsize=5.5)
    ax.set_xlabel("epoch")
    ax.set_title("softmax(alpha) per edge and op")
    ax.grid(False)
    fig.colorbar(im, ax=ax, fraction=0.04)
    ax = axes[0, 1]
    share = [r["diagnostics"].get("param_free_share") for r in trace]
    ax.plot(epochs, [np.nan if v is None else v for v in share], marker="o", ms=3)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("epoch")
    ax.set_title(f"parameter-free share of the derived cell ({', '.join(last.get('param_free_ops', []))})",
                 fontsize=8.5)
    ax = axes[1, 0]
    pts = [(int(r["epoch"]) + 1, r["diagnostics"].get("eigenvalue")) for r in trace
           if r["diagnostics"].get("eigenvalue") is not None]
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, color="C3")
    ax.set_xlabel("epoch")
    ax.set_title("dominant eigenvalue of the Hessian of L_val in alpha")
    ax = axes[1, 1]
    for key, label in (("train_acc", "one-shot train acc."), ("val_acc", "one-shot val acc.")):
        ax.plot(epochs, [r["metrics"].get(key, np.nan) for r in trace], label=label)
    ref = [_ref_test(r) for r in trace]
    if not all(np.isnan(ref)):
        ax.plot(epochs, ref, marker="o", ms=3, color="k", label="derived cell, reference test acc.")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy %")
    ax.legend(fontsize=7.5)
    ax.set_title("accuracy")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def trajectory_section(exp_id: str, trace: Sequence[dict[str, Any]], save_png: Any,
                       save_table: Any) -> str:
    """The report section of a differentiable one-shot run ('' for other methods)."""
    if not has_alpha(trace):
        return ""
    rows = trajectory_rows(trace)
    save_table("trajectory", rows)
    png = plots.png_bytes(trajectory_figure(trace, exp_id))
    save_png("trajectory", png)
    cols: list[H.Column] = [
        ("epoch", "epoch", lambda v: H.fmt(v, "d")),
        ("derived", "derived cell", lambda v: H.esc(str(v))),
        ("param_free_edges", "param.-free edges", lambda v: H.fmt(v, "d")),
        ("eigenvalue", "dominant eig.", lambda v: H.fmt(v, ".4g")),
        ("eig_s", "eig. s", lambda v: H.fmt(v, ".1f")),
        ("train_acc", "train acc.", lambda v: H.fmt(v)),
        ("val_acc", "val acc.", lambda v: H.fmt(v)),
        ("reference_test_acc", "reference test acc.", lambda v: H.fmt(v)),
    ]
    return ('<section id="trajectory"><h2>One-shot trajectory</h2>'
            + H.figure(png, "trajectory", f"trajectory of {exp_id}",
                       "Softmax(alpha) of every (edge, op) per epoch; the derived cell's share "
                       "of parameter-free ops; the dominant eigenvalue of the Hessian of the "
                       "validation loss with respect to alpha (power iteration, where "
                       "computed); the one-shot model's accuracy and the derived cell's test "
                       "accuracy looked up in the run's reference benchmark (when the run had "
                       "one).")
            + H.table(rows, cols) + "</section>")
