"""The layers keep one direction: the core imports no framework and reads no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "instrument"
CORE = [
    "vocabulary",
    "errors",
    "definition",
    "assessment",
    "priorities",
    "sensitivity",
    "escalation",
    "migration",
    "wording",
    "formulation",
    "profile",
    "access",
    "audit",
]
FORBIDDEN_IMPORTS = {"streamlit", "sqlite_utils", "sqlite3", "yaml", "jsonschema", "click"}
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
}
FORBIDDEN_MODULES_CALLED = {"random", "secrets", "uuid"}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_roots(tree: ast.Module) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def _existing_core() -> list[Path]:
    paths: list[Path] = []
    for name in CORE:
        if (PACKAGE / f"{name}.py").exists():
            paths.append(PACKAGE / f"{name}.py")
        elif (PACKAGE / name).is_dir():
            paths.extend(sorted((PACKAGE / name).rglob("*.py")))
    return paths


@pytest.mark.parametrize("path", _existing_core(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_imports_no_framework(path: Path) -> None:
    assert not (_imported_roots(_tree(path)) & FORBIDDEN_IMPORTS)


@pytest.mark.parametrize("path", _existing_core(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_reads_no_clock_and_no_randomness(path: Path) -> None:
    tree = _tree(path)
    assert not (_imported_roots(tree) & FORBIDDEN_MODULES_CALLED)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in FORBIDDEN_CALLS, (
                f"{path.name}:{node.lineno} reads the clock; pass `now` in"
            )
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            assert (node.value.attr, node.attr) not in FORBIDDEN_CALLS, (
                f"{path.name}:{node.lineno} reads the clock; pass `now` in"
            )


def test_the_core_modules_exist() -> None:
    for name in ("vocabulary", "errors", "definition", "assessment"):
        assert (PACKAGE / f"{name}.py").exists()
    for name in ("formulation", "profile"):
        assert (PACKAGE / name / "__init__.py").exists()


def test_only_the_ui_imports_streamlit() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "ui" in path.relative_to(PACKAGE).parts:
            continue
        assert "streamlit" not in _imported_roots(_tree(path)), path


def test_the_forbidden_check_would_catch_an_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import streamlit as st\nfrom datetime import datetime\nx = datetime.now()\n")
    tree = _tree(bad)
    assert "streamlit" in _imported_roots(tree)
    assert any(
        isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and (n.value.id, n.attr) in FORBIDDEN_CALLS
        for n in ast.walk(tree)
    )
