"""Open an HTML page in headless Chromium and report what a reader would see.

``check_page(path, screenshot=...)`` starts Chromium (Debian's ``chromium`` package) with no
network, drives it over the Chrome DevTools Protocol (a websocket; the ``websocket-client``
package), loads the page, and returns every ``<figure class="fig">`` with its image's loaded
and rendered size, the console errors, uncaught exceptions, failed loads and any request that
left the page (anything not ``data:`` or ``file:``), plus a full-page screenshot.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naslab.errors import ConfigError

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
)

_FIGURES_JS = """
JSON.stringify(Array.from(document.querySelectorAll('figure.fig')).map(f => {
  const img = f.querySelector('img, svg');
  const r = img ? img.getBoundingClientRect() : {width: 0, height: 0};
  return {name: f.dataset.figure || '', tag: img ? img.tagName.toLowerCase() : null,
          complete: img && img.tagName === 'IMG' ? img.complete : !!img,
          natural_width: img && img.tagName === 'IMG' ? img.naturalWidth : Math.round(r.width),
          natural_height: img && img.tagName === 'IMG' ? img.naturalHeight : Math.round(r.height),
          width: Math.round(r.width), height: Math.round(r.height)};
}))
"""


@dataclass
class PageCheck:
    title: str
    figures: list[dict[str, Any]]
    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def ok(self) -> bool:
        return (not self.console_errors and not self.external_requests and not self.failed_loads
                and all(f["complete"] and f["natural_width"] > 0 and f["width"] > 0
                        for f in self.figures))


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        p = shutil.which(name)
        if p:
            return p
    return None


class _CDP:
    def __init__(self, ws_url: str, timeout: float) -> None:
        import websocket  # websocket-client

        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True,
                                              enable_multithread=False)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"CDP {method} failed: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        for ev in self.events:
            if ev["method"] == method:
                return ev
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg
        raise TimeoutError(f"no {method} within {timeout:.0f} s")

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: S110 - closing a socket of a browser that is going away
            pass


def check_page(path: str | Path, *, screenshot: str | Path | None = None,
               chromium: str | None = None, width: int = 1360, timeout: float = 60.0) -> PageCheck:
    """Load ``path`` in headless Chromium and report figures, console errors and requests."""
    page = Path(path).resolve()
    if not page.is_file():
        raise ConfigError(f"page {str(page)!r} does not exist")
    exe = chromium or find_chromium()
    if exe is None:
        raise ConfigError("no Chromium found (install the Debian package: apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="naslab-chromium-")
    proc = subprocess.Popen(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
         f"--window-size={width},900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cdp = None
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        end = time.monotonic() + timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            if proc.poll() is not None:
                raise RuntimeError(f"Chromium exited with status {proc.returncode} at start")
            if time.monotonic() > end:
                raise TimeoutError("Chromium did not open its DevTools port")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as r:
            targets = json.loads(r.read())
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        cdp = _CDP(ws_url, timeout)
        for domain in ("Page", "Runtime", "Log", "Network"):
            cdp.call(f"{domain}.enable")
        cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=900,
                 deviceScaleFactor=1, mobile=False)
        cdp.call("Page.navigate", url=page.as_uri())
        cdp.wait_event("Page.loadEventFired", timeout)
        res = cdp.call("Runtime.evaluate", expression=_FIGURES_JS, returnByValue=True)
        figures = json.loads(res["result"]["value"])
        title = cdp.call("Runtime.evaluate", expression="document.title",
                         returnByValue=True)["result"]["value"]
        shot = None
        if screenshot is not None:
            metrics = cdp.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            h = int(min(size["height"], 16000))
            cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=h,
                     deviceScaleFactor=1, mobile=False)
            data = cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            shot = Path(screenshot)
            shot.parent.mkdir(parents=True, exist_ok=True)
            shot.write_bytes(base64.b64decode(data["data"]))
        # drain events that arrived meanwhile
        cdp.call("Runtime.evaluate", expression="1", returnByValue=True)
        return _summarise(cdp.events, title, figures, shot)
    finally:
        if cdp is not None:
            try:
                cdp.call("Browser.close")
            except Exception:  # noqa: S110 - the browser may already be gone
                pass
            cdp.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def _summarise(events: list[dict[str, Any]], title: str, figures: list[dict[str, Any]],
               shot: Path | None) -> PageCheck:
    errors, external, failed = [], [], []
    for ev in events:
        m, p = ev["method"], ev.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append("console: " + " ".join(str(a.get("value", a.get("description", "")))
                                                  for a in p.get("args", [])))
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            errors.append("exception: " + str(d.get("exception", {}).get("description") or d.get("text")))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            errors.append(f"log: {e.get('text')} {e.get('url', '')}".strip())
        elif m == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if not url.startswith(("data:", "file:", "about:")):
                external.append(url)
        elif m == "Network.loadingFailed":
            failed.append(f"{p.get('errorText')} ({p.get('type', '')})")
    return PageCheck(title, figures, errors, external, failed, shot)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - manual use
    import argparse

    ap = argparse.ArgumentParser(description="check an HTML report in headless Chromium")
    ap.add_argument("page")
    ap.add_argument("--screenshot")
    a = ap.parse_args(argv)
    res = check_page(a.page, screenshot=a.screenshot)
    print(json.dumps({"ok": res.ok, "title": res.title, "figures": res.figures,
                      "console_errors": res.console_errors, "external": res.external_requests,
                      "failed": res.failed_loads}, indent=1))
    return 0 if res.ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = ["PageCheck", "check_page", "find_chromium"]
