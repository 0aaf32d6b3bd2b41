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


# --- the layers of ARCHITECTURE.md, as import-linter contracts ----------------------------------

REPO = PACKAGE.parent


def _layers() -> list[set[str]]:
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["id"] == "layers")["layers"]
    return [
        {name.strip().removeprefix("instrument.") for name in layer.replace("|", ":").split(":")}
        for layer in layers
    ]


def test_every_module_of_the_package_is_in_one_layer() -> None:
    modules = {
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" and path.stem not in ("__init__", "__main__"))
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    layered = [name for layer in _layers() for name in layer]
    assert sorted(layered) == sorted(set(layered)), "a module is in two layers"
    assert set(layered) == modules, "add the new module to a layer in pyproject.toml"


def test_the_core_layer_is_the_core() -> None:
    assert set(CORE) - {"errors"} <= _layers()[-1] | {"errors"}


def test_the_import_contracts_hold() -> None:
    import subprocess
    import sys

    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_entry_scripts_reach_no_adapter() -> None:
    adapters = {"definitions", "store", "exchange", "schemas", "report"}
    for script in (REPO / "app.py", REPO / "server.py"):
        for node in ast.walk(_tree(script)):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                assert not (parts[0] == "instrument" and len(parts) > 1 and parts[1] in adapters), (
                    f"{script.name}:{node.lineno} imports {node.module}"
                )


def test_only_report_draws_with_vl_convert_or_weasyprint() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "report.py":
            continue
        assert not (_imported_roots(_tree(path)) & {"vl_convert", "weasyprint"}), path


# --- the error tree -----------------------------------------------------------------------------


def test_the_error_tree_in_the_docstring_matches_the_classes() -> None:
    import inspect
    import re

    from instrument import errors

    columns = {}
    for line in (errors.__doc__ or "").splitlines():
        match = re.search(r"([A-Z]\w+Error)\b", line)
        if match and re.match(r"^[\s│├└─]*$", line[: match.start()]):
            columns[match.group(1)] = match.start()
    classes = {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.InstrumentError)
    }
    assert set(columns) == set(classes), "draw every error class in the docstring, and only those"
    base = columns["InstrumentError"]
    for name, cls in classes.items():
        if cls is errors.InstrumentError:
            continue
        parent = cls.__mro__[1].__name__
        assert columns[name] == columns[parent] + 4, f"{name} is drawn under the wrong parent"
    assert all(column >= base for column in columns.values())


def test_the_base_error_is_never_raised() -> None:
    for path in [*PACKAGE.rglob("*.py"), REPO / "app.py", REPO / "server.py"]:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                assert name != "InstrumentError", f"{path}:{node.lineno} raises the base error"


def test_document_error_at_is_one_problem() -> None:
    from instrument.errors import DocumentError, Problem

    error = DocumentError.at("$.ratings.ID1", "is required", "add it", source="a.json")
    assert error.problems() == [Problem("$.ratings.ID1", "is required", "add it")]
    assert (error.where, error.message, error.fix, error.source) == (
        "$.ratings.ID1",
        "is required",
        "add it",
        "a.json",
    )


@pytest.mark.parametrize(
    ("module", "bad_import", "contract"),
    [
        ("ui/components.py", "from instrument.report import render_html", "through the service"),
        ("exchange/case.py", "from instrument.service import Service", "never import the service"),
        ("profile/theme.py", "from instrument.store import open_store", "arrows point down"),
        ("ui/state.py", "from instrument.ui import context", "No import cycles"),
    ],
    ids=["entry-point-skips-the-service", "adapter-imports-service", "core-imports-store", "cycle"],
)
def test_the_contracts_catch_a_bad_arrow(
    tmp_path: Path, module: str, bad_import: str, contract: str
) -> None:
    import shutil
    import subprocess
    import sys

    shutil.copytree(PACKAGE, tmp_path / "instrument", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "instrument" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{bad_import}  # noqa\n")
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
        check=False,
    )
    assert result.returncode != 0, result.stdout[-2000:]
    broken = result.stdout.split("Broken contracts")[-1]
    assert contract in broken
