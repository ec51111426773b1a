"""Expected best-of-N of random search, computed exactly from a benchmark's table.

Two definitions of "random search with N queries", both exact (no sampling):

``expected_max_of_n(values, n)``
    the expected **maximum of ``values``** over N archs drawn uniformly - without replacement
    (default, N distinct archs) or with replacement. Order statistics of the empirical
    distribution: with the values sorted ascending, P(max is the k-th) = C(k-1, N-1) / C(M, N)
    (without) or (k/M)^N - ((k-1)/M)^N (with replacement). This is "the best test accuracy among
    N random archs": an oracle that sees test accuracy.

``expected_best_of_n(val_runs, test, n)``
    the protocol naslab's ``rs`` follows: N distinct archs drawn uniformly without replacement
    (``dedup=True``); every query sees **one** recorded training run's validation accuracy, drawn
    uniformly among the arch's runs (a tabular estimator with ``val="run"``; pass one column for
    ``val="mean"``); the incumbent is the arch with the highest validation accuracy seen, the
    earliest query winning ties (the runner keeps the incumbent unless a trial is strictly
    better); the result is the incumbent's **test** accuracy.

How the protocol expectation is computed. Let u be a validation level. For arch j let
a_j = P(V_j < u) and b_j = P(V_j = u) (fractions of its runs). Arch i wins with value u iff it
is sampled, draws u, every other sampled arch draws at most u, and each other one that draws
exactly u comes later in the (uniformly random) query order. With the order written as
independent uniform keys, P(a tied arch comes later) = 1 - t given i's key t, so

    P(i wins at u) = b_i / C(M, N) * [x^(N-1)]  integral_0^1  prod_{j != i} (1 + (a_j + t b_j) x) dt

(the coefficient of x^(N-1) sums over the N-1 other sampled archs). Archs without a run at u
have b_j = 0 and a_j in a small set (k/n for n runs), so their product is a few binomial powers;
archs with a run at u (few per level) enter through a polynomial in t that Gauss-Legendre
quadrature integrates exactly. E[test of incumbent] = sum over levels u and archs i of
T_i P(i wins at u). Levels that cannot contribute more than 1e-17 (all N sampled archs would
need a run at or below u) are cut off for large N. The same sum with T = 1 must give 1;
``BestOfN.prob_total`` reports it as a check.

``simulate_random_search`` runs the same procedure by Monte-Carlo, for checking.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.special import gammaln

from naslab.errors import ConfigError, check_int

_CUTOFF = 1e-17  # contributions below this (in accuracy points) are not computed


def _check_n(n_max: object, m: int, replace: bool) -> int:
    n = check_int("n_max", n_max, minimum=1)
    if not replace and n > m:
        raise ConfigError(f"n_max must be at most the number of architectures ({m}) when "
                          f"sampling without replacement, got {n}")
    return n


def _as_1d(values: object, name: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ConfigError(f"{name} must be a non-empty 1-D array, got shape {x.shape}")
    if not np.isfinite(x).all():
        bad = int(np.argmin(np.isfinite(x)))
        raise ConfigError(f"{name} must be finite, got {x[bad]!r} at position {bad}")
    return x


def _logC(n: np.ndarray | float, k: np.ndarray | float) -> np.ndarray:
    """log C(n, k), -inf where k < 0 or k > n."""
    n = np.asarray(n, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    ok = (k >= 0) & (k <= n)
    with np.errstate(invalid="ignore"):
        out = gammaln(n + 1) - gammaln(np.where(ok, k, 0) + 1) - gammaln(np.where(ok, n - k, 0) + 1)
    return np.where(ok, out, -np.inf)


# ------------------------------------------------------------------------------------------
# simple variant: the maximum of N uniform draws
# ------------------------------------------------------------------------------------------


def expected_max_of_n(values: object, n_max: int, *, replace: bool = False) -> np.ndarray:
    """E[max of ``values`` over N uniform draws] for N = 1..n_max (exact order statistics).

    ``replace=False``: N distinct items (uniform N-subset); ``True``: N independent draws.
    Returns an array of length ``n_max`` (entry N-1 is best-of-N).
    """
    x = np.sort(_as_1d(values, "values"))
    m = x.size
    n = _check_n(n_max, m, replace)
    out = np.empty(n)
    k = np.arange(1, m + 1)
    lf = gammaln(np.arange(m + 1, dtype=np.float64) + 1.0)  # lf[k] = log k!
    for N in range(1, n + 1):
        if replace:
            p = (k / m) ** N - ((k - 1) / m) ** N
        else:  # P(max is the k-th smallest) = C(k-1, N-1) / C(M, N), zero for k < N
            kk = k[N - 1:]
            lp = (lf[kk - 1] - lf[N - 1] - lf[kk - N]) - (lf[m] - lf[N] - lf[m - N])
            p = np.concatenate([np.zeros(N - 1), np.exp(np.maximum(lp, -700.0))])
            p[N - 1:][lp < -700.0] = 0.0  # below 1e-304: avoid subnormal arithmetic
        out[N - 1] = float((p * x).sum())  # not BLAS: its threads stall on busy machines
    return out


# ------------------------------------------------------------------------------------------
# protocol variant: test accuracy of the best-by-validation arch
# ------------------------------------------------------------------------------------------


@dataclass
class BestOfN:
    """Expected test value of random search's incumbent after N = 1..n_max queries."""

    mean: np.ndarray        # E[test of incumbent], entry N-1
    prob_total: np.ndarray  # sum of all win probabilities (1 up to rounding): a self-check
    replace: bool
    n_levels: int           # distinct validation values in the table


def _check_runs(val_runs: object, test: object) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(val_runs, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2 or v.shape[0] == 0 or v.shape[1] == 0:
        raise ConfigError(f"val_runs must be a (archs, runs) array, got shape {v.shape}")
    t = _as_1d(test, "test")
    if t.shape[0] != v.shape[0]:
        raise ConfigError(f"test must have one value per arch ({v.shape[0]}), got {t.shape[0]}")
    have = ~np.isnan(v)
    if not have.any(axis=1).all():
        bad = int(np.argmin(have.any(axis=1)))
        raise ConfigError(f"val_runs: arch {bad} has no validation value (all NaN)")
    if np.isinf(v).any():
        raise ConfigError("val_runs must not contain infinities")
    return v, t


def expected_best_of_n(val_runs: object, test: object, n_max: int, *,
                       replace: bool = False) -> BestOfN:
    """Exact E[test of the best-by-validation arch among N random queries], N = 1..n_max.

    ``val_runs``: (archs, runs) validation values, NaN where an arch has fewer runs; each query
    sees one of the arch's runs, uniformly (one column = a deterministic validation value).
    ``test``: the value reported for each arch. ``replace=False`` (naslab's ``rs``): N distinct
    archs; ``True``: independent uniform draws. See the module docstring for the method.
    """
    v, t = _check_runs(val_runs, test)
    m = v.shape[0]
    n = _check_n(n_max, m, replace)
    if replace:
        return _best_of_n_with_replacement(v, t, n)
    return _best_of_n_without_replacement(v, t, n)


def _atoms(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flattened (arch, level index) atoms, the distinct levels, and runs per arch."""
    have = ~np.isnan(v)
    n_runs = have.sum(axis=1)
    arch = np.nonzero(have)[0]
    vals = v[have]
    levels, lev = np.unique(vals, return_inverse=True)
    return arch, lev, levels, n_runs


def _best_of_n_with_replacement(v: np.ndarray, t: np.ndarray, n: int) -> BestOfN:
    # one query = an atom (arch j, run r) with probability 1 / (M n_j); the first query that
    # reaches the maximum is distributed as one query conditioned on that value
    m = v.shape[0]
    arch, lev, levels, n_runs = _atoms(v)
    w = 1.0 / (m * n_runs[arch])
    p_at = np.bincount(lev, weights=w, minlength=levels.size)           # P(one query = u)
    pt_at = np.bincount(lev, weights=w * t[arch], minlength=levels.size)
    below = np.concatenate([[0.0], np.cumsum(p_at)[:-1]])                 # P(query < u)
    upto = np.minimum(below + p_at, 1.0)
    cond_t = pt_at / p_at
    mean = np.empty(n)
    tot = np.empty(n)
    for N in range(1, n + 1):
        pw = upto**N - below**N
        mean[N - 1] = float((pw * cond_t).sum())
        tot[N - 1] = float(pw.sum())
    return BestOfN(mean, tot, True, int(levels.size))


def _class_key(k: int, n: int) -> Fraction:
    return Fraction(int(k), int(n))


def _best_of_n_without_replacement(v: np.ndarray, t: np.ndarray, n: int) -> BestOfN:
    m = v.shape[0]
    arch, lev, levels, n_runs = _atoms(v)
    n_lev = levels.size
    # counts[j, d] = runs of arch j at level d, as sparse (arch, level, count) triples
    pair = arch.astype(np.int64) * n_lev + lev
    upair, cnt = np.unique(pair, return_counts=True)
    t_arch, t_lev = np.divmod(upair, n_lev)
    # runs of each tied arch strictly below its level: rank of the level among its runs
    sv = np.sort(np.where(np.isnan(v), np.inf, v), axis=1)
    below_tied = np.array([np.searchsorted(sv[j], levels[d], "left") for j, d in zip(t_arch, t_lev)],
                          dtype=np.int64) if upair.size else np.zeros(0, np.int64)

    # number of archs whose k-th smallest run lies below each level, per run count n:
    # archs with runs below = k at level d  <=>  s_k < u_d <= s_{k+1}
    keys = sorted({_class_key(k, int(nr)) for nr in np.unique(n_runs) for k in range(int(nr) + 1)})
    key_id = {q: i for i, q in enumerate(keys)}
    cls_counts = np.zeros((len(keys), n_lev), dtype=np.int64)
    for nr in np.unique(n_runs):
        rows = sv[n_runs == nr][:, :nr]
        ge = [np.full(n_lev, rows.shape[0], dtype=np.int64)]  # archs with >= 0 runs below
        for k in range(1, int(nr) + 1):
            ge.append(np.searchsorted(np.sort(rows[:, k - 1]), levels, "left"))
        ge.append(np.zeros(n_lev, dtype=np.int64))
        for k in range(0, int(nr) + 1):
            cls_counts[key_id[_class_key(k, int(nr))]] += ge[k] - ge[k + 1]
    # remove tied archs from their class at each of their levels (they enter separately)
    tied_cls = np.array([key_id[_class_key(int(k), int(n_runs[j]))]
                         for j, k in zip(t_arch, below_tied)], dtype=np.int64)
    np.subtract.at(cls_counts, (tied_cls, t_lev), 1)
    q_log = np.array([np.log(float(q)) if q > 0 else -np.inf for q in keys])
    lf = gammaln(np.arange(m + 2, dtype=np.float64) + 1.0)  # lf[k] = log k!

    # largest N that a level can matter for: all N sampled archs need a run <= u
    min_run = sv[:, 0]
    g = np.searchsorted(np.sort(min_run), levels, "right") / m
    tmax = float(np.max(np.abs(t))) or 1.0
    with np.errstate(divide="ignore"):
        k_lev = np.where(g >= 1.0, n, np.ceil(np.log(_CUTOFF / tmax) / np.log(np.maximum(g, 1e-300))))
    k_lev = np.clip(k_lev, 1, n).astype(np.int64)

    # group the tied (arch, level) pairs by level
    order = np.argsort(t_lev, kind="stable")
    t_arch, t_lev, cnt, below_tied = t_arch[order], t_lev[order], cnt[order], below_tied[order]
    starts = np.searchsorted(t_lev, np.arange(n_lev + 1))

    mean = np.zeros(n)
    tot = np.zeros(n)
    log_cmn = _logC(m, np.arange(1, n + 1))  # log C(M, N)
    for d in range(n_lev):
        K = int(k_lev[d])
        kappa = max(K / 2.0, 1.0)
        lam = kappa / m  # x -> lam x keeps every coefficient inside float range
        # product over archs without a run at u: prod_q (1 + q lam x)^c_q, degree < K
        eb = np.ones(1)
        log_lam = np.log(lam)
        for ci in range(len(keys)):
            c = int(cls_counts[ci, d])
            if c == 0 or q_log[ci] == -np.inf:
                continue
            i = np.arange(min(c, K - 1) + 1)
            seq = np.exp(lf[c] - lf[i] - lf[c - i] + i * (q_log[ci] + log_lam))
            eb = np.convolve(eb, seq)[:K]
        if eb.size < K:
            eb = np.concatenate([eb, np.zeros(K - eb.size)])
        # tied archs: the polynomial in x (and t, integrated exactly)
        s, e = starts[d], starts[d + 1]
        nr = n_runs[t_arch[s:e]].astype(np.float64)
        a = below_tied[s:e] / nr
        b = cnt[s:e] / nr
        tv = t[t_arch[s:e]]
        L = min(e - s, K)  # coefficients x^0 .. x^(L-1) are needed
        h_t, h_1 = _tied_poly(a, b, tv, L, lam)
        # answer(N) = sum_l h_l eb_{N-1-l} lam^-(N-1) / C(M, N)
        conv_t = np.convolve(h_t, eb)[:K]
        conv_1 = np.convolve(h_1, eb)[:K]
        N = np.arange(1, K + 1)
        scale = np.exp(-(N - 1) * np.log(lam) - log_cmn[:K])
        mean[:K] += conv_t * scale
        tot[:K] += conv_1 * scale
    return BestOfN(mean, tot, False, int(n_lev))


def _tied_poly(a: np.ndarray, b: np.ndarray, tv: np.ndarray, L: int,
               lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (x^0..x^(L-1), x scaled by lam) of
    integral_0^1 sum_i tau_i prod_{j != i} (1 + (a_j + t b_j) lam x) dt, for tau = test * b and
    tau = b.

    The integrand has degree <= L-1 in t at the coefficients kept, so Gauss-Legendre with
    ceil(L/2) nodes is exact. Products are built one arch at a time as dual numbers
    (P, D): D = D (1 + w x) + tau P, P = P (1 + w x); all terms positive.
    """
    if L == 1:  # only x^0: sum_i tau_i
        return np.array([float((tv * b).sum())]), np.array([float(b.sum())])
    tt, ww = _gauss01((L + 1) // 2)
    X = np.zeros((3, tt.size, L))  # P, D (tau = test * b), D (tau = b)
    X[0, :, 0] = 1.0
    tau = np.empty((2, 1, 1))
    for aj, bj, tj in zip(a.tolist(), b.tolist(), tv.tolist()):
        w = (aj * lam) + (bj * lam) * tt
        tau[0, 0, 0], tau[1, 0, 0] = tj * bj, bj
        add = tau * X[0]                            # tau_j P_old
        X[:, :, 1:] += w[None, :, None] * X[:, :, :-1]  # everything times (1 + w_j x)
        X[1:] += add
    h = (ww[None, :, None] * X[1:]).sum(axis=1)
    return h[0], h[1]


@functools.lru_cache(maxsize=None)
def _gauss01(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1] (exact for degree <= 2k - 1)."""
    x, w = np.polynomial.legendre.leggauss(k)
    return (x + 1.0) / 2.0, w / 2.0


# ------------------------------------------------------------------------------------------
# Monte-Carlo of the same procedure
# ------------------------------------------------------------------------------------------


def sample_without_replacement(rng: np.random.Generator, m: int, n: int, size: int) -> np.ndarray:
    """``size`` uniformly random ordered n-tuples of distinct integers in [0, m)."""
    if n * n <= 2 * m:  # rejection: about e^(-n^2 / 2m) of the rows have a repeat
        out = rng.integers(0, m, size=(size, n))
        while True:
            srt = np.sort(out, axis=1)
            bad = (srt[:, 1:] == srt[:, :-1]).any(axis=1)
            if not bad.any():
                return out
            out[bad] = rng.integers(0, m, size=(int(bad.sum()), n))
    keys = rng.random((size, m))
    part = np.argpartition(keys, n - 1, axis=1)[:, :n]
    order = np.argsort(np.take_along_axis(keys, part, axis=1), axis=1)
    return np.take_along_axis(part, order, axis=1)


def simulate_random_search(val_runs: object, test: object, n_max: int, *, runs: int, seed: int,
                           replace: bool = False, chunk: int = 2000,
                           return_oracle: bool = False) -> Any:
    """Monte-Carlo random search: a (runs, n_max) array, the incumbent's test value after each
    query (same procedure as :func:`expected_best_of_n`; ``val_runs`` = ``test`` gives the
    simple variant). ``return_oracle=True`` also returns the running maximum of ``test`` over
    the same queries (the simple variant on the same draws), as ``(incumbents, oracle)``."""
    v, t = _check_runs(val_runs, test)
    m = v.shape[0]
    n = _check_n(n_max, m, replace)
    runs = check_int("runs", runs, minimum=1)
    rng = np.random.default_rng(seed)
    n_runs = (~np.isnan(v)).sum(axis=1)
    sv = np.where(np.isnan(v), np.inf, v)
    # runs packed to the left: run r < n_runs is present after sorting NaN (inf) to the end
    sv = np.sort(sv, axis=1)
    out = np.empty((int(runs), n))
    orc = np.empty((int(runs), n)) if return_oracle else None
    steps = np.arange(n)
    for s in range(0, int(runs), chunk):
        c = min(chunk, int(runs) - s)
        if replace:
            idx = rng.integers(0, m, size=(c, n))
        else:
            idx = sample_without_replacement(rng, m, n, c)
        r = (rng.random((c, n)) * n_runs[idx]).astype(np.int64)
        val = sv[idx, r]
        prev = np.maximum.accumulate(val, axis=1)
        prev = np.concatenate([np.full((c, 1), -np.inf), prev[:, :-1]], axis=1)
        new = val > prev  # strictly better: the earliest query keeps a tie
        pos = np.maximum.accumulate(np.where(new, steps, 0), axis=1)
        out[s:s + c] = t[np.take_along_axis(idx, pos, axis=1)]
        if orc is not None:
            orc[s:s + c] = np.maximum.accumulate(t[idx], axis=1)
    return (out, orc) if orc is not None else out
