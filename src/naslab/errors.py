"""One error style for bad input.

Every error a user can cause is a :class:`NaslabError`. Its message names the input, what was
expected and what was received, and (for unknown names) the closest valid names. The CLI prints
the message without a traceback and exits with status 2.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable
from typing import SupportsFloat


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


def int_requirement(minimum: int | None = None, maximum: int | None = None) -> str:
    """How :func:`check_int` words its bounds: ``a positive integer``, ``a non-negative
    integer``, ``an integer >= 2``, ``an integer in 1..4``, ``an integer <= 9``, ``an integer``."""
    if minimum is not None and maximum is not None:
        return f"an integer in {minimum}..{maximum}"
    if minimum is not None:
        return {1: "a positive integer", 0: "a non-negative integer"}.get(
            minimum, f"an integer >= {minimum}")
    if maximum is not None:
        return f"an integer <= {maximum}"
    return "an integer"


def float_requirement(minimum: float | None = None, maximum: float | None = None, *,
                      strict_min: bool = False) -> str:
    """How :func:`check_float` words its bounds: ``a positive number``, ``a number >= 0``,
    ``a number > 1``, ``a number in [0, 0.9]``, ``a number <= 5``, ``a number``."""
    if minimum is not None and maximum is not None:
        return f"a number in {'(' if strict_min else '['}{minimum:g}, {maximum:g}]"
    if minimum is not None:
        if minimum == 0 and strict_min:
            return "a positive number"
        return f"a number {'>' if strict_min else '>='} {minimum:g}"
    if maximum is not None:
        return f"a number <= {maximum:g}"
    return "a number"


def check_int(name: str, value: object, *, minimum: int | None = None,
              maximum: int | None = None, expected: str | None = None) -> int:
    """The integer validator: ``value`` as an ``int`` (numpy integers accepted, booleans and
    non-integral values refused), within ``minimum``/``maximum`` when given.

    The message names the input, what was expected and what was received:
    ``population_size must be a positive integer, got -3`` (the bounds worded by
    :func:`int_requirement`); ``expected`` replaces that wording where a caller needs another
    (``">= 1"`` reads ``workers (--workers) must be >= 1, got 0``).
    """
    what = expected if expected is not None else int_requirement(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be {what}, got {value!r}")
    v = int(value)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        raise ConfigError(f"{name} must be {what}, got {v}")
    return v


def check_float(name: str, value: object, *, minimum: float | None = None,
                maximum: float | None = None, strict_min: bool = False,
                finite: bool = False, expected: str | None = None) -> float:
    """The real-number validator: ``value`` as a ``float`` (booleans, strings and NaN refused;
    infinity too with ``finite=True``), within the bounds (``strict_min``: ``> minimum``).

    Messages as :func:`check_int`'s: ``budget.simulated_hours must be a positive number, got
    -1``, ``lr must be a number >= 0, got -0.1`` (:func:`float_requirement`); a value that is
    not a number at all reads ``eta must be a number, got 'x'``.
    """
    what = expected if expected is not None else float_requirement(minimum, maximum,
                                                                   strict_min=strict_min)
    try:
        if isinstance(value, (bool, str, bytes)) or not isinstance(value, SupportsFloat):
            raise TypeError
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if v != v or (finite and v in (float("inf"), float("-inf"))):
        raise ConfigError(f"{name} must be {what}, got {value!r}")
    if (minimum is not None and (v < minimum or (strict_min and v == minimum))) or \
            (maximum is not None and v > maximum):
        raise ConfigError(f"{name} must be {what}, got {v:g}")
    return v
