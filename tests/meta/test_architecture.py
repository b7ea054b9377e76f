"""The statistical core is pure: it imports nothing from the rest of metacalc, does no I/O, has no import cycle,
and refuses with ValueError subclasses only."""

import ast
from pathlib import Path

import pytest

import metacalc.meta
from metacalc.meta import errors

PACKAGE = Path(metacalc.meta.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
# Libraries that read or write files, parse arguments or talk to people: the edges' business.
IO_MODULES = {"argparse", "csv", "io", "json", "openpyxl", "os", "pandas", "pathlib", "shutil", "subprocess", "sys",
              "tempfile", "metacalc.files"}


def imports(path):
    """Every module imported anywhere in the file (also inside functions), as absolute names."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names if node.module == "metacalc.meta")
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_nothing_from_the_rest_of_metacalc_and_no_io(path):
    names = imports(path)
    outside = {n for n in names if n.startswith("metacalc") and not n.startswith("metacalc.meta")}
    assert not outside, f"{path.name} imports {outside}"
    assert not names & IO_MODULES, f"{path.name} imports {names & IO_MODULES}"
    calls = {node.func.id for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert "open" not in calls and "print" not in calls, path.name


def test_no_import_cycle():
    graph = {path.stem: {n.split(".")[2] for n in imports(path) if n.startswith("metacalc.meta.")}
             for path in MODULES}
    state = {}

    def visit(node, trail):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", f"import cycle: {' -> '.join(trail + [node])}"
        state[node] = "open"
        for child in sorted(graph.get(node, ())):
            visit(child, trail + [node])
        state[node] = "done"

    for module in sorted(graph):
        visit(module, [])


def test_every_refusal_is_a_value_error():
    for error in (errors.InvalidInput, errors.EstimationError, errors.GlmmNotEstimable):
        assert issubclass(error, ValueError)
    assert issubclass(errors.GlmmNotEstimable, errors.EstimationError)
    error = errors.InvalidInput(["first problem", "second problem"])
    assert error.problems == ["first problem", "second problem"] and str(error) == "first problem\nsecond problem"
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                # (AttributeError: the package's lazy __getattr__ must raise it for unknown names)
                assert node.exc.func.id in {"InvalidInput", "EstimationError", "GlmmNotEstimable", "AttributeError"}, (
                    f"{path.name}:{node.lineno} raises {node.exc.func.id}")


def test_the_package_exports_resolve():
    for name in metacalc.meta.__all__:
        assert getattr(metacalc.meta, name) is not None
