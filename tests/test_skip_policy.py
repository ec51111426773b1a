"""tests/skip_policy.py: under CI=true a skip (in a test or at import) fails the run; the summary
counts what ran per marker; outside CI skips stay skips. Checked on a throw-away test suite run
in a subprocess (the hooks keep per-session counts)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS = Path(__file__).resolve().parent

SUITE = {
    "test_some": """
import pytest

def test_ok():
    pass

def test_needs_a_missing_package():
    pytest.importorskip("no_such_package_for_naslab")

@pytest.mark.slow
def test_slow_one():
    pass

@pytest.mark.slow
def test_deselected_unless_slow_runs():
    pass

@pytest.mark.xfail(reason="known", strict=True)
def test_known_failure():
    assert False
""",
    "test_module_skip": """
import pytest
pytest.importorskip("no_such_package_for_naslab")

def test_never_collected():
    pass
""",
}


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest("from skip_policy import (pytest_configure, pytest_deselected, "
                          "pytest_make_collect_report, pytest_runtest_makereport, "
                          "pytest_terminal_summary)\n")
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow\n")
    pytester.makepyfile(**SUITE)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    return pytester


def test_under_ci_a_skip_is_a_failure(suite: pytest.Pytester,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    res = suite.runpytest_subprocess("-p", "no:cacheprovider", "-k", "not deselected")
    res.assert_outcomes(passed=2, failed=1, errors=1, xfailed=1, deselected=1)
    res.stdout.fnmatch_lines([
        "*module test_module_skip.py was skipped under CI (CI=true)*no_such_package_for_naslab*",
        "*test_needs_a_missing_package was skipped under CI (CI=true)*no_such_package_for_naslab*",
        "ran 4 tests: not slow: 1 passed, 1 failed, 0 skipped, 1 xfailed; "
        "slow: 1 passed, 0 skipped, 1 deselected",
        "skips are failures here (CI)"])
    assert res.ret != 0


def test_outside_ci_skips_stay_skips_and_are_counted(suite: pytest.Pytester,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    res = suite.runpytest_subprocess("-p", "no:cacheprovider", "-m", "not slow")
    res.assert_outcomes(passed=1, skipped=2, xfailed=1, deselected=2)
    res.stdout.fnmatch_lines([
        "ran 2 tests: not slow: 1 passed, 1 skipped, 1 xfailed; slow: 0 passed, 0 skipped, "
        "2 deselected",
        "modules skipped at collection: test_module_skip.py",
        "skips are allowed here; with CI=true (as .ci/run sets) they fail"])
    assert res.ret == 0


def test_ci_entry_sets_ci_and_runs_the_readme_command() -> None:
    root = TESTS.parent
    ci = (root / ".ci" / "run").read_text()
    assert "export CI=true" in ci and "bash scripts/test.sh" in ci
    assert "bash scripts/test.sh" in (root / "README.md").read_text()
    assert "NASLAB_REQUIRE_DATA=1" in (root / "scripts" / "test.sh").read_text()
