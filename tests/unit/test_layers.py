"""The import rule: layers import downwards only, and no package or module imports in a cycle.

core ← privacy ← store ← {ops, reports} ← {web, site_builder} ← cli. Same-layer imports are
allowed except reports → ops (ops may use the reports' renderers and near-duplicates; the
reports never run a step) and between web and site_builder. Imports inside functions count.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("letterbox", "site_builder")
LAYERS: dict[str, int] = {
    "letterbox": 0,  # the package root: __version__ only
    "letterbox.core": 0,
    "letterbox.privacy": 1,
    "letterbox.store": 2,
    "letterbox.ops": 3,
    "letterbox.reports": 3,
    "letterbox.web": 4,
    "site_builder": 4,
    "letterbox.cli": 5,
}
FORBIDDEN_SIDEWAYS = {("letterbox.reports", "letterbox.ops"), ("letterbox.web", "site_builder"),
                      ("site_builder", "letterbox.web")}


def layer_of(module: str) -> str:
    """The layer package of a dotted module name (the longest listed prefix)."""
    best = ""
    for name in LAYERS:
        inside = module == name or (name != "letterbox" and module.startswith(name + "."))
        if inside and len(name) > len(best):
            best = name
    return best


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path, path: Path) -> set[str]:
    """Project modules imported anywhere in the file (relative imports resolved)."""
    name = module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # submodules
    return {m for m in found if m.split(".")[0] in PACKAGES}


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → project modules it imports (only names that are modules of the tree)."""
    files = [p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")]
    modules = {module_name(root, p): p for p in files}
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        graph[mod] = {m for m in imports_of(root, path) if m in modules and m != mod}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (each holds a cycle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def violations(root: Path) -> list[str]:
    """Every breach of the import rule in the tree at ``root``."""
    graph = import_graph(root)
    out = []
    for mod, targets in sorted(graph.items()):
        mine = layer_of(mod)
        if not mine:
            out.append(f"{mod}: in no layer (add it to a layer package)")
            continue
        for target in sorted(targets):
            theirs = layer_of(target)
            if LAYERS[theirs] > LAYERS[mine]:
                out.append(f"{mod} imports {target}: {theirs} is above {mine}")
            elif (mine, theirs) in FORBIDDEN_SIDEWAYS:
                out.append(f"{mod} imports {target}: {mine} may not import {theirs}")
    packages: dict[str, set[str]] = {}
    for mod, targets in graph.items():
        packages.setdefault(layer_of(mod), set()).update(
            layer_of(t) for t in targets if layer_of(t) != layer_of(mod))
    out += ["package cycle: " + " ↔ ".join(c) for c in cycles(packages)]
    out += ["module cycle: " + " ↔ ".join(c) for c in cycles(graph)]
    return out


def test_the_tree_follows_the_import_rule() -> None:
    assert violations(ROOT) == []


def _copy_tree(tmp_path: Path) -> Path:
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_a_planted_upward_import_is_caught(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    target = root / "letterbox" / "core" / "process.py"
    target.write_text(target.read_text("utf-8") + "\n\ndef _late() -> None:\n"
                      "    from letterbox.cli.main import cli  # noqa\n", "utf-8")
    found = violations(root)
    assert any("letterbox.core.process imports letterbox.cli.main" in v for v in found), found


def test_a_planted_sideways_import_and_cycle_are_caught(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    (root / "letterbox" / "reports" / "planted.py").write_text(
        "from letterbox.ops import validate  # noqa\n", "utf-8")
    (root / "letterbox" / "core" / "a_planted.py").write_text("import letterbox.core.b_planted\n", "utf-8")
    (root / "letterbox" / "core" / "b_planted.py").write_text("import letterbox.core.a_planted\n", "utf-8")
    found = violations(root)
    assert any("letterbox.reports.planted imports letterbox.ops" in v for v in found), found
    assert any(v.startswith("module cycle") and "a_planted" in v for v in found), found


def test_a_module_outside_the_layers_is_caught(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    (root / "letterbox" / "stray.py").write_text("", "utf-8")
    assert "letterbox.stray: in no layer (add it to a layer package)" in violations(root)
