"""DESIGN.md: arrows point down only, and only bot/ touches chat frameworks or web servers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = {"aiogram", "telegram", "aiohttp", "httpx", "fastapi", "starlette"}
MAY_IMPORT = {
    # handlers/ keeps its conversation state through storage/ (DESIGN.md), nothing else of it.
    "handlers": {"handlers", "procedure", "nlp", "texts", "storage"},
    "procedure": {"procedure", "storage", "nlp", "texts"},
    "storage": {"storage"},
    "nlp": {"nlp"},
    "texts": {"texts"},
}
OURS = {"bot", "handlers", "procedure", "storage", "nlp", "texts"}


def imported_packages(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


HANDLERS_MAY_USE_OF_STORAGE = {"storage.unit_of_work", "storage.conversation_store"}


def test_handlers_never_reach_into_tables() -> None:
    for path in (ROOT / "handlers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            modules = []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            for module in modules:
                if module.split(".")[0] == "storage":
                    assert module in HANDLERS_MAY_USE_OF_STORAGE, (path, module)


@pytest.mark.parametrize("layer", sorted(MAY_IMPORT))
def test_layers_import_only_downwards_and_no_framework(layer: str) -> None:
    for path in (ROOT / layer).rglob("*.py"):
        imported = imported_packages(path)
        assert not imported & FRAMEWORKS, path
        assert imported & OURS <= MAY_IMPORT[layer], (path, imported & OURS)
