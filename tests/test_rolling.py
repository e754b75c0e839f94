"""Rolling-horizon MILP: state across step seams, equivalence with the offline MILP, fallbacks."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import ideal_instance, job, random_instance

from greenopt.forecast import NoisyForecaster, PersistenceForecaster
from greenopt.optimization import schedule_objective
from greenopt.policies.milp import MilpPolicy
from greenopt.policies.rolling import RollingPolicy
from greenopt.schedule import ScheduleBuilder
from greenopt.simulation import simulate
from greenopt.state import StateError, state_at

EXACT = {"candidate_sites": 0, "departure_every": 1, "mip_rel_gap": 0.0, "time_limit_s": 30.0}


def test_window_state_carries_in_flight_finished_pending_and_present_jobs():
    inst = ideal_instance(
        {"A": [0.0] * 8, "B": [0.0] * 8},
        [
            job("moving", work_h=3.0),
            job("done", work_h=1.0),
            job("late", arrival_h=5.5),
            job("here", arrival_h=0.5, work_h=4.0),
        ],
        links=[("A", "B", 1.0)],
        slot_minutes=60.0,
    )
    builder = ScheduleBuilder(inst)
    builder.run[0, 0:2] = 1.0  # 'moving' computes 2 h at A, then leaves
    builder.add_migration(0, 3, 1, 5408.0)  # departs at 3 h, lands at 4.5022 h (slot 4)
    builder.run[1, 0] = 1.0  # 'done' finished in slot 0
    builder.run[3, 0] = 0.5  # 'here' arrived at 0.5 h
    builder.run[3, 1:4] = 1.0

    state = state_at(inst, builder, 4)
    moving, done, late, here = state.jobs
    assert (moving.status, moving.site, moving.src, moving.depart_slot) == ("in_flight", 1, 0, 3)
    assert moving.ready_h == pytest.approx(3 + 5408 / 3600)
    assert moving.remaining_h == pytest.approx(1.0)
    assert done.status == "finished"
    assert (late.status, late.ready_h, late.remaining_h) == ("pending", 5.5, 1.0)
    assert (here.status, here.site, here.ready_h) == ("at_site", 0, 0.5)
    assert here.remaining_h == pytest.approx(4.0 - 3.5)
    # at the start of slot 5 the checkpoint has landed: the job lies at B since 4.50 h
    after = state_at(inst, builder, 5).jobs[0]
    assert (after.status, after.site) == ("at_site", 1)
    assert after.ready_h == pytest.approx(3 + 5408 / 3600)
    # a state is only defined for a schedule fixed up to t0 (no move departing later)
    with pytest.raises(StateError, match="departing at or after 3"):
        state_at(inst, builder, 3)


def test_perfect_forecast_over_the_whole_horizon_matches_the_offline_milp():
    inst = random_instance(3)
    offline = MilpPolicy(**EXACT, warm_start=()).plan(inst)
    rolling_policy = RollingPolicy(
        **EXACT, forecast="perfect", step_h=1.0, lookahead_h=inst.params.horizon_h
    )
    rolling = rolling_policy.plan(inst)
    sim = simulate(inst, rolling.schedule)
    assert sim.valid, sim.violations
    assert rolling.info["fallback_steps"] == 0
    value = schedule_objective(inst, rolling.schedule, sim, rolling_policy.settings)
    assert value == pytest.approx(offline.info["objective"], rel=1e-6, abs=1e-6)


def test_migration_spanning_a_step_seam_is_carried_in_flight():
    # 100 GB over 1 Gbps at efficiency 1 with 60 s overhead: 860 s, longer than... a 10-minute
    # step (slots of 10 min): the move departs in one step and lands in the next.
    dark, sunny = [0.0] * 18, [0.0] * 2 + [5.0] * 16
    inst = ideal_instance(
        {"A": dark, "B": sunny},
        [job("j", work_h=2.0, checkpoint_gb=100.0)],
        links=[("A", "B", 1.0)],
        slot_minutes=10.0,
        checkpoint_overhead_s=60.0,
    )
    policy = RollingPolicy(**EXACT, forecast="perfect", step_h=1 / 6, lookahead_h=3.0)
    out = policy.plan(inst)
    sim = simulate(inst, out.schedule)
    assert sim.valid, sim.violations
    moves = out.schedule.migrations
    assert len(moves) == 1
    (move,) = moves.itertuples(index=False)
    assert move.arrive_slot == move.depart_slot + 1  # 860 s > one 600 s slot: lands a step later
    # after landing the job computes only at B and finishes: no grid energy beyond the move's
    assert sim.metrics["unfinished_jobs"] == 0
    offline = MilpPolicy(**EXACT, warm_start=()).plan(inst)
    value = schedule_objective(inst, out.schedule, sim, policy.settings)
    assert value == pytest.approx(offline.info["objective"], rel=1e-6, abs=1e-6)


def test_noisy_rolling_schedule_is_valid_and_records_every_step():
    inst = random_instance(5)
    out = RollingPolicy(forecast="noisy", forecast_error=0.3, step_h=1.0, lookahead_h=4.0).plan(
        inst
    )
    sim = simulate(inst, out.schedule)
    assert sim.valid, sim.violations
    assert out.info["steps"] == len(out.info["step_records"]) <= 12
    assert out.info["forecast"] == "noisy" and out.info["forecast_error"] == 0.3
    assert all(r["status"] in ("optimal", "time_limit") for r in out.info["step_records"])


def test_each_step_starts_from_the_better_of_the_shifted_plan_and_the_greedy_plan():
    inst = random_instance(5)
    out = RollingPolicy(forecast="noisy", step_h=1.0, lookahead_h=4.0, candidate_sites=0).plan(inst)
    assert simulate(inst, out.schedule).valid
    first, *later = out.info["step_records"]
    assert len(first["start_objectives"]) == 1  # no previous plan yet: the greedy plan
    assert all(len(r["start_objectives"]) == 2 for r in later)
    assert any(r["start_objectives"][1] is not None for r in later)
    for r in out.info["step_records"]:
        starts = [v for v in r["start_objectives"] if v is not None]
        assert r["start_objectives"][r["start"]] == min(starts)
        assert r["objective"] <= min(starts) + 1e-6  # never worse than the start it was given


def test_a_step_that_cannot_be_solved_falls_back_to_feasibility_greedy():
    inst = random_instance(5)
    out = RollingPolicy(forecast="perfect", time_limit_s=1e-4, lookahead_h=4.0).plan(inst)
    assert out.info["fallback_steps"] == out.info["steps"] > 0
    assert "no time left" in out.info["step_records"][0]["error"]
    assert simulate(inst, out.schedule).valid


def test_forecasters_observe_the_past_and_vary_the_future():
    actual = np.arange(3 * 96, dtype=float).reshape(1, -1)  # 3 days of 15-minute slots
    persistence = PersistenceForecaster().forecast(actual, 100, 0.25)
    assert np.array_equal(persistence[:, :100], actual[:, :100])
    assert persistence[0, 100] == actual[0, 4]  # same time one day earlier
    assert persistence[0, 195] == actual[0, 99]  # still within a day of the issue: observed
    assert persistence[0, 196] == actual[0, 4]  # more than a day ahead: two days earlier
    noisy = NoisyForecaster(0.2, seed=1)
    first, again = noisy.forecast(actual, 10, 0.25), noisy.forecast(actual, 10, 0.25)
    assert np.array_equal(first, again)  # seeded
    assert np.array_equal(first[:, :10], actual[:, :10])
    assert not np.array_equal(first[:, 10:], actual[:, 10:])


def test_rolling_with_coarse_periods_further_out_is_valid_and_smaller():
    inst = random_instance(5)
    common = dict(forecast="noisy", step_h=1.0, lookahead_h=8.0, candidate_sites=0)
    fine = RollingPolicy(**common).plan(inst)
    coarse = RollingPolicy(**common, coarsen_after_h=2.0, coarse_factor=4).plan(inst)
    sim = simulate(inst, coarse.schedule)
    assert sim.valid, sim.violations
    first_fine, first_coarse = fine.info["step_records"][0], coarse.info["step_records"][0]
    assert first_coarse["n_periods"] < first_fine["n_periods"]
    assert first_coarse["n_variables"] < first_fine["n_variables"]
    assert coarse.info["coarsen_after_h"] == 2.0 and coarse.info["fallback_steps"] == 0
