"""The import rules of design.md: index never imports telegram or bot; bot uses index's API."""

from __future__ import annotations

import ast
from pathlib import Path

import index

ROOT = Path(__file__).resolve().parent.parent


def imports(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found += [(path, node.module)]
    return found


def test_index_never_imports_telegram_or_bot() -> None:
    bad = [(p.name, m) for p, m in imports("index") if m.split(".")[0] in ("telegram", "bot")]
    assert bad == []


def test_bot_imports_only_the_public_api_of_index() -> None:
    bad = [(p.name, m) for p, m in imports("bot") if m.startswith("index.")]
    assert bad == []


def test_bot_uses_only_names_that_index_exports() -> None:
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "index":
                for alias in node.names:
                    assert alias.name in index.__all__, (path.name, alias.name)
