"""Shared fixtures.

The benchmark data directory comes from ``$NASLAB_DATA`` (``scripts/test.sh`` and ``.ci/run``
point it at ``../shared/data``), defaulting to ``../shared/data`` beside the project. Tests
that need data files skip with a reason when they are absent, and fail instead when
``NASLAB_REQUIRE_DATA=1`` (as in CI), so missing data can never pass silently there.
The NB201 cache goes to a per-session temporary directory.

The hooks of ``skip_policy.py`` make every skip a failure under ``CI=true`` (``.ci/run``) and
print how many tests ran, per marker, at the end of every run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from skip_policy import (  # noqa: F401  (pytest finds hooks by name in this module)
    pytest_configure,
    pytest_deselected,
    pytest_make_collect_report,
    pytest_runtest_makereport,
    pytest_terminal_summary,
)

ROOT = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    env = os.environ.get("NASLAB_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


DATA_DIR = _data_dir()


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["NASLAB_CACHE"] = str(tmp_path_factory.mktemp("naslab-cache"))
    os.environ["NASLAB_DATA"] = str(DATA_DIR)


def require_file(rel: str) -> Path:
    """Path of a shared data file; skip (or fail under NASLAB_REQUIRE_DATA=1) when absent."""
    p = DATA_DIR / rel
    if not p.exists():
        msg = f"data file {p} is missing (set NASLAB_DATA to the shared data directory)"
        if os.environ.get("NASLAB_REQUIRE_DATA") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return p


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared data directory, with the NB201 files required."""
    for f in ("nb201/nb201_val_200ep.csv", "nb201/nats_bench.csv", "nb201/nb201_hp12.csv",
              "nb201/nb201_latency_help.csv"):
        require_file(f)
    return DATA_DIR


@pytest.fixture(scope="session")
def nb201_c10(data_dir: Path):  # type: ignore[no-untyped-def]
    """NB201 cifar10 benchmark on the real data."""
    from naslab.benchmarks.nb201 import NB201Benchmark

    return NB201Benchmark("cifar10", data_dir=str(data_dir))


@pytest.fixture(scope="session")
def tabular_c10(data_dir: Path):  # type: ignore[no-untyped-def]
    """Tabular estimator on NB201 cifar10 (real data)."""
    from naslab.estimators.tabular import TabularEstimator

    return TabularEstimator("nb201/cifar10", data_dir=str(data_dir))
