"""The conformance vectors (tests/data/vectors, see its README): every schedule gets the expected
validity, the expected set of rule names per job and, when valid, every metric to 1e-6."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from greenopt.files import load_instance, read_schedule
from greenopt.simulation import simulate

VECTORS = Path(__file__).resolve().parent / "data" / "vectors"
CASES = sorted(p.parent.name for p in VECTORS.glob("*/expected.json"))


def test_vectors_present():
    """The vectors are part of the repository: their absence is a failure, not a skip."""
    assert (VECTORS / "instance" / "instance.toml").is_file(), f"no vectors at {VECTORS}"
    assert "valid" in CASES and len(CASES) >= 2


def _rules_per_job(violations) -> dict[str | None, set[str]]:
    out: dict[str | None, set[str]] = defaultdict(set)
    for rule, job, *_ in violations:
        out[job].add(rule)
    return dict(out)


@pytest.fixture(scope="module")
def instance():
    return load_instance(VECTORS / "instance")


@pytest.mark.parametrize("case", CASES)
def test_vector(case, instance):
    expected = json.loads((VECTORS / case / "expected.json").read_text())
    result = simulate(instance, read_schedule(VECTORS / case))
    got = result.to_json()
    assert got["valid"] is expected["valid"]
    assert _rules_per_job(got["violations"]) == _rules_per_job(expected["violations"])
    if expected["valid"]:
        assert list(got["metrics"]) == list(expected["metrics"])
        for name, value in expected["metrics"].items():
            assert got["metrics"][name] == pytest.approx(value, abs=1e-6), name
    else:
        assert got["metrics"] is None
    json.dumps(got)  # the report is JSON-serialisable
