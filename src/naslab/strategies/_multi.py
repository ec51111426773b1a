"""What the multi-objective strategies share: objective vectors in minimisation form with a
constraint violation, never proposing an architecture twice, and the NSGA-Net crossover."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from naslab.errors import NaslabError
from naslab.estimators.base import Evaluation, Objectives
from naslab.spaces.base import Architecture, SearchSpace

#: how many fresh candidates a strategy draws before it accepts an architecture it has seen
MAX_DRAWS = 50


def min_vector(objectives: Objectives, evaluation: Evaluation) -> tuple[list[float], float]:
    """The evaluation's objectives in minimisation form (maximised ones negated) and its
    constraint violation (0 when feasible; a tiny positive number when a strict bound is met
    with equality, so that it still counts as infeasible)."""
    signs = objectives.signs()
    f = [-s * v for s, v in zip(signs, objectives.values(evaluation))]
    if not objectives.constraints:
        return f, 0.0
    cv = objectives.violation(evaluation)
    if cv == 0.0 and not objectives.feasible(evaluation):
        cv = 1e-12
    return f, float(cv)


class Unseen:
    """The set of architectures a strategy has proposed, and unseen random ones.

    On a finite space, once every architecture has been proposed the set is cleared (a new
    pass starts), as random search does. On a finite space with ``index`` the state is a
    bitmap over the indices (2 KB for 15,625 architectures, whatever the number proposed),
    so that checkpointing it after every trial stays cheap.
    """

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.seen: set[Any] = set()
        try:
            self.size: int | None = len(space)
        except TypeError:
            self.size = None
        self.bits: np.ndarray | None = None
        self._packed: str | None = None  # the bitmap's base64, while bits are unchanged
        if self.size is not None:
            try:
                space.index(space.from_index(0))
            except (AttributeError, NotImplementedError, TypeError, NaslabError):
                pass
            else:
                self.bits = np.zeros(self.size, dtype=bool)

    def full(self) -> bool:
        return self.size is not None and len(self.seen) >= self.size

    def _clear(self) -> None:
        self.seen.clear()
        self._packed = None
        if self.bits is not None:
            self.bits[:] = False

    def add(self, arch: Architecture) -> None:
        if self.full():
            self._clear()
        if arch.choices not in self.seen:
            self.seen.add(arch.choices)
            if self.bits is not None:
                self.bits[self.space.index(arch)] = True
                self._packed = None

    def __contains__(self, arch: Architecture) -> bool:
        return arch.choices in self.seen

    def random(self, rng: np.random.Generator) -> Architecture:
        """A uniformly random architecture not proposed yet (any one once all have been)."""
        if self.full():
            self._clear()
        arch = self.space.sample(rng)
        while arch.choices in self.seen:
            arch = self.space.sample(rng)
        return arch

    def state(self, dump: Callable[[Architecture], Any]) -> Any:
        """JSON-able: ``{"n", "bitmap"}`` (base64 of the packed bits over the indices) on
        finite indexed spaces, else the list of proposed architectures (``dump`` = the
        strategy's ``_arch_json``)."""
        if self.bits is not None:
            if self._packed is None:  # packed once per change, not once per checkpoint
                import base64

                self._packed = base64.b64encode(np.packbits(self.bits).tobytes()).decode("ascii")
            return {"n": int(self.bits.size), "bitmap": self._packed}
        return [dump(Architecture(self.space.name, c)) for c in self.seen]

    def load(self, state: Any, load: Callable[[Any], Architecture]) -> None:
        self._clear()
        if isinstance(state, dict):
            import base64

            if self.bits is None or int(state["n"]) != self.bits.size:
                raise ValueError(f"a bitmap over {state.get('n')} architectures does not fit "
                                 f"space {self.space.name!r}")
            raw = np.frombuffer(base64.b64decode(state["bitmap"]), dtype=np.uint8)
            self.bits = np.unpackbits(raw)[: self.bits.size].astype(bool)
            self._packed = None
            self.seen = {self.space.from_index(int(i)).choices for i in np.flatnonzero(self.bits)}
            return
        for c in state:
            self.add(load(c))


def crossover(space: SearchSpace, a: Architecture, b: Architecture,
              rng: np.random.Generator) -> Architecture:
    """NSGA-Net's crossover on the architecture encoding (Lu et al. 2019): the child keeps
    every decision on which the parents agree and takes each other decision from either parent
    with equal probability (over ``space.decisions``). Spaces without declared decisions, and
    children that are not valid architectures, give a copy of ``a``."""
    if not space.decisions:
        return a
    try:
        ia, ib = space.decision_indices(a), space.decision_indices(b)
        pick = rng.random(len(ia)) < 0.5
        child = [x if (x == y or not p) else y for x, y, p in zip(ia, ib, pick)]
        return space.from_decision_indices([int(c) for c in child])
    except NaslabError:
        return a


def rank_and_crowding(F: np.ndarray, cv: np.ndarray | None, n_survive: int,
                      rng: np.random.Generator) -> tuple[list[int], list[int | None], list[float | None]]:
    """NSGA-II's survival (Deb et al. 2002) from pymoo's parts, without pymoo's Population
    objects (which cost more than the rest of a tabular search): feasible rows first (all
    rows when ``cv`` is None), ranked by pymoo's fast non-dominated sort, the front that does
    not fit cut by pymoo's crowding distance with pymoo's randomized argsort; then infeasible
    rows by violation. Equal to ``pymoo.operators.survival.rank_and_crowding.RankAndCrowding``
    given the same generator state (tested). Returns the surviving row indices and each one's
    rank and crowding distance (None for infeasible survivors)."""
    from pymoo.operators.survival.rank_and_crowding.metrics import calc_crowding_distance
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting
    from pymoo.util.randomized_argsort import randomized_argsort

    n_survive = min(n_survive, F.shape[0])
    if cv is not None:
        feas = np.flatnonzero(cv <= 0.0)
        infeas = np.flatnonzero(cv > 0.0)
        infeas = infeas[np.argsort(cv[infeas])]
    else:
        feas, infeas = np.arange(F.shape[0]), np.zeros(0, dtype=np.int64)
    out: list[int] = []
    ranks: list[int | None] = []
    crowd: list[float | None] = []
    if feas.size:
        want = min(feas.size, n_survive)
        Ff = F[feas]
        for k, front in enumerate(NonDominatedSorting().do(Ff, n_stop_if_ranked=want)):
            front = np.asarray(front, dtype=np.int64)
            order = np.arange(front.size)
            # pymoo's "cd" crowding (get_crowding_function("cd")) is calc_crowding_distance
            # behind a wrapper that answers inf for fronts of 1 or 2 points: called directly
            d = (np.full(front.size, np.inf) if front.size <= 2
                 else calc_crowding_distance(Ff[front, :]))
            if len(out) + front.size > want:
                n_remove = len(out) + front.size - want
                order = randomized_argsort(d, order="descending", method="numpy",
                                           random_state=rng)[:-n_remove]
            for j in order:
                out.append(int(feas[front[j]]))
                ranks.append(k)
                crowd.append(float(d[j]))
    for i in infeas[: n_survive - len(out)]:
        out.append(int(i))
        ranks.append(None)
        crowd.append(None)
    return out, ranks, crowd
