"""Parsed benchmark tables, cached on disk by the hashes of their source files.

A benchmark that parses text files (slow: seconds) stores the parsed arrays as one ``.npz`` in
the cache directory (``$NASLAB_CACHE`` or the per-user cache dir), named
``<prefix>-<key>.npz`` where the key hashes the format version and every source file's hash:
editing a source file or changing the format makes a new key, so a stale cache is never read.
A per-process memo makes later loads of the same sources free. Nothing here knows a benchmark:
:class:`TableCache` is given a parse function.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from naslab.benchmarks.datadir import cache_dir

#: source name -> {"path": file path, "hash": blake2b of its bytes}
Sources = dict[str, dict[str, str]]


@dataclass
class Tables:
    """Named arrays of one benchmark family (indexed by the space's official arch index), the
    sources they were parsed from, JSON-able ``meta`` stored beside them, and the data dir."""

    arrays: dict[str, np.ndarray]
    sources: Sources
    meta: dict[str, Any] = field(default_factory=dict)
    data_dir: str = ""

    def has(self, key: str) -> bool:
        return key in self.arrays

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


T = TypeVar("T", bound=Tables)


def sources_key(sources: Sources, *, version: int) -> str:
    """Hash of the format ``version`` and every source's name and content hash."""
    h = hashlib.blake2b(digest_size=12)
    h.update(f"v{version}".encode())
    for name in sorted(sources):
        h.update(name.encode() + b"=" + sources[name]["hash"].encode() + b";")
    return h.hexdigest()


def read_npz(path: Path, *, version: int) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """Arrays and meta of a cache file; None when absent, unreadable, corrupt or of another
    format version (the caller then rebuilds it from the sources)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "__meta__"}
            meta = json.loads(bytes(z["__meta__"]).decode())
    except Exception:  # a corrupt or truncated cache is rebuilt from the sources
        return None
    if not isinstance(meta, dict) or meta.get("format") != version:
        return None
    return arrays, meta


def write_npz(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any], *, version: int) -> None:
    """Write atomically (temporary file + rename); an unwritable cache dir only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = json.dumps({"format": version, **meta}).encode()
        tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
        payload: dict[str, Any] = {"__meta__": np.frombuffer(blob, dtype=np.uint8), **arrays}
        np.savez(tmp, **payload)
        os.replace(tmp, path)
    except OSError:
        pass


class TableCache(Generic[T]):
    """Disk cache + per-process memo for the tables of one benchmark family.

    ``prefix`` names the cache files, ``version`` is the parsed format's version (bump it when
    the arrays change meaning), ``tables`` the :class:`Tables` subclass to build.
    """

    def __init__(self, prefix: str, *, version: int, tables: type[T]) -> None:
        self.prefix = prefix
        self.version = version
        self.tables = tables
        #: (data dir, sources key) -> tables; cleared by tests that edit source files
        self.memo: dict[tuple[str, str], T] = {}
        self._lock = threading.Lock()

    def key(self, sources: Sources) -> str:
        return sources_key(sources, version=self.version)

    def path(self, key: str) -> Path:
        return cache_dir() / f"{self.prefix}-{key}.npz"

    def load(self, data_dir: Path, sources: Sources, parse: Callable[[Sources], T], *,
             use_cache: bool = True) -> T:
        """The tables of ``sources``: from the memo, else the cache file, else ``parse`` (whose
        result is then written to the cache)."""
        key = self.key(sources)
        memo_key = (str(data_dir), key)
        with self._lock:
            if memo_key in self.memo:
                return self.memo[memo_key]
            tables = self._read(key, sources) if use_cache else None
            if tables is None:
                tables = parse(sources)
                if use_cache:
                    write_npz(self.path(key), tables.arrays, tables.meta, version=self.version)
            tables.data_dir = str(data_dir)
            self.memo[memo_key] = tables
            return tables

    def _read(self, key: str, sources: Sources) -> T | None:
        got = read_npz(self.path(key), version=self.version)
        if got is None:
            return None
        arrays, meta = got
        meta.pop("format", None)
        return self.tables(arrays, sources, meta)
