"""The README's test command in a fresh clone with nothing beside it: the repository carries every
file its tests read (no sibling folder of the checkout)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def _checkout_head() -> str:
    """The committed HEAD of the checkout these tests run from; skip when there is none."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    try:
        top = _git("rev-parse", "--show-toplevel", cwd=REPO)
        head = _git("rev-parse", "HEAD", cwd=REPO)
    except subprocess.CalledProcessError:
        pytest.skip("the tests are not run from a git checkout")
    if Path(top).resolve() != REPO:
        pytest.skip(f"the tests are not run from a git checkout of the repository ({top})")
    return head


@pytest.mark.slow
def test_readme_test_command_collects_in_a_lone_clone(tmp_path):
    head = _checkout_head()
    clone = tmp_path / "greenopt"
    _git("clone", "-q", "--no-checkout", str(REPO), str(clone), cwd=tmp_path)
    _git("fetch", "-q", "origin", head, cwd=clone)  # HEAD may be on a branch not yet cloned
    _git("checkout", "-q", "--detach", head, cwd=clone)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["greenopt"]  # nothing beside it

    env = {**os.environ, "PYTHONPATH": str(clone)}
    env.pop("PYTEST_ADDOPTS", None)
    imported = subprocess.run(
        [sys.executable, "-c", "import greenopt; print(greenopt.__file__)"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert Path(imported.stdout.strip()).resolve().is_relative_to(clone.resolve()), imported

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-4000:]
    collected = re.search(r"(\d+) tests? collected", done.stdout)
    assert collected and int(collected.group(1)) > 0, report[-4000:]
    # the conformance vectors come from inside the clone: one test per case
    assert "tests/test_vectors.py::test_vector[valid]" in done.stdout, report[-4000:]
