"""Where benchmark data lives: ``--data-dir``, then ``$NASLAB_DATA``, then a per-user default.

Files of a benchmark are looked up as ``<data_dir>/<benchmark>/<file>`` and then
``<data_dir>/<file>``. Compact binary caches go to ``$NASLAB_CACHE`` or the user cache dir.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ENV_DATA = "NASLAB_DATA"
ENV_CACHE = "NASLAB_CACHE"


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("naslab", appauthor=False))


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory in effect: the argument, else ``$NASLAB_DATA``, else the default."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env).expanduser()
    return default_data_dir()


def data_dir_origin(data_dir: str | os.PathLike[str] | None = None) -> str:
    """Which rule chose the data directory (for messages)."""
    if data_dir is not None and str(data_dir) != "":
        return "--data-dir"
    if os.environ.get(ENV_DATA):
        return f"${ENV_DATA}"
    return "the default data directory"


def cache_dir() -> Path:
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("naslab", appauthor=False))


def find_file(data_dir: Path, benchmark: str, filename: str) -> Path | None:
    """``<data_dir>/<benchmark>/<filename>`` or ``<data_dir>/<filename>``, whichever exists."""
    for p in (data_dir / benchmark / filename, data_dir / filename):
        if p.is_file():
            return p
    return None


def file_hash(path: Path) -> str:
    """blake2b-128 of the file's bytes (hex)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
