"""Predictor evaluation harness: how well does a predictor rank unseen architectures?

Protocol (per seed, on any tabular benchmark: ``nb201/cifar10``, or a labelled sample of a
space such as ``nb101_sample/cifar10``; the harness reads only the benchmark interface - its
rows ``arch(i)`` / ``n_archs``, ``column``, seeded ``query`` - and the space's ``canonical``):

1. The pool is every row of the benchmark (``sampling="uniform"``, what a search samples) or one
   uniformly drawn member of every isomorphism class (``sampling="unique"``, the default:
   no test architecture is then isomorphic to a training one or to another test one; NB201
   trained isomorphic cells separately, so otherwise a test cell's twin could sit in the
   training set with a label that differs only by training noise).
2. A test set of ``test_size`` architectures is drawn from the pool, fixed for the seed
   across all training sizes; the training set of size ``n`` is the first ``n`` of a random
   order of the rest (nested across sizes, disjoint from the test set).
3. Training labels: the validation accuracy of one recorded training run per architecture
   (``train_label="run"``, what a search sees) or the mean over runs (``"mean"``).
4. Each predictor (cloned, seeded with the seed and size) is fitted and queried on the test
   set. Reported per (predictor, size): Kendall tau and Spearman rho against the mean-over-runs
   validation accuracy (the clean label), precision@top-10 % (the share of the true top 10 %
   that the predicted top 10 % recovers), Kendall tau against a single run's validation
   accuracy and against test accuracy, fit time and query time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from naslab.errors import ConfigError, check_limit
from naslab.predictors.base import Predictor
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture, SearchSpace

SAMPLINGS = ("unique", "uniform")
LABELS = ("run", "mean")

_SPLIT, _TRAIN_RUN, _TEST_RUN, _MEMBER = 0x5E1, 0x7A1, 0x7E5, 0x3E3


@dataclass
class EvalRow:
    """One fit: predictor ``label`` with ``n_train`` archs on the split of ``seed``."""

    predictor: str
    n_train: int
    seed: int
    kendall: float
    spearman: float
    precision: float
    kendall_run: float
    kendall_test: float | None
    fit_s: float
    query_s: float


@dataclass
class PredictorEvaluation:
    rows: list[EvalRow]
    config: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> list[dict[str, Any]]:
        """Mean and standard deviation over seeds per (predictor, n_train), in input order."""
        groups: dict[tuple[str, int], list[EvalRow]] = {}
        for r in self.rows:
            groups.setdefault((r.predictor, r.n_train), []).append(r)
        out = []
        for (name, n), rs in groups.items():
            d: dict[str, Any] = {"predictor": name, "n_train": n, "seeds": len(rs)}
            for key in ("kendall", "spearman", "precision", "kendall_run", "kendall_test",
                        "fit_s", "query_s"):
                vals = [getattr(r, key) for r in rs if getattr(r, key) is not None]
                d[key] = float(np.mean(vals)) if vals else None
                d[key + "_std"] = float(np.std(vals)) if vals else None
            out.append(d)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"config": self.config, "rows": [asdict(r) for r in self.rows],
                "summary": self.summary()}

    def markdown(self) -> str:
        """The summary as a Markdown table."""
        has_test = any(r.kendall_test is not None for r in self.rows)
        head = ["predictor", "n train", "Kendall τ (val)", "Spearman ρ (val)", "prec@10 %",
                "τ (val, 1 run)"] + (["τ (test)"] if has_test else []) + ["fit s", "query ms"]
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        for d in self.summary():
            cells = [d["predictor"], str(d["n_train"]),
                     f"{d['kendall']:.3f} ± {d['kendall_std']:.3f}",
                     f"{d['spearman']:.3f}", f"{d['precision']:.3f}", f"{d['kendall_run']:.3f}"]
            if has_test:
                cells.append("n/a" if d["kendall_test"] is None else f"{d['kendall_test']:.3f}")
            cells += [f"{d['fit_s']:.3f}", f"{1000 * d['query_s']:.1f}"]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def plot(self, path: str, title: str | None = None, dpi: int = 120) -> None:
        """Kendall tau, precision@10 % and fit time against training size, one line per
        predictor (mean ± std over seeds), written to ``path`` (PNG/PDF/SVG)."""
        check_output_file(path, "plot file", plot=True)
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        summ = self.summary()
        names = list(dict.fromkeys(d["predictor"] for d in summ))
        fig, axes = plt.subplots(1, 3, figsize=(14, 4))
        for name in names:
            ds = [d for d in summ if d["predictor"] == name]
            n = [d["n_train"] for d in ds]
            for ax, key in zip(axes, ("kendall", "precision", "fit_s")):
                ax.errorbar(n, [d[key] for d in ds], yerr=[d[key + "_std"] for d in ds],
                            label=name, marker="o", capsize=3)
        sizes = sorted({d["n_train"] for d in summ})
        for ax, lab in zip(axes, ("Kendall τ (validation)", "precision@top-10 %", "fit time (s)")):
            ax.set_xscale("log")
            ax.set_xticks(sizes, [str(v) for v in sizes])
            ax.minorticks_off()
            ax.set_xlabel("training architectures")
            ax.set_ylabel(lab)
            ax.grid(alpha=0.3)
        axes[2].set_yscale("log")
        axes[0].legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, dpi=dpi)
        plt.close(fig)


def check_output_file(path: str | Any, what: str, *, plot: bool = False) -> None:
    """Refuse, before any work, an output file that cannot be written: a directory, a folder
    that does not exist or cannot be written, or (``plot=True``) an image format matplotlib
    cannot write (``x.foo``)."""
    import os
    from pathlib import Path

    p = Path(str(path))
    if p.is_dir():
        raise ConfigError(f"{what} {str(p)!r} is a directory; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"{what} {str(p)!r}: folder {str(parent)!r} does not exist; create it "
                          f"first or write elsewhere")
    if not os.access(parent, os.W_OK):
        raise ConfigError(f"{what} {str(p)!r}: folder {str(parent)!r} is not writable")
    if plot:
        formats = plot_formats()
        ext = p.suffix.lower().lstrip(".")
        if ext not in formats:
            raise ConfigError(f"{what} {str(p)!r}: the file name must end in an image format "
                              f"matplotlib writes ({', '.join('.' + f for f in formats)}), got "
                              f"{('.' + ext) if ext else 'no extension'}")


def plot_formats() -> list[str]:
    """The image formats (file extensions) matplotlib can write here."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise ConfigError("plots need matplotlib: pip install 'naslab[plot]'") from None
    return sorted(FigureCanvasBase.get_supported_filetypes())


def _rows(source: Any) -> tuple[SearchSpace, list[Architecture]]:
    """The space and the architecture of every row of ``source``: a tabular benchmark (its
    rows, :attr:`~naslab.benchmarks.TabularBenchmark.n_archs` / ``arch(row)``; a benchmark of a
    sample of a space has fewer rows than the space) or a finite space (rows = official
    indices)."""
    if isinstance(source, SearchSpace):
        return source, list(source.enumerate())
    return source.space, [source.arch(i) for i in range(source.n_archs)]


def class_ids(source: Any) -> np.ndarray:
    """Per row of ``source`` (a benchmark or a finite space), the first row of its isomorphism
    class (its row itself where the space has no canonical form)."""
    space, archs = _rows(source)
    if not space.has_canonical:
        return np.arange(len(archs))
    first: dict[Any, int] = {}
    return np.array([first.setdefault(space.canonical(a).choices, i)
                     for i, a in enumerate(archs)], dtype=np.int64)


def _class_pool(source: Any, rng: np.random.Generator) -> np.ndarray:
    """One uniformly drawn member (row) of every isomorphism class."""
    cid = class_ids(source)
    order = np.argsort(cid, kind="stable")
    starts = np.flatnonzero(np.r_[True, cid[order][1:] != cid[order][:-1]])
    ends = np.r_[starts[1:], len(order)]
    pick = starts + (rng.random(len(starts)) * (ends - starts)).astype(np.int64)
    return np.sort(order[pick])


def make_split(source: Any, seed: int, max_train: int, test_size: int,
               sampling: str = "unique") -> tuple[np.ndarray, np.ndarray]:
    """``(test rows, training order)`` of a seed; train sets are prefixes of the order.

    ``source``: a tabular benchmark (rows are its rows) or a finite space (rows are its
    official indices)."""
    if sampling not in SAMPLINGS:
        raise ConfigError(f"sampling must be one of {', '.join(SAMPLINGS)}, got {sampling!r}")
    rng = np.random.default_rng(derive_seed(seed, _SPLIT))
    n_rows = len(source) if isinstance(source, SearchSpace) else source.n_archs
    pool = _class_pool(source, rng) if sampling == "unique" else np.arange(n_rows)
    if test_size + max_train > len(pool):
        raise ConfigError(
            f"test_size {test_size} + largest training size {max_train} exceeds the "
            f"{len(pool)} architectures of the pool (sampling={sampling!r})")
    perm = rng.permutation(pool)
    return perm[:test_size], perm[test_size:test_size + max_train]


def _precision_at(pred: np.ndarray, truth: np.ndarray, frac: float) -> float:
    k = max(1, int(math.ceil(frac * len(truth))))
    top_true = set(np.argsort(-truth, kind="stable")[:k].tolist())
    top_pred = np.argsort(-pred, kind="stable")[:k].tolist()
    return len(top_true.intersection(top_pred)) / k


def _rank_stats(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    from scipy import stats

    p = np.asarray(pred, dtype=float)
    if np.isnan(p).any():
        raise ConfigError("a predictor returned NaN predictions")
    r = stats.rankdata(p)  # -inf (e.g. a zero-cost score) ranks lowest
    if np.all(r == r[0]):  # constant predictions: no ranking at all
        return 0.0, 0.0
    tau = float(stats.kendalltau(r, truth).statistic)
    rho = float(stats.spearmanr(r, truth).statistic)
    return tau, rho


def resolve_predictors(predictors: Sequence[str] | Mapping[str, Predictor],
                       params: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Predictor]:
    """Names (with optional per-name parameters) or ready instances -> {label: predictor}."""
    from naslab import registry

    params = dict(params or {})
    if isinstance(predictors, Mapping):
        out = dict(predictors)
    else:
        if isinstance(predictors, str):
            predictors = [p for p in predictors.split(",") if p.strip()]
        out = {}
        for name in predictors:
            name = name.strip()
            if name in out:
                raise ConfigError(f"predictor {name!r} is listed twice")
            out[name] = registry.create("predictor", name, **dict(params.pop(name, {})))
    if params:
        raise ConfigError(f"parameters given for predictor(s) {', '.join(sorted(params))} that "
                          f"are not evaluated ({', '.join(out)})")
    if not out:
        raise ConfigError("no predictor to evaluate")
    for label, p in out.items():
        if not isinstance(p, Predictor):
            raise ConfigError(f"predictor {label!r} is not a Predictor: {p!r}")
    return out


def evaluate_predictors(
    benchmark: str | Any,
    predictors: Sequence[str] | Mapping[str, Predictor],
    *,
    train_sizes: Iterable[int] = (10, 20, 50, 100, 200, 500),
    seeds: int | Iterable[int] = 20,
    test_size: int = 200,
    sampling: str = "unique",
    train_label: str = "run",
    top_frac: float = 0.1,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    data_dir: str | None = None,
    on_row: Callable[[EvalRow], None] | None = None,
) -> PredictorEvaluation:
    """Run the protocol of this module; ``benchmark`` is a name (``nb201/cifar10``) or a loaded
    tabular benchmark (:class:`~naslab.benchmarks.TabularBenchmark`: ``space``, ``column(metric)``
    and seeded ``query(index, "val_acc", seed=)``)."""
    from naslab.errors import check_int

    if isinstance(benchmark, str):
        from naslab.benchmarks import load_benchmark

        bench = load_benchmark(benchmark, data_dir=data_dir)
    else:
        bench = benchmark
    if getattr(bench, "val", "run") != "run":
        raise ConfigError("the harness needs the benchmark's per-run validation data "
                          "(load it with val='run')")
    sizes = sorted({check_int("train size", n, minimum=2) for n in train_sizes})
    if not sizes:
        raise ConfigError("train_sizes must name at least one training size")
    if isinstance(seeds, int):
        check_limit("seeds", check_int("seeds", seeds, minimum=1), "the number of seeds")
        seed_list = list(range(seeds))
    else:
        seed_list = [check_int("seed", s, minimum=0) for s in seeds]
        check_limit("seeds", len(seed_list), "the number of seeds")
    test_size = check_int("test_size", test_size, minimum=2)
    if train_label not in LABELS:
        raise ConfigError(f"train_label must be one of {', '.join(LABELS)}, got {train_label!r}")
    if not 0 < float(top_frac) <= 1:
        raise ConfigError(f"top_frac must be in (0, 1], got {top_frac!r}")
    preds = resolve_predictors(predictors, params)
    val_mean = np.asarray(bench.column("val_acc"), dtype=float)
    test_col = np.asarray(bench.column("test_acc"), dtype=float) if getattr(bench, "has_test", False) else None

    rows: list[EvalRow] = []
    warm = True
    for seed in seed_list:
        test_idx, train_order = make_split(bench, seed, sizes[-1], test_size, sampling)
        test_archs = [bench.arch(int(i)) for i in test_idx]
        truth = val_mean[test_idx]
        run_seed = derive_seed(seed, _TEST_RUN)
        truth_run = np.array([bench.query(int(i), "val_acc", seed=run_seed) for i in test_idx])
        truth_test = None if test_col is None else test_col[test_idx]
        tr_seed = derive_seed(seed, _TRAIN_RUN)
        y_all = (val_mean[train_order] if train_label == "mean"
                 else np.array([bench.query(int(i), "val_acc", seed=tr_seed) for i in train_order]))
        for n in sizes:
            archs = [bench.arch(int(i)) for i in train_order[:n]]
            if warm:  # one untimed fit per predictor: imports and caches are not fit time
                warm = False
                for proto in preds.values():
                    proto.clone().fit(archs, y_all[:n]).predict(test_archs[:2])
            for label, proto in preds.items():
                model = proto.clone(seed=derive_seed(seed, n)) if "seed" in proto.get_params() \
                    else proto.clone()
                t0 = time.perf_counter()
                model.fit(archs, y_all[:n])
                t1 = time.perf_counter()
                p = model.predict(test_archs)
                t2 = time.perf_counter()
                tau, rho = _rank_stats(p, truth)
                tau_run, _ = _rank_stats(p, truth_run)
                tau_test = None if truth_test is None else _rank_stats(p, truth_test)[0]
                row = EvalRow(label, n, seed, tau, rho, _precision_at(p, truth, top_frac),
                              tau_run, tau_test, t1 - t0, t2 - t1)
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    config = {"benchmark": getattr(bench, "name", str(benchmark)), "predictors":
              {k: v.describe() for k, v in preds.items()}, "train_sizes": sizes,
              "seeds": seed_list, "test_size": test_size, "sampling": sampling,
              "train_label": train_label, "top_frac": float(top_frac)}
    return PredictorEvaluation(rows, config)
