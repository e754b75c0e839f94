"""How much model structure consecutive rolling steps share: could one model be built per run and
only its mutable parameters updated between steps?

Runs the ``rolling`` policy and, for every step after the first, shifts the previous step's sparse
sets by the step length and compares them with the new step's: the share of the new migration
arcs (job, src, dst, departure) and of the new (job, site, period) triples that the previous model
already had, and whether the two structures are identical (entries, arcs and periods alike — the
only case in which updating R, remaining work and entry sites would give the new model).

``--template N`` also measures, on the N steps with the most binaries, what a model of fixed
structure would cost: the step's window built with every reachable site per job and every
migration arc at the departure epochs (no feasibility filter, no candidate limit — the structure
that could serve every step), with the arcs the step's sparse model lacks fixed to 0. Its build
and hand-off would be paid once per run; fixing arcs, the warm start, HiGHS and reading back are
paid every step, and are set beside the sparse step's build and solve.

    python -m benchmarks.rolling_structure instances/default --step-h 2 --time-limit-s 4
    python -m benchmarks.rolling_structure --size M --step-h 1 --coarsen-after-h 2
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from benchmarks.registry import SIZES
from greenopt.files import load_instance
from greenopt.optimization import Budget, build_sets
from greenopt.optimization.model import build_model, model_size
from greenopt.optimization.sets import WindowSets
from greenopt.optimization.solution import read_plan, start_moves
from greenopt.optimization.solve import ModelSolver, WindowModel, choose_start
from greenopt.policies import make_policy


def structure(sets: WindowSets, shift: int = 0) -> dict[str, set]:
    """The sets' arcs, (job, site, period) triples and entries in window-relative time, less
    ``shift`` slots (dropping what falls before the window)."""
    t0 = sets.t0 + shift
    return {
        "arcs": {
            (a.job, a.src, a.dst, a.depart - t0, a.arrive - t0, round(a.usable, 9))
            for a in sets.arcs
            if a.depart >= t0
        },
        "jst": {
            (j, s, t - t0, sets.grid.length(t))
            for j in sets.jobs
            for s in sets.sites[j]
            for t in sets.slots(j)
            if t >= t0
        },
        "entries": {
            (j, e.site, e.slot - t0, round(e.usable, 9))
            for j, e in sets.entry.items()
            if e.slot >= t0
        },
    }


def rolling_steps(instance, settings: dict) -> list[WindowModel]:
    """Run ``rolling`` with ``settings``; every solved step's window model (built, solved)."""
    captured: list[WindowModel] = []
    policy = make_policy("rolling", **settings)
    policy.window_observer = captured.append
    policy.plan(instance)
    return captured


def template_cost(step: WindowModel, limit_s: float = 60.0) -> dict[str, float]:
    """One step (its window model's inputs) solved in the fixed-structure model (see the module
    docstring) and in its sparse model, each within ``limit_s``: sizes, the fixed model's
    once-per-run build and hand-off, per-step costs, and both objectives."""
    view, state, t_end, settings = step.instance, step.state, step.t_end, step.settings
    sparse = WindowModel(
        view,
        state,
        t_end,
        settings,
        start=step.start,
        other_starts=step.other_starts,
        budget=Budget(limit_s),
        network=step.network,
        coarse_start=step.coarse_start,
    ).build()
    sparse_report = sparse.solve()
    sparse.read()
    coarse_start = step.coarse_start
    cut = t_end if coarse_start is None or settings.coarse_factor <= 1 else coarse_start
    starts = [step.start, *step.other_starts]
    started = time.perf_counter()
    sets = build_sets(
        view,
        state,
        t_end,
        candidate_k=0,
        departure_every=settings.departure_every,
        feasibility_filter=False,
        required_moves=tuple(sorted(start_moves(starts[0], state.t0, min(t_end, cut)))),
        optional_moves=tuple(
            tuple(sorted(start_moves(b, state.t0, min(t_end, cut)))) for b in starts[1:]
        ),
        network=step.network,
        coarse_start=cut if cut < t_end else None,
        coarse_factor=settings.coarse_factor,
    )
    model = build_model(sets, settings)
    solver = ModelSolver(settings)
    solver.load(model)
    once_s = time.perf_counter() - started
    # the step: fix the arcs its sparse model does not have, warm start, solve, read back
    started = time.perf_counter()
    keep = {(a.job, a.src, a.dst, a.depart) for a in sparse.sets.arcs}
    for x, arc in enumerate(sets.arcs):
        if (arc.job, arc.src, arc.dst, arc.depart) not in keep:
            model.mig[x].fix(0)
    solver.solver.update_variables([model.mig[x] for x in model.A if model.mig[x].fixed])
    choose_start(model, sets, starts)
    report = solver.solve(limit_s, warm_start=True)
    read_plan(model, sets)
    step_s = time.perf_counter() - started
    return {
        "t0": state.t0,
        "sparse_binaries": sparse.size()["n_binaries"],
        "fixed_binaries": model_size(model)["n_binaries"],
        "fixed_once_s": once_s,
        "fixed_step_s": step_s,
        "fixed_solve_s": report.solve_s,
        "sparse_build_s": sparse.record().build_s,
        "sparse_solve_s": sparse_report.solve_s,
        "sparse_objective": sparse_report.objective,
        "fixed_objective": report.objective,
        "sparse_gap": sparse_report.model_gap,
        "fixed_gap": report.model_gap,
    }


def compare_steps(captured: list[WindowSets]) -> pd.DataFrame:
    """One row per step after the first: its size and what it shares with the step before."""
    rows = []
    for before, after in zip(captured, captured[1:], strict=False):
        shift = after.t0 - before.t0
        old, new = structure(before, shift), structure(after)
        rows.append(
            {
                "t0": after.t0,
                "arcs": len(new["arcs"]),
                "arcs_shared": len(new["arcs"] & old["arcs"]) / max(1, len(new["arcs"])),
                "jst": len(new["jst"]),
                "jst_shared": len(new["jst"] & old["jst"]) / max(1, len(new["jst"])),
                "identical": old == new and before.t_end - before.t0 == after.t_end - after.t0,
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("instance", nargs="?", help="instance folder (or --size)")
    parser.add_argument("--size", choices=sorted(SIZES), help="a benchmark size instead")
    parser.add_argument("--step-h", type=float, default=1.0)
    parser.add_argument("--lookahead-h", type=float, default=24.0)
    parser.add_argument("--coarsen-after-h", type=float, default=0.0)
    parser.add_argument("--time-limit-s", type=float, default=3.0)
    parser.add_argument("--forecast", default="noisy")
    parser.add_argument(
        "--template", type=int, default=0, help="measure a fixed-structure model on N busy steps"
    )
    args = parser.parse_args(argv)
    if (args.instance is None) == (args.size is None):
        parser.error("give an instance folder or --size")
    instance = load_instance(args.instance) if args.instance else SIZES[args.size].instance()
    settings = {
        "step_h": args.step_h,
        "lookahead_h": args.lookahead_h,
        "coarsen_after_h": args.coarsen_after_h,
        "time_limit_s": args.time_limit_s,
        "forecast": args.forecast,
    }
    steps = rolling_steps(instance, settings)
    table = compare_steps([step.sets for step in steps])
    print(f"{instance.name}: {settings}")
    print(
        f"{len(table) + 1} steps; shared with the previous step (mean, min–max): "
        f"arcs {table.arcs_shared.mean():.0%} ({table.arcs_shared.min():.0%}–"
        f"{table.arcs_shared.max():.0%}), (job, site, period) {table.jst_shared.mean():.0%} "
        f"({table.jst_shared.min():.0%}–{table.jst_shared.max():.0%}); "
        f"identical structure in {int(table.identical.sum())} of {len(table)} step changes"
    )
    if args.template:
        busiest = sorted(steps, key=lambda step: -step.record().n_binaries)[: args.template]
        costs = pd.DataFrame([template_cost(step) for step in busiest]).sort_values("t0")
        print(costs.round(3).to_string(index=False))
    return table


if __name__ == "__main__":
    main()
