"""`greenopt feasibility` and `greenopt solve` as a user runs them."""

import json
from pathlib import Path

from typer.testing import CliRunner

from greenopt.cli import app

INSTANCES = Path(__file__).resolve().parents[1] / "instances"
VECTORS = Path(__file__).resolve().parent / "data" / "vectors"
SPEC_METRICS = json.loads((VECTORS / "valid" / "expected.json").read_text())["metrics"].keys()


def test_feasibility_prints_domain_smax_window_stats_and_plots(tmp_path):
    plot = tmp_path / "domain.png"
    result = CliRunner().invoke(
        app,
        [
            "feasibility",
            str(INSTANCES / "default"),
            "--sizes",
            "1,200",
            "--bandwidths",
            "1,100",
            "--windows",
            "2.5,9.5",
            "--plot",
            str(plot),
        ],
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "S_max(B, W)" in out and "Renewable windows per site" in out and "de-wind1" in out
    # S_max(1 Gbps, 2.5 h) = (0.1·2.5·3600 − 60)·1·0.9/8 = 840·0.1125 = 94.5 GB
    assert "94.5" in out
    assert plot.stat().st_size > 20_000


def test_feasibility_without_instance_and_bad_numbers():
    runner = CliRunner()
    assert runner.invoke(app, ["feasibility", "--sizes", "10", "--bandwidths", "10"]).exit_code == 0
    bad = runner.invoke(app, ["feasibility", "--sizes", "ten"])
    assert bad.exit_code == 2 and "comma-separated numbers" in bad.output


def test_solve_writes_schedule_and_metrics_with_spec_names(tmp_path):
    out = tmp_path / "fg"
    result = CliRunner().invoke(
        app, ["solve", str(INSTANCES / "tiny"), "--policy", "feasibility_greedy", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    # tiny has no carbon columns, so carbon_kg is absent (SPEC §5)
    assert set(metrics) == {"policy", "settings", "info", *SPEC_METRICS} - {"carbon_kg"}
    assert metrics["policy"] == "feasibility_greedy"
    assert metrics["settings"]["forecast"] == "perfect"
    assert (out / "assignment.csv").exists() and (out / "migrations.csv").exists()
    # the written schedule evaluates to the same metrics
    again = CliRunner().invoke(app, ["evaluate", str(INSTANCES / "tiny"), str(out), "--json"])
    assert again.exit_code == 0
    assert json.loads(again.output)["metrics"]["nre_kwh"] == metrics["nre_kwh"]


def test_solve_passes_solver_settings_and_records_them(tmp_path):
    out = tmp_path / "milp"
    result = CliRunner().invoke(
        app,
        [
            "solve",
            str(INSTANCES / "tiny"),
            "--policy",
            "milp",
            "--time-limit",
            "20",
            "--gap",
            "0",
            "--no-feasibility-filter",
            "--set",
            "candidate_sites=0",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["settings"]["time_limit_s"] == 20
    assert metrics["settings"]["feasibility_filter"] is False
    assert metrics["settings"]["candidate_sites"] == 0
    assert {"solve_s", "build_s", "model_gap"} <= set(metrics)
    assert metrics["info"]["model_bound"] <= metrics["info"]["objective"] + 1e-6


def test_solve_rejects_settings_the_policy_does_not_have():
    result = CliRunner().invoke(
        app, ["solve", str(INSTANCES / "tiny"), "--policy", "static", "--time-limit", "5"]
    )
    assert result.exit_code == 2
    assert "has no setting 'time_limit_s'" in result.output
