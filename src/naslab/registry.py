"""Registries of named components, discovered from the package tree.

A component is one file plus one registry entry::

    @register("strategy", "re", aliases=("regularized_evolution",))
    class RegularizedEvolution(Strategy): ...

The CLI, the conformance suites and configuration files find components here. Discovery imports
every public module of the kind's package the first time a kind is looked up; such modules must
not import torch (or other heavy libraries) at module level. Third-party packages add components
through the ``naslab.plugins`` entry-point group (each entry point is a module to import).
"""

from __future__ import annotations

import importlib
import functools
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any, TypeVar

from naslab.errors import ConfigError, UnknownComponentError, did_you_mean

T = TypeVar("T")

#: package searched for each kind of component
KIND_PACKAGES: dict[str, str] = {
    "space": "naslab.spaces",
    "benchmark": "naslab.benchmarks",
    "protocol": "naslab.benchmarks",
    "estimator": "naslab.estimators",
    "strategy": "naslab.strategies",
    "predictor": "naslab.predictors",
    "executor": "naslab.runner.executors",
    "dataset": "naslab.data",
    "proxy": "naslab.estimators",
    "oneshot": "naslab.oneshot",
    "network": "naslab.nn.networks",
    "supernet": "naslab.nn.supernets",
    "block_supernet": "naslab.nn.supernets",
    "latency": "naslab.nn.networks",
}

_entries: dict[str, dict[str, Any]] = {k: {} for k in KIND_PACKAGES}
_aliases: dict[str, dict[str, str]] = {k: {} for k in KIND_PACKAGES}
_discovered: set[str] = set()
_plugins_loaded = False


def register(kind: str, name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
    """Class/function decorator that registers ``obj`` as component ``name`` of ``kind``."""
    if kind not in _entries:
        raise ConfigError(f"registry kind must be one of {sorted(_entries)}, got {kind!r}")

    def deco(obj: T) -> T:
        prev = _entries[kind].get(name)
        if prev is not None and prev is not obj and _qualname(prev) != _qualname(obj):
            raise ConfigError(
                f"{kind} {name!r} is registered twice: {_qualname(prev)} and {_qualname(obj)}"
            )
        _entries[kind][name] = obj
        for a in aliases:
            _aliases[kind][a] = name
        try:
            setattr(obj, "registry_name", name)  # noqa: B010 - any registered object
        except (AttributeError, TypeError):  # pragma: no cover - builtins
            pass
        return obj

    return deco


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _discover(kind: str) -> None:
    global _plugins_loaded
    if kind in _discovered:
        return
    _discovered.add(kind)
    pkg_name = KIND_PACKAGES[kind]
    try:
        pkg = importlib.import_module(pkg_name)
    except ModuleNotFoundError as exc:
        if exc.name == pkg_name:
            return
        raise
    for info in pkgutil.iter_modules(getattr(pkg, "__path__", []), pkg_name + "."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf.startswith("_") or info.ispkg:
            continue
        importlib.import_module(info.name)
    if not _plugins_loaded:
        _plugins_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group="naslab.plugins"):
            ep.load()


def names(kind: str) -> list[str]:
    """Sorted names registered for ``kind`` (aliases excluded)."""
    _check_kind(kind)
    _discover(kind)
    return sorted(_entries[kind])


def get(kind: str, name: str) -> Any:
    """The registered object (usually a class) named ``name``; unknown names get suggestions."""
    _check_kind(kind)
    _discover(kind)
    key = _aliases[kind].get(name, name)
    try:
        return _entries[kind][key]
    except KeyError:
        known = sorted(_entries[kind]) + sorted(_aliases[kind])
        listing = ", ".join(sorted(_entries[kind])) or "none registered"
        raise UnknownComponentError(
            f"unknown {kind} {name!r}{did_you_mean(name, known)}; registered {kind} names: {listing}"
        ) from None


def create(kind: str, name: str, **params: Any) -> Any:
    """Instantiate component ``name`` with keyword ``params``, checking the parameter names."""
    obj = get(kind, name)
    check_params(obj, params, what=f"{kind} {name!r}")
    return obj(**params)


@functools.lru_cache(maxsize=1024)
def _signature(obj: Any) -> inspect.Signature:
    """``inspect.signature(obj)``, once per registered class (a search builds its strategy
    and estimator per run; benchmarks run thousands)."""
    return inspect.signature(obj)


def check_params(obj: Any, params: dict[str, Any], *, what: str) -> None:
    """Raise ConfigError when ``params`` holds a keyword that ``obj``'s constructor does not take."""
    try:
        sig = _signature(obj)
    except (TypeError, ValueError):  # pragma: no cover
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return
    accepted = [n for n, p in sig.parameters.items()
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for key in params:
        if key not in accepted:
            raise ConfigError(
                f"{what} has no parameter {key!r}{did_you_mean(key, accepted)}; "
                f"its parameters are: {', '.join(accepted) or 'none'}"
            )


def _check_kind(kind: str) -> None:
    if kind not in _entries:
        raise ConfigError(
            f"registry kind must be one of {sorted(_entries)}, got {kind!r}{did_you_mean(kind, _entries)}"
        )
