"""Write a benchmark script's figures into its own section of docs/benchmarks.md.

Each script owns the text between ``<!-- BEGIN name -->`` and ``<!-- END name -->``; running
it again replaces that section only, so scripts never overwrite each other's figures.
"""

from __future__ import annotations

import datetime
import platform
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"


def write_section(name: str, markdown: str, doc: Path = DOC) -> None:
    """Replace (or append) section ``name`` of docs/benchmarks.md with ``markdown``."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    stamp = f"_Measured {datetime.date.today().isoformat()} on {machine()}._\n\n"
    body = f"{begin}\n{stamp}{markdown.strip()}\n{end}"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        pre, rest = text.split(begin, 1)
        _, post = rest.split(end, 1)
        text = pre + body + post
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
