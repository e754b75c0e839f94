"""Pareto fronts and the claim-3 dominance verdict (greenopt.pareto)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenopt.compare import PolicySpec
from greenopt.evaluation import EVALUATION_SET, member_instance
from greenopt.files import load_instance
from greenopt.optimization import ModelSettings, objective_terms
from greenopt.pareto import (
    TABLE_COLUMNS,
    Front,
    compare_fronts,
    place_point,
    report,
    trace_fronts,
    verdicts,
)
from greenopt.sweep.config import load_sweep
from greenopt.sweep.transform import apply_transforms

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny"


# ---- comparisons of hand-made fronts ---------------------------------------------------------


def front(*pts):
    return Front.of([p[0] for p in pts], [p[1] for p in pts])


def test_a_front_below_another_holds_and_the_reverse_fails():
    a = front((1, 10), (2, 8), (3, 6))
    b = front((1, 12), (2, 10), (3, 8))
    c = compare_fronts(a, b)
    assert (c.verdict, c.detail) == ("holds", "better")
    assert (c.matched_low, c.matched_high, c.n_matched) == (1, 3, 3)
    assert c.diff_min == pytest.approx(-2) and c.diff_max == pytest.approx(-2)
    assert c.share_better == 1 and c.share_worse == 0
    r = compare_fronts(b, a)
    assert (r.verdict, r.detail) == ("fails", "worse")


def test_equal_fronts_tie_and_differences_within_tolerance_tie():
    a = front((1, 10), (3, 6))
    assert compare_fronts(a, a).detail == "tie"
    b = front((1, 10.1), (3, 6.1))  # 1 % and 1.7 % above: inside the 2 % tolerance
    assert (compare_fronts(a, b).verdict, compare_fronts(a, b).detail) == ("fails", "tie")
    assert compare_fronts(a, b, rel_tol=0.0).verdict == "holds"


def test_crossing_fronts_fail_with_the_share_where_each_is_better():
    a = front((1, 10), (3, 6))
    b = front((1, 8), (3, 7.9), (3.5, 7))
    c = compare_fronts(a, b)  # matched on [1, 3]: A − B goes from +2 to −1.9
    assert (c.verdict, c.detail) == ("fails", "crossing")
    assert (c.matched_low, c.matched_high) == (1, 3)
    assert c.diff_max == pytest.approx(2) and c.x_at_diff_max == 1
    assert c.diff_min == pytest.approx(-1.9) and c.x_at_diff_min == 3
    # d(x) = 2 − 1.95 (x − 1); tolerance 0.02 · b(x), b(x) = 8 − 0.05 (x − 1)
    xs = np.linspace(1, 3, 200_001)
    d = 2 - 1.95 * (xs - 1)
    tol = 0.02 * (8 - 0.05 * (xs - 1))
    assert c.share_better == pytest.approx(np.mean(d < -tol), abs=1e-4)
    assert c.share_worse == pytest.approx(np.mean(d > tol), abs=1e-4)


def test_fronts_that_do_not_overlap_are_undecided():
    a = front((1, 10), (2, 8))
    b = front((3, 7), (4, 5))
    c = compare_fronts(a, b)
    assert (c.verdict, c.detail, c.n_matched) == ("undecided", "no overlap", 0)


def test_single_point_fronts_compare_at_their_common_x():
    assert compare_fronts(front((2, 5)), front((1, 9), (3, 5))).verdict == "holds"  # 5 < 7
    assert compare_fronts(front((4, 5)), front((1, 9), (3, 5))).verdict == "undecided"


def test_matched_nre_reads_the_same_curves_the_other_way():
    a = front((1, 10), (3, 6))
    s = a.swapped()
    assert list(s.x) == [6, 10] and list(s.y) == [3, 1]
    assert s.at(8) == pytest.approx(2) and a.at(2) == pytest.approx(8)
    assert np.isnan(a.at(0.5))


def test_points_against_a_front():
    f = front((1, 10), (3, 6))
    assert place_point(2, 9, f)[0] == "dominated"  # front at x = 2: 8 < 9
    assert place_point(2, 8.1, f)[0] == "on front"
    assert place_point(2, 7, f)[0] == "beyond"
    assert place_point(5, 6.5, f) == ("dominated", pytest.approx(-0.5))  # the front's end, 6
    assert place_point(0.5, 20, f)[0] == "outside"


def hand_table(fronts: dict[str, list[tuple[float, float, float]]], points=None, **case):
    """Rows (nre, p95, std) per family: front families 'x (filter on|off)' of policy milp."""
    rows = []
    for fam, pts in fronts.items():
        for k, (nre, p95, std) in enumerate(pts):
            rows.append(
                dict(
                    family=fam,
                    kind="front",
                    slowdown_weight=float(k),
                    nre_kwh=nre,
                    slowdown_p95=p95,
                    slowdown_std=std,
                )
            )
    for fam, (nre, p95, std) in (points or {}).items():
        rows.append(
            dict(
                family=fam,
                kind="point",
                slowdown_weight=1.0,
                nre_kwh=nre,
                slowdown_p95=p95,
                slowdown_std=std,
            )
        )
    table = pd.DataFrame(rows)
    defaults = dict(
        instance="i",
        valid=True,
        forecast_error=0.0,
        season="spring",
        transfer_min=1.0,
        link_regime="fast",
        seed=0,
    )
    for k, v in {**defaults, **case}.items():
        table[k] = v
    return table


def test_claim_holds_only_when_all_three_parts_hold():
    on = [(10, 1.0, 0.1), (8, 1.2, 0.2), (6, 1.4, 0.3)]
    off = [(12, 1.0, 0.12), (10, 1.2, 0.25), (8, 1.4, 0.35)]
    table = hand_table({"on": on, "off": off}, points={"eg": (11, 1.3, 0.4), "fast": (5, 1.0, 0.1)})
    regime, pairs, placed = verdicts(table)
    claim = pairs[pairs.criterion == "claim"].set_index(["a", "b"]).verdict
    assert claim["on", "off"] == "holds" and claim["off", "on"] == "fails"
    parts = pairs[(pairs.a == "on") & (pairs.criterion != "claim")]
    assert set(parts.criterion) == {"nre_at_p95", "nre_at_std", "std_at_nre"}
    assert (parts.verdict == "holds").all()
    status = placed.set_index(["point", "front", "plane"]).status
    assert status["eg", "on", "p95"] == "dominated" and status["eg", "on", "std"] == "dominated"
    assert status["fast", "on", "p95"] == "beyond"
    row = regime[(regime.regime == "season") & (regime.a == "on")].iloc[0]
    assert (row.value, row.cases, row.n_holds, row.verdict) == ("spring", 1, 1, "holds")

    # lower NRE at matched slowdown but a higher std at matched NRE: the claim fails
    worse_std = [(10, 1.0, 0.2), (8, 1.2, 0.3), (6, 1.4, 0.4)]
    off2 = [(12, 1.0, 0.05), (10, 1.2, 0.06), (8, 1.4, 0.07)]
    _, pairs, _ = verdicts(hand_table({"on": worse_std, "off": off2}))
    got = pairs[pairs.a == "on"].set_index("criterion").verdict
    assert got["nre_at_p95"] == "holds" and got["claim"] == "fails"


def test_regimes_count_cases_and_report_mixed_outcomes():
    on = [(10, 1.0, 0.1), (6, 1.4, 0.3)]
    off = [(12, 1.0, 0.12), (8, 1.4, 0.35)]
    t1 = hand_table({"on": on, "off": off}, instance="a", season="winter")
    t2 = hand_table({"on": off, "off": on}, instance="b", season="summer")
    t3 = hand_table({"on": [(1, 5, 5)], "off": [(12, 1.0, 0.12)]}, instance="c", season="summer")
    regime, _, _ = verdicts(pd.concat([t1, t2, t3]))
    r = regime[(regime.a == "on") & (regime.b == "off")].set_index(["regime", "value"])
    assert r.loc[("season", "winter"), "verdict"] == "holds"
    assert r.loc[("season", "summer"), ["n_holds", "n_fails", "n_undecided"]].tolist() == [0, 1, 1]
    assert r.loc[("season", "summer"), "verdict"] == "fails"
    assert r.loc[("all", "all"), "verdict"] == "mixed"
    assert r.loc[("link_regime", "fast"), "cases"] == 3


# ---- the non-dominated set ---------------------------------------------------------------------


def brute_force_front(values: np.ndarray) -> list[bool]:
    out = []
    for i, p in enumerate(values):
        dominated = any(all(q <= p) and any(q < p) for j, q in enumerate(values) if j != i)
        out.append(not dominated)
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda k: st.lists(
            st.lists(st.integers(0, 5), min_size=k, max_size=k), min_size=1, max_size=25
        )
    )
)
def test_non_dominated_matches_brute_force(points):
    from greenopt.pareto import non_dominated

    v = np.array(points, float)
    assert non_dominated(v).tolist() == brute_force_front(v)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=30))
def test_a_front_is_monotone_and_covers_every_point(points):
    x, y = zip(*points, strict=True)
    f = Front.of(x, y)
    assert (np.diff(f.x) > 0).all() and (np.diff(f.y) < 0).all()
    for px, py in points:  # every point is weakly dominated by a vertex of the front
        assert any(fx <= px and fy <= py for fx, fy in zip(f.x, f.y, strict=True))


def test_non_dominated_rejects_nan():
    from greenopt.pareto import non_dominated

    with pytest.raises(ValueError, match="NaN"):
        non_dominated(np.array([[1.0, np.nan]]))


# ---- a tiny end-to-end front -------------------------------------------------------------------

MILP = {"time_limit_s": 20, "mip_rel_gap": 1e-4, "candidate_sites": 0, "departure_every": 1}


def test_tiny_front_valid_and_nre_monotone_up_to_the_recorded_gaps():
    inst = load_instance(TINY)
    runs = []
    weights = (0.1, 1.0, 10.0)
    table = trace_fronts(
        [inst],
        [PolicySpec("milp", "milp", MILP)],
        weights,
        filters=(True,),
        point_specs=[PolicySpec("energy_greedy", "energy_greedy", {})],
        on_result=lambda i, r: runs.append((i, r)),
    )
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert table.valid.all() and len(table) == 4
    fr = table[table.kind == "front"].sort_values("slowdown_weight")
    assert fr.slowdown_weight.tolist() == list(weights)
    assert (fr.time_limit_s == 20).all() and (fr.mip_rel_gap == 1e-4).all()
    assert all(json.loads(s)["seed"] == 0 for s in fr.settings)
    # Optimal within ε_i = objective − dual bound at weights w1 < w2, with both schedules in both
    # models (all sites, every slot), the energy part A = objective at weight 0 obeys
    # A(w1) − A(w2) ≤ (w2 ε1 + w1 ε2) / (w2 − w1).
    solved = []
    for i, r in runs[:3]:
        assert r.simulation.valid
        eps = r.info["objective"] - r.info["model_bound"]
        assert eps >= -1e-6
        assert r.info["objective_recomputed"] == pytest.approx(r.info["objective"], rel=1e-6)
        zero = apply_transforms(i, {"slowdown_weight": 0.0})
        terms = objective_terms(zero, r.schedule, ModelSettings())
        energy = terms["objective"]
        if terms["terminal_kwh"] == 0 and terms["deadline_kwh"] == 0:
            assert energy == pytest.approx(r.metrics["nre_kwh"], rel=1e-9)
        solved.append((i.params.slowdown_weight, energy, max(eps, 0.0), r.metrics["nre_kwh"]))
    for (w1, a1, e1, _), (w2, a2, e2, _) in itertools.combinations(solved, 2):
        assert a1 - a2 <= (w2 * e1 + w1 * e2) / (w2 - w1) + 1e-6
    nre = [s[3] for s in solved]
    assert nre[0] < nre[-1]  # the weights span a real trade-off on this instance


def test_quick_sweep_gives_the_same_table_as_trace_fronts(tmp_path):
    from greenopt.sweep.execute import run_point

    sw = load_sweep(REPO / "experiments" / "pareto_quick.toml")
    rows = []
    for p in sw.points:
        milp_at_1 = p.params["policy"] == "milp" and p.params["slowdown_weight"] == 1.0
        greedy = p.params["policy"] == "energy_greedy" and not p.params["feasibility_filter"]
        if milp_at_1 or (greedy and p.params["slowdown_weight"] in (0.1, 10.0)):
            row = run_point(p.spec)
            rows.append({**p.params, **row, "spec": json.dumps(p.spec, sort_keys=True)})
    folder = tmp_path / "sweep"
    folder.mkdir()
    pd.DataFrame(rows).to_parquet(folder / "results.parquet")
    out = report(folder)
    assert {f.name for f in folder.glob("pareto*.csv")} == {f"{k}.csv" for k in out}
    placed = out["pareto_placed"]  # the heuristic, run at two weights, is one point
    assert len(placed) == 4 and set(placed.point) == {"energy_greedy (filter off)"}
    got = out["pareto"]
    assert len(got) == 4
    got = got[got.kind == "front"]
    assert list(got.columns) == list(TABLE_COLUMNS) and len(got) == 2
    assert set(got.family) == {"milp (filter on)", "milp (filter off)"}
    assert (got.slowdown_weight == 1.0).all() and (got.kind == "front").all()
    direct = trace_fronts([load_instance(TINY)], [PolicySpec("milp", "milp", MILP)], (1.0,))
    on = got[got["filter"]].iloc[0]
    d_on = direct[direct["filter"]].iloc[0]
    assert on.nre_kwh == pytest.approx(d_on.nre_kwh, rel=1e-6)
    assert on.season == d_on.season == "spring" and on.link_regime == d_on.link_regime


# ---- knobs and instance sources used by the sweep files ---------------------------------------


def test_pue_spread_scales_deviations_from_the_mean():
    inst = load_instance(REPO / "instances" / "default")
    pue = np.array([s.pue for s in inst.sites])
    flat = apply_transforms(inst, {"pue_spread": 0.0})
    assert np.allclose([s.pue for s in flat.sites], pue.mean())
    wide = apply_transforms(inst, {"pue_spread": 1.5})
    assert np.allclose([s.pue for s in wide.sites], pue.mean() + 1.5 * (pue - pue.mean()))
    assert apply_transforms(inst, {"pue_spread": 1.0}).sites == inst.sites
    with pytest.raises(ValueError, match="below 1 at de-wind2"):
        apply_transforms(inst, {"pue_spread": 2.0})
    with pytest.raises(ValueError, match="pue_spread must be >= 0"):
        apply_transforms(inst, {"pue_spread": -1.0})


def test_member_instance_by_id():
    m = EVALUATION_SET[0]
    assert member_instance(m.id).name == m.id
    with pytest.raises(ValueError, match="no evaluation instance 'nope'"):
        member_instance("nope")


def test_pareto_and_sensitivity_files_expand():
    files = sorted((REPO / "experiments").glob("pareto*.toml"))
    files += sorted((REPO / "experiments").glob("sensitivity_*.toml"))
    assert len(files) == 7
    for f in files:
        assert load_sweep(f).points, f
    sw = load_sweep(REPO / "experiments" / "pareto.toml")
    members = {json.dumps(p.spec["instance"]) for p in sw.points}
    assert len(members) == 2


def test_runs_above_max_gap_are_left_out():
    on = [(10, 1.0, 0.1), (6, 1.4, 0.3)]
    off = [(12, 1.0, 0.12), (8, 1.4, 0.35), (1, 2.0, 0.01)]  # last: an unsolved outlier
    table = hand_table({"on": on, "off": off})
    table["model_gap"] = [0.0, 0.0, 0.0, 0.0, 5.0]
    _, pairs, _ = verdicts(table)  # the outlier alone makes off's std front: no overlap
    assert pairs.set_index(["a", "criterion"]).verdict["on", "nre_at_std"] == "undecided"
    assert pairs.set_index(["a", "criterion"]).verdict["on", "claim"] == "undecided"
    _, pairs, _ = verdicts(table, max_gap=0.05)
    assert pairs.set_index(["a", "criterion"]).verdict["on", "claim"] == "holds"
