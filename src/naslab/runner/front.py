"""The non-dominated feasible set of a multi-objective run, kept incrementally, and its
hypervolume against a reference point."""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Sequence

from naslab.analysis import pareto
from naslab.estimators.base import Objectives


class ParetoFront:
    """Trial numbers and objective vectors of the non-dominated points seen so far.

    ``add`` is O(front): a point enters unless a member is at least as good in every
    objective (so equal vectors, e.g. an architecture answered again from the run's record,
    keep the first trial), and it removes the members it dominates. Members stay in trial
    order. Points with a non-finite value never enter. (This archive update is the runner's
    bookkeeping; fronts of whole sets are sorted by pymoo in :mod:`naslab.analysis.pareto`,
    and the tests check the two agree.)

    ``hypervolume()`` is pymoo's, recomputed only after the front changed.
    """

    def __init__(self, objectives: Objectives) -> None:
        self.objectives = objectives
        self._signs = objectives.signs()
        self._members: list[tuple[int, tuple[float, ...]]] = []  # (trial number, scores)
        self._hv: float | None = None  # cached hypervolume of the current members
        # two objectives: the members also sorted by the first score, descending (the
        # second then ascends strictly), with the negated first scores for bisect
        self._two = len(self._signs) == 2
        self._by_first: list[tuple[int, tuple[float, ...]]] = []
        self._neg_first: list[float] = []
        self._numbers: list[int] | None = []  # numbers() while the front is unchanged

    def add(self, number: int, values: Sequence[float]) -> bool:
        """Offer trial ``number`` with raw objective ``values``; True when it joined the front."""
        s = tuple(sign * float(v) for sign, v in zip(self._signs, values))
        if len(s) != len(self._signs) or not all(math.isfinite(x) for x in s):
            return False
        if self._two:
            return self._add_two(number, s)
        ge = operator.ge
        for _, q in self._members:
            if all(map(ge, q, s)):
                return False
        self._members = [(n, q) for n, q in self._members if not all(map(ge, s, q))]
        self._members.append((number, s))
        self._hv = self._numbers = None
        return True

    def _add_two(self, number: int, s: tuple[float, ...]) -> bool:
        """:meth:`add` for two objectives in O(log front) comparisons: along the members
        sorted by the first score (descending) the second ascends, so the members at least as
        good in the first are a prefix, the best of them in the second its last, and the
        members ``s`` dominates one run."""
        a, b = s
        neg, by = self._neg_first, self._by_first
        hi = bisect.bisect_right(neg, -a)  # members with first score >= a
        if hi and by[hi - 1][1][1] >= b:
            return False  # a member at least as good in both
        lo = bisect.bisect_left(neg, -a)  # members with first score > a
        j = hi
        while j < len(by) and by[j][1][1] <= b:  # first score <= a, second <= b: dominated
            j += 1
        if j > lo:
            gone = {n for n, _ in by[lo:j]}
            self._members = [m for m in self._members if m[0] not in gone]
        by[lo:j] = [(number, s)]
        neg[lo:j] = [-a]
        self._members.append((number, s))
        self._hv = self._numbers = None
        return True

    def numbers(self) -> list[int]:
        """Trial numbers of the front, in trial order."""
        if self._numbers is None:
            self._numbers = [n for n, _ in self._members]
        return list(self._numbers)

    def hypervolume(self) -> float | None:
        """Hypervolume of the front against ``objectives.reference`` (None without one)."""
        ref = self.objectives.reference
        if ref is None:
            return None
        if self._hv is None:
            r = tuple(sign * x for sign, x in zip(self._signs, ref))
            self._hv = hypervolume([q for _, q in self._members], r)
        return self._hv

    def __len__(self) -> int:
        return len(self._members)


def hypervolume(points: Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """Volume dominated by ``points`` and dominating ``reference``, all objectives maximised
    (pymoo's exact hypervolume: :func:`naslab.analysis.pareto.hypervolume`)."""
    return pareto.hypervolume(points, reference)
