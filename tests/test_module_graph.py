"""The modules' imports form layers: no module imports one that imports it back, however far
round, and the translation layer at the bottom imports nothing of pollnet above it.

Every import counts, also one inside a function (a lazy import hides a circle, it does not
remove it); only imports for type checkers (``if TYPE_CHECKING:``) are left out.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pollnet

SRC = Path(pollnet.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class _Imports(ast.NodeVisitor):
    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" not in ast.unparse(node.test):
            self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module and node.module.startswith("pollnet"):
            for alias in node.names:  # ``from pollnet.plan import _forest`` names a module
                name = f"{node.module}.{alias.name}"
                self._add(name if name in self.known else node.module)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def _add(self, name: str) -> None:
        if name in self.known:
            self.found.add(name)


@functools.cache
def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        visitor = _Imports(set(paths))
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        graph[name] = visitor.found - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_no_import_circles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "an import circle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_translation_layer_is_at_the_bottom() -> None:
    graph = import_graph()
    above = {
        f"{name} -> {target}"
        for name, targets in graph.items()
        if name.startswith("pollnet.i18n")
        for target in targets
        if not target.startswith("pollnet.i18n")
    }
    assert not above
