"""The package layout: core modules import neither the command line nor rich printing, and no
module shadows a standard-library module."""

import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "greenopt"
CORE = ["greenopt.files", "greenopt.schedule", "greenopt.simulation", "greenopt.runner"]


@pytest.mark.parametrize("module", CORE)
def test_core_imports_no_cli_nor_rich(module):
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich' "
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
