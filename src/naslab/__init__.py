"""naslab: Neural Architecture Search, measured honestly.

``import naslab`` is light (numpy only); torch, plotting and Ray load where they are used.
The main entry points are re-exported lazily::

    from naslab import Experiment, MaxTrials, create, get_space
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Architecture": "naslab.spaces.base",
    "SearchSpace": "naslab.spaces.base",
    "get_space": "naslab.spaces.base",
    "Cost": "naslab.estimators.base",
    "Evaluation": "naslab.estimators.base",
    "Estimator": "naslab.estimators.base",
    "Objective": "naslab.estimators.base",
    "Objectives": "naslab.estimators.base",
    "Constraint": "naslab.estimators.base",
    "TabularBenchmark": "naslab.benchmarks.base",
    "load_benchmark": "naslab.benchmarks.base",
    "Strategy": "naslab.strategies.base",
    "Suggestion": "naslab.strategies.base",
    "Experiment": "naslab.runner.experiment",
    "RunResult": "naslab.runner.experiment",
    "load_result": "naslab.runner.experiment",
    "SQLiteStorage": "naslab.runner.storage",
    "InMemoryStorage": "naslab.runner.storage",
    "MaxTrials": "naslab.runner.termination",
    "MaxSimulatedSeconds": "naslab.runner.termination",
    "MaxWallSeconds": "naslab.runner.termination",
    "AnyOf": "naslab.runner.termination",
    "register": "naslab.registry",
    "create": "naslab.registry",
    "names": "naslab.registry",
    "NaslabError": "naslab.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'naslab' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
