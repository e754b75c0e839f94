"""The package layout: only the command line (``greenopt/cli/``) imports typer or rich, no core
module imports the command line, and no module shadows a standard-library module."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "greenopt"
CLI = PACKAGE / "cli"
CORE = [
    "greenopt.files",
    "greenopt.schedule",
    "greenopt.simulation",
    "greenopt.runner",
    "greenopt.compare",
    "greenopt.sweep.execute",
    "greenopt.bounds",
    "greenopt.paper.build",
]
CLI_ONLY = ("typer", "rich", "click", "greenopt.cli")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function (``from greenopt import
    cli`` counts as ``greenopt.cli``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def is_cli_only(name: str) -> bool:
    return any(name == top or name.startswith(top + ".") for top in CLI_ONLY)


def test_only_the_command_line_imports_typer_rich_or_itself():
    core = [p for p in PACKAGE.rglob("*.py") if CLI not in p.parents]
    assert len(core) > 50  # the walk sees the package
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(filter(is_cli_only, imported_modules(p))) for p in core
    }
    assert {p: names for p, names in offenders.items() if names} == {}


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n    from rich.table import Table\n\ndef g():\n    from greenopt import cli\n"
    )
    assert sorted(filter(is_cli_only, imported_modules(module))) == [
        "greenopt.cli",
        "rich.table",
        "rich.table.Table",
    ]


@pytest.mark.parametrize("module", CORE)
def test_core_imports_no_cli_nor_rich(module):
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'typer') "
        "or m.startswith('greenopt.cli')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]", f"{module} imports {out.strip()}"


def test_no_module_shadows_the_standard_library():
    names = {p.stem for p in PACKAGE.rglob("*.py")} | {
        p.name for p in PACKAGE.rglob("*") if p.is_dir()
    }
    assert not names & set(sys.stdlib_module_names) - {"__init__", "__main__"}


@pytest.mark.parametrize("module", ["greenopt.optimization", "greenopt.bounds"])
def test_optimizer_imports_no_policy(module):
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m.startswith('greenopt.policies')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]", f"{module} imports {out.strip()}"
