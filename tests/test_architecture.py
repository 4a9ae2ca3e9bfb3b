"""The house keeps its floors: the core at the ground, the stages on it, the orchestrator on top.

import-linter (pyproject.toml, run by .ci/run and here) checks who imports whom; these tests check how:
every project import at the top of its module (none hidden in a function to dodge a cycle), and no
heavy library at the top of any module (they load in the backends that need them, when they need them).
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("storyteller", "planners", "retrieval", "generators", "stitching")
HEAVY = {"torch", "diffusers", "transformers", "faiss", "ray", "spacy", "sentence_transformers", "decord", "langchain"}
HEAVY_PREFIXES = ("langchain_",)


def modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return ["." * node.level + (node.module or "")]
    return []


def is_project(name: str) -> bool:
    return name.startswith(".") or name.split(".")[0] in PACKAGES


def test_the_project_has_modules_to_check():
    assert len(modules()) > 40


def test_no_project_module_is_imported_inside_a_function():
    found = []
    for path in modules():
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(function):
                    found += [
                        f"{path.relative_to(ROOT)}:{node.lineno} {name}" for name in imported(node) if is_project(name)
                    ]
    assert found == []


def test_heavy_libraries_are_never_imported_at_the_top_of_a_module():
    found = []
    for path in modules():
        for node in ast.parse(path.read_text()).body:  # module level (a TYPE_CHECKING block is an `if`: skipped)
            for name in imported(node):
                top = name.split(".")[0]
                if top in HEAVY or top.startswith(HEAVY_PREFIXES):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert found == []


def test_the_cli_loads_no_heavy_library():
    code = f"import sys, storyteller.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")


@pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter is in the test extra")
def test_the_import_contracts_hold():
    out = subprocess.run([LINT_IMPORTS], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-2000:]
    assert "Floors: the orchestrator on the stages, the stages on the core KEPT" in out.stdout


def test_a_stage_registers_only_its_own_backends():
    """A lazy "module:attribute" registration is an import the contracts cannot see: a stage naming another
    stage's module there would reach into it. Each registers what lives in its own package."""
    for path in modules():
        package = path.relative_to(ROOT).parts[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "register" and len(node.args) == 2:
                target = node.args[1]
                if isinstance(target, ast.Constant) and isinstance(target.value, str) and ":" in target.value:
                    assert target.value.split(".")[0] == package, f"{path}: registers {target.value}"
