"""Keys in one place (issue 9, 13): the vault, the outbox and the audit trail take their keys
from `keys.keyring` and none of them imports another, so no import circle can form between
them (art. 6)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.article("6")

ROOT = Path(__file__).resolve().parents[2]
PARTS = {
    "vault": [ROOT / "coachees" / "vault.py"],
    "outbox": sorted((ROOT / "outbox").glob("*.py")),
    "audit": sorted((ROOT / "audit").glob("*.py")),
    "keys": sorted((ROOT / "keys").glob("*.py")),
}
MODULES = {
    "vault": ("coachregister.coachees.vault",),
    "outbox": ("coachregister.outbox",),
    "audit": ("coachregister.audit",),
    "keys": ("coachregister.keys",),
}


def imported_by(files: list[Path]) -> set[str]:
    names: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
    return names


def edges() -> dict[str, set[str]]:
    graph = {}
    for part, files in PARTS.items():
        names = imported_by(files)
        graph[part] = {
            other for other, prefixes in MODULES.items() if other != part
            and any(n == p or n.startswith(p + ".") for n in names for p in prefixes)
        }
    return graph


def test_the_three_import_only_the_keys_module() -> None:
    graph = edges()
    assert graph["vault"] == {"keys"}
    assert graph["outbox"] == {"keys"}
    assert graph["audit"] == {"keys"}
    assert graph["keys"] == set()
