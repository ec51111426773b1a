"""How well zero-cost proxies rank a tabular benchmark's architectures (what ``naslab proxies``
runs; no torch at import).

:func:`evaluate_proxies` draws a sample of the space (uniformly without replacement, seeded),
scores it with each proxy (:func:`naslab.estimators.zerocost.score_archs`: every network
initialised from ``(seed, arch index)``, optionally through the shared JSON-lines score cache)
and reports Spearman rho and Kendall tau (:func:`naslab.analysis.rank_correlation`) against a
benchmark metric, with the compute time::

    from naslab.estimators.proxy_eval import evaluate_proxies
    ev = evaluate_proxies(["synflow", "params"], sample=100, seed=0)  # default benchmark
    for row in ev.rows: print(row.proxy, row.spearman, row.kendall)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from naslab.errors import ConfigError, check_int
from naslab.spaces.base import SearchSpace

__all__ = ["ProxyScore", "ProxyEvaluation", "evaluate_proxies", "sample_indices"]


@dataclass(frozen=True)
class ProxyScore:
    """One proxy's result (a row of ``naslab proxies``; :meth:`to_dict` is its JSON row)."""

    proxy: str
    benchmark: str
    metric: str
    dataset: str | None        #: the proxy's dataset (None: data-free, default input shape)
    n: int                     #: architectures scored
    spearman: float
    kendall: float
    n_neg_inf: int             #: archs whose score is undefined (-inf), ranked lowest
    compute_s: float           #: sum of the per-arch evaluation wall times (cache: recorded)
    per_arch_ms: float
    wall_s: float              #: wall time of this proxy's scoring here
    seed: int
    cache: str | None          #: the score-cache file, if any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ProxyEvaluation:
    """The result of :func:`evaluate_proxies`."""

    benchmark: str
    benchmark_dataset: str     #: what the benchmark trained on (the part after "/" of its name)
    space: str
    metric: str
    seed: int
    indices: np.ndarray        #: space indices of the scored sample (sorted)
    rows: tuple[ProxyScore, ...]

    def to_json(self) -> list[dict[str, Any]]:
        """The JSON rows of ``naslab proxies --output json``."""
        return [r.to_dict() for r in self.rows]

    @property
    def title(self) -> str:
        return f"zero-cost proxies vs {self.benchmark} {self.metric} (seed {self.seed})"

    def notes(self) -> list[str]:
        """Lines to print under the table: undefined scores, and data-dependent proxies scored
        on other data than the benchmark's."""
        from naslab.estimators.zerocost import DATA_DEPENDENT

        notes = [f"{r.proxy}: {r.n_neg_inf} archs have an undefined score (-inf: the network "
                 f"ignores its input), ranked lowest" for r in self.rows if r.n_neg_inf]
        bd = _norm(self.benchmark_dataset)
        if any(r.dataset and r.proxy in DATA_DEPENDENT and _norm(r.dataset) != bd
               for r in self.rows):
            notes.append(f"data-dependent proxies ran on the dataset named above; the "
                         f"benchmark's accuracies come from {self.benchmark_dataset.upper()} "
                         f"training, other data, so the correlation is measured across datasets")
        return notes


def _norm(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def sample_indices(size: int, n: int | None, seed: int) -> np.ndarray:
    """``n`` space indices drawn uniformly without replacement with ``seed`` (sorted);
    ``n=None`` or ``n == size``: all of them."""
    size = check_int("space size", size, minimum=2)
    if n is None or n == size:
        return np.arange(size)
    n = check_int("sample", n, minimum=2)
    if n > size:
        raise ConfigError(f"sample must be between 2 and the space size {size}, got {n}")
    return np.sort(np.random.default_rng(seed).choice(size, n, replace=False))


def evaluate_proxies(proxies: Sequence[str], *, benchmark: Any = None,
                     space: str | SearchSpace | None = None, metric: str = "test_acc",
                     sample: int | None = 100, seed: int = 0,
                     params: Mapping[str, Any] | None = None,
                     cache_dir: str | Path | None = None, data_dir: str | None = None,
                     on_score: Callable[[str, int, int], None] | None = None
                     ) -> ProxyEvaluation:
    """Score a seeded sample of ``space`` with each of ``proxies`` and correlate the scores
    with ``benchmark``'s ``metric``.

    benchmark: a benchmark name (``"NAME/DATASET"``, default
        :data:`naslab.benchmarks.DEFAULT_BENCHMARK`) or a loaded benchmark object.
    space: default the benchmark's space; another space is an error.
    sample: number of archs (uniform without replacement, ``seed``), None = the whole space.
    seed: seed of the sample and of every network's initialisation (per arch:
        ``derive_seed(seed, index)``).
    params: parameters of every proxy estimator (``dataset``, ``batch_size``, ``C`` ...).
    cache_dir: directory of the shared score caches (:func:`~naslab.estimators.zerocost.cache_file`).
    on_score: ``on_score(proxy, done, total)`` after each architecture.
    """
    from naslab import registry
    from naslab.analysis.rank_correlation import rank_correlation
    from naslab.benchmarks import DEFAULT_BENCHMARK, load_benchmark
    from naslab.estimators.zerocost import cache_file, score_archs
    from naslab.spaces.base import get_space

    seed = check_int("seed", seed, minimum=0, expected=">= 0")
    names = [getattr(registry.get("proxy", p), "registry_name", p) for p in proxies]
    if not names:
        raise ConfigError("proxies must name at least one zero-cost proxy")
    if benchmark is None or isinstance(benchmark, str):
        bench = load_benchmark(benchmark or DEFAULT_BENCHMARK, data_dir=data_dir)
    else:
        bench = benchmark
    if space is None:
        sp = get_space(bench.space_name)
    elif isinstance(space, SearchSpace):
        sp = space
    else:
        sp = get_space(registry.get("space", space).name)
    if bench.space_name != sp.name:
        raise ConfigError(f"benchmark {bench.name!r} scores space {bench.space_name!r}, not "
                          f"{sp.name!r}")
    truth_all = bench.column(metric)
    idx = sample_indices(len(sp), sample, seed)
    truth = truth_all[idx]
    ests = [registry.create("proxy", name, **dict(params or {})) for name in names]
    rows = []
    for name, est in zip(names, ests):
        path = None if cache_dir is None else cache_file(cache_dir, est, space=sp.name, seed=seed)
        tick = None if on_score is None else (
            lambda _i, k, name=name: on_score(name, k, len(idx)))
        t0 = time.perf_counter()
        scores, walls = score_archs(est, idx, seed=seed, space=sp, cache=path, on_score=tick)
        elapsed = time.perf_counter() - t0
        corr = rank_correlation(scores, truth)
        rows.append(ProxyScore(
            proxy=name, benchmark=bench.name, metric=metric, dataset=est.dataset,
            n=int(corr["n"]), spearman=corr["spearman"], kendall=corr["kendall"],
            n_neg_inf=int(corr["n_neg_inf"]), compute_s=float(walls.sum()),
            per_arch_ms=float(walls.mean() * 1e3), wall_s=elapsed, seed=seed, cache=path))
    return ProxyEvaluation(benchmark=bench.name,
                           benchmark_dataset=bench.name.partition("/")[2] or bench.name,
                           space=sp.name, metric=metric, seed=seed, indices=idx,
                           rows=tuple(rows))
