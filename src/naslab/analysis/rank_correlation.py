"""Rank correlation between predicted scores and ground truth (Spearman, Kendall)."""

from __future__ import annotations

from typing import Any

import numpy as np

from naslab.errors import ConfigError


def rank_correlation(scores: Any, truth: Any) -> dict[str, float]:
    """Spearman rho and Kendall tau-b of ``scores`` against ``truth``.

    Scores of ``-inf`` (e.g. a proxy that is undefined for a network whose output ignores its
    input) rank below every finite score; NaN scores are an error. Returns ``spearman``,
    ``kendall``, ``n`` and ``n_neg_inf``.
    """
    from scipy import stats

    s = np.asarray(scores, dtype=float)
    t = np.asarray(truth, dtype=float)
    if s.shape != t.shape or s.ndim != 1:
        raise ConfigError(f"scores and truth must be vectors of equal length, got shapes "
                          f"{s.shape} and {t.shape}")
    if len(s) < 2:
        raise ConfigError(f"rank correlation needs at least 2 values, got {len(s)}")
    if np.isnan(s).any() or not np.isfinite(t).all():
        raise ConfigError("scores must not be NaN and truth must be finite")
    if (s == np.inf).any():
        raise ConfigError("scores must not be +inf")
    neg = s == -np.inf
    r = stats.rankdata(s)  # -inf ranks lowest (ties share their mean rank)
    rho = stats.spearmanr(r, t).statistic
    tau = stats.kendalltau(r, t).statistic
    return {"spearman": float(rho), "kendall": float(tau), "n": int(len(s)),
            "n_neg_inf": int(neg.sum())}
