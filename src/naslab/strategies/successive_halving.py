"""Successive halving (Jamieson & Talwalkar 2016; Li et al. 2018's inner loop).

A *bracket* samples ``n`` architectures, evaluates them at the lowest fidelity of its rung
ladder, keeps the best ``1/eta`` of them and evaluates those at the next fidelity, and so on
until the survivors are evaluated at the highest fidelity. The strategy runs one bracket after
another (fresh architectures each time) until the runner's budget is spent.

Fidelity ladder (shared with Hyperband): ``s_max = floor(log_eta(max / min))`` and rung ``k``
has fidelity ``max * eta**-(s_max - k)`` (k = 0..s_max), Li et al.'s ``r_i = R eta**-i``. When
the estimator accepts only a fixed set of fidelities (the tabular NB201 benchmark: 12 and
200 epochs), each rung is snapped to the nearest accepted fidelity (in log scale) and repeated
rungs merge, so 12 -> 200 epochs becomes a two-rung ladder. With integer ``min``/``max`` (epochs)
rungs are rounded to integers. ``fidelities=[...]`` gives the ladder explicitly.

Cost: every rung evaluation is an evaluation at that fidelity from scratch (a promoted
architecture is trained again for the higher fidelity, as NB201's 12- and 200-epoch runs are
separate trainings with their own learning-rate schedules); its cost is what the estimator
reports for that fidelity, so a search's cost counts exactly the epochs trained.
"""

from __future__ import annotations

import math
from typing import Any

from naslab.errors import ConfigError, check_float, check_int
from naslab.estimators.base import Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture
from naslab.strategies.base import Strategy, Suggestion


def _positive(name: str, value: Any) -> float:
    return check_float(name, value, minimum=0, strict_min=True, finite=True)


def fidelity_ladder(min_fidelity: float, max_fidelity: float, eta: float,
                    accepted: tuple[float, ...] | None = None) -> tuple[float, ...]:
    """Rung fidelities (ascending, ending at ``max_fidelity``) for ratio ``eta``.

    ``accepted``: the estimator's discrete fidelities (rungs snap to the nearest one in log
    scale); None = any value (rungs are rounded to integers when both ends are integers).
    """
    if min_fidelity > max_fidelity:
        raise ConfigError(f"min_fidelity ({min_fidelity:g}) must be <= max_fidelity "
                          f"({max_fidelity:g})")
    s_max = int(math.floor(math.log(max_fidelity / min_fidelity) / math.log(eta) + 1e-9))
    raw = [max_fidelity * eta ** -(s_max - k) for k in range(s_max + 1)]
    if accepted is not None:
        pool = [f for f in accepted if min_fidelity <= f <= max_fidelity]
        rungs = [min(pool, key=lambda f: (abs(math.log(f / r)), f)) for r in raw]
    elif float(min_fidelity).is_integer() and float(max_fidelity).is_integer():
        rungs = [float(max(round(r), min_fidelity)) for r in raw]
    else:
        rungs = raw
    rungs[-1] = max_fidelity
    out: list[float] = []
    for r in rungs:
        if not out or r > out[-1]:
            out.append(r)
    return tuple(out)


class _MultiFidelity(Strategy):
    """Shared machinery: the fidelity ladder, brackets run one after another, sampling of
    fresh architectures without replacement (until the space is exhausted)."""

    min_fidelity: Any
    max_fidelity: Any
    eta: Any
    fidelities: Any

    # ladder --------------------------------------------------------------------------------
    def _resolve_ladder(self) -> tuple[float, ...]:
        eta = _positive("eta", self.eta)
        if eta <= 1:
            raise ConfigError(f"eta must be > 1, got {self.eta!r}")
        self._eta = eta
        accepted = self.estimator_fidelities
        est_max = self.estimator_max_fidelity
        if self.fidelities is not None:
            if self.min_fidelity is not None or self.max_fidelity is not None:
                raise ConfigError("give either fidelities=[...] or min_fidelity/max_fidelity, "
                                  "not both")
            if not isinstance(self.fidelities, (list, tuple)) or not self.fidelities:
                raise ConfigError(f"fidelities must be a non-empty list of numbers, got "
                                  f"{self.fidelities!r}")
            ladder = [_positive("fidelities", f) for f in self.fidelities]
            if any(b <= a for a, b in zip(ladder, ladder[1:])):
                raise ConfigError(f"fidelities must be strictly increasing, got {self.fidelities!r}")
            if accepted is not None:
                bad = [f for f in ladder if f not in accepted]
                if bad:
                    raise ConfigError(f"fidelities {bad} are not accepted by the estimator; it "
                                      f"accepts {', '.join(f'{f:g}' for f in accepted)}")
            top = ladder[-1]
        else:
            if self.max_fidelity is not None:
                top = _positive("max_fidelity", self.max_fidelity)
            elif est_max is not None:
                top = est_max
            elif accepted:
                top = max(accepted)
            else:
                raise ConfigError(
                    f"{getattr(self, 'registry_name', type(self).__name__)} evaluates at several "
                    f"fidelities, but the estimator declares none (it has no training budget to "
                    f"cut, e.g. a zero-cost proxy); use an estimator with fidelities (tabular, "
                    f"train) or pass max_fidelity=")
            if self.min_fidelity is not None:
                low = _positive("min_fidelity", self.min_fidelity)
            elif accepted:
                low = min(accepted)
            else:
                low = top / eta ** 2  # three rungs
                if float(top).is_integer() and low >= 1:
                    low = float(round(low))  # integer epochs
            if accepted is not None:
                if top not in accepted:
                    raise ConfigError(f"max_fidelity {top:g} is not accepted by the estimator; it "
                                      f"accepts {', '.join(f'{f:g}' for f in accepted)}")
                if low < min(accepted):
                    raise ConfigError(f"min_fidelity {low:g} is below the estimator's lowest "
                                      f"fidelity {min(accepted):g}")
            ladder = list(fidelity_ladder(low, top, eta, accepted))
        if est_max is not None and ladder[-1] != est_max:
            raise ConfigError(
                f"the highest rung ({ladder[-1]:g}) must be the estimator's highest fidelity "
                f"({est_max:g}): the runner's incumbent considers full-fidelity trials only")
        return tuple(ladder)

    # brackets ------------------------------------------------------------------------------
    def _setup(self) -> None:
        self.ladder_ = self._resolve_ladder()
        self._validate_extra()
        self._seen: set[tuple[Any, ...]] = set()
        try:
            self._size: int | None = len(self.space)
        except TypeError:
            self._size = None
        self._bracket_no = 0
        self._new_bracket()

    def _validate_extra(self) -> None:
        pass

    def _bracket_shape(self, number: int) -> tuple[list[float], list[int]]:
        """(rung fidelities, configs per rung) of bracket ``number`` (0, 1, ...)."""
        raise NotImplementedError

    def _sample_fresh(self) -> Architecture:
        arch = self.space.sample(self.rng)
        if self._size is not None and len(self._seen) >= self._size:
            self._seen.clear()  # every arch seen: start a new pass
        while arch.choices in self._seen:
            arch = self.space.sample(self.rng)
        self._seen.add(arch.choices)
        return arch

    def _new_bracket(self) -> None:
        self._rungs, self._sizes = self._bracket_shape(self._bracket_no)
        self._rung = 0
        #: architectures of the current rung, in the order they are asked
        self._members: list[Architecture] = [self._sample_fresh() for _ in range(self._sizes[0])]
        self._scores: list[float | None] = [None] * len(self._members)
        self._asked = 0  # members of the current rung handed out so far
        self._told = 0

    def _rung_size(self) -> int:
        """How many members the current rung has once complete."""
        return len(self._members)

    def _advance(self) -> None:
        """When the current rung is complete: promote the best, or start the next bracket."""
        if self._told < self._rung_size():
            return
        ok = [(s, i) for i, s in enumerate(self._scores) if s is not None and s > -math.inf]
        nxt = self._rung + 1
        if nxt >= len(self._rungs) or not ok:
            self._bracket_no += 1
            self._new_bracket()
            return
        keep = min(self._sizes[nxt], len(ok))
        ok.sort(key=lambda t: (-t[0], t[1]))  # best first; ties: earlier member first
        self._members = [self._members[i] for _, i in ok[:keep]]
        self._scores = [None] * keep
        self._rung, self._asked, self._told = nxt, 0, 0

    # ask / tell ----------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Suggestion]:
        out: list[Suggestion] = []
        fid = self._rungs[self._rung]
        while len(out) < n and self._asked < len(self._members):
            out.append(Suggestion(self._members[self._asked], fid))
            self._asked += 1
        return out

    def _slot(self, arch: Architecture) -> int | None:
        for i in range(self._asked):
            if self._scores[i] is None and self._members[i].choices == arch.choices:
                return i
        return None

    def tell(self, arch: Architecture, evaluation: Evaluation) -> None:
        self._record(arch, self.objective.score(evaluation))

    def tell_failed(self, arch: Architecture, error: str) -> None:
        self._record(arch, -math.inf)

    def _record(self, arch: Architecture, score: float) -> None:
        i = self._slot(arch)
        if i is None:
            raise ConfigError(f"{type(self).__name__} was told about {arch}, which is not pending "
                              f"in its current rung")
        self._scores[i] = score
        self._told += 1
        self._advance()

    # state ---------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "bracket": self._bracket_no, "rung": self._rung, "asked": self._asked,
            "told": self._told,
            "members": [self._arch_json(a) for a in self._members],
            "scores": [None if s is None else ("-inf" if s == -math.inf else s)
                       for s in self._scores],
            "seen": [list(c) for c in self._seen],
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        self._bracket_no = int(state["bracket"])
        self._rungs, self._sizes = self._bracket_shape(self._bracket_no)
        self._rung, self._asked = int(state["rung"]), int(state["asked"])
        self._told = int(state["told"])
        self._members = [self._arch_from(c) for c in state["members"]]
        self._scores = [None if s is None else (-math.inf if s == "-inf" else float(s))
                        for s in state["scores"]]
        self._seen = {self._arch_from(c).choices for c in state["seen"]}

    # introspection -------------------------------------------------------------------------
    @property
    def brackets(self) -> list[tuple[list[float], list[int]]]:
        """The (fidelities, sizes) of one full cycle of brackets (after ``setup``)."""
        raise NotImplementedError


@register("strategy", "sh", aliases=("successive_halving",))
class SuccessiveHalving(_MultiFidelity):
    """Successive halving (Jamieson & Talwalkar 2016), repeated bracket after bracket.

    Each bracket evaluates ``n_configs`` fresh architectures at the lowest fidelity and
    promotes the best ``1/eta`` rung by rung to the highest.

    Parameters
    ----------
    min_fidelity, max_fidelity: fidelity range (default: the estimator's; the NB201 tabular
        benchmark accepts 12 and 200 epochs). For an estimator without a fixed set of
        fidelities the default minimum is ``max / eta**2`` (three rungs; rounded to an integer
        when ``max`` is one).
    eta: promotion ratio (keep the best ``1/eta`` of each rung), > 1.
    n_configs: architectures per bracket (default ``eta**s``, so one reaches the top rung).
    fidelities: explicit ascending rung fidelities instead of min/max.
    """

    def __init__(self, min_fidelity: float | None = None, max_fidelity: float | None = None,
                 eta: float = 3, n_configs: int | None = None,
                 fidelities: list[float] | None = None) -> None:
        self.min_fidelity = min_fidelity
        self.max_fidelity = max_fidelity
        self.eta = eta
        self.n_configs = n_configs
        self.fidelities = fidelities

    def _validate_extra(self) -> None:
        s = len(self.ladder_) - 1
        if self.n_configs is None:
            self._n0 = max(1, math.ceil(self._eta ** s - 1e-9))
        else:
            self._n0 = check_int("n_configs", self.n_configs, minimum=1)

    def _bracket_shape(self, number: int) -> tuple[list[float], list[int]]:
        rungs = list(self.ladder_)
        sizes = [max(1, int(math.floor(self._n0 * self._eta ** -k + 1e-9)))
                 for k in range(len(rungs))]
        return rungs, sizes

    @property
    def brackets(self) -> list[tuple[list[float], list[int]]]:
        return [self._bracket_shape(0)]
