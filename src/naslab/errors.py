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


class NaslabNotice(UserWarning):
    """Not an error, but something the user should be told (one line), e.g. that data come
    from a fallback source. Issued with :func:`warnings.warn`; the CLI prints it as
    ``note: ...`` on stderr."""


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


# ------------------------------------------------------------------------------------------
# limits: what one command may ask for (a mistyped 1e30 must not run for ever)

#: name -> (environment variable that raises it, default, what it counts)
LIMITS: dict[str, tuple[str, float, str]] = {
    "trials": ("NASLAB_MAX_TRIALS", 100_000, "trials per run"),
    "seeds": ("NASLAB_MAX_SEEDS", 10_000, "seeds per comparison"),
    "simulated_hours": ("NASLAB_MAX_SIMULATED_HOURS", 1e6, "simulated hours per run"),
    "wall_s": ("NASLAB_MAX_WALL_S", 1e7, "wall-clock seconds per run"),
}


def limit(name: str) -> float:
    """The limit ``name`` of :data:`LIMITS` in effect: its environment variable when set to a
    positive number, else the default."""
    import os

    env, default, _ = LIMITS[name]
    raw = os.environ.get(env)
    if raw is None or raw.strip() == "":
        return default
    try:
        v = float(raw)
    except ValueError:
        raise ConfigError(f"${env} must be a positive number, got {raw!r}") from None
    if not v > 0 or v != v or v == float("inf"):
        raise ConfigError(f"${env} must be a positive finite number, got {raw!r}")
    return v


def limit_note(name: str) -> str:
    """``naslab's limit of 100,000 trials per run; set NASLAB_MAX_TRIALS to raise it``."""
    env, _, what = LIMITS[name]
    v = limit(name)
    shown = f"{int(v):,}" if v == int(v) else f"{v:g}"
    return f"naslab's limit of {shown} {what}; set {env} to raise it"


def check_limit(name: str, value: float, what: str) -> None:
    """Refuse ``value`` above the limit ``name``: the message names the input (``what``), the
    limit and the environment variable that raises it."""
    lim = limit(name)
    if value > lim:
        shown = f"{value:,}" if isinstance(value, int) else f"{value:g}"
        raise ConfigError(f"{what} is {shown}, above {limit_note(name)}")


# ------------------------------------------------------------------------------------------
# text files given by the user (configs, protocols)

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
         (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def read_text_file(path: object, what: str) -> str:
    """The text of a configuration file the user named (``what`` says which, for messages).

    UTF-8 (with or without a byte-order mark) and UTF-16/32 with a byte-order mark are read;
    anything else — a binary file, UTF-16 without a mark, a directory, a missing file — is a
    ConfigError that names the file, what was found and what to do."""
    from pathlib import Path

    p = Path(str(path))
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} {str(p)!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} {str(p)!r} is a directory, not a file") from None
    except OSError as exc:
        raise ConfigError(f"{what} {str(p)!r} cannot be read: {exc.strerror or exc}") from None
    fix = "save it as a UTF-8 text file (YAML or JSON)"
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{what} {str(p)!r} starts with a {enc} byte-order mark but "
                                  f"is not {enc} text (bad bytes at offset {exc.start}); "
                                  f"{fix}") from None
            break
    else:
        nul = data.find(b"\x00")
        if nul >= 0:
            raise ConfigError(f"{what} {str(p)!r} is not a text file (a NUL byte at offset "
                              f"{nul}: binary data, or UTF-16 without a byte-order mark); {fix}")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{what} {str(p)!r} is not UTF-8 text (byte 0x{data[exc.start]:02x} "
                              f"at offset {exc.start}); {fix}") from None
    if "\x00" in text:
        raise ConfigError(f"{what} {str(p)!r} holds a NUL character; {fix}")
    return text
