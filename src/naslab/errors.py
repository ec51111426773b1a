"""One error style for bad input.

Every error a user can cause is a :class:`NaslabError`. Its message names the input, what was
expected and what was received, and (for unknown names) the closest valid names. The CLI prints
the message without a traceback and exits with status 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class NaslabError(Exception):
    """Base class of every error caused by bad input, bad configuration or missing data."""


class InvalidArchitectureError(NaslabError, ValueError):
    """An architecture string or choice vector that the space cannot parse."""


class UnknownComponentError(NaslabError, KeyError):
    """A registry lookup (space, strategy, estimator, ...) with a name that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(NaslabError):
    """A data file that is missing, unreadable or not what it claims to be."""


class ConfigError(NaslabError, ValueError):
    """A parameter or configuration value outside what the component accepts."""


class StorageError(NaslabError):
    """A storage file that cannot be opened or an experiment id that does not exist."""


def close_matches(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Candidates that look like ``name`` (case-insensitive), best first."""
    cands = list(candidates)
    lowered = {c.lower(): c for c in cands}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    # prefix matches help with abbreviations such as "reg" -> "re" / "regularized_evolution"
    for c in cands:
        if len(hits) >= n:
            break
        if c.lower().startswith(name.lower()) and c.lower() not in hits:
            hits.append(c.lower())
    return [lowered[h] for h in hits]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or an empty string."""
    hits = close_matches(name, candidates)
    if not hits:
        return ""
    return " (did you mean " + " or ".join(repr(h) for h in hits) + "?)"


def check_int(name: str, value: object, *, minimum: int | None = None) -> int:
    """Validate an integer parameter, with a message naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int,)) and not _is_integral(value):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    v = int(value)  # type: ignore[call-overload]
    if minimum is not None and v < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {v}")
    return v


def check_float(name: str, value: object, *, minimum: float | None = None,
                maximum: float | None = None, strict_min: bool = False) -> float:
    """Validate a real-valued parameter, with a message naming ``name``."""
    try:
        if isinstance(value, bool):
            raise TypeError
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if v != v:
        raise ConfigError(f"{name} must be a number, got NaN")
    if minimum is not None and (v < minimum or (strict_min and v == minimum)):
        op = ">" if strict_min else ">="
        raise ConfigError(f"{name} must be {op} {minimum}, got {v:g}")
    if maximum is not None and v > maximum:
        raise ConfigError(f"{name} must be <= {maximum}, got {v:g}")
    return v


def _is_integral(value: object) -> bool:
    try:
        import numpy as np

        return isinstance(value, np.integer)
    except ImportError:  # pragma: no cover
        return False
