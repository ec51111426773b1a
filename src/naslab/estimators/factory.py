"""Build a registered estimator from its parameters plus the options every command offers.

Commands offer the same few options to whichever estimator is chosen (``--benchmark``,
``--dataset``, ``--data-dir``, ``--val``; a comparison's ``data_dir``). :func:`make_estimator`
routes each to the estimator's constructor by its signature: no command special-cases an
estimator, and a new estimator that takes ``dataset`` gets ``--dataset`` without a change
anywhere else.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from naslab.errors import ConfigError
from naslab.estimators.base import Estimator

#: the options commands offer every estimator, routed by the constructor's signature
COMMON_OPTIONS = ("benchmark", "dataset", "data_dir", "val")


def estimator_parameters(name: str) -> list[str]:
    """The keyword parameters estimator ``name``'s constructor names (not ``**kwargs``)."""
    from naslab import registry

    try:
        sig = inspect.signature(registry.get("estimator", name))
    except (TypeError, ValueError):  # pragma: no cover - a builtin
        return []
    return [n for n, p in sig.parameters.items()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def make_estimator(name: str, params: Mapping[str, Any] | None = None, *,
                   offered: Mapping[str, Any] | None = None,
                   labels: Mapping[str, str] | None = None, **given: Any) -> Estimator:
    """The registered estimator ``name`` built with ``params`` and the common options.

    ``given`` (``benchmark=``, ``dataset=``, ``data_dir=``, ``val=``; None = not given): options
    the user gave explicitly; each goes to the constructor, which must name it as a parameter,
    else ConfigError naming the option (as ``labels`` spells it, e.g. ``{"dataset":
    "--dataset"}``) and what the estimator takes. ``offered``: options for the estimators that
    take them, left out for the others (a comparison's ``data_dir``). ``params`` win over both;
    unknown keys in ``params`` are the registry's ConfigError.
    """
    from naslab import registry

    cls = registry.get("estimator", name)
    real = getattr(cls, "registry_name", name)
    accepted = estimator_parameters(real)
    kw = dict(params or {})
    names = dict(labels or {})
    for key, value in given.items():
        if value is None or key in kw:
            continue
        if key not in accepted:
            label = names.get(key, key)
            raise ConfigError(
                f"{label} {value!r} is not an option of estimator {real!r}: it takes "
                f"{', '.join(accepted) or 'no parameters'}"
                + (f" (choose the data with {names.get('benchmark', 'benchmark')})"
                   if "benchmark" in accepted and key == "dataset" else ""))
        kw[key] = value
    for key, value in (offered or {}).items():
        if value is not None and key not in kw and key in accepted:
            kw[key] = value
    est: Estimator = registry.create("estimator", real, **kw)
    return est
