"""Only spaces/, nn/ and benchmarks/ may name a particular search space: everything else works
from the registry and the space's declared structure (docs/architecture.md, "Spaces")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import naslab
from naslab import registry

ROOT = Path(naslab.__file__).parent
ALLOWED = {"spaces", "nn", "benchmarks"}


def _space_words() -> set[str]:
    words = set(registry.names("space"))
    words |= set(registry._aliases["space"])  # noqa: SLF001 - the aliases are names too
    return words


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                ids.add(id(body[0].value))
    return ids


def _other_component_names(tree: ast.AST) -> set[int]:
    """The name in ``@register(KIND, NAME)`` of a component of another kind than a space (a
    one-shot method registered as ``darts`` names itself, not the DARTS space)."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "register" and \
                len(node.args) >= 2 and isinstance(node.args[0], ast.Constant) and \
                node.args[0].value != "space" and isinstance(node.args[1], ast.Constant):
            ids.add(id(node.args[1]))
    return ids


def space_mentions(path: Path, words: set[str]) -> list[str]:
    """``file:line: what`` for every string literal (docstrings excepted) or import that names
    one of the spaces in ``words`` (registry names, matched case-sensitively: a message citing
    the NB201 *paper* is not a space name)."""
    tree = ast.parse(path.read_text(), str(path))
    docs = _docstrings(tree) | _other_component_names(tree)
    pattern = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, sorted(words))) +
                         r")(?![A-Za-z0-9_])")
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            m = pattern.search(node.value)
            if m:
                out.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: {node.value[:60]!r}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom)
                                                    and node.module else [])
            for n in names:
                if any(pattern.fullmatch(part) for part in n.split(".")):
                    out.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: import {n}")
    return out


def test_no_space_named_outside_spaces_nn_benchmarks() -> None:
    words = _space_words()
    assert words, "no spaces registered"
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        top = path.relative_to(ROOT).parts[0]
        if top in ALLOWED:
            continue
        bad += space_mentions(path, words)
    assert not bad, "space names outside spaces/, nn/, benchmarks/:\n" + "\n".join(bad)


def test_the_check_finds_a_space_name(tmp_path: Path) -> None:
    f = ROOT / "_probe_not_a_module.py"
    try:
        f.write_text('"""A docstring may cite NB201."""\nX = "nb201/cifar10"\n'
                     'from naslab.spaces.nb201 import OPS\n')
        hits = space_mentions(f, {"nb201"})
    finally:
        f.unlink()
    assert len(hits) == 2
    assert any("nb201/cifar10" in h for h in hits) and any("import" in h for h in hits)
