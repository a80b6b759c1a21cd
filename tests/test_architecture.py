"""The tree is the pipeline: ingest -> model -> session -> replay / doctor / output -> commands
and ui. These tests read every module's imports (top level and inside functions; not those under
``if TYPE_CHECKING``) and fail on an import that goes against the flow, on an import cycle, and on
a module outside the session that takes the session's lock.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "agenttui"


def module_name(path: Path) -> str:
    """``agenttui/ingest/sources.py`` -> ``agenttui.ingest.sources``."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def imports_of(path: Path) -> Iterator[str]:
    """Every module ``path`` imports at run time (absolute names; ``from a import b`` gives
    ``a.b`` when ``a.b`` is a module of the package, else ``a``)."""
    tree = ast.parse(path.read_text())
    skipped = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                yield candidate if candidate in MODULES else node.module


MODULES: dict[str, Path] = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH: dict[str, set[str]] = {
    name: {m for m in imports_of(path) if m in MODULES and m != name}
    for name, path in MODULES.items()
}


def layer(module: str) -> str:
    """The stage a module belongs to: ``ingest``, ``model``, ``ui``... or ``root``."""
    rel = MODULES[module].relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else "root"


# Which stages a stage may import (the package root's shared modules, config, are open to all).
ALLOWED: dict[str, set[str]] = {
    "ingest": {"ingest", "root"},
    "model": {"model", "ingest", "root"},
    "output": {"output", "model", "ingest", "root"},
    "replay": {"replay", "model", "ingest", "output", "root"},
    "doctor": {"doctor", "model", "ingest", "output", "root"},
    "demo": {"demo", "root"},
    "commands": {"commands", "replay", "doctor", "model", "ingest", "output", "demo", "root"},
    "ui": {"ui", "replay", "doctor", "model", "ingest", "output", "demo", "root"},
}
ROOT_MODULES_ALLOWED = {
    # session.py is the one data path: it sits on ingest and model.
    "agenttui.session": {"ingest", "model", "root"},
    "agenttui.config": set(),
    # Opening files that others may have planted, without blocking: a leaf.
    "agenttui.safeopen": set(),
    # The private state directory (replay history, notes): on config only.
    "agenttui.state": {"root"},
    "agenttui": set(),
    "agenttui.__main__": {"root"},
}


def test_the_packages_by_stage_exist() -> None:
    stages = {layer(m) for m in MODULES} - {"root"}
    assert {"ingest", "model", "output", "replay", "doctor", "commands", "ui"} <= stages


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_pipeline(module: str) -> None:
    if module == "agenttui.cli":
        return  # the entry point wires everything (the UI lazily)
    stage = layer(module)
    allowed = ROOT_MODULES_ALLOWED.get(module) if stage == "root" else ALLOWED[stage]
    assert allowed is not None, f"{module}: a new top-level module needs a place in the pipeline"
    bad = []
    for target in sorted(GRAPH[module]):
        target_stage = layer(target)
        if target == "agenttui.session" and stage in {"commands", "ui", "replay", "doctor"}:
            continue  # the session's read API is what the later stages read through
        if target_stage == "root" and target != "agenttui.session":
            continue  # config, version
        if target_stage not in allowed:
            bad.append(target)
    assert bad == [], f"{module} imports against the flow: {bad}"


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over the run-time import graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            # A package's __init__ importing its own modules is not a cycle of the design.
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
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert cycles == []


def test_only_the_session_takes_its_lock() -> None:
    offenders = []
    for name, path in MODULES.items():
        if name == "agenttui.session":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"lock", "_lock"}
                and "session" in ast.unparse(node.value).lower()
            ):
                offenders.append(f"{name}: {ast.unparse(node)}")
    assert offenders == []


def test_the_graph_sees_real_imports() -> None:
    """Guards the tests above against reading nothing."""
    assert "agenttui.ingest.sources" in GRAPH["agenttui.session"]
    assert "agenttui.model.traces" in GRAPH["agenttui.session"]
    assert len(MODULES) > 40
