"""Plain reference computations that the exact analyses are checked against.

Slow by design (a Python loop over every architecture) and written without the machinery they
check, so that agreement means something.
"""

from __future__ import annotations

import itertools

import numpy as np


def brute_force_anova(choices: np.ndarray, y: np.ndarray,
                      n_ops: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Functional ANOVA of ``y`` over a complete grid of op choices, by one plain pass.

    ``choices``: (archs, edges) op indices covering every combination once; ``y``: one value
    per arch. Returns the marginal means (edges, n_ops), the main-effect variance fractions
    (edges,) and the pairwise-interaction fractions (edges, edges; symmetric, zero diagonal).
    """
    n, n_edges = choices.shape
    mu = sum(y) / n
    var = sum((v - mu) ** 2 for v in y) / n
    s1 = np.zeros((n_edges, n_ops))
    s2 = np.zeros((n_edges, n_edges, n_ops, n_ops))
    for ch, v in zip(choices.tolist(), y.tolist()):
        for e in range(n_edges):
            s1[e, ch[e]] += v
        for e, f in itertools.combinations(range(n_edges), 2):
            s2[e, f, ch[e], ch[f]] += v
    m1 = s1 / (n / n_ops)
    main = ((m1 - mu) ** 2).mean(axis=1) / var
    pair = np.zeros((n_edges, n_edges))
    for e, f in itertools.combinations(range(n_edges), 2):
        inter = s2[e, f] / (n / n_ops**2) - m1[e][:, None] - m1[f][None, :] + mu
        pair[e, f] = pair[f, e] = (inter**2).mean() / var
    return m1, main, pair
