"""The house's import order: no module imports upward (DESIGN.md's layout), lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import naslab

ROOT = Path(naslab.__file__).parent
#: DESIGN.md's layout, bottom first: a module may import its own layer and the layers below
LAYERS = ["errors", "registry", "seeding", "spaces", "benchmarks", "analysis", "predictors", "nn",
          "data", "estimators", "strategies", "oneshot", "runner", "reports", "cli", "testing"]
BASE = {"__init__", "errors", "registry", "seeding"}


def _layer(module: str) -> int:
    parts = module.split(".")
    head = parts[1] if len(parts) > 1 else "__init__"
    if head in BASE:
        return 0
    if head == "__main__":
        return LAYERS.index("cli")
    return LAYERS.index(head)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    rel = path.relative_to(ROOT.parent).with_suffix("")
    pkg = ".".join(rel.parts[:-1]) if rel.name != "__init__" else ".".join(rel.parts[:-1])
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("naslab")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("naslab"):
                out.append((node.lineno, mod))
    return out


def upward_imports(path: Path) -> list[str]:
    """``file:line imports module`` for every import of ``path`` that points up the layers."""
    me = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    mine = _layer(me)
    return [f"{path.relative_to(ROOT.parent)}:{line} imports {mod}"
            for line, mod in _imports(path) if mod != "naslab" and _layer(mod) > mine]


def test_no_module_imports_upward() -> None:
    bad = [b for path in sorted(ROOT.rglob("*.py")) for b in upward_imports(path)]
    assert not bad, "modules importing upward:\n" + "\n".join(bad)


def test_the_check_sees_lazy_upward_imports() -> None:
    probe = ROOT / "predictors" / "_probe_not_a_module.py"
    try:
        probe.write_text("from naslab.spaces.base import Architecture\n"
                         "def f() -> None:\n    from naslab.estimators.zerocost import cache_file\n")
        hits = upward_imports(probe)
    finally:
        probe.unlink()
    assert len(hits) == 1 and "naslab.estimators.zerocost" in hits[0]
