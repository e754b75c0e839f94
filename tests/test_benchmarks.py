"""Smoke test of the benchmark script on the tiny size (no timing assertions)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import ideal_instance, job

from greenopt.optimization import JobState, WindowState, build_sets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root holds benchmarks/

from benchmarks.registry import SIZES  # noqa: E402
from benchmarks.run import COLUMNS, main  # noqa: E402


def test_benchmark_writes_one_row_per_size_and_policy(tmp_path, capsys):
    out, steps = tmp_path / "bench.csv", tmp_path / "steps.csv"
    args = ["--sizes", "tiny", "--policies", "milp,rolling", "--in-process"]
    main([*args, "--set", '{"time_limit_s": 5}', "--out", str(out), "--steps", str(steps)])
    table = pd.read_csv(out)
    assert list(table.columns) == [*COLUMNS, "machine"]
    assert table.policy.tolist() == ["milp", "rolling"]
    assert table.valid.all()
    assert (table.slots == SIZES["tiny"].days * 96).all()
    assert (table.n_binaries > 0).all() and (table.peak_rss_mib > 0).all()
    rolling = table.iloc[1]
    assert rolling.steps == 24 and rolling.step_gap_p50 <= rolling.step_gap_max
    assert rolling.param_update_s > 0 and rolling.step_rebuild_s > 0
    assert "tiny/rolling" in capsys.readouterr().out
    records = pd.read_csv(steps)
    assert len(records) == 24 and set(records.policy) == {"rolling"}
    assert records.model_gap.median() == rolling.step_gap_p50
    main([*args[:3], "milp", "--in-process", "--set", '{"time_limit_s": 5}', "--out", str(out)])
    assert len(pd.read_csv(out)) == 3  # appended, so runs can be compared


@pytest.mark.slow
def test_rolling_structure_compares_consecutive_steps(capsys):
    from benchmarks.rolling_structure import compare_steps, rolling_steps, template_cost
    from benchmarks.rolling_structure import main as structure_main

    # a generous limit: tiny's steps solve in well under a second, but a 2 s budget fell back to
    # the greedy plan on a loaded machine, and a fallback step has no model to compare
    table = structure_main(["--size", "tiny", "--step-h", "2", "--time-limit-s", "30"])
    assert len(table) == 11  # 12 two-hour steps over a day
    assert "identical structure in" in capsys.readouterr().out
    # a window compared with itself is identical; with the next window it is not
    steps = rolling_steps(SIZES["tiny"].instance(), {"step_h": 2, "time_limit_s": 30})
    sets = [step.sets for step in steps]
    assert compare_steps([sets[0], sets[0]]).identical.all()
    assert not compare_steps(sets[:2]).identical.any()
    # the fixed-structure model, its extra arcs fixed to 0, has the sparse model's optimum
    busiest = max(steps, key=lambda step: step.record().n_binaries)
    cost = template_cost(busiest, limit_s=30)
    assert cost["fixed_binaries"] > cost["sparse_binaries"]
    gap = max(cost["fixed_gap"], cost["sparse_gap"])
    assert (
        abs(cost["fixed_objective"] - cost["sparse_objective"])
        <= (gap + 1e-6) * abs(cost["sparse_objective"]) + 1e-6
    )


def test_compare_steps_counts_what_the_next_window_shares_by_hand():
    """Sites A, B (8 Gbps), one job at A; moves take 0.1 h, so one departing at slot d lands in
    slot d. Window [0, 3) (job pending at A) has arcs A→B and B→A at d = 0, 1, 2 and (job, site,
    slot) triples for slots 0-2; window [1, 4) (job at A since 0 h) has them at d = 1, 2, 3 and
    slots 1-3. Shifted by one slot the first window keeps d = 1, 2 and slots 1-2: the second
    window shares 4 of its 6 arcs and 4 of its 6 triples."""
    from benchmarks.rolling_structure import compare_steps

    inst = ideal_instance(
        {"A": [0.0] * 4, "B": [0.0] * 4}, [job(work_h=4.0, checkpoint_gb=360)], [("A", "B", 8.0)]
    )
    first = build_sets(inst, WindowState.initial(inst), 3, feasibility_filter=False)
    state = WindowState(1, (JobState("at_site", 0, 0.0, 3.0),))
    second = build_sets(inst, state, 4, feasibility_filter=False)
    assert (len(first.arcs), len(second.arcs)) == (6, 6)
    (row,) = compare_steps([first, second]).to_dict("records")
    assert row["arcs_shared"] == pytest.approx(4 / 6)
    assert row["jst_shared"] == pytest.approx(4 / 6)
    assert (row["arcs"], row["jst"], row["identical"]) == (6, 6, False)
