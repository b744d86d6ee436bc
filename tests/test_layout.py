"""The layout of docs/layout.md holds: no import circle between classify's modules, not even through an
import inside a function, and the project's tools are not part of the package."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "classify"


def _imports() -> dict[str, set[str]]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            targets |= {f for f in found if f in modules and f != name}
        graph[name] = targets - {"classify"}  # the package's __init__ imports nothing of them at import time
    return graph


def _cycle(graph):
    state = {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return path + [node, target]
            if target not in state:
                found = visit(target, path + [node])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def test_no_import_circle_between_the_modules_of_classify():
    graph = _imports()
    assert "classify.model" in graph and graph["classify.estimator"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_what_a_model_file_holds_does_not_depend_on_how_it_is_trained():
    graph = _imports()
    for module in ("classify.config", "classify.scoring"):
        assert not graph[module] & {"classify.training", "classify.estimator", "classify.parallel"}, module


def test_the_tools_are_not_in_the_package():
    for name in ("bench.py", "bench_shares.py", "datacard.py"):
        assert not (PACKAGE / name).exists()
        assert (PACKAGE.parent / "tools" / name).exists()
