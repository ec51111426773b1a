"""The non-dominated feasible set of a multi-objective run, kept incrementally, and its
hypervolume against a reference point."""

from __future__ import annotations

import math
from collections.abc import Sequence

from naslab.estimators.base import Objectives


class ParetoFront:
    """Trial numbers and objective vectors of the non-dominated points seen so far.

    ``add`` is O(front): a point enters unless a member is at least as good in every
    objective (so equal vectors, e.g. an architecture answered again from the run's record,
    keep the first trial), and it removes the members it dominates. Members stay in trial
    order. Points with a non-finite value never enter.
    """

    def __init__(self, objectives: Objectives) -> None:
        self.objectives = objectives
        self._signs = objectives.signs()
        self._members: list[tuple[int, tuple[float, ...]]] = []  # (trial number, scores)

    def add(self, number: int, values: Sequence[float]) -> bool:
        """Offer trial ``number`` with raw objective ``values``; True when it joined the front."""
        s = tuple(sign * float(v) for sign, v in zip(self._signs, values))
        if len(s) != len(self._signs) or not all(math.isfinite(x) for x in s):
            return False
        for _, q in self._members:
            if all(qi >= si for qi, si in zip(q, s)):
                return False
        self._members = [(n, q) for n, q in self._members
                         if not all(si >= qi for si, qi in zip(s, q))]
        self._members.append((number, s))
        return True

    def numbers(self) -> list[int]:
        """Trial numbers of the front, in trial order."""
        return [n for n, _ in self._members]

    def hypervolume(self) -> float | None:
        """Hypervolume of the front against ``objectives.reference`` (None without one)."""
        ref = self.objectives.reference
        if ref is None:
            return None
        r = tuple(sign * x for sign, x in zip(self._signs, ref))
        return hypervolume([q for _, q in self._members], r)

    def __len__(self) -> int:
        return len(self._members)


def hypervolume(points: Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """Volume dominated by ``points`` and dominating ``reference``, all objectives maximised
    (exact: slices along the last objective; fine for the fronts of a search)."""
    ref = tuple(float(x) for x in reference)
    pts = [tuple(float(x) for x in p) for p in points]
    pts = [p for p in pts if all(pi > ri for pi, ri in zip(p, ref))]
    if not pts:
        return 0.0
    if len(ref) == 1:
        return max(p[0] for p in pts) - ref[0]
    pts.sort(key=lambda p: p[-1], reverse=True)
    vol = 0.0
    for i, p in enumerate(pts):
        below = pts[i + 1][-1] if i + 1 < len(pts) else ref[-1]
        if p[-1] > below:
            vol += (p[-1] - below) * hypervolume([q[:-1] for q in pts[:i + 1]], ref[:-1])
    return vol
