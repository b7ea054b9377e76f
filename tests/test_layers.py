"""Data flows one way: the imports between metacalc's packages run from the command line down to the data.

    cli -> pipeline -> render -> review -> data        (and the statistical core, meta, below them all)

Every import counts, at the top of a module or inside a function (lazy imports are imports all the same). The
rules for ``metacalc.meta`` itself (it imports nothing from the rest, no cycle inside it) belong to the core's
branch and are not checked here.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "metacalc"
# The readers of the sheets and the dataset: figures and the report read the results, never these.
DATA_READERS = ("metacalc.data.reader", "metacalc.data.sheets", "metacalc.data.validate", "metacalc.data.dataset",
                "metacalc.data.columns", "metacalc.data.column_rules", "metacalc.data.table_rules",
                "metacalc.data.records_rules", "metacalc.data.appraisal_rules", "metacalc.data.template",
                "metacalc.data.dictionary")
FORBIDDEN = {
    "metacalc.data": ("metacalc.review", "metacalc.render", "metacalc.cli", "metacalc.pipeline"),
    "metacalc.review": ("metacalc.render", "metacalc.cli", "metacalc.pipeline"),
    "metacalc.render": ("metacalc.cli", "metacalc.pipeline") + DATA_READERS,
    "metacalc.pipeline": ("metacalc.cli",),
}
# Kept for a test of another branch (tests/test_workflow.py); its docstring says when it goes.
EXEMPT: set[str] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The metacalc modules a module imports (a name imported from a package is its submodule when one exists)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
    return {module for module in found if module == "metacalc" or module.startswith("metacalc.")}


def inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_a_layer_above_it(layer):
    wrong = sorted(f"{name} imports {target}" for name in MODULES if inside(name, layer) and name not in EXEMPT
                   for target in imports_of(name) if any(inside(target, bad) for bad in FORBIDDEN[layer]))
    assert wrong == []


def test_no_import_cycle_outside_the_statistical_core():
    graph = {name: {t for t in imports_of(name) if t in MODULES and not inside(t, "metacalc.meta")}
             for name in MODULES if not inside(name, "metacalc.meta") and name not in EXEMPT}
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_rules_see_the_imports():
    # A check that cannot fail is no check: the known edges of the layering are found.
    assert "metacalc.data.prisma_flow" in imports_of("metacalc.render.prisma")
    assert "metacalc.review.results" in imports_of("metacalc.render.figures")
    assert "metacalc.meta" in imports_of("metacalc.review.response")  # inside a function
