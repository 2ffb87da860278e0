"""The house's layering: no import cycle between the packages of portal/, and core imports no feature.

The graph is read from the source with the ast module, module-level imports only (those that run
when a module is imported, in try/if blocks too; not those inside functions). An import inside a
function only hides a cycle, so the in-function ones are counted separately and kept few."""
import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# Modules of the app itself rather than features: what core may use besides itself.
FOUNDATION = {"config", "extensions", "i18n"}


def _module_level(tree: ast.Module):
    """Import statements that run at import time: the module body and the blocks in it, not the
    bodies of functions."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        else:
            pending.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))


def _unit(dotted: str) -> str | None:
    """The package (or top-level module) of portal that a dotted module name belongs to."""
    parts = dotted.split(".")
    if parts[0] != "portal" or len(parts) < 2:
        return None
    return parts[1]


def import_graph(root: Path) -> dict[str, dict[str, set[str]]]:
    """{unit: {unit it imports: {modules doing so}}} for the packages and modules under root."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).with_suffix("")
        module = ".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts)
        source = _unit(module)
        if source is None:
            continue  # portal/__init__.py: the app factory, which imports the features when called
        edges = graph.setdefault(source, {})
        for node in _module_level(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.module != "portal" else [f"portal.{a.name}" for a in node.names]
            else:
                names = [alias.name for alias in node.names]
            for name in names:
                target = _unit(name)
                if target and target != source:
                    edges.setdefault(target, set()).add(module)
    return graph


def cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Each strongly connected group of more than one unit (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _explain(graph, group) -> str:
    return "; ".join(f"{a} -> {b} ({', '.join(sorted(graph[a][b]))})"
                     for a in group for b in sorted(graph.get(a, {})) if b in group)


def test_no_import_cycle_between_the_packages_of_portal():
    graph = import_graph(PORTAL)
    assert {"core", "tenancy", "audit", "auth", "orgs", "admin", "members", "exchange"} <= set(graph)
    found = cycles(graph)
    assert not found, "import cycles: " + " | ".join(_explain(graph, group) for group in found)


def test_core_imports_no_feature_package():
    graph = import_graph(PORTAL)
    features = set(graph.get("core", {})) - FOUNDATION
    assert not features, {name: sorted(graph["core"][name]) for name in features}


def test_the_check_finds_a_planted_cycle_and_a_feature_imported_by_core(tmp_path):
    """The graph builder against a small planted package, so the tests above cannot pass by
    reading nothing."""
    root = tmp_path / "portal"
    for folder, text in {
        "core": "from portal.extensions import db\n",
        "orgs": "from portal.core import clock\nfrom portal.members.models import Member\n",
        "members": "import portal.orgs.services\n\ndef late():\n    from portal.exchange import shared\n",
        "exchange": "try:\n    from portal.members import services\nexcept ImportError:\n    pass\n",
    }.items():
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
        (root / folder / "services.py").write_text(text)
    (root / "extensions.py").write_text("")
    graph = import_graph(root)
    assert cycles(graph) == [["members", "orgs"]]  # the import inside a function is not an edge
    assert graph["exchange"] == {"members": {"portal.exchange.services"}}
    assert set(graph["core"]) == {"extensions"}
    (root / "core" / "web.py").write_text("from portal import auth\n")
    assert "auth" in import_graph(root)["core"]


@pytest.mark.parametrize("unit", ["core", "tenancy", "audit", "auth"])
def test_the_lower_layers_import_nothing_above_them(unit):
    """core < tenancy < audit < auth < orgs < the rest: each of the four bottom layers imports only
    those below it (and the app's foundation)."""
    order = ["core", "tenancy", "audit", "auth"]
    allowed = set(order[:order.index(unit)]) | FOUNDATION
    graph = import_graph(PORTAL)
    above = set(graph.get(unit, {})) - allowed
    assert not above, {name: sorted(graph[unit][name]) for name in above}
