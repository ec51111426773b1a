"""Pareto fronts and their quality indicators, computed with pymoo.

Everything here works in raw metric units with a direction per metric (``"max"`` / ``"min"``)
and converts to pymoo's minimisation convention inside. pymoo (the ``moo`` extra) does the
non-dominated sorting (``NonDominatedSorting``), the hypervolume (``pymoo.indicators.hv.HV``,
exact, through moocore) and the inverted generational distance (``pymoo.indicators.igd.IGD``);
nothing of that is written by hand here.

:func:`exact_front` is the exact Pareto front of a finite space from whole metric columns (for
a tabular benchmark: every architecture), with the normalisation the quality figures use:
objectives scaled so that the front's ideal point is 0 and its nadir point 1 in every
objective (minimisation), reference point 1.1 in each. :class:`ExactFront` then scores any set
of architectures against it: normalised hypervolume ratio, IGD and recall of the exact set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from naslab.errors import ConfigError

MODES = ("max", "min")
#: the normalised reference point of the quality figures (ideal = 0, nadir = 1 per objective)
NORMALISED_REFERENCE = 1.1


def require_pymoo(what: str = "this") -> None:
    """ConfigError naming the extra to install when pymoo is missing."""
    try:
        import pymoo  # noqa: F401
    except ImportError:
        raise ConfigError(f"{what} needs pymoo, which is not installed: pip install "
                          f"'naslab[moo]' (or pip install pymoo)") from None


def _modes(modes: Sequence[str] | None, k: int) -> tuple[str, ...]:
    ms = tuple(modes) if modes is not None else ("max",) * k
    if len(ms) != k or any(m not in MODES for m in ms):
        raise ConfigError(f"modes must be {k} values 'max' or 'min', got {list(ms)!r}")
    return ms


def _matrix(values: Any, what: str = "values") -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 1 and a.size == 0:
        a = a.reshape(0, 0)
    if a.ndim != 2:
        raise ConfigError(f"{what} must be a (points, objectives) array, got shape {a.shape}")
    return a


def to_min(values: Any, modes: Sequence[str] | None = None) -> np.ndarray:
    """``values`` (points, objectives) in raw units -> minimisation form (maximised columns
    negated)."""
    a = _matrix(values)
    ms = _modes(modes, a.shape[1])
    signs = np.array([-1.0 if m == "max" else 1.0 for m in ms])
    return a * signs[None, :]


def nondominated_sort(values: Any, modes: Sequence[str] | None = None) -> list[np.ndarray]:
    """Row indices of each non-dominated front, best first (pymoo's fast non-dominated sort).
    Equal vectors share a front."""
    require_pymoo("non-dominated sorting")
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    f = to_min(values, modes)
    if f.shape[0] == 0:
        return []
    return [np.asarray(fr, dtype=np.int64) for fr in NonDominatedSorting().do(f)]


def non_dominated(values: Any, modes: Sequence[str] | None = None) -> np.ndarray:
    """Sorted row indices of the non-dominated rows of ``values`` (every copy of an equal
    non-dominated vector is kept). Rows with a NaN are left out."""
    require_pymoo("non-dominated sorting")
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    f = to_min(values, modes)
    ok = np.flatnonzero(np.isfinite(f).all(axis=1))
    if ok.size == 0:
        return np.zeros(0, dtype=np.int64)
    front = NonDominatedSorting().do(f[ok], only_non_dominated_front=True)
    return np.sort(ok[np.asarray(front, dtype=np.int64)])


def hypervolume(points: Any, reference: Sequence[float] | np.ndarray,
                modes: Sequence[str] | None = None) -> float:
    """Volume dominated by ``points`` (raw units, directions ``modes``; default all
    maximised) and dominating ``reference`` (pymoo's exact hypervolume). Points that do not
    strictly dominate the reference contribute nothing; no points -> 0."""
    ref = np.asarray(reference, dtype=np.float64).ravel()
    a = np.asarray(points, dtype=np.float64)
    if a.size == 0:
        return 0.0
    a = a.reshape(-1, ref.size)
    ms = _modes(modes, ref.size)
    f = to_min(a, ms)
    r = to_min(ref[None, :], ms)[0]
    keep = np.isfinite(f).all(axis=1) & (f < r[None, :]).all(axis=1)
    f = f[keep]
    if f.shape[0] == 0:
        return 0.0
    if ref.size == 1:
        return float(r[0] - f[:, 0].min())
    require_pymoo("the hypervolume")
    from pymoo.indicators.hv import HV

    return float(HV(ref_point=r)(f))


def igd(points: Any, front: Any, modes: Sequence[str] | None = None) -> float:
    """Inverted generational distance of ``points`` to ``front`` (both raw, directions
    ``modes``): mean over the front of the Euclidean distance to the nearest point (pymoo).
    No points -> inf."""
    a, pf = np.asarray(points, dtype=np.float64), _matrix(front, "front")
    if a.size == 0:
        return math.inf
    require_pymoo("IGD")
    from pymoo.indicators.igd import IGD

    ms = _modes(modes, pf.shape[1])
    return float(IGD(to_min(pf, ms))(to_min(a.reshape(-1, pf.shape[1]), ms)))


# ------------------------------------------------------------------------------------------
# metric specifications ("test_acc:max,latency_ms@pixel3:min") for the analysis
# ------------------------------------------------------------------------------------------

def parse_metric_modes(text: str | Sequence[str], default_mode: Any = None) -> list[tuple[str, str]]:
    """``"test_acc:max,latency_ms@pixel3:min"`` (or a list of such items) -> ``[(metric,
    mode), ...]``. A missing mode comes from ``default_mode(metric)`` (e.g. a benchmark's
    ``metric_mode``). Unlike search objectives, test metrics are allowed: the analysis scores
    what searches found. 2 or 3 metrics, no repeats; errors name the bad item."""
    items = ([t for t in str(text).split(",")] if isinstance(text, str)
             else [str(t) for t in text])
    out: list[tuple[str, str]] = []
    for raw in items:
        item = raw.strip()
        metric, sep, mode = item.partition(":")
        metric, mode = metric.strip(), mode.strip()
        if not metric:
            raise ConfigError(f"--objectives {text!r}: an empty item (expected "
                              f"METRIC[:max|min] items separated by commas, e.g. "
                              f"'test_acc:max,latency_ms@pixel3:min')")
        if sep and mode not in MODES:
            raise ConfigError(f"--objectives item {item!r}: mode {mode!r} must be 'max' or 'min'")
        if not sep:
            if default_mode is None:
                raise ConfigError(f"--objectives item {item!r} needs a mode: {metric}:max or "
                                  f"{metric}:min")
            mode = str(default_mode(metric))
        out.append((metric, mode))
    names = [m for m, _ in out]
    dup = sorted({m for m in names if names.count(m) > 1})
    if dup:
        raise ConfigError(f"--objectives {text!r}: metric(s) {dup} given more than once")
    if not 2 <= len(out) <= 3:
        raise ConfigError(f"--objectives needs 2 or 3 metrics (a pair or a triple), got "
                          f"{len(out)}: {text!r}")
    return out


# ------------------------------------------------------------------------------------------
# the exact front of a finite space and what a search found, scored against it
# ------------------------------------------------------------------------------------------

@dataclass
class ExactFront:
    """The exact Pareto front of a finite space over ``metrics`` (directions ``modes``).

    ``indices``: the architectures on it (row numbers of the columns, i.e. the official
    indices for a tabular benchmark), sorted; ``values``: their raw objective values;
    ``ideal`` / ``nadir``: best and worst value of each objective over the front (raw units).
    Normalised space: minimisation, ideal = 0, nadir = 1; the reference point is
    ``reference`` (1.1) in every objective. ``hypervolume`` is the front's normalised
    hypervolume; ``raw_hypervolume`` the same in raw units against the raw image of the
    reference point.
    """

    metrics: tuple[str, ...]
    modes: tuple[str, ...]
    indices: np.ndarray
    values: np.ndarray
    ideal: np.ndarray
    nadir: np.ndarray
    n_points: int
    reference: float = NORMALISED_REFERENCE
    hypervolume: float = float("nan")
    raw_hypervolume: float = float("nan")

    def normalise(self, values: Any) -> np.ndarray:
        """Raw (points, objectives) -> normalised minimisation form."""
        a = _matrix(np.asarray(values, dtype=np.float64).reshape(-1, len(self.metrics)))
        ideal = to_min(self.ideal[None, :], self.modes)[0]
        nadir = to_min(self.nadir[None, :], self.modes)[0]
        span = np.where(nadir > ideal, nadir - ideal, 1.0)
        return (to_min(a, self.modes) - ideal[None, :]) / span[None, :]

    def raw_reference(self) -> np.ndarray:
        """The normalised reference point in raw units."""
        ideal = to_min(self.ideal[None, :], self.modes)[0]
        nadir = to_min(self.nadir[None, :], self.modes)[0]
        span = np.where(nadir > ideal, nadir - ideal, 1.0)
        ref_min = ideal + self.reference * span
        signs = np.array([-1.0 if m == "max" else 1.0 for m in self.modes])
        return np.asarray(ref_min * signs, dtype=np.float64)

    def hv(self, values: Any) -> float:
        """Normalised hypervolume of ``values`` (raw units)."""
        n = self.normalise(values)
        return hypervolume(n, [self.reference] * len(self.metrics), ("min",) * len(self.metrics))

    def hv_ratio(self, values: Any) -> float:
        """Normalised hypervolume of ``values`` over the exact front's (<= 1 when ``values``
        are points of the same space scored on the same columns)."""
        return self.hv(values) / self.hypervolume if self.hypervolume > 0 else float("nan")

    def igd(self, values: Any) -> float:
        """IGD of ``values`` to the exact front, in the normalised space."""
        return igd(self.normalise(values), self.normalise(self.values),
                   ("min",) * len(self.metrics))

    def recall(self, indices: Any) -> float:
        """Share of the exact front's architectures among ``indices``."""
        found = np.intersect1d(np.asarray(indices, dtype=np.int64), self.indices)
        return float(found.size) / float(self.indices.size) if self.indices.size else float("nan")

    def to_json(self, *, archs: Sequence[str] | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {
            "objectives": [{"metric": m, "mode": o} for m, o in zip(self.metrics, self.modes)],
            "n_points": self.n_points, "size": int(self.indices.size),
            "ideal": self.ideal.tolist(), "nadir": self.nadir.tolist(),
            "reference_normalised": self.reference, "reference_raw": self.raw_reference().tolist(),
            "hypervolume_normalised": self.hypervolume, "hypervolume_raw": self.raw_hypervolume,
            "indices": self.indices.tolist(), "values": self.values.tolist(),
        }
        if archs is not None:
            d["archs"] = list(archs)
        return d


def exact_front(columns: Mapping[str, Any], objectives: Sequence[tuple[str, str]], *,
                reference: float = NORMALISED_REFERENCE) -> ExactFront:
    """The exact Pareto front over every row of ``columns`` (one array per metric, equal
    lengths) for ``objectives`` = ``[(metric, mode), ...]``."""
    if not objectives:
        raise ConfigError("exact_front needs at least one (metric, mode) objective")
    metrics = tuple(m for m, _ in objectives)
    modes = _modes([o for _, o in objectives], len(objectives))
    missing = [m for m in metrics if m not in columns]
    if missing:
        raise ConfigError(f"exact_front: no column for {missing} (have {sorted(columns)})")
    cols = [np.asarray(columns[m], dtype=np.float64).ravel() for m in metrics]
    if len({c.size for c in cols}) != 1:
        raise ConfigError(f"exact_front: columns {list(metrics)} differ in length "
                          f"({[c.size for c in cols]})")
    table = np.stack(cols, axis=1)
    idx = non_dominated(table, modes)
    vals = table[idx]
    ideal = np.array([vals[:, j].max() if m == "max" else vals[:, j].min()
                      for j, m in enumerate(modes)])
    nadir = np.array([vals[:, j].min() if m == "max" else vals[:, j].max()
                      for j, m in enumerate(modes)])
    ef = ExactFront(metrics, modes, idx, vals, ideal, nadir, int(table.shape[0]), float(reference))
    ef.hypervolume = ef.hv(vals)
    ef.raw_hypervolume = hypervolume(vals, ef.raw_reference(), modes)
    return ef


def front_quality(exact: ExactFront, columns: Mapping[str, Any], front: Any,
                  evaluated: Any = None) -> dict[str, float]:
    """How a search's final ``front`` (row indices) scores against ``exact``, with the
    architectures' values read from ``columns`` (the exact front's metrics): normalised
    hypervolume ratio, IGD, recall of the exact set (share of its archs on the front), the
    front's size and, given the ``evaluated`` indices, ``recall_evaluated`` (share of the
    exact set the search evaluated at all)."""
    idx = np.asarray(front, dtype=np.int64).ravel()
    vals = np.stack([np.asarray(columns[m], dtype=np.float64)[idx] for m in exact.metrics], axis=1)
    out = {"hv_ratio": exact.hv_ratio(vals) if idx.size else 0.0,
           "igd": exact.igd(vals) if idx.size else math.inf,
           "recall": exact.recall(idx), "front_size": float(idx.size)}
    if evaluated is not None:
        out["recall_evaluated"] = exact.recall(np.asarray(evaluated, dtype=np.int64).ravel())
    return out
