"""`greenopt compare`: the table, the files and the plots, on the bundled tiny instance."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from greenopt.cli import app
from greenopt.compare import PolicySpec, compare
from greenopt.files import load_instance

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


def test_policy_specs_parse_settings():
    spec = PolicySpec.parse("rolling:forecast=noisy:step_h=2")
    assert (spec.name, spec.settings) == ("rolling", {"forecast": "noisy", "step_h": "2"})
    assert spec.label == "rolling:forecast=noisy:step_h=2"
    with pytest.raises(ValueError, match="key=value"):
        PolicySpec.parse("milp:oops")


def test_milp_scores_no_worse_than_any_heuristic_on_the_common_objective():
    inst = load_instance(TINY)
    names = ["static", "energy_greedy", "feasibility_greedy", "pause_greedy"]
    specs = [PolicySpec.parse(n) for n in names]
    specs.append(
        PolicySpec(
            "milp",
            "milp",
            {"time_limit_s": 20, "candidate_sites": 0, "departure_every": 1, "mip_rel_gap": 0},
        )
    )
    table, results = compare(inst, specs)
    assert table["valid"].all()
    milp = table.loc["milp"]
    assert milp["model_bound"] <= milp["objective"] + 1e-6
    # energy_greedy may use moves the filtered MILP cannot: compare only what it can represent
    for name in names:
        if table.loc[name, "infeasible_migrations"] == 0:
            assert milp["objective"] <= table.loc[name, "objective"] + 1e-6, name


def test_compare_command_writes_table_runs_and_plots(tmp_path):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        app, ["compare", str(TINY), "--policies", "static,feasibility_greedy", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "nre_kwh" in result.output and "feasibility_greedy" in result.output
    table = pd.read_csv(out / "comparison.csv")
    assert table["policy"].tolist() == ["static", "feasibility_greedy"]
    # the bound is on by default on a small instance: one value, every row's ratio ≥ 1
    assert "lower_bound" in result.output and "bound_ratio" in result.output
    assert table["lower_bound"].nunique() == 1 and (table["bound_ratio"] >= 1 - 1e-9).all()
    assert (table["bound_ratio"] * table["lower_bound"]).round(6).tolist() == table[
        "objective"
    ].round(6).tolist()
    for name in ("static", "feasibility_greedy"):
        assert (out / "runs" / name / "metrics.json").exists()
        assert (out / "runs" / name / "assignment.csv").exists()
    for png in ("power_feasibility_greedy.png", "gantt_feasibility_greedy.png", "policies.png"):
        assert (out / png).stat().st_size > 10_000


def test_compare_rejects_unknown_policies(tmp_path):
    result = CliRunner().invoke(app, ["compare", str(TINY), "--policies", "static,nope"])
    assert result.exit_code == 2
    assert "unknown policies" in result.output
