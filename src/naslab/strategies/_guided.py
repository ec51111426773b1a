"""Shared machinery of predictor-guided strategies (Neural Predictor, BANANAS).

The strategy keeps every (architecture, objective score) it was told. It proposes ``n_init``
random architectures, then repeatedly fits a fresh predictor on everything told so far and
queues the ``k`` architectures its acquisition picks; ``ask`` hands out the queue, so the
predictor is re-fitted every ``k`` queries. No architecture is proposed twice (with
``dedup="canonical"``, no two members of one isomorphism class either).

Warm start (``warm_start``, default ``"auto"``: on when the predictor ``supports_update()``):
a refit continues training the current model on the grown data (:meth:`Predictor.update`,
cost proportional to the new results) instead of training a fresh one; a fit from scratch
starts a new *chain* whenever the data has grown ``refit_ratio`` times since the chain's
first fit (a geometric schedule: the fits from scratch cost O(budget) in all, and every
model is at most ``refit_ratio`` times the data away from a clean fit). Total cost is thus
linear in the budget instead of quadratic. ``warm_start=False`` fits from scratch every
round (the behaviour before, result for result).

State: the told data, the queue and the asked set are stored as JSON; the predictor is *not*
serialised. Fitting and updating are deterministic given (data, seed), so a restored
strategy rebuilds the model it had when it needs it again: a fit on ``data[:m0]`` then an
update to ``data[:m1]``, ... ``data[:fitted_on]``, where ``m0, m1, ...`` (the current chain,
stored run-length encoded: ``[[first, step, count], ...]``, one run when every round adds
``k`` results) are what each fit of the chain was trained on; fit ``i`` uses seed
``derive_seed(seed, i)`` as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from naslab.errors import ConfigError, check_float, check_int
from naslab.estimators.base import Evaluation
from naslab.seeding import derive_seed
from naslab.spaces.base import Architecture
from naslab.strategies.base import Strategy, Told

DEDUP = ("canonical", "exact")


class PredictorGuided(Strategy):
    """Base class: subclasses set the hyper-parameters in ``__init__`` and implement
    :meth:`_acquire`."""

    predictor: Any
    predictor_params: dict[str, Any] | None
    n_init: int
    k: int
    dedup: str
    warm_start: Any = "auto"
    refit_ratio: float = 2.0
    warm_effort: float = 1.0

    # setup --------------------------------------------------------------------------------
    def _setup(self) -> None:
        from naslab import registry
        from naslab.predictors.base import Predictor

        self.n_init = check_int("n_init", self.n_init, minimum=1)
        self.k = check_int("k", self.k, minimum=1)
        if self.dedup not in DEDUP:
            raise ConfigError(f"dedup must be one of {', '.join(DEDUP)}, got {self.dedup!r}")
        if isinstance(self.predictor, Predictor):
            if self.predictor_params:
                raise ConfigError("predictor_params applies to a predictor given by name; "
                                  "configure a Predictor instance directly")
            self._proto = self.predictor.clone()
        elif isinstance(self.predictor, str):
            self._proto = registry.create("predictor", self.predictor,
                                          **dict(self.predictor_params or {}))
        else:
            raise ConfigError(f"predictor must be a registered predictor name or a Predictor, "
                              f"got {self.predictor!r}")
        self._proto._check_params()  # bad predictor hyper-parameters fail now, not at the first fit
        self._check_predictor(self._proto)
        if self.warm_start not in (True, False, "auto"):
            raise ConfigError(f"warm_start must be true, false or 'auto', got {self.warm_start!r}")
        if self.warm_start is True and not self._proto.supports_update():
            raise ConfigError(f"warm_start=True needs a predictor that can be updated "
                              f"(supports_update); {self._proto!r} cannot. Use a neural "
                              f"predictor (bananas, gcn) or warm_start=False")
        self._warm = self.warm_start is not False and self._proto.supports_update()
        self.refit_ratio = check_float("refit_ratio", self.refit_ratio, minimum=1.0,
                                       finite=True)
        self.warm_effort = check_float("warm_effort", self.warm_effort, minimum=0,
                                       strict_min=True, finite=True)
        self._chain: list[int] = []  # fitted_on of each fit of the current chain
        self._data: list[tuple[Architecture, float]] = []
        self._asked: list[Architecture] = []
        self._keys: set[Any] = set()
        self._queue: list[Architecture] = []
        self._queue_json: tuple[Any, ...] = ()  # the queue as set (JSON), popped from the front
        self._pending: dict[tuple[Any, ...], int] = {}  # asked, not yet told (by choices)
        self._history_ok = True
        self._n_failed = 0
        self._fits = 0
        self._fitted_on = 0
        self._model: Any = None
        self._model_key: tuple[int, int] | None = None
        try:
            self._size: int | None = len(self.space)
        except TypeError:
            self._size = None

    def _check_predictor(self, proto: Any) -> None:
        """Subclass hook: reject predictors the acquisition cannot use."""

    # helpers ------------------------------------------------------------------------------
    def _key(self, arch: Architecture) -> Any:
        if self.dedup == "canonical":
            return self.space.canonical(arch).choices
        return arch.choices

    def seen(self, arch: Architecture) -> bool:
        """Whether ``arch`` (or, with canonical dedup, an isomorphic arch) was asked already."""
        return self._key(arch) in self._keys

    def _exhausted(self) -> bool:
        if self._size is None:
            return False
        if self.dedup == "exact":
            return len(self._keys) >= self._size
        return False  # checked by _random_unseen's attempt limit

    def _random_unseen(self, exclude: set[Any] | None = None, attempts: int = 1000) -> Architecture | None:
        """A uniformly random architecture not asked before (None after ``attempts`` tries)."""
        for _ in range(attempts):
            a = self.space.sample(self.rng)
            key = self._key(a)
            if key not in self._keys and (exclude is None or key not in exclude):
                return a
        return None

    def _mark(self, arch: Architecture) -> None:
        self._asked.append(arch)
        self._keys.add(self._key(arch))
        self._pending[arch.choices] = self._pending.get(arch.choices, 0) + 1

    def _unmark_pending(self, arch: Architecture) -> None:
        k = self._pending.get(arch.choices)
        if k is not None:
            if k > 1:
                self._pending[arch.choices] = k - 1
            else:
                del self._pending[arch.choices]

    def _set_queue(self, archs: list[Architecture]) -> None:
        self._queue = list(archs)
        self._queue_json = tuple(self._arch_json(a) for a in self._queue)

    @property
    def n_pending(self) -> int:
        return len(self._asked) - len(self._data) - self._n_failed

    def model(self) -> Any:
        """The predictor fitted on the first ``fitted_on`` told results (rebuilt after a
        restore, deterministically: the chain's fit from scratch, then its updates)."""
        key = (self._fits, self._fitted_on)
        if self._model is None or self._model_key != key:
            chain = self._chain or [self._fitted_on]
            first = self._fits - len(chain) + 1  # the fit number of the chain's first fit
            model = self._fresh_fit(first, chain[0])
            for i, m in enumerate(chain[1:], start=first + 1):
                self._update(model, i, m)
            self._model, self._model_key = model, key
        return self._model

    def _fresh_fit(self, fit: int, m: int) -> Any:
        data = self._data[:m]
        proto = self._proto
        seed = derive_seed(self.seed, fit)
        model = proto.clone(seed=seed) if "seed" in proto.get_params() else proto.clone()
        model.fit([a for a, _ in data], np.array([s for _, s in data]))
        return model

    def _update(self, model: Any, fit: int, m: int) -> None:
        data = self._data[:m]
        model.update([a for a, _ in data], np.array([s for _, s in data]),
                     seed=derive_seed(self.seed, fit), effort=self.warm_effort)

    def _refit(self) -> Any:
        n = len(self._data)
        warm = (self._warm and self._fits > 0 and self._chain
                and n < self.refit_ratio * self._chain[0])
        if warm:
            model = self.model()  # the current one (rebuilt if restored)
            self._fits += 1
            self._update(model, self._fits, n)
            self._chain.append(n)
        else:
            self._fits += 1
            model = self._fresh_fit(self._fits, n)
            self._chain = [n]
        self._fitted_on = n
        self._model, self._model_key = model, (self._fits, n)
        return model

    def _chain_json(self) -> list[list[int]]:
        """The chain run-length encoded: ``[first, step, count]`` runs."""
        runs: list[list[int]] = []
        for m in self._chain:
            if runs and runs[-1][2] == 1:
                runs[-1][1], runs[-1][2] = m - runs[-1][0], 2
            elif runs and runs[-1][0] + runs[-1][1] * runs[-1][2] == m:
                runs[-1][2] += 1
            else:
                runs.append([m, 0, 1])
        return runs

    def _load_chain(self, state: dict[str, Any]) -> None:
        if "chain" not in state:  # a checkpoint of an older naslab: every fit was from scratch
            self._chain = [self._fitted_on] if self._fits else []
            return
        self._chain = [int(a) + int(d) * i for a, d, c in state["chain"] for i in range(int(c))]
        if self._fits and (not self._chain or self._chain[-1] != self._fitted_on
                           or len(self._chain) > self._fits):
            raise ConfigError(f"{type(self).__name__} checkpoint: refit chain {state['chain']} "
                              f"does not end at fitted_on={self._fitted_on} after "
                              f"{self._fits} fits")

    # ask / tell ---------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Architecture]:
        out: list[Architecture] = []
        while len(out) < n:
            arch = self._next()
            if arch is None:
                break
            self._mark(arch)
            out.append(arch)
        return out

    def _next(self) -> Architecture | None:
        while self._queue:
            a = self._queue.pop(0)
            if not self.seen(a):  # an isomorph may have been asked since it was queued
                return a
        if self._exhausted():
            return None
        told = len(self._data)
        if len(self._asked) < self.n_init or (told < self.n_init and self.n_pending == 0):
            return self._random_unseen()
        if told < self.n_init:
            return None  # waiting for the initial results
        if told > self._fitted_on or self._fits == 0:
            model = self._refit()
        else:
            model = self.model()  # no new results (all pending): same model, new draws
        self._set_queue(list(self._acquire(model, self.k)))
        if not self._queue:
            return self._random_unseen()
        return self._queue.pop(0)

    def _acquire(self, model: Any, k: int) -> list[Architecture]:
        """Up to ``k`` unseen architectures to evaluate next, best first."""
        raise NotImplementedError

    def tell(self, arch: Architecture, evaluation: Evaluation) -> None:
        self._data.append((arch, self.objective.score(evaluation)))
        self._unmark_pending(arch)

    def tell_failed(self, arch: Architecture, error: str) -> None:
        self._n_failed += 1
        self._unmark_pending(arch)

    # state --------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "data": [[self._arch_json(a), s] for a, s in self._data],
            "asked": [self._arch_json(a) for a in self._asked],
            "queue": [self._arch_json(a) for a in self._queue],
            "n_failed": self._n_failed,
            "fits": self._fits,
            "fitted_on": self._fitted_on,
            "chain": self._chain_json(),
            "pending": [[self._arch_json(Architecture(self.space.name, c)), k]
                        for c, k in self._pending.items()],
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        self._data = [(self._arch_from(a), float(s)) for a, s in state["data"]]
        self._asked = [self._arch_from(a) for a in state["asked"]]
        self._keys = {self._key(a) for a in self._asked}
        self._queue = [self._arch_from(a) for a in state["queue"]]
        self._queue_json = tuple(state["queue"])
        self._n_failed = int(state["n_failed"])
        self._fits = int(state["fits"])
        self._fitted_on = int(state["fitted_on"])
        self._load_chain(state)
        self._model, self._model_key = None, None
        if "pending" in state:
            self._pending = {self._arch_from(c).choices: int(k) for c, k in state["pending"]}
        else:  # a checkpoint of an older naslab: full checkpoints from now on
            self._pending, self._history_ok = {}, False

    # checkpoints that stay small: told data and asked set come from the run's record ------
    def _history_state(self) -> dict[str, Any] | None:
        if not self._history_ok:
            return None
        j = self._arch_json
        return {
            "pending": [[j(Architecture(self.space.name, c)), k] for c, k in self._pending.items()],
            "queue": self._queue_json[len(self._queue_json) - len(self._queue):],
            "n_failed": self._n_failed,
            "fits": self._fits,
            "fitted_on": self._fitted_on,
            "chain": self._chain_json(),
        }

    def _load_history(self, state: dict[str, Any], history: Sequence[Told]) -> None:
        self._data = [(h.arch, self.objective.score(h.evaluation)) for h in history
                      if h.evaluation is not None]
        self._n_failed = int(state["n_failed"])
        if self._n_failed != sum(h.evaluation is None for h in history):
            raise ConfigError(f"{type(self).__name__} checkpoint counts {self._n_failed} failed "
                              f"results, the run's record another number")
        self._pending = {self._arch_from(c).choices: int(k) for c, k in state["pending"]}
        self._asked = [h.arch for h in history] + [
            self._arch_from(c) for c, k in state["pending"] for _ in range(int(k))]
        self._keys = {self._key(a) for a in self._asked}
        self._queue = [self._arch_from(a) for a in state["queue"]]
        self._queue_json = tuple(state["queue"])
        self._fits = int(state["fits"])
        self._fitted_on = int(state["fitted_on"])
        self._load_chain(state)
        self._model, self._model_key = None, None
