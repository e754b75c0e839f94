"""The simulator (SPEC §4–§5) on tiny instances built in code, every expected figure derived by
hand in the comments. Slots are one hour (Δ = 1 h) unless said otherwise, so kW·slot = kWh."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
from helpers import make_instance
from typer.testing import CliRunner

from greenopt.cli import app
from greenopt.files import ScheduleReadError, read_schedule, write_instance, write_schedule
from greenopt.instance import Instance, Job, Link, Site
from greenopt.schedule import ASSIGNMENT_COLUMNS, MIGRATION_COLUMNS, Schedule, ScheduleBuilder
from greenopt.simulation import METRIC_NAMES, simulate

# T_mig = overhead + 8·GB/(B·eff) + latency = 8·GB/B s with these parameters (B in Gbps).
PARAMS = dict(
    checkpoint_overhead_s=0.0,
    link_efficiency=1.0,
    network_kwh_per_gb=0.001,
    transfer_endpoint_kw=0.2,
    alpha=1.0,
)


def schedule(rows, moves=()) -> Schedule:
    return Schedule(
        pd.DataFrame(list(rows), columns=ASSIGNMENT_COLUMNS),
        pd.DataFrame(list(moves), columns=MIGRATION_COLUMNS),
    )


def found(result) -> set[tuple[str, str | None, int | None]]:
    return {(v.rule, v.job_id, v.slot) for v in result.violations}


# ---- instance M: one job migrating a -> b over a 1 Gbps link, 6 one-hour slots ------------------
#   R_a = 1 kW × [1, 1, 0, 0, 0, 0];  R_b = 2 kW × [0, 0, 1, .5, .25, 1] = [0, 0, 2, 1, .5, 2]
#   site c is isolated (no link) and draws nothing.
#   j1: 1 kW, 3 h of work, 675 GB checkpoint -> T_mig = 8·675/1 = 5400 s = 1.5 h.
J1 = Job("j1", power_kw=1.0, work_h=3.0, checkpoint_gb=675.0, arrival_h=0.0, origin="a")
SITES_M = (
    Site("a", gpus=2, renewable_kw=1.0, profile="pa", pue=1.0, idle_kw=0.5, carbon="ca"),
    Site("b", gpus=2, renewable_kw=2.0, profile="pb", pue=1.2, idle_kw=0.0),
    Site("c", gpus=1, renewable_kw=0.0, profile="pa", pue=1.0, idle_kw=0.0),
)
PROFILES_M = {
    "pa": [1, 1, 0, 0, 0, 0],
    "pb": [0, 0, 1, 0.5, 0.25, 1],
    "ca": [100] * 6,
}


def instance_m(*jobs: Job) -> Instance:
    return make_instance(
        SITES_M, jobs or (J1,), (Link("a", "b", 1.0),), profiles=PROFILES_M, **PARAMS
    )


# j1 computes slot 0 at a, departs at 1 h, arrives at 1 + 1.5 = 2.5 h (slot 2, half usable),
# then computes 0.5 + 1 + 0.5 h at b: 1 + 0.5 + 1 + 0.5 = 3 h = work_h, done inside slot 4.
ROWS_M = [
    ("j1", 0, "a", 1.0),
    ("j1", 1, None, 0.0),
    ("j1", 2, "b", 0.5),
    ("j1", 3, "b", 1.0),
    ("j1", 4, "b", 0.5),
]
MOVE_M = ("j1", 1, "a", "b", 5400.0, 2)


def with_rows(base, **changes):
    """Replace the run fraction (or the whole row, given a tuple) of some slots: s3=0.2."""
    out = []
    for row in base:
        key = f"s{row[1]}"
        if key in changes:
            new = changes[key]
            row = new if isinstance(new, tuple) else (row[0], row[1], row[2], new)
        out.append(row)
    return out


def test_migration_spanning_one_and_a_half_slots():
    result = simulate(instance_m(), schedule(ROWS_M, [MOVE_M]))
    assert result.valid, result.violations
    m = result.metrics
    # Loads P = idle + pue·IT:  P_a = [1.5, .5, .5, .5, .5, .5]; P_b = 1.2·[0, 0, .5, 1, .5, 0]
    np.testing.assert_allclose(result.load_kw[0], [1.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(result.load_kw[1], [0, 0, 0.6, 1.2, 0.6, 0])
    # r_a = min(P_a, R_a) = [1, .5, 0, 0, 0, 0] (1.5 kWh), g_a = [.5, 0, .5, .5, .5, .5] (2.5 kWh)
    # r_b = [0, 0, .6, 1, .5, 0] (2.1 kWh), g_b = [0, 0, 0, .2, .1, 0] (0.3 kWh)
    np.testing.assert_allclose(result.renewable_used_kw[1], [0, 0, 0.6, 1.0, 0.5, 0])
    np.testing.assert_allclose(result.grid_kw[0], [0.5, 0, 0.5, 0.5, 0.5, 0.5])
    # E_mig = 0.001·675 + 0.2·1.5 = 0.975 kWh -> nre = 2.5 + 0.3 + 0.975 = 3.775
    assert m["nre_kwh"] == pytest.approx(3.775)
    assert m["renewable_kwh"] == pytest.approx(3.6)
    assert m["renewable_share"] == pytest.approx(3.6 / (3.6 + 3.775))
    # curtailment R − r: a [0, .5, 0...] = 0.5, b [0, 0, 1.4, 0, 0, 2] = 3.4 -> 3.9 kWh
    assert m["curtailed_kwh"] == pytest.approx(3.9)
    # only a has carbon: 2.5 kWh × 100 g/kWh = 0.25 kg (migration energy excluded)
    assert m["carbon_kg"] == pytest.approx(0.25)
    # computing in slot 4 spans [4, 4.5] h -> C = 4.5 h, slowdown 4.5/3
    assert result.completion_h[0] == pytest.approx(4.5)
    assert m["jct_mean_h"] == pytest.approx(4.5) and m["jct_p95_h"] == pytest.approx(4.5)
    assert m["slowdown_mean"] == pytest.approx(1.5) and m["slowdown_std"] == 0.0
    assert m["migrations"] == 1 and m["migrated_gb"] == pytest.approx(675)
    assert m["migration_downtime_h"] == pytest.approx(1.5)
    # W_b(2, j1): slot 2 has R_b − 0 = 2 ≥ 1.2·1, slot 3 has 1 < 1.2 -> W = 1 h;
    # T_mig = 5400 s > alpha·W·3600 = 3600 s -> infeasible
    assert m["infeasible_migrations"] == 1
    assert (m["unfinished_jobs"], m["unfinished_work_h"], m["deadline_misses"]) == (0, 0.0, 0)
    assert list(m) == list(METRIC_NAMES)
    np.testing.assert_array_equal(result.location[0], [0, -1, 1, 1, 1, 1])
    # link a->b per slot: 675 GB over [1, 2.5) h -> 450 GB in slot 1 = capacity 1·3600/8 (fits)


def test_feasible_migration_is_not_counted():
    # Same move with a 2 Gbps link: T_mig = 8·675/2 = 2700 s = 0.75 h, arrival 1.75 h (slot 1,
    # 0.25 usable). W_b(1, j1) = 0 (R_b = 0 in slot 1) -> infeasible; so make b's profile
    # [0, 1, 1, 1, 1, 1]·2 kW: W_b(1) = 5 h, alpha·W·3600 = 18000 ≥ 2700 s, and
    # T_be = E_mig/(1.2·1) = (0.675 + 0.2·0.75)/1.2 = 0.6875 h ≤ W − τ = 5 − 0.75 -> feasible.
    inst = make_instance(
        SITES_M,
        (J1,),
        (Link("a", "b", 2.0),),
        profiles={**PROFILES_M, "pb": [0, 1, 1, 1, 1, 1]},
        **PARAMS,
    )
    rows = [("j1", 0, "a", 1.0), ("j1", 1, "b", 0.25), ("j1", 2, "b", 1.0), ("j1", 3, "b", 0.75)]
    result = simulate(inst, schedule(rows, [("j1", 1, "a", "b", 2700.0, 1)]))
    assert result.valid, result.violations
    assert result.metrics["infeasible_migrations"] == 0
    # slot 3 computes [3, 3.75] h: C = 3.75
    assert result.metrics["jct_mean_h"] == pytest.approx(3.75)


# ---- instance B: one site without renewables, jobs arriving mid-slot / unfinished ---------------
def instance_b(gpus=2) -> Instance:
    site = Site("a", gpus=gpus, renewable_kw=0.0, profile="p", pue=1.0, idle_kw=0.0)
    jobs = (
        Job("j1", power_kw=1.0, work_h=1.25, checkpoint_gb=1, arrival_h=0.5, origin="a",
            deadline_h=1.7),
        Job("j2", power_kw=1.0, work_h=10.0, checkpoint_gb=1, arrival_h=0.0, origin="a",
            deadline_h=3.0),
        Job("j3", power_kw=1.0, work_h=5.0, checkpoint_gb=1, arrival_h=2.0, origin="a",
            deadline_h=10.0),
    )  # fmt: skip
    return make_instance((site,), jobs, profiles={"p": [0, 0, 0, 0]}, **PARAMS)


ROWS_B = [
    ("j1", 0, "a", 0.5),  # arrives at 0.5 h: computes [0.5, 1.0]
    ("j1", 1, "a", 0.75),  # 0.5 + 0.75 = 1.25 h: done at 1.75 h
    ("j2", 0, "a", 1.0),
    ("j2", 1, "a", 1.0),
    ("j2", 2, "a", 1.0),
    ("j2", 3, "a", 1.0),  # 4 of 10 h by the horizon
    ("j3", 0, "a", 0.0),  # before its arrival slot: allowed with run_fraction 0
    ("j3", 2, "a", 1.0),
    ("j3", 3, "a", 1.0),  # 2 of 5 h by the horizon
]


def test_mid_slot_arrival_and_unfinished_jobs():
    result = simulate(instance_b(), schedule(ROWS_B))
    assert result.valid, result.violations
    m = result.metrics
    # C = [1.75, 4 (censored), 4 (censored)]; JCT = C − arrival = [1.25, 4, 2]
    np.testing.assert_allclose(result.completion_h, [1.75, 4.0, 4.0])
    np.testing.assert_allclose(result.computed_h, [1.25, 4.0, 2.0])
    assert m["jct_mean_h"] == pytest.approx(7.25 / 3)
    # sorted [1.25, 2, 4], linear p95 at position 0.95·2 = 1.9: 2 + 0.9·(4 − 2) = 3.8
    assert m["jct_p95_h"] == pytest.approx(3.8)
    # slowdown = JCT/work = [1.0, 0.4, 0.4]: mean 0.6, p95 0.4 + 0.9·0.6 = 0.94,
    # population std sqrt((0.16 + 0.04 + 0.04)/3) = sqrt(0.08)
    assert m["slowdown_mean"] == pytest.approx(0.6)
    assert m["slowdown_p95"] == pytest.approx(0.94)
    assert m["slowdown_std"] == pytest.approx(math.sqrt(0.08))
    assert m["unfinished_jobs"] == 2
    assert m["unfinished_work_h"] == pytest.approx((10 - 4) + (5 - 2))
    # j1 finished at 1.75 > deadline 1.7; j2 unfinished with deadline 3 ≤ horizon 4;
    # j3 unfinished but its deadline (10 h) lies beyond the horizon -> 2 misses
    assert m["deadline_misses"] == 2
    # no renewables: P = Σ power·run = [1.5, 1.75, 2, 2] -> 7.25 kWh, all grid, no carbon data
    assert m["nre_kwh"] == pytest.approx(7.25)
    assert m["renewable_kwh"] == 0.0 and m["renewable_share"] == 0.0
    assert "carbon_kg" not in m
    assert m["migrations"] == 0 and m["migration_downtime_h"] == 0.0


def test_curtailment_when_renewable_exceeds_load():
    # R = 4·[1, 0.5] = [4, 2]; P = idle 1 + pue 1.5 × 1 kW = 2.5 in both slots
    # r = [2.5, 2] (4.5 kWh), g = [0, 0.5], curtailed = [1.5, 0] -> 1.5 kWh
    site = Site("s", gpus=1, renewable_kw=4.0, profile="p", pue=1.5, idle_kw=1.0)
    job = Job("j", power_kw=1.0, work_h=2.0, checkpoint_gb=1, arrival_h=0.0, origin="s")
    inst = make_instance((site,), (job,), profiles={"p": [1.0, 0.5]}, **PARAMS)
    result = simulate(inst, schedule([("j", 0, "s", 1.0), ("j", 1, "s", 1.0)]))
    m = result.metrics
    assert (m["renewable_kwh"], m["nre_kwh"], m["curtailed_kwh"]) == pytest.approx((4.5, 0.5, 1.5))
    assert m["renewable_share"] == pytest.approx(0.9)
    np.testing.assert_allclose(result.renewable_used_kw, [[2.5, 2.0]])


def test_quarter_hour_slots_migration_arriving_mid_slot():
    # Δ = 0.25 h. 10 Gbps link, 450 GB: T_mig = 8·450/10 = 360 s = 0.1 h. Departing at slot 2
    # (0.5 h) it arrives at 0.6 h, in slot 2 (0.5–0.75 h) with 0.6 of the slot usable.
    site_a = Site("a", gpus=1, renewable_kw=0.0, profile="p", pue=1.0)
    site_b = Site("b", gpus=1, renewable_kw=0.0, profile="p", pue=1.0)
    job = Job("j", power_kw=1.0, work_h=0.5, checkpoint_gb=450, arrival_h=0.0, origin="a")
    inst = make_instance(
        (site_a, site_b),
        (job,),
        (Link("a", "b", 10.0),),
        profiles={"p": [0] * 8},
        slot_minutes=15,
        **PARAMS,
    )
    # 0.25 h in slot 0, idle at a in slot 1, then 0.6·0.25 = 0.15 h in slot 2 and 0.4·0.25 = 0.1 h
    # in slot 3: 0.25 + 0.15 + 0.1 = 0.5 h = work_h.
    rows = [("j", 0, "a", 1.0), ("j", 1, "a", 0.0), ("j", 2, "b", 0.6), ("j", 3, "b", 0.4)]
    result = simulate(inst, schedule(rows, [("j", 2, "a", "b", 360.0, 2)]))
    assert result.valid, result.violations
    # slot 3 computes [0.75, 0.85] h -> C = 0.85 h
    assert result.completion_h[0] == pytest.approx(0.85)
    # the move arrives inside slot 2, so computing there spans [0.6, 0.75] h; a wider share fails
    bad = simulate(
        inst, schedule(with_rows(rows, s2=0.61, s3=0.39), [("j", 2, "a", "b", 360.0, 2)])
    )
    assert found(bad) == {("location", "j", 2)}


# ---- one violation of each rule -----------------------------------------------------------------
def test_departing_in_the_arrival_slot_after_arrival_h_is_refused_but_next_slot_is_fine():
    late = dataclasses.replace(J1, arrival_h=0.5)
    inst = instance_m(late)
    # depart at 0 h, before arrival at 0.5 h; arrival 1.5 h -> slot 1 half usable; 0.5+1+1+0.5
    rows = [("j1", 0, None, 0.0), ("j1", 1, "b", 0.5), ("j1", 2, "b", 1.0), ("j1", 3, "b", 1.0),
            ("j1", 4, "b", 0.5)]  # fmt: skip
    result = simulate(inst, schedule(rows, [("j1", 0, "a", "b", 5400.0, 1)]))
    assert found(result) == {("arrival", "j1", 0)}
    # computing in slot 0 only after 0.5 h, departing at 1 h (arrival 2.5 h): 0.5+0.5+1+1 = 3
    rows = [("j1", 0, "a", 0.5), ("j1", 1, None, 0.0), ("j1", 2, "b", 0.5), ("j1", 3, "b", 1.0),
            ("j1", 4, "b", 1.0)]  # fmt: skip
    result = simulate(inst, schedule(rows, [MOVE_M]))
    assert result.valid, result.violations
    assert result.completion_h[0] == pytest.approx(5.0)  # slot 4 fully: [4, 5]


def test_arrival_computing_before_arrival_h():
    # j1 arrives at 0.5 h: 0.6 of slot 0 is too much; 0.6 + 0.65 = 1.25 keeps work exact
    rows = [("j1", 0, "a", 0.6), ("j1", 1, "a", 0.65), *ROWS_B[2:]]
    assert found(simulate(instance_b(), schedule(rows))) == {("arrival", "j1", 0)}


def test_arrival_computing_before_arrival_slot():
    # j3 arrives in slot 2; 0.25 in slot 1 keeps a's 2 GPUs enough there (0.75 + 1 + 0.25)
    rows = [*ROWS_B[:6], ("j3", 1, "a", 0.25), *ROWS_B[7:]]
    assert found(simulate(instance_b(), schedule(rows))) == {("arrival", "j3", 1)}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # 0.3 computed in transit; slot 4 lowered to 0.2 so work stays 3 h
        (with_rows(ROWS_M, s1=0.3, s4=0.2), {("location", "j1", 1)}),
        # the row puts j1 at a while it lies at b
        (with_rows(ROWS_M, s3=("j1", 3, "a", 1.0)), {("location", "j1", 3)}),
        # 0.6 of slot 2 but only 0.5 follows the checkpoint's arrival at 2.5 h
        (with_rows(ROWS_M, s2=0.6, s4=0.4), {("location", "j1", 2)}),
        # a non-empty site while in transit, computing nothing
        (with_rows(ROWS_M, s1=("j1", 1, "a", 0.0)), {("location", "j1", 1)}),
    ],
)
def test_location(rows, expected):
    assert found(simulate(instance_m(), schedule(rows, [MOVE_M]))) == expected


def test_location_move_from_a_site_the_job_is_not_at():
    rows = [("j1", 0, "a", 1.0), ("j1", 1, None, 0.0), ("j1", 2, "a", 0.5), ("j1", 3, "a", 1.0),
            ("j1", 4, "a", 0.5)]  # fmt: skip
    result = simulate(instance_m(), schedule(rows, [("j1", 1, "b", "a", 5400.0, 2)]))
    assert found(result) == {("location", "j1", 1)}


@pytest.mark.parametrize(
    ("move", "valid"),
    [
        (("j1", 1, "a", "b", 5400.0, 1), False),  # arrive_slot must be 2 (arrival 2.5 h)
        (("j1", 1, "a", "b", 5000.0, 2), False),  # transfer_s ≠ T_mig
        (("j1", 1, "a", "b", 5400.015, 2), True),  # within 0.01 + 1e-6·5400 = 0.0154 s
        (("j1", 1, "a", "b", 5399.984, 2), False),  # 0.016 s off
    ],
)
def test_migration_timing_record(move, valid):
    result = simulate(instance_m(), schedule(ROWS_M, [move]))
    assert found(result) == (set() if valid else {("migration_timing", "j1", 1)})


def test_migration_timing_no_path():
    # c has no link: the move is recorded with transfer_s 5400 s, placed, and refused
    rows = [(j, t, "c" if s == "b" else s, f) for j, t, s, f in ROWS_M]
    result = simulate(instance_m(), schedule(rows, [("j1", 1, "a", "c", 5400.0, 2)]))
    assert found(result) == {("migration_timing", "j1", 1)}


def test_migration_timing_departure_before_previous_arrival():
    # first move arrives at 2.5 h; the second departs b at 2 h (arrives at a at 3.5 h, slot 3)
    rows = [("j1", 0, "a", 1.0), ("j1", 1, None, 0.0), ("j1", 2, None, 0.0), ("j1", 3, "a", 0.5),
            ("j1", 4, "a", 1.0), ("j1", 5, "a", 0.5)]  # fmt: skip
    moves = [MOVE_M, ("j1", 2, "b", "a", 5400.0, 3)]
    assert found(simulate(instance_m(), schedule(rows, moves))) == {("migration_timing", "j1", 2)}
    # departing at 3 h instead (≥ 2.5 h) is fine: arrival 4.5 h, 0.5 + 0.5 + 1 = 3 h... with
    # 1 (slot 0) + 0.5 (slot 2 at b) + 0 (slot 3 in transit) + 0.5 (slot 4) + 1 (slot 5) = 3 h
    rows = [("j1", 0, "a", 1.0), ("j1", 1, None, 0.0), ("j1", 2, "b", 0.5), ("j1", 3, None, 0.0),
            ("j1", 4, "a", 0.5), ("j1", 5, "a", 1.0)]  # fmt: skip
    moves = [MOVE_M, ("j1", 3, "b", "a", 5400.0, 4)]
    result = simulate(instance_m(), schedule(rows, moves))
    assert result.valid, result.violations
    assert result.metrics["migrations"] == 2
    assert result.metrics["migration_downtime_h"] == pytest.approx(3.0)


def test_migration_timing_arrival_past_horizon():
    # done after slots 0–2; a move departing at 5 h arrives at 6.5 h > horizon 6 h
    rows = [("j1", 0, "a", 1.0), ("j1", 1, "a", 1.0), ("j1", 2, "a", 1.0)]
    result = simulate(instance_m(), schedule(rows, [("j1", 5, "a", "b", 5400.0, 6)]))
    assert found(result) == {("migration_timing", "j1", 5)}


def test_non_migratable():
    fixed = dataclasses.replace(J1, migratable=False)
    result = simulate(instance_m(fixed), schedule(ROWS_M, [MOVE_M]))
    assert found(result) == {("non_migratable", "j1", 1)}


def test_capacity():
    # a has 2 GPUs; a 2-GPU job j2 beside j1 in slot 0 needs 1 + 2 = 3
    j2 = Job("j2", power_kw=1.0, work_h=1.0, checkpoint_gb=1, arrival_h=0.0, origin="a", gpus=2)
    result = simulate(instance_m(J1, j2), schedule([*ROWS_M, ("j2", 0, "a", 1.0)], [MOVE_M]))
    assert found(result) == {("capacity", None, 0)}
    assert "j1" in result.violations[0].message and "j2" in result.violations[0].message
    # half of j2 in slot 0 fits exactly (1 + 2·0.5 = 2), the rest in slot 1
    result = simulate(
        instance_m(J1, j2), schedule([*ROWS_M, ("j2", 0, "a", 0.5), ("j2", 1, "a", 0.5)], [MOVE_M])
    )
    assert result.valid, result.violations


def test_link_capacity_two_moves_sharing_a_link():
    # a–c, b–c, c–d, all 1 Gbps: 450 GB per direction and slot. Each 360 GB checkpoint takes
    # 8·360/1 = 2880 s = 0.8 h, so alone it puts 360 GB on each link of its path in slot 1.
    # j1 a->c->d and j2 b->c->d together put 720 GB > 450 on c->d in slot 1.
    sites = [Site(s, gpus=2, renewable_kw=0.0, profile="p") for s in "abcd"]
    links = (Link("a", "c", 1.0), Link("b", "c", 1.0), Link("c", "d", 1.0))
    no_sun = {"p": [0] * 4}

    def job(name, origin):
        return Job(name, power_kw=1.0, work_h=2.0, checkpoint_gb=360, arrival_h=0, origin=origin)

    def rows(name, origin, dst):  # 1 + 0.2 (after arrival at 1.8 h) + 0.8 = 2 h
        return [(name, 0, origin, 1.0), (name, 1, dst, 0.2), (name, 2, dst, 0.8)]

    inst = make_instance(sites, (job("j1", "a"), job("j2", "b")), links, profiles=no_sun, **PARAMS)
    moves = [("j1", 1, "a", "d", 2880.0, 1), ("j2", 1, "b", "d", 2880.0, 1)]
    result = simulate(inst, schedule(rows("j1", "a", "d") + rows("j2", "b", "d"), moves))
    assert found(result) == {("link_capacity", None, 1)}
    assert "c->d" in result.violations[0].message
    # each alone fits
    for k in range(2):
        name, origin = ("j1", "a") if k == 0 else ("j2", "b")
        alone = make_instance(sites, (job(name, origin),), links, profiles=no_sun, **PARAMS)
        assert simulate(alone, schedule(rows(name, origin, "d"), [moves[k]])).valid
    # opposite directions on c–d do not compete (full duplex): j2 starts at d and goes to b
    inst = make_instance(sites, (job("j1", "a"), job("j2", "d")), links, profiles=no_sun, **PARAMS)
    moves = [("j1", 1, "a", "d", 2880.0, 1), ("j2", 1, "d", "b", 2880.0, 1)]
    assert simulate(inst, schedule(rows("j1", "a", "d") + rows("j2", "d", "b"), moves)).valid


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # slot 4 at full speed: 1 + 0.5 + 1 + 1 = 3.5 h > 3 h
        (with_rows(ROWS_M, s4=1.0), {("work", "j1", 4)}),
        # done at 4.5 h, then computes 0.5 h more in slot 5
        ([*ROWS_M, ("j1", 5, "b", 0.5)], {("work", "j1", 5)}),
        # a row after completion with run_fraction 0 is fine
        ([*ROWS_M, ("j1", 5, "b", 0.0)], set()),
    ],
)
def test_work(rows, expected):
    assert found(simulate(instance_m(), schedule(rows, [MOVE_M]))) == expected


@pytest.mark.parametrize(
    ("rows", "moves", "expected"),
    [
        ([*ROWS_M, ROWS_M[3]], [MOVE_M], {("format", "j1", 3)}),  # duplicate row
        ([*ROWS_M, ("zz", 0, "a", 0.0)], [MOVE_M], {("format", "zz", None)}),  # unknown job
        (with_rows(ROWS_M, s3=("j1", 3, "nowhere", 1.0)), [MOVE_M], {("format", "j1", 3)}),
        # run_fraction outside [0, 1] (counted as 1 and 0 towards work, which stays 3 h)
        (with_rows(ROWS_M, s3=("j1", 3, "b", 1.5)), [MOVE_M], {("format", "j1", 3)}),
        ([*ROWS_M, ("j1", 5, "b", -0.1)], [MOVE_M], {("format", "j1", 5)}),
        # slot 3 missing: only 2 h computed, unfinished -> rows through slot 5 required
        ([r for r in ROWS_M if r[1] != 3], [MOVE_M], {("format", "j1", 3), ("format", "j1", 5)}),
        # a move to the site it leaves (ignored otherwise: j1 stays at a)
        ([("j1", t, "a", 1.0) for t in range(3)], [("j1", 1, "a", "a", 0.0, 1)],
         {("format", "j1", 1)}),
        ([("j1", 7, "a", 0.0), *ROWS_M], [MOVE_M], {("format", "j1", None)}),  # slot past end
    ],
)  # fmt: skip
def test_format(rows, moves, expected):
    assert found(simulate(instance_m(), schedule(rows, moves))) == expected


def test_every_violation_is_reported():
    # three faults at once: computing in transit, a duplicate row, too much work at the end
    rows = [*with_rows(ROWS_M, s1=0.3, s4=1.0), ROWS_M[0]]
    result = simulate(instance_m(), schedule(rows, [MOVE_M]))
    assert found(result) == {("location", "j1", 1), ("format", "j1", 0), ("work", "j1", 4)}
    assert result.metrics is None
    report = result.to_json()
    assert report["valid"] is False and len(report["violations"]) == 3
    assert all(len(v) == 4 for v in report["violations"])


# ---- reading and the command line ---------------------------------------------------------------
def test_read_schedule_round_trip(tmp_path):
    write_schedule(schedule(ROWS_M, [MOVE_M]), tmp_path)
    back = read_schedule(tmp_path)
    assert back.assignment["site"].iloc[1] is None  # empty cell: in transit
    assert (
        simulate(instance_m(), back).metrics
        == simulate(instance_m(), schedule(ROWS_M, [MOVE_M])).metrics
    )


def test_builder_writes_rows_m_with_none_in_transit():
    # ROWS_M and MOVE_M built slot by slot: in transit is None (not NaN), as read_schedule gives
    inst = instance_m()
    builder = ScheduleBuilder(inst)
    assert builder.add_migration(0, 1, inst.site_index["b"], 5400.0) == 2
    builder.run[0, :5] = [1.0, 0.0, 0.5, 1.0, 0.5]
    built = builder.to_schedule()
    assert list(built.assignment.itertuples(index=False, name=None)) == ROWS_M
    assert built.assignment["site"].iloc[1] is None
    assert list(built.migrations.itertuples(index=False, name=None)) == [MOVE_M]
    assert simulate(inst, built).valid


def test_read_schedule_errors(tmp_path):
    write_schedule(schedule(ROWS_M, [MOVE_M]), tmp_path)
    (tmp_path / "assignment.csv").write_text("job_id,slot,site\nj1,0,a\n")
    (tmp_path / "migrations.csv").unlink()
    with pytest.raises(ScheduleReadError) as info:
        read_schedule(tmp_path)
    assert info.value.problems == [
        f"{tmp_path / 'assignment.csv'}: missing column(s) run_fraction",
        f"{tmp_path / 'migrations.csv'}: missing file",
    ]


def test_unparsable_numbers_make_the_schedule_unreadable(tmp_path):
    write_schedule(schedule(ROWS_M, [MOVE_M]), tmp_path)
    path = tmp_path / "assignment.csv"
    path.write_text(path.read_text().replace("j1,3,b,1", "j1,3,b,lots"))
    with pytest.raises(ScheduleReadError) as info:
        read_schedule(tmp_path)
    assert info.value.problems == [f"{path}:5:run_fraction: expected a number, got 'lots'"]


@pytest.fixture
def folders(tmp_path):
    inst_dir, sched_dir = tmp_path / "inst", tmp_path / "sched"
    write_instance(instance_m(), inst_dir)
    write_schedule(schedule(ROWS_M, [MOVE_M]), sched_dir)
    return inst_dir, sched_dir


def test_cli_evaluate_exit_codes(folders):
    inst_dir, sched_dir = folders
    runner = CliRunner()
    ok = runner.invoke(app, ["evaluate", str(inst_dir), str(sched_dir)])
    assert ok.exit_code == 0, ok.output
    assert "nre_kwh" in ok.output and "3.775" in ok.output
    as_json = runner.invoke(app, ["evaluate", str(inst_dir), str(sched_dir), "--json"])
    assert as_json.exit_code == 0
    report = json.loads(as_json.stdout)
    assert report["valid"] is True and report["metrics"]["nre_kwh"] == pytest.approx(3.775)

    write_schedule(schedule(with_rows(ROWS_M, s4=1.0), [MOVE_M]), sched_dir)
    bad = runner.invoke(app, ["evaluate", str(inst_dir), str(sched_dir)])
    assert bad.exit_code == 1
    assert "work" in bad.output and "j1" in bad.output
    bad_json = json.loads(
        runner.invoke(app, ["evaluate", str(inst_dir), str(sched_dir), "--json"]).stdout
    )
    assert bad_json["violations"][0][:3] == ["work", "j1", 4] and bad_json["metrics"] is None

    (sched_dir / "migrations.csv").unlink()
    unreadable = runner.invoke(app, ["evaluate", str(inst_dir), str(sched_dir)])
    assert unreadable.exit_code == 2
    assert "migrations.csv: missing file" in unreadable.stderr

    (inst_dir / "jobs.csv").unlink()
    write_schedule(schedule(ROWS_M, [MOVE_M]), sched_dir)
    assert runner.invoke(app, ["evaluate", str(inst_dir), str(sched_dir)]).exit_code == 2
