"""Readers of benchmark source files (CSV tables, pickled tables) and their checks.

Every failure is a :class:`~naslab.errors.DataError` that names the file (and line / column),
says what was expected and what was found, and ends with ``To fix: <fix>.`` — the caller's
hint on where the right file comes from. Nothing here knows a particular benchmark: row
counts, the space whose official order rows follow, and the hints are arguments.
"""

from __future__ import annotations

import csv
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from naslab.errors import DataError
from naslab.spaces.base import SearchSpace


def read_csv(path: Path, required: Sequence[str], *, n_rows: int | None, label: str,
             fix: str) -> tuple[dict[str, int], list[list[str]]]:
    """Header (column name -> position) and data rows of a CSV file that must have the
    ``required`` columns and, when ``n_rows`` is given, exactly that many data rows (one per
    ``label`` arch)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {path}: {exc}. To fix: {fix}.") from None
    if not rows:
        raise DataError(f"{path} is empty. To fix: {fix}.")
    header = {name: i for i, name in enumerate(rows[0])}
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {', '.join(missing)} (found: {', '.join(rows[0][:8])}...); "
            f"it is not the expected file. To fix: {fix}."
        )
    body = rows[1:]
    if n_rows is not None and len(body) != n_rows:
        raise DataError(
            f"{path} has {len(body)} data rows, expected {n_rows} (one per {label} arch); the file "
            f"is truncated or not the expected one. To fix: {fix}."
        )
    return header, body


def csv_columns(path: Path, *, fix: str) -> list[str]:
    """The header row of a CSV file (e.g. to find its per-device columns)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {path}: {exc}. To fix: {fix}.") from None


def check_order(path: Path, header: dict[str, int], body: list[list[str]], arch_col: str,
                index_col: str | None, *, space: SearchSpace, fix: str) -> None:
    """Row ``i`` must hold arch ``i`` of ``space``'s official order (in the space's notation),
    and index ``i`` when the file has an ``index_col``."""
    label = space.name.upper()
    ai = header[arch_col]
    ii = header[index_col] if index_col else None
    for i, row in enumerate(body):
        if ii is not None and row[ii] != str(i):
            raise DataError(f"{path} line {i + 2}: index {row[ii]!r}, expected {i} (rows must be in "
                            f"official {label} order). To fix: {fix}.")
        want = space.format(space.from_index(i))
        if row[ai] != want:
            raise DataError(
                f"{path} line {i + 2}: arch {row[ai]!r} is not {label} arch #{i} "
                f"({want}); rows must be in official order. To fix: {fix}."
            )


#: documented ranges of benchmark columns: (low, high, low_open, what the values are)
PERCENT = (0.0, 100.0, False, "an accuracy in percent, in [0, 100]")
POSITIVE = (0.0, float("inf"), True, "a positive number")


def floats(path: Path, body: list[list[str]], col: int, name: str, *, fix: str,
           allow_empty: bool = False,
           valid: tuple[float, float, bool, str] | None = None) -> np.ndarray:
    """Column ``col`` (named ``name`` in messages) of ``body`` as float64; empty cells are NaN
    when ``allow_empty``, an error otherwise. Every value must be finite and, with ``valid``
    (e.g. :data:`PERCENT`, :data:`POSITIVE`), within that documented range; a value outside
    is a DataError naming the file, line and column."""
    out = np.empty(len(body), dtype=np.float64)
    for i, row in enumerate(body):
        s = row[col] if col < len(row) else ""
        if s == "" and allow_empty:
            out[i] = np.nan
            continue
        try:
            out[i] = float(s)
        except ValueError:
            raise DataError(f"{path} line {i + 2}, column {name}: expected a number, got {s!r}. "
                            f"To fix: {fix}.") from None
    bad = ~np.isfinite(out)
    if allow_empty:
        bad &= ~np.array([(row[col] if col < len(row) else "") == "" for row in body])
    if valid is not None:
        lo, hi, lo_open, what = valid
        with np.errstate(invalid="ignore"):
            bad |= (out < lo) | (out > hi) | ((out == lo) if lo_open else False)
    if bad.any():
        i = int(np.argmax(bad))
        what = valid[3] if valid is not None else "a finite number"
        raise DataError(f"{path} line {i + 2}, column {name}: {body[i][col]!r} is not {what} "
                        f"({int(bad.sum())} such value(s) in this column); the file is damaged "
                        f"or not the expected one. To fix: {fix}.")
    return out


def check_values(where: str, values: np.ndarray, name: str,
                 valid: tuple[float, float, bool, str], *, fix: str,
                 label_of: Callable[[int], str] | None = None) -> None:
    """Every non-NaN value of ``values`` (one row per arch, official order) within ``valid``;
    the message names ``where`` (the file), the arch (``label_of(i)``, default ``arch #i``)
    and ``name``."""
    lo, hi, lo_open, what = valid
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(v) | (v < lo) | (v > hi) | ((v == lo) if lo_open else False)
    if bad.any():
        i = int(np.argmax(bad.reshape(len(v), -1).any(axis=1))) if v.ndim > 1 else int(np.argmax(bad))
        label = label_of(i) if label_of is not None else f"arch #{i}"
        row = v[i] if v.ndim == 1 else v[i][bad[i]][0]
        raise DataError(f"{where}: {label}, {name}: {float(row)!r} is not {what} ({int(bad.sum())} such "
                        f"value(s)); the file is damaged or not the expected one. To fix: {fix}.")


def check_runs(runs: np.ndarray, *, what: str, path: Any, fix: str) -> np.ndarray:
    """Per-arch recorded runs (rows, NaN = absent) packed to the left: every arch has its first
    run, so run ``k < n_runs`` is always present. Returns the number of runs per arch."""
    n = (~np.isnan(runs)).sum(axis=1)
    if (n < 1).any() or np.isnan(runs[:, 0]).any():
        bad = int(np.argmax((n < 1) | np.isnan(runs[:, 0])))
        raise DataError(f"{path}: arch #{bad} has no {what}. To fix: {fix}.")
    return n.astype(np.int64)


def read_pickle(path: Path, *, fix: str) -> Any:
    """The object pickled in ``path`` — only for data files of pinned, trusted packages."""
    try:
        with open(path, "rb") as f:
            return pickle.load(f)  # noqa: S301 - a pinned package's own data file
    except Exception as exc:
        raise DataError(f"cannot read {path}: {exc}; {fix}") from None
