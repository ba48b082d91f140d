"""The layer rules of DESIGN.md hold, and the checks behind them fail on a violation.

Who may import whom is import-linter's `[tool.importlinter]` contracts in pyproject.toml (also run
by `make lint`). What it cannot see is checked here: no part uses another part's private names
(`_name`), whether imported (`from lambdas.x import _build`) or reached through a module
(`handler._build`).
"""
from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest
import tomlkit
from importlinter.cli import lint_imports

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = REPO / "pyproject.toml"


def _layers() -> list[str]:
    return tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["root_packages"]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(root: Path, layers: list[str]) -> list[str]:
    """`path:line name` for every private name of another layer that a module imports or reaches."""
    found = []
    for layer in layers:
        for path in sorted((root / layer).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            foreign_modules: set[str] = set()  # local names bound to another layer's modules
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    other = node.module.split(".")[0]
                    if other in layers and other != layer:
                        for alias in node.names:
                            if _private(alias.name):
                                found.append(f"{path.relative_to(root)}:{node.lineno} {node.module}.{alias.name}")
                            foreign_modules.add(alias.asname or alias.name)
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        other = alias.name.split(".")[0]
                        if other in layers and other != layer:
                            foreign_modules.add(alias.asname or other)
            for node in ast.walk(tree):
                if (isinstance(node, ast.Attribute) and _private(node.attr)
                        and isinstance(node.value, ast.Name) and node.value.id in foreign_modules):
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def _lint(root: Path, config: Path) -> int:
    sys.path.insert(0, str(root))
    try:
        return lint_imports(config_filename=str(config), no_cache=True, no_logo=True)
    finally:
        sys.path.remove(str(root))


def test_the_layer_contracts_hold():
    assert _lint(REPO, PYPROJECT) == 0


def test_no_part_uses_another_parts_private_names():
    assert private_uses(REPO, _layers()) == []


COPY = "copy_"  # the copy's packages are renamed: the editable install would shadow same-named ones


def _renamed(contracts: dict) -> dict:
    """The import-linter table with every layer name given the copy's prefix."""
    layers = set(_layers())

    def rename(value):
        if isinstance(value, list):
            return [rename(v) for v in value]
        return COPY + value if isinstance(value, str) and value in layers else value
    return {k: ([{ck: rename(cv) for ck, cv in c.items()} for c in v] if k == "contracts" else rename(v))
            for k, v in contracts.items()}


@pytest.fixture
def violating_tree(tmp_path: Path) -> Path:
    """A copy of the layer packages' shape in which the Lambda imports the local runtime and uses
    a private name of the contract."""
    for layer in _layers():
        (tmp_path / (COPY + layer)).mkdir()
        (tmp_path / (COPY + layer) / "__init__.py").write_text("")
    (tmp_path / f"{COPY}aml_contract" / "names.py").write_text("_SECRET = 1\n")
    (tmp_path / f"{COPY}aml" / "cli.py").write_text("")
    (tmp_path / f"{COPY}lambdas" / "handler.py").write_text(
        f"from {COPY}aml import cli\nfrom {COPY}aml_contract import names\n"
        f"from {COPY}aml_contract.names import _SECRET\nVALUE = names._SECRET\n")
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    (tmp_path / "pyproject.toml").write_text(tomlkit.dumps({"tool": {"importlinter": _renamed(contracts)}}))
    return tmp_path


def test_a_violation_fails_both_checks(violating_tree: Path, capsys):
    assert _lint(violating_tree, violating_tree / "pyproject.toml") == 1
    assert "copy_lambdas.handler -> copy_aml.cli" in capsys.readouterr().out
    assert private_uses(violating_tree, [COPY + layer for layer in _layers()]) == [
        "copy_lambdas/handler.py:3 copy_aml_contract.names._SECRET", "copy_lambdas/handler.py:4 names._SECRET"]
