"""The package is typed (py.typed): mypy must find no errors in src/naslab."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_mypy_is_clean(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy comes with the test extra")
    p = subprocess.run([sys.executable, "-m", "mypy", "src/naslab", "--cache-dir", str(tmp_path)],
                       cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
