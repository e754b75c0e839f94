"""Model build + hand-off to HiGHS by the two backends, side by side in one run: ``pyomo``
(``model.build_model`` + ``choose_start`` + appsi ``set_instance``) against ``arrays``
(``arrays.build_arrays`` + ``choose_start_vector`` + one ``passModel``), on the same sets and the
same MIP start. Checks that both HiGHS models have the same LP relaxation optimum and, on the
rolling windows, the same MIP objective within the gap of a short solve.

    python -m benchmarks.build                       # every case
    python -m benchmarks.build --cases M-window,L-window --out benchmarks/results/build.csv
    python -m benchmarks.build --cases L-offline --backends arrays --no-lp

Cases: ``instances/default`` over its whole horizon with the default levers (k = 1, m = 4) and
with every site and slot (k = 0, m = 1); an M and an L rolling window (24 h lookahead from 12 h,
coarse after 2 h, on a noisy forecast, from the state ``feasibility_greedy`` leaves there).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.registry import SIZES, append_rows

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Case:
    """One window: instance, state, window end, coarse start, levers and the MIP start."""

    name: str
    instance: Any
    state: Any
    t_end: int
    coarse_start: int | None
    settings: Any
    start: Any


def offline_case(name: str, levers: dict[str, Any], size: str | None = None) -> Case:
    """The whole horizon of ``instances/default`` (or of benchmark ``size``) from the start."""
    from greenopt.files import load_instance
    from greenopt.optimization import ModelSettings, WindowState
    from greenopt.policies import make_policy
    from greenopt.state import builder_from_schedule

    inst = SIZES[size].instance() if size else load_instance(ROOT / "instances" / "default")
    schedule = make_policy("feasibility_greedy").plan(inst).schedule
    start = builder_from_schedule(inst, schedule)
    settings = ModelSettings(**levers)
    return Case(name, inst, WindowState.initial(inst), inst.n_slots, None, settings, start)


def rolling_case(name: str, size: str, t0_h: float = 12.0) -> Case:
    """The rolling benchmark's window at ``t0_h`` (see benchmarks/registry.py)."""
    from greenopt.forecast import make_forecaster
    from greenopt.optimization import ModelSettings
    from greenopt.optimization.solution import truncate_start
    from greenopt.policies import make_policy
    from greenopt.state import builder_from_schedule, state_at

    inst = SIZES[size].instance()
    dt = inst.dt_h
    t0, look = int(round(t0_h / dt)), int(round(24 / dt))
    full = builder_from_schedule(inst, make_policy("feasibility_greedy").plan(inst).schedule)
    past = truncate_start(full, t0).copy()
    past.run[:, t0:] = 0.0
    state = state_at(inst, past, t0)
    view = inst.with_renewable(
        make_forecaster("noisy", 0.2, 0).forecast(inst.renewable_kw, t0, dt), name=f"{size}@{t0}"
    )
    settings = ModelSettings(coarse_factor=4, mip_rel_gap=0.01)
    return Case(name, view, state, min(inst.n_slots, t0 + look), t0 + int(2 / dt), settings, full)


CASES = {
    "default": lambda: offline_case("default", {}),
    "default-full": lambda: offline_case(
        "default-full", {"candidate_sites": 0, "departure_every": 1}
    ),
    "M-window": lambda: rolling_case("M-window", "M"),
    "L-window": lambda: rolling_case("L-window", "L"),
    # the L milp benchmark's model (k = 1, m = 4): --backends arrays --no-lp keeps it short
    "L-offline": lambda: offline_case("L-offline", {}, "L"),
}


def window_sets(case: Case):
    from greenopt.optimization import build_sets
    from greenopt.optimization.solution import start_moves

    s, cut = case.settings, case.coarse_start or case.t_end
    return build_sets(
        case.instance,
        case.state,
        case.t_end,
        candidate_k=s.candidate_sites,
        departure_every=s.departure_every,
        feasibility_filter=s.feasibility_filter,
        required_moves=tuple(sorted(start_moves(case.start, case.state.t0, cut))),
        coarse_start=case.coarse_start,
        coarse_factor=s.coarse_factor,
    )


def lp_objective(highs, threads: int) -> float:
    """Optimum of the LP relaxation of the model loaded in ``highs`` (integrality dropped; HiGHS
    fixes its thread pool at the first run of the process, so every run uses ``threads``)."""
    import highspy

    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", threads)
    n = highs.getNumCol()
    highs.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kContinuous)
    )
    highs.setOptionValue("time_limit", 600.0)
    highs.run()
    return float(highs.getInfo().objective_function_value)


def measure(case: Case, backend: str, mip_s: float | None, lp: bool = True) -> dict[str, Any]:
    """Build and hand off one backend's model; then its LP relaxation and (``mip_s``) a short
    MIP solve."""
    from greenopt.optimization.array_solution import choose_start_vector
    from greenopt.optimization.arrays import build_arrays
    from greenopt.optimization.highs import ArraySolver
    from greenopt.optimization.model import build_model
    from greenopt.optimization.solve import ModelSolver, choose_start

    gc.collect()
    started = time.perf_counter()
    sets = window_sets(case)
    sets_done = time.perf_counter()
    settings = case.settings.model_copy(update={"backend": backend})
    if backend == "arrays":
        model = build_arrays(sets, settings)
        _, objectives, x = choose_start_vector(model, [case.start])
        model_done = time.perf_counter()
        solver = ArraySolver(settings)
        solver.load(model, x)
        highs = solver.highs
        size = model.size()
    else:
        model = build_model(sets, settings)
        _, objectives = choose_start(model, sets, [case.start])
        model_done = time.perf_counter()
        solver = ModelSolver(settings)
        solver.load(model)
        highs = solver.solver._solver_model
        from greenopt.optimization.model import model_size

        size = model_size(model)
    done = time.perf_counter()
    row = {
        "case": case.name,
        "backend": backend,
        "sets_s": sets_done - started,
        "model_s": model_done - sets_done,
        "handoff_s": done - model_done,
        "build_handoff_s": done - sets_done,
        **size,
        "start_objective": objectives[0],
    }
    if mip_s is not None:
        report = solver.solve(mip_s, warm_start=True)
        row.update(mip_objective=report.objective, model_gap=report.model_gap, mip_s=report.solve_s)
    if lp:
        row["lp_objective"] = lp_objective(highs, settings.threads)
    return row


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES), help=f"of {list(CASES)}")
    parser.add_argument("--mip-s", type=float, default=30.0, help="short MIP solve (windows)")
    parser.add_argument("--out", type=Path, default=None, help="CSV to append to")
    parser.add_argument("--backends", default="pyomo,arrays", help="of pyomo, arrays")
    parser.add_argument("--no-lp", action="store_true", help="skip the LP relaxation check")
    args = parser.parse_args(argv)
    rows = []
    for name in args.cases.split(","):
        if name not in CASES:
            parser.error(f"unknown case {name!r}")
        case = CASES[name]()
        mip_s = args.mip_s if case.coarse_start is not None else None
        for backend in args.backends.split(","):
            rows.append(measure(case, backend, mip_s, lp=not args.no_lp))
            r = rows[-1]
            print(
                f"{name} {backend}: model {r['model_s']:.2f} s, hand-off {r['handoff_s']:.2f} s",
                file=sys.stderr,
                flush=True,
            )
    table = pd.DataFrame(rows)
    if args.out is not None:
        append_rows(args.out, table)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.drop(columns=["case"]).set_index(table.case).to_string(float_format="%.4g"))
    if set(table.backend) != {"pyomo", "arrays"} or "lp_objective" not in table:
        return table
    wide = table.pivot(index="case", columns="backend")
    summary = pd.DataFrame(
        {
            "sets_s": wide["sets_s"]["arrays"],
            "pyomo_build_handoff_s": wide["build_handoff_s"]["pyomo"],
            "arrays_build_handoff_s": wide["build_handoff_s"]["arrays"],
            "ratio": wide["build_handoff_s"]["pyomo"] / wide["build_handoff_s"]["arrays"],
            "ratio_with_sets": (wide["build_handoff_s"]["pyomo"] + wide["sets_s"]["pyomo"])
            / (wide["build_handoff_s"]["arrays"] + wide["sets_s"]["arrays"]),
            "n_variables": wide["n_variables"]["arrays"],
            "n_constraints": wide["n_constraints"]["arrays"],
            "lp_rel_diff": (wide["lp_objective"]["arrays"] - wide["lp_objective"]["pyomo"]).abs()
            / wide["lp_objective"]["pyomo"].abs(),
        }
    ).loc[list(dict.fromkeys(table.case))]
    if "mip_objective" in table:
        summary["mip_pyomo"] = wide["mip_objective"]["pyomo"]
        summary["mip_arrays"] = wide["mip_objective"]["arrays"]
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print()
        print(summary.to_string(float_format="%.4g"))
    return table


if __name__ == "__main__":
    main()
