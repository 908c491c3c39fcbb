"""The import rules of docs/architecture.md, read from the code: no module imports one of its own
importers, and each folder imports only the folders below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGE = ROOT / "guide_server"

# What each part may import from guide_server (itself always). A part is a folder or a top-level
# module; the routes of guidance/ and widget/ are parts of their own, above web/, while the rest
# of those two folders stands below it.
ALLOWED = {
    "settings": set(),
    "config": {"settings"},
    "privacy": set(),
    "metrics": set(),
    "content": set(),
    "db": {"metrics"},
    "search": {"content", "metrics"},
    "guidance": {"content", "db"},
    "widget": {"content"},
    "events.types": set(),
    "analytics": {"db", "events.types", "search"},
    "web": {"content", "search", "guidance", "widget", "privacy", "metrics"},
    "guidance.routes": {"content", "guidance", "web", "privacy"},
    "widget.routes": {"widget", "web"},
    "events": {"content", "db", "events.types", "guidance", "web", "privacy", "metrics"},
    "chat": {"content", "db", "search", "web", "privacy", "metrics"},
    "ops": {"chat", "db", "search", "web", "metrics", "config", "desk"},  # config, desk: gunicorn_conf's SECRET_KEY check
    "desk": {"content", "db", "search", "analytics", "events.types", "chat", "web", "privacy"},
    "cli": {"settings", "config", "content", "db", "search", "guidance", "desk", "analytics", "privacy", "web", "__init__"},
    "__init__": {"settings", "config", "db", "search", "guidance", "guidance.routes", "events", "chat", "desk", "widget",
                 "widget.routes", "web", "privacy", "ops", "metrics"},
}
# Parts that must work with no web framework loaded (index_builder.py, benchmarks, the figures).
NO_FLASK = {"settings", "config", "privacy", "metrics", "content", "db", "search", "guidance", "widget", "events.types", "analytics"}


def _name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at the top or inside a function, resolved to a full name."""
    name = _name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            for alias in node.names:  # `from . import x` names a module, or a name in the module `.`
                sub = f"{prefix}.{alias.name}"
                found.add(sub if sub in _module_names() else prefix)
    return found


def _module_names() -> set[str]:
    return {_name(p) for p in PACKAGE.rglob("*.py")}


MODULES = {_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {m: {i for i in _imports(p) if i in MODULES and i != m} for m, p in MODULES.items()}


def _part(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    two = ".".join(parts[1:3])
    return two if two in ("guidance.routes", "widget.routes", "events.types") else parts[1]


def test_no_module_imports_one_of_its_importers():
    """Tarjan's strongly connected components: every component is one module."""
    index, low, on_stack, stack, loops = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert loops == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_folder_imports_only_what_is_below_it(module):
    part = _part(module)
    if module.split(".")[-1] == "__init__" or part not in ALLOWED:
        pytest.fail(f"{module}: a part of the package that docs/architecture.md does not place")
    used = {_part(m) for m in GRAPH[module]} - {part}
    if part == "events":  # the folder's face is its own
        used -= {"events.types"}
    assert used <= ALLOWED[part], f"{module} imports {sorted(used - ALLOWED[part])}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _part(m) in NO_FLASK))
def test_the_domain_needs_no_web_framework(module):
    assert not {i for i in _imports(MODULES[module]) if i.split(".")[0] in ("flask", "flask_sock", "werkzeug")}
    reached, todo = set(), [module]
    while todo:  # nor through what it imports
        m = todo.pop()
        for i in GRAPH[m] - reached:
            reached.add(i)
            todo.append(i)
    web = sorted(m for m in reached if _part(m) == "web" or m.endswith(".routes"))
    assert web == [], f"{module} reaches {web}"
