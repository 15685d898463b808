"""The package's architecture, pinned: the README's Architecture section names every folder, every module
opens with its job, and the layers hold: imports run one way, no cycles, the checking core never imports pytest.

    front ends (plugin, cli, batch, api) and instructor tools
      -> grading -> checks -> student / numerics / inputs -> exercise
    grading also uses sandbox, which uses only student and numerics;
    report (the result model and every writer) imports nothing of the grading layers;
    errors and vocabulary sit under everything.

Every import counts, at module level or inside a function, under TYPE_CHECKING too: a lazy import
that goes the wrong way is still a dependency the wrong way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gradcheck_suite"
BASE = {"errors", "vocabulary"}
CORE = {"exercise", "inputs", "numerics", "student", "checks"}
# each unit (a subpackage, or a top-level module) and the units it may import besides itself and BASE
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "vocabulary": set(),
    "references": set(),
    "exercise": set(),
    "inputs": {"exercise"},
    "numerics": {"exercise"},
    "student": {"exercise", "numerics"},
    "checks": {"exercise", "inputs", "numerics", "student"},
    "sandbox": {"student", "numerics"},
    "report": set(),
    "grading": CORE | {"sandbox", "report"},
    "instructor": CORE | {"grading", "report"},
    "api": CORE,
    "batch": CORE | {"grading", "report", "sandbox"},
    "cluster": CORE | {"grading", "report", "sandbox", "batch"},
    "plugin": CORE | {"grading", "report", "sandbox"},
    "notebook": CORE | {"grading", "report"},
    "cli": CORE | {"grading", "report", "sandbox", "instructor", "batch", "cluster", "plugin"},
    "field_reference": {"instructor"},
}
MAY_IMPORT_PYTEST = {"plugin", "cli"}


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    name = module_name(path, root)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from . import x` may name a submodule: count it as one
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
            found.append((node.lineno, target))
    return found


def unit_of(module: str, root_name: str) -> str | None:
    parts = module.split(".")
    if parts[0] != root_name or len(parts) < 2:
        return None
    return parts[1]


def problems(root: Path) -> list[str]:
    """Every import that goes the wrong way, every pytest import in the core, every cycle."""
    root_name = root.name
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    found = []
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in sorted(modules.items()):
        unit = unit_of(name, root_name)
        if unit is None:
            continue  # the package's own __init__: the facade, whose imports are lazy
        allowed = ALLOWED.get(unit)
        if allowed is None:
            found.append(f"{path.relative_to(root.parent)}: {unit} is not in the layer table; add it to ALLOWED")
            continue
        for line, target in imports_of(path, root):
            if target.split(".")[0] in ("pytest", "_pytest") and unit not in MAY_IMPORT_PYTEST:
                found.append(f"{path.relative_to(root.parent)}:{line}: the checking core imports pytest")
            other = unit_of(target, root_name)
            if other is None or target not in modules:
                continue
            graph[name].add(target)
            if other != unit and other not in allowed | BASE:
                found.append(f"{path.relative_to(root.parent)}:{line}: {unit} imports {target} "
                             f"({other} is above {unit}, or beside it)")
    found += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component) + [sorted(component)[0]])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_imports_follow_the_layers():
    assert problems(PACKAGE) == []


def test_every_unit_of_the_package_is_in_the_layer_table():
    units = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())}
    assert units == set(ALLOWED)


@pytest.mark.parametrize("wrong, expected", [
    ("exercise/load.py", "exercise imports fake.grading.runner (grading is above exercise, or beside it)"),
    ("report/model.py", "report imports fake.grading.runner (grading is above report, or beside it)"),
    ("checks/forward.py", "the checking core imports pytest"),
    ("grading/runner.py", "import cycle: fake.grading.runner -> fake.grading.search -> fake.grading.runner"),
])
def test_the_checker_catches_a_wrong_way_import(tmp_path, wrong, expected):
    """A small package laid out like ours, with one import added the wrong way."""
    root = tmp_path / "fake"
    for unit in ("exercise", "report", "checks", "grading"):
        (root / unit).mkdir(parents=True)
        (root / unit / "__init__.py").write_text('"""x"""\n')
    (root / "__init__.py").write_text("")
    (root / "exercise" / "load.py").write_text("import math\n")
    (root / "report" / "model.py").write_text("from dataclasses import dataclass\n")
    (root / "checks" / "forward.py").write_text("from ..exercise.load import x\n")
    (root / "grading" / "runner.py").write_text("from ..checks.forward import x\nfrom .search import y\n")
    (root / "grading" / "search.py").write_text("import hypothesis\n")
    assert problems(root) == []
    bad = {"exercise/load.py": "from ..grading.runner import x\n", "report/model.py": "from ..grading import runner\n",
           "checks/forward.py": "import pytest\n", "grading/runner.py": ""}[wrong]
    if wrong == "grading/runner.py":
        (root / "grading" / "search.py").write_text("from .runner import z\n")
    else:
        (root / wrong).write_text((root / wrong).read_text() + bad)
    assert any(p.endswith(expected) for p in problems(root)), problems(root)


def architecture_tree() -> list[str]:
    """The names under `gradcheck_suite/` in the README's Architecture section (folders end in /)."""
    readme = (PACKAGE.parent / "README.md").read_text()
    section = readme.split("\n## Architecture\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```\n", 2)[1]
    lines = block.splitlines()
    assert lines[0] == "gradcheck_suite/"
    return [line.split()[0] for line in lines[1:] if line.strip()]


def test_the_readme_architecture_matches_the_tree_both_ways():
    named = architecture_tree()
    folders = {name.rstrip("/") for name in named if name.endswith("/")}
    modules = {name for name in named if name.endswith(".py")}
    subpackages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    top_modules = {p.name for p in PACKAGE.glob("*.py")}
    assert folders == subpackages, "README folders vs the package's subpackages"
    assert modules == top_modules, "README top-level modules vs the package's"


def test_every_module_opens_with_a_docstring_of_its_job():
    for path in sorted(PACKAGE.rglob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc and doc.strip(), f"{path.relative_to(PACKAGE.parent)} has no docstring"


def test_the_public_face_loads_each_name_on_first_use_without_torch():
    import subprocess
    import sys

    code = ("import sys, gradcheck_suite as g; assert 'torch' not in sys.modules, 'import'; "
            "import gradcheck_suite.plugin; assert 'torch' not in sys.modules, 'plugin'; "
            "assert sorted(g.__all__) == sorted(['__version__', *g._EXPORTS]); "
            "missing = [n for n in g.__all__ if getattr(g, n, None) is None]; assert not missing, missing; "
            "print(g.Status.PASSED, g.GradeBook.__module__, g.check_function.__module__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["passed", "gradcheck_suite.report.model", "gradcheck_suite.api"]
