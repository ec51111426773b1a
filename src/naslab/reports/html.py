"""A self-contained HTML page: inline CSS, figures as inline base64 PNG, no scripts, no network."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Sequence
from typing import Any

CSS = """
:root { --fg:#1d2330; --muted:#5b6477; --line:#e2e6ee; --bg:#ffffff; --band:#f6f8fb; --acc:#1f5fbf; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color:var(--fg); background:var(--bg); }
header { padding: 22px 36px 14px; border-bottom: 1px solid var(--line); background: var(--band); }
header h1 { margin:0 0 4px; font-size: 22px; }
header .sub { color: var(--muted); }
main { padding: 8px 36px 40px; max-width: 1280px; }
nav { margin: 10px 0 0; }
nav a { margin-right: 14px; color: var(--acc); text-decoration: none; }
h2 { margin: 30px 0 8px; font-size: 18px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { margin: 20px 0 6px; font-size: 15px; }
.keyfacts { display:flex; flex-wrap:wrap; gap: 10px; margin: 14px 0 4px; }
.fact { background: var(--band); border:1px solid var(--line); border-radius:8px; padding: 8px 12px; min-width: 150px; }
.fact .v { font-size: 18px; font-weight: 600; }
.fact .k { color: var(--muted); font-size: 12px; }
figure.fig { margin: 12px 0 18px; }
figure.fig img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; max-width: 1000px; }
table { border-collapse: collapse; margin: 8px 0 6px; font-size: 13px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: var(--band); font-weight: 600; }
td.l, th.l { text-align: left; }
tr.best td { font-weight: 600; background: #eef5ff; }
.note { color: var(--muted); font-size: 12.5px; max-width: 1000px; }
details { margin: 8px 0; }
summary { cursor: pointer; color: var(--acc); }
.scroll { max-height: 480px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; display: inline-block; }
code { background: var(--band); padding: 0 4px; border-radius: 3px; font-size: 12.5px; }
dl.card { display: grid; grid-template-columns: max-content auto; gap: 3px 18px; font-size: 13px; }
dl.card dt { color: var(--muted); }
dl.card dd { margin: 0; word-break: break-all; }
footer { color: var(--muted); font-size: 12px; padding: 16px 36px; border-top: 1px solid var(--line); }
"""

esc = html.escape


def fmt(x: Any, spec: str = ".2f", none: str = "–") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return none
    if isinstance(x, float):
        return format(x, spec)
    return esc(str(x))


def fmt_p(p: Any) -> str:
    if p is None:
        return "–"
    return "&lt;0.001" if p < 0.001 else f"{p:.3f}"


def figure(png: bytes, name: str, alt: str, caption: str) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    return (f'<figure class="fig" data-figure="{esc(name)}"><img alt="{esc(alt)}" '
            f'src="data:image/png;base64,{b64}"><figcaption>{caption}</figcaption></figure>')


Column = tuple[str, str, Callable[[Any], str]]


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], *,
          best: Callable[[dict[str, Any]], bool] | None = None, cls: str = "") -> str:
    head = "".join(f'<th class="{"l" if i == 0 else ""}">{esc(h)}</th>'
                   for i, (_, h, _f) in enumerate(columns))
    body = []
    for r in rows:
        tr = ' class="best"' if best is not None and best(r) else ""
        tds = "".join(f'<td class="{"l" if i == 0 else ""}">{f(r.get(k))}</td>'
                      for i, (k, _h, f) in enumerate(columns))
        body.append(f"<tr{tr}>{tds}</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def facts(items: Sequence[tuple[str, str]]) -> str:
    return '<div class="keyfacts">' + "".join(
        f'<div class="fact"><div class="v">{v}</div><div class="k">{esc(k)}</div></div>'
        for k, v in items) + "</div>"


def card(d: dict[str, Any]) -> str:
    def val(v: Any) -> str:
        if isinstance(v, dict):
            if not v:
                return "none"
            return "<br>".join(f"<code>{esc(str(k))}</code> {val(x)}" for k, x in v.items())
        if isinstance(v, list):
            return ", ".join(esc(str(x)) for x in v) if v else "none"
        return esc(str(v))

    return '<dl class="card">' + "".join(f"<dt>{esc(k)}</dt><dd>{val(v)}</dd>" for k, v in d.items()) + "</dl>"


def page(title: str, subtitle: str, nav: Sequence[tuple[str, str]], body: str, footer: str) -> str:
    links = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in nav)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<link rel=\"icon\" href=\"data:,\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><div class=\"sub\">{subtitle}</div>"
        f"<nav>{links}</nav></header><main>{body}</main><footer>{footer}</footer></body></html>\n"
    )
