"""The report opens in headless Chromium with no network: every figure present and rendered,
no console errors, no request leaving the page; a screenshot is saved.

Needs Debian's ``chromium`` (scripts/test.sh installs it) and ``websocket-client`` (the test
extra). Without them the test skips, except under NASLAB_REQUIRE_DATA=1 (CI), where it fails.
Set NASLAB_SCREENSHOT_DIR to also keep the screenshots there for inspection.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from report_groups import comparison_db  # noqa: F401 - fixture

from naslab.reports import build_report
from naslab.runner import SQLiteStorage


def _browser() -> None:
    from naslab.testing.browser import find_chromium

    missing = []
    if find_chromium() is None:
        missing.append("chromium (apt-get install chromium)")
    try:
        import websocket  # noqa: F401
    except ImportError:
        missing.append("websocket-client (pip install 'naslab[test]')")
    if missing:
        msg = "browser test needs " + " and ".join(missing)
        if os.environ.get("NASLAB_REQUIRE_DATA") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def _check(index: Path, figures: list[str], shot: Path) -> None:
    from naslab.testing.browser import check_page

    res = check_page(index, screenshot=shot)
    assert res.console_errors == []
    assert res.external_requests == []
    assert res.failed_loads == []
    assert [f["name"] for f in res.figures] == figures
    for f in res.figures:
        assert f["complete"], f
        assert f["natural_width"] > 300 and f["natural_height"] > 200, f
        assert f["width"] > 300 and f["height"] > 150, f  # laid out on the page, not hidden
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("NASLAB_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)


@pytest.mark.slow
def test_comparison_report_in_chromium(comparison_db: Path, tmp_path: Path) -> None:  # noqa: F811
    _browser()
    st = SQLiteStorage(comparison_db, readonly=True)
    res = build_report(st, "cmp", tmp_path / "report")
    st.close()
    manifest = json.loads((tmp_path / "report" / "report.json").read_text())
    _check(res.index, manifest["figures"], tmp_path / "report-screenshot.png")


@pytest.mark.slow
def test_space_analysis_page_in_chromium(nb201_c10, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _browser()
    from naslab.analysis.space import analyze_space
    from naslab.reports.space_report import write_space_report

    a = analyze_space(nb201_c10, n_max=20, walks=500, walk_steps=15)
    index = write_space_report([a], tmp_path / "space")
    manifest = json.loads((tmp_path / "space" / "report.json").read_text())
    assert len(manifest["figures"]) == 4
    _check(index, manifest["figures"], tmp_path / "space-screenshot.png")
