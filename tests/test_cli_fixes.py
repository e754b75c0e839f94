"""Smaller command-line defects of issue 11: the compare table at 80 columns, --version, option
names in errors, settings errors, --slurm without its extra, the sweep ETA, S_max, docstrings."""

import dataclasses
import io
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from greenopt.cli import app
from greenopt.cli.output import print_comparison
from greenopt.cli.solve import DEFAULT_COMPARISON
from greenopt.compare import (
    TABLE_METRICS,
    PolicySpec,
    compare,
    format_metric,
    short_headers,
)
from greenopt.feasibility import (
    domain_table,
    is_feasible,
    max_checkpoint_gb,
    max_feasible_checkpoint_gb,
    smax_conditions_table,
)
from greenopt.files import load_instance
from greenopt.instance import Job, Parameters, Site
from greenopt.network import Route
from greenopt.policies import policy_classes
from greenopt.policies.base import parse_key_values, settings_errors
from greenopt.sweep.execute import SweepProgress, estimate_eta_s

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"


# ---- compare table on an 80-column terminal -----------------------------------------------------


@pytest.fixture(scope="module")
def default_lineup_table() -> pd.DataFrame:
    """A comparison table with the default line-up's labels: the four heuristics' real rows on
    tiny, and two solver rows (their rows copied, with solver columns) under the solver labels."""
    inst = load_instance(TINY)
    names = ["static", "energy_greedy", "feasibility_greedy", "pause_greedy"]
    table, _ = compare(inst, [PolicySpec.parse(n) for n in names])
    labels = DEFAULT_COMPARISON.split(",")
    full = pd.concat([table, table.iloc[:2]])
    full.index = pd.Index(labels, name="policy")
    full["solve_s"] = [None] * 4 + [90.31, 98.2]
    full["model_gap"] = [None] * 4 + [1.2e-5, 0.0031]
    full["model_bound"] = [None] * 4 + [229.04, 12345.6]
    full["lower_bound"] = 223.89
    full["bound_ratio"] = [1.29, 1.083, 1.084, 2.84, 1.023, 1.034]
    return full


def render(table: pd.DataFrame, width: int) -> list[str]:
    buffer = io.StringIO()
    print_comparison(Console(width=width, file=buffer, color_system=None), table)
    return buffer.getvalue().splitlines()


def test_compare_table_fits_80_columns_with_distinct_headers(default_lineup_table):
    lines = render(default_lineup_table, 80)
    assert max(len(line) for line in lines) <= 80
    header_lines = [line for line in lines if line.startswith("metric")]
    assert len(header_lines) == 1  # the default line-up fits one table
    headers = header_lines[0].split()[1:]
    assert headers == short_headers(list(default_lineup_table.index))
    assert len(set(headers)) == len(headers) == 6
    # every metric row shows its whole name and one cell per policy
    for metric in TABLE_METRICS:
        row = next(line for line in lines if line.split()[:1] == [metric])
        assert len(row.split()) == 1 + len(headers), row
    # the legend gives each shortened header's full label
    assert "  rolling = rolling:forecast=noisy:step_h=2:time_limit_s=4" in lines
    assert "  feasib. = feasibility_greedy" in lines
    assert not any("…" in line for line in lines)


def test_compare_table_splits_when_policies_do_not_fit(default_lineup_table):
    lines = render(default_lineup_table, 50)
    assert max(len(line) for line in lines) <= 50
    headers = [h for line in lines if line.startswith("metric") for h in line.split()[1:]]
    assert headers == short_headers(list(default_lineup_table.index))  # each once, in order


def test_short_headers_are_distinct_for_variants_of_one_policy():
    labels = ["rolling:step_h=1", "rolling:step_h=2", "milp", "static"]
    assert short_headers(labels) == ["rolling1", "rolling2", "milp", "static"]


@pytest.mark.parametrize(
    ("value", "metric", "text"),
    [
        (None, "nre_kwh", "–"),
        (float("nan"), "nre_kwh", "–"),
        (0.0, "nre_kwh", "0"),
        (5.0, "migrations", "5"),
        (1.0867, "slowdown_mean", "1.087"),
        (58.1, "nre_kwh", "58.10"),
        (636.14, "objective", "636.1"),
        (12345.6, "model_bound", "12,346"),
        (0.36234, "renewable_share", "0.362"),
        (1.2e-5, "model_gap", "1.2e-05"),
    ],
)
def test_metric_cells_are_short(value, metric, text):
    assert format_metric(value, metric) == text
    assert len(text) <= 8


# ---- --version, option names and settings errors ------------------------------------------------


def test_version():
    import importlib.metadata

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"greenopt {importlib.metadata.version('greenopt')}"


def test_a_named_option_error_prints_the_flag_the_user_typed(tmp_path):
    result = CliRunner().invoke(
        app,
        ["solve", str(TINY), "--policy", "static", "--time-limit", "5", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "--time-limit" in result.output and "--time_limit" not in result.output


def test_a_bad_setting_value_is_one_clean_line(tmp_path):
    out = tmp_path / "milp"
    result = CliRunner().invoke(
        app,
        ["solve", str(TINY), "--policy", "milp", "--set", "time_limit_s=abc", "--out", str(out)],
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == "milp: setting time_limit_s: expected a number, got 'abc'"
    assert "http" not in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_compare_checks_every_policys_settings_before_running(tmp_path):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        app,
        ["compare", str(TINY), "--policies", "static,milp:threads=x:gap=1", "--out", str(out)],
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "milp: setting threads: expected an integer, got 'x'",
        "milp: unknown setting gap",
    ]
    assert not out.exists()


def test_settings_errors_one_line_each():
    import pydantic

    with pytest.raises(pydantic.ValidationError) as caught:
        policy_classes()["rolling"](
            time_limit_s=-1, forecast="psychic", feasibility_filter="maybe", step_h="1h"
        )
    lines = settings_errors(caught.value)
    assert sorted(lines) == sorted(
        [
            "setting time_limit_s: expected a value greater than 0, got -1",
            "setting forecast: expected 'perfect', 'persistence' or 'noisy', got 'psychic'",
            "setting feasibility_filter: expected true or false, got 'maybe'",
            "setting step_h: expected a number, got '1h'",
        ]
    )


def test_one_key_value_parser_for_set_and_compare_specs():
    assert parse_key_values([" a = 1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    for bad in (["oops"], ["=1"]):
        with pytest.raises(ValueError, match="expected KEY=VALUE"):
            parse_key_values(bad)
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        PolicySpec.parse("milp:oops")
    result = CliRunner().invoke(app, ["solve", str(TINY), "--policy", "milp", "--set", "oops"])
    assert result.exit_code == 2 and "expected KEY=VALUE" in result.output


# ---- --slurm without the slurm extra ------------------------------------------------------------


@pytest.mark.parametrize("extra", [[], ["--print-job-script"]])
def test_slurm_without_dask_jobqueue_says_how_to_install(monkeypatch, tmp_path, extra):
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "dask_jobqueue.slurm", None)
    out = tmp_path / "sweep"
    sweep_file = ROOT / "experiments" / "bandwidth.toml"
    result = CliRunner().invoke(
        app, ["sweep", str(sweep_file), "--out", str(out), "--slurm", *extra]
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        'Slurm support needs dask-jobqueue (the "slurm" extra): pip install -e ".[slurm]" in a '
        'source checkout, or pip install "greenopt[slurm]"'
    ]
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


# ---- the sweep's ETA ----------------------------------------------------------------------------


def test_eta_is_unknown_until_a_run_finishes_then_shared_by_the_workers():
    assert estimate_eta_s([], remaining=10, workers=2) is None
    # 10 runs left of mean 5 s on 2 workers: 25 s (elapsed / finished × remaining would say 50 s
    # after the first run, as if one worker did them all)
    assert estimate_eta_s([4.0, 6.0], remaining=10, workers=2) == pytest.approx(25.0)
    # the time running runs already spent counts, up to the mean
    assert estimate_eta_s([5.0], 10, 2, running_s=[2.0, 2.0]) == pytest.approx(23.0)
    assert estimate_eta_s([5.0], 10, 2, running_s=[60.0, 2.0]) == pytest.approx(21.5)
    # fewer runs left than workers: they run at once
    assert estimate_eta_s([5.0], 1, 8, running_s=[1.0]) == pytest.approx(4.0)
    assert estimate_eta_s([5.0], 0, 2) == 0.0
    assert estimate_eta_s([5.0], 3, 1, running_s=[99.0]) == pytest.approx(10.0)


def test_sweep_progress_eta_moves_with_time_between_runs():
    now = [0.0]
    bar = SweepProgress("s", 10, live=False, stream=io.StringIO(), workers=2, clock=lambda: now[0])
    bar.started("a")
    bar.started("b")
    assert bar.eta_text() == "estimating…"
    now[0] = 10.0
    bar.update("ok", key="a")
    bar.started("c")
    assert bar.durations == [10.0]
    first = bar.eta_s()  # 9 left × 10 s, less b's 10 s, on 2 workers
    assert first == pytest.approx(40.0)
    now[0] = 15.0  # no run finished: the estimate still moves
    assert bar.eta_s() == pytest.approx(37.5) and bar.eta_s() < first
    now[0] = 21.0
    bar.update("failed", key="b")
    assert bar.durations == [10.0, 21.0] and bar.remaining == 8


def test_plain_progress_prints_lines_while_no_run_finishes():
    stream = io.StringIO()
    with SweepProgress("s", 3, live=False, stream=stream, every_s=0.05):
        deadline = time.monotonic() + 10
        while stream.getvalue().count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2
    assert all("0/3 runs" in line and "ETA estimating…" in line for line in lines)


def test_live_progress_shows_our_eta():
    from greenopt.cli.progress_display import RichSweepBar

    stream = io.StringIO()
    with SweepProgress("s", 2, live=True, stream=stream, live_bar=RichSweepBar) as bar:
        bar.started("a")
        bar.update("ok", key="a")
        bar.update("ok")
    assert "ETA 0:00:00" in stream.getvalue()


# ---- S_max agrees with the feasibility test -----------------------------------------------------


def grid_params():
    base = Parameters(horizon_h=24.0)
    yield base
    yield dataclasses.replace(base, alpha=0.5, checkpoint_overhead_s=5.0)
    yield dataclasses.replace(base, network_kwh_per_gb=0.0, transfer_endpoint_kw=0.0)
    yield dataclasses.replace(base, network_kwh_per_gb=0.02, link_efficiency=0.5)


@pytest.mark.parametrize("params", list(grid_params()))
def test_sizes_up_to_s_max_are_feasible_and_larger_ones_not(params):
    sizes = [0, 0.5, 1, 10, 50, 100, 200, 447, 448, 500, 900, 2000, 9450, 20000]
    for bw in (0.1, 1, 10, 100):
        for window in (0.05, 0.25, 1, 2.5, 5, 9.5):
            for power_kw, pue, latency_ms in ((0.3, 1.2, 0), (0.1, 1.5, 80), (0.7, 1.1, 5)):
                dest = Site("d", gpus=1, renewable_kw=0.0, profile="-", pue=pue)
                route = Route(("s", "d"), bw, latency_ms)
                s_max = max_feasible_checkpoint_gb(params, bw, window, power_kw, pue, latency_ms)

                def feasible(gb, power_kw=power_kw, route=route, dest=dest, window=window):
                    job = Job("j", power_kw=power_kw, work_h=1, checkpoint_gb=gb, arrival_h=0,
                              origin="s")  # fmt: skip
                    return is_feasible(params, job, route, dest, window)

                case = (bw, window, power_kw, pue, latency_ms, s_max)
                if s_max is None:
                    assert not any(feasible(gb) for gb in sizes), case
                    continue
                assert feasible(s_max), case
                assert not feasible(s_max * (1 + 1e-6) + 1e-6), case
                for gb in sizes:
                    assert feasible(gb) == (gb <= s_max), (gb, *case)


def test_smax_table_agrees_with_the_domain_table():
    params = Parameters(horizon_h=24.0)
    sizes, bws, windows = [1, 10, 50, 100, 200, 500], [1, 10, 100], [2.5, 5, 9.5]
    domain = domain_table(params, sizes, bws, windows)
    smax = smax_conditions_table(params, bws, windows).set_index(["bandwidth_gbps", "window_h"])
    for _, row in domain.iterrows():
        for w in windows:
            limit = smax.loc[(row["bandwidth_gbps"], w), "feasible_gb"]
            assert row[f"feasible_{w:g}h"] == (row["checkpoint_gb"] <= limit), (row, w)
    # the case: at 100 Gbps in a 2.5 h window the time condition alone admits 9450 GB,
    # but break-even does not admit 500 GB
    cell = smax.loc[(100, 2.5)]
    assert cell["time_gb"] == pytest.approx(9450) == max_checkpoint_gb(params, 100, 2.5)
    assert cell["energy_gb"] < 500 and cell["feasible_gb"] == cell["energy_gb"]


def test_feasibility_command_prints_both_conditions():
    result = CliRunner().invoke(
        app, ["feasibility", "--sizes", "500", "--bandwidths", "100", "--windows", "2.5"]
    )
    assert result.exit_code == 0, result.output
    assert "9450.0" in result.output and "447.2" in result.output
    assert "feasible_gb" in result.output


# ---- docstrings and the paper's build times -----------------------------------------------------


def test_run_result_and_policy_classes_have_their_own_docstrings():
    from greenopt.runner import RunResult

    for cls in (RunResult, *policy_classes().values()):
        doc = cls.__dict__.get("__doc__")
        assert doc and len(doc.split()) >= 8, cls.__name__
    docs = [cls.__dict__["__doc__"] for cls in policy_classes().values()]
    assert len(set(docs)) == len(docs)


def test_paper_help_and_readme_give_the_same_measured_build_times():
    from greenopt.cli.paper import MEASURED_WALL

    help_text = " ".join(CliRunner().invoke(app, ["paper", "--help"]).output.split())
    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `greenopt paper"))
    for size, figure in MEASURED_WALL.items():
        assert figure in help_text, size
        assert f"{size} {figure}" in row, size
