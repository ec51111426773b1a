"""BOHB: Bayesian optimisation and Hyperband (Falkner, Klein & Hutter, ICML 2018).

Hyperband's brackets decide how many architectures run at which fidelity; a kernel density
model per fidelity decides *which* architectures a bracket starts with. This follows the
reference implementation (``hpbandster.optimizers.bohb`` / ``config_generators.bohb``), which
NB201's and NATS-Bench's ``BOHB.py`` scripts drive:

* **brackets**: with ``s_max + 1`` rungs (the fidelity ladder of
  :mod:`naslab.strategies.successive_halving`), bracket ``s = s_max - (b mod (s_max + 1))``
  starts ``n = floor((s_max + 1) / (s + 1)) * eta**s`` architectures and keeps
  ``floor(n * eta**-i)`` at rung ``i`` (hpbandster's sizes; naslab's ``hyperband`` uses Li et
  al.'s ``ceil`` instead). Architectures are proposed one at a time, as a rung's slots are
  handed out, so the model learns from every result before the next proposal.
* **model**: the results at each fidelity are kept as (decision indices, loss) with
  ``loss = -score``; a failed evaluation has loss ``+inf``. Results at a fidelity below one
  that already has a model are not kept (as hpbandster). Once a fidelity has more than
  ``min_points_in_model`` results, its best ``max(min_points, top_n_percent % of them)`` and
  the next ``max(min_points, (100 - top_n_percent) %)`` are fitted with two
  ``statsmodels.nonparametric.KDEMultivariate`` densities (``l`` good, ``g`` bad; unordered
  categorical kernels, ``normal_reference`` bandwidths clipped below at ``min_bandwidth``),
  provided each set has more points than the space has decisions.
* **proposals**: from the model of the highest fidelity that has one, with probability
  ``1 - random_fraction``: ``num_samples`` candidates, each a random good point whose every
  decision is kept with probability ``1 - bw`` and else drawn uniformly; the candidate with
  the smallest ``g(x) / l(x)`` wins. Otherwise (or without any model) a uniform random
  architecture. hpbandster's ``bandwidth_factor`` widens continuous kernels only; every
  declared decision of a naslab space is categorical, so it would have no effect and is not
  an option (the scripts' value 3 is what hpbandster would ignore here too).

Architectures are not deduplicated (a proposal may repeat an evaluated one; the runner answers
repeats from the run's record unless it runs with ``reuse=False``). Needs the ``bohb`` extra
(``pip install 'naslab[bohb]'``: statsmodels); imported on first use only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from naslab.errors import ConfigError, check_float, check_int
from naslab.estimators.base import Evaluation
from naslab.registry import register
from naslab.spaces.base import Architecture
from naslab.strategies.base import Suggestion
from naslab.strategies.successive_halving import _MultiFidelity


class _Density:
    """A ``statsmodels`` ``KDEMultivariate`` over unordered categorical columns
    (Aitchison-Aitken kernels, ``normal_reference`` bandwidths clipped below at
    ``min_bandwidth``), evaluated for many points at once.

    ``KDEMultivariate.pdf`` loops over the points in Python (~0.4 ms each); :meth:`pdf`
    computes the same product kernel as ``statsmodels.nonparametric.kernels.aitchison_aitken``
    (``1 - h`` for an equal level, ``h / (levels - 1)`` otherwise, with ``levels`` the distinct
    values of the column, as statsmodels counts them) for all points in one numpy expression;
    ``tests/strategies/test_bohb.py`` checks it against ``KDEMultivariate.pdf``.
    """

    def __init__(self, data: np.ndarray, min_bandwidth: float) -> None:
        kde = _kde_multivariate(data)
        self.data = kde.data
        self.bw = np.clip(kde.bw, min_bandwidth, None)
        self.kde = kde
        self.kde.bw = self.bw
        self._levels = np.array([np.unique(self.data[:, j]).size for j in range(data.shape[1])],
                                dtype=float)

    def pdf(self, points: np.ndarray) -> np.ndarray:
        """Density at each row of ``points`` (shape (m, d)) -> shape (m,)."""
        x = np.asarray(points, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            other = self.bw / (self._levels - 1.0)
            k = np.where(x[:, None, :] == self.data[None, :, :], 1.0 - self.bw, other)
            out: np.ndarray = k.prod(axis=2).sum(axis=1) / self.data.shape[0]
        return out


def _kde_multivariate(data: np.ndarray) -> Any:
    try:
        from statsmodels.nonparametric.kernel_density import KDEMultivariate
    except ImportError:  # pragma: no cover - the extra is part of the test environment
        raise ConfigError("strategy 'bohb' needs statsmodels for its density model: "
                          "pip install 'naslab[bohb]'") from None
    import inspect

    kw: dict[str, Any] = {}
    if "rng" in inspect.signature(KDEMultivariate).parameters:
        kw["rng"] = np.random.default_rng(0)  # unused by normal_reference; silences a warning
    return KDEMultivariate(data=data, var_type="u" * data.shape[1], bw="normal_reference", **kw)


@register("strategy", "bohb")
class BOHB(_MultiFidelity):
    """BOHB (Falkner et al. 2018): Hyperband brackets, proposals from a density model.

    Parameters (defaults are hpbandster's)
    ----------
    min_fidelity, max_fidelity, eta, fidelities: the fidelity ladder, as for ``hyperband``
        (default: the estimator's fidelities).
    num_samples: candidates drawn from the good density per model-based proposal (64).
    random_fraction: share of proposals drawn uniformly at random even with a model (1/3).
    min_bandwidth: lower bound of every kernel bandwidth (1e-3; NB201's and NATS-Bench's
        ``BOHB.py`` pass their own default, 0.3).
    top_n_percent: percentage of a fidelity's results modelled as good (15).
    min_points_in_model: results a fidelity needs before a model (default and minimum: the
        number of decisions + 1).
    """

    def __init__(self, min_fidelity: float | None = None, max_fidelity: float | None = None,
                 eta: float = 3, fidelities: list[float] | None = None, num_samples: int = 64,
                 random_fraction: float = 1 / 3, min_bandwidth: float = 1e-3, top_n_percent: int = 15,
                 min_points_in_model: int | None = None) -> None:
        self.min_fidelity = min_fidelity
        self.max_fidelity = max_fidelity
        self.eta = eta
        self.fidelities = fidelities
        self.num_samples = num_samples
        self.random_fraction = random_fraction
        self.min_bandwidth = min_bandwidth
        self.top_n_percent = top_n_percent
        self.min_points_in_model = min_points_in_model

    # setup -----------------------------------------------------------------------------------
    def _validate_extra(self) -> None:
        self._num_samples = check_int("num_samples", self.num_samples, minimum=1)
        self._random_fraction = check_float("random_fraction", self.random_fraction, minimum=0,
                                            maximum=1)
        self._min_bw = check_float("min_bandwidth", self.min_bandwidth, minimum=0, finite=True)
        self._top_n = check_int("top_n_percent", self.top_n_percent, minimum=1, maximum=99)
        if not self.space.decisions:
            raise ConfigError(f"BOHB models a space declared as a fixed vector of categorical "
                              f"decisions (SearchSpace.decisions); space {self.space.name!r} "
                              f"declares none")
        self._levels = tuple(d.size for d in self.space.decisions)
        dims = len(self._levels)
        if self.min_points_in_model is None:
            self._min_points = dims + 1
        else:
            self._min_points = max(dims + 1, check_int("min_points_in_model",
                                                       self.min_points_in_model, minimum=1))
        #: results kept per fidelity: (decision indices, loss)
        self._obs: dict[float, list[tuple[tuple[int, ...], float]]] = {}
        #: fitted (good, bad) densities per fidelity
        self._models: dict[float, tuple[_Density, _Density]] = {}
        _kde_multivariate(np.arange(2.0)[:, None])  # statsmodels present? (a clear error if not)

    def _bracket_shape(self, number: int) -> tuple[list[float], list[int]]:
        s_max = len(self.ladder_) - 1
        s = s_max - number % (s_max + 1)
        n0 = ((s_max + 1) // (s + 1)) * self._eta ** s
        sizes = [max(int(math.floor(n0 * self._eta ** -i + 1e-9)), 1) for i in range(s + 1)]
        return list(self.ladder_[s_max - s:]), sizes

    @property
    def brackets(self) -> list[tuple[list[float], list[int]]]:
        return [self._bracket_shape(b) for b in range(len(self.ladder_))]

    # brackets: rung-0 members are proposed one at a time, when their slot is handed out ------
    def _new_bracket(self) -> None:
        self._rungs, self._sizes = self._bracket_shape(self._bracket_no)
        self._rung = 0
        self._members: list[Architecture] = []
        self._scores: list[float | None] = []
        self._asked = 0
        self._told = 0

    def _rung_size(self) -> int:
        return self._sizes[0] if self._rung == 0 else len(self._members)

    def ask(self, n: int = 1) -> list[Suggestion]:
        out: list[Suggestion] = []
        fid = self._rungs[self._rung]
        while len(out) < n and self._asked < self._rung_size():
            if self._asked == len(self._members):
                self._members.append(self._propose())
                self._scores.append(None)
            out.append(Suggestion(self._members[self._asked], fid))
            self._asked += 1
        return out

    def tell(self, arch: Architecture, evaluation: Evaluation) -> None:
        score = self.objective.score(evaluation)
        self._observe(self._rungs[self._rung], arch, -score)
        self._record(arch, score)

    def tell_failed(self, arch: Architecture, error: str) -> None:
        self._observe(self._rungs[self._rung], arch, math.inf)
        self._record(arch, -math.inf)

    # the model -------------------------------------------------------------------------------
    def _observe(self, fidelity: float, arch: Architecture, loss: float) -> None:
        if self._models and max(self._models) > fidelity:
            return  # a higher fidelity has a model already: lower results are not kept
        idx = tuple(int(i) for i in self.space.decision_indices(arch))
        self._obs.setdefault(fidelity, []).append((idx, loss))
        self._fit(fidelity)

    def _fit(self, fidelity: float) -> None:
        obs = self._obs.get(fidelity, [])
        if len(obs) <= self._min_points - 1:
            return
        x = np.array([c for c, _ in obs], dtype=float)
        losses = np.array([loss for _, loss in obs])
        n = x.shape[0]
        n_good = max(self._min_points, (self._top_n * n) // 100)
        n_bad = max(self._min_points, ((100 - self._top_n) * n) // 100)
        order = np.argsort(losses, kind="stable")
        good, bad = x[order[:n_good]], x[order[n_good:n_good + n_bad]]
        if good.shape[0] <= good.shape[1] or bad.shape[0] <= bad.shape[1]:
            return
        self._models[fidelity] = (_Density(good, self._min_bw), _Density(bad, self._min_bw))

    def _random(self) -> Architecture:
        return self.space.from_decision_indices(
            [int(self.rng.integers(k)) for k in self._levels])

    def _propose(self) -> Architecture:
        """A new architecture: model-based (largest fidelity with a model), or uniform."""
        if not self._models or self.rng.random() < self._random_fraction:
            return self._random()
        good, bad = self._models[max(self._models)]
        cand = np.empty((self._num_samples, len(self._levels)), dtype=float)
        for r in range(self._num_samples):
            datum = good.data[int(self.rng.integers(len(good.data)))]
            for j, (m, bw, k) in enumerate(zip(datum, good.bw, self._levels)):
                keep = self.rng.random() < 1 - max(float(bw), self._min_bw)
                cand[r, j] = m if keep else float(self.rng.integers(k))
        lx = good.pdf(cand)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.maximum(1e-32, bad.pdf(cand)) / np.maximum(lx, 1e-32)
        best, best_row = math.inf, None
        for r in range(self._num_samples):  # hpbandster's scan: the first non-finite ratio
            val = float(ratio[r])           # with a finite good density wins outright
            if not math.isfinite(val):
                if math.isfinite(float(lx[r])):
                    best_row = r
                    break
                continue
            if val < best:
                best, best_row = val, r
        if best_row is None:
            return self._random()
        return self.space.from_decision_indices([int(v) for v in cand[best_row]])

    # state -----------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        d = super()._state()
        d.pop("seen", None)
        d["obs"] = [[f, [[list(c), "inf" if loss == math.inf else loss] for c, loss in obs]]
                    for f, obs in self._obs.items()]
        return d

    def _load_state(self, state: dict[str, Any]) -> None:
        self._bracket_no = int(state["bracket"])
        self._rungs, self._sizes = self._bracket_shape(self._bracket_no)
        self._rung, self._asked = int(state["rung"]), int(state["asked"])
        self._told = int(state["told"])
        self._members = [self._arch_from(c) for c in state["members"]]
        self._scores = [None if s is None else (-math.inf if s == "-inf" else float(s))
                        for s in state["scores"]]
        self._obs = {float(f): [(tuple(int(i) for i in c),
                                 math.inf if loss == "inf" else float(loss)) for c, loss in obs]
                     for f, obs in state["obs"]}
        self._models = {}
        for f in self._obs:  # every result refitted its fidelity's model: refit from all
            self._fit(f)
