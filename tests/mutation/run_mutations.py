"""Mutation check of the scheduling MILP: do the model tests notice when the model is broken?

Copies the package and its tests to a scratch folder, then, one at a time, deletes or flips each
constraint family and each modelling setting (a text substitution in the copy), runs the model
tests there and records whether they failed. Both backends are covered: every mutation of the
Pyomo model (``model.py``) has its counterpart in the arrays backend (``arrays.py``, the
default); the tests include ``test_arrays.py``, which holds the arrays equal to Pyomo's standard
form of ``build_model``. Prints a table
mutation → caught / MISSED and exits 1 if a mutation was missed (or the unmutated copy fails).

    .venv/bin/python tests/mutation/run_mutations.py            # every mutation
    .venv/bin/python tests/mutation/run_mutations.py -k deadline  # those whose name contains it
    .venv/bin/python tests/mutation/run_mutations.py --list

Not collected by pytest (no ``test_`` prefix); it never touches the working tree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = "greenopt/optimization/model.py"
SETS = "greenopt/optimization/sets.py"
OBJECTIVE = "greenopt/optimization/objective.py"
SOLVE = "greenopt/optimization/solve.py"
ARRAYS = "greenopt/optimization/arrays.py"

#: the model tests, fast selection (the slow ones add minutes and catch nothing more). The
#: behaviour tests solve with the default backend, arrays; a model.py mutation must make the
#: equality test (test_arrays.py: arrays == Pyomo's standard form of build_model) or a test that
#: builds the Pyomo model fail. test_arrays.py runs first: with -x it stops most mutants soonest.
TESTS = [
    "tests/test_arrays.py",
    "tests/test_model_families.py",
    "tests/test_milp.py",
    "tests/test_rolling.py",
]
MARKERS = "not slow"


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str = ""


def drop_family(call: str) -> Mutation:
    line = f"    {call}(m, sets"
    return Mutation(f"build_model without {call}", MODEL, line, line.replace(call, f"# {call}"))


def drop_array_family(call: str) -> Mutation:
    """``call`` (a family function's call with its arguments) deleted from build_arrays."""
    line = f"        {call},\n"
    return Mutation(f"arrays: build_arrays without {call.split('(')[0]}", ARRAYS, line, "")


MUTATIONS = [
    # ---- constraint families: each call of build_model deleted --------------------------------
    *(
        drop_family(call)
        for call in (
            "add_flow_conservation",
            "add_departure_after_arrival",
            "add_run_limits",
            "add_gpu_capacity",
            "add_link_capacity",
            "add_work",
            "add_grid_energy",
            "add_completion",
            "add_deadlines",
        )
    ),
    # ---- constraint families: parts flipped or left out ---------------------------------------
    Mutation(
        "flow: arrivals and departures swapped",
        MODEL,
        "return m.loc[j, s, t] == before + moves",
        "return m.loc[j, s, t] == before - moves",
    ),
    Mutation(
        "run_limit: computing allowed before a checkpoint arrives",
        MODEL,
        "return m.run[j, s, t] <= m.loc[j, s, t] - late",
        "return m.run[j, s, t] <= m.loc[j, s, t]",
    ),
    Mutation(
        "gpu_capacity: ≤ flipped to ≥",
        MODEL,
        "m.run[j, s, t] for j in users[s, t]) <= gpus[s]",
        "m.run[j, s, t] for j in users[s, t]) >= gpus[s]",
    ),
    Mutation(
        "link_capacity: capacity doubled",
        MODEL,
        "return float(cap[li, t : t + grid.length(t)].sum())",
        "return 2 * float(cap[li, t : t + grid.length(t)].sum())",
    ),
    Mutation(
        "grid energy: idle power left out",
        MODEL,
        "return m.g[s, t] >= site.idle_kw + site.pue * it_kw - m.R[s, t]",
        "return m.g[s, t] >= site.pue * it_kw - m.R[s, t]",
    ),
    Mutation(
        "grid energy: PUE left out",
        MODEL,
        "return m.g[s, t] >= site.idle_kw + site.pue * it_kw - m.R[s, t]",
        "return m.g[s, t] >= site.idle_kw + it_kw - m.R[s, t]",
    ),
    Mutation(
        "completion: done_monotone left out",
        MODEL,
        "    m.done_monotone = pyo.Constraint(\n        m.JT,",
        "    m.done_monotone = pyo.Constraint(\n        [],",
    ),
    Mutation(
        "deadline: the end-of-period bound left out",
        MODEL,
        "        bounds.append(m.rem[j] - cum(k))\n",
        "        pass\n",
    ),
    Mutation(
        "deadline: a checkpoint arriving in the deadline period not charged",
        MODEL,
        "    bounds = [m.rem[j] - cum(before) - max(0.0, deadline - start) + late]",
        "    bounds = [m.rem[j] - cum(before) - max(0.0, deadline - start)]",
    ),
    Mutation(
        "deadline: work before the deadline's period not counted from the entry period on",
        MODEL,
        "return m.cum[j, t] if t >= entry.slot else 0.0",
        "return m.cum[j, t] if t > entry.slot else 0.0",
    ),
    Mutation(
        "run in the entry slot not capped by its usable share",
        MODEL,
        "return (0.0, e.usable if (s, t) == (e.site, e.slot) else 1.0)",
        "return (0.0, 1.0)",
    ),
    Mutation(
        "link capacity: transfers in flight at the window start take no share",
        SETS,
        "                    capacity[link_index[link], t] -= vol",
        "                    pass",
    ),
    # ---- objective terms ----------------------------------------------------------------------
    Mutation(
        "objective without migration energy",
        MODEL,
        "        + m.migration_kwh\n",
        "",
    ),
    Mutation(
        "objective: slowdown_weight ignored (1)",
        MODEL,
        "+ inst.params.slowdown_weight * m.delay",
        "+ m.delay",
    ),
    Mutation(
        "objective without the terminal price",
        MODEL,
        "        + m.terminal_kwh\n",
        "",
    ),
    Mutation(
        "deadline_price ignored (fixed at its default 100)",
        MODEL,
        "expr=settings.deadline_price * pyo.quicksum",
        "expr=100.0 * pyo.quicksum",
    ),
    Mutation(
        "delay_term ignored (always the flow term)",
        MODEL,
        '        if settings.delay_term == "exact":\n            delay.append(',
        "        if False:\n            delay.append(",
    ),
    Mutation(
        "default terminal price without its slowdown part",
        OBJECTIVE,
        "pue * j.power_kw + weight / j.work_h",
        "pue * j.power_kw",
    ),
    Mutation(
        "terminal_price setting ignored",
        OBJECTIVE,
        "if settings.terminal_price is not None:",
        "if False:",
    ),
    # ---- levers -------------------------------------------------------------------------------
    Mutation(
        "candidate sites ranked worst-first",
        SETS,
        "key=lambda b: (-score[b], b)",
        "key=lambda b: (score[b], b)",
    ),
    Mutation(
        "candidate_sites ignored (every site)",
        SOLVE,
        "candidate_k=settings.candidate_sites,",
        "candidate_k=0,",
    ),
    Mutation("departure_every ignored", SETS, "every = max(1, departure_every)", "every = 1"),
    Mutation(
        "feasibility filter always off",
        SOLVE,
        "feasibility_filter=settings.feasibility_filter,",
        "feasibility_filter=False,",
    ),
    Mutation(
        "feasibility filter always on",
        SOLVE,
        "feasibility_filter=settings.feasibility_filter,",
        "feasibility_filter=True,",
    ),
    # ---- coarse periods -----------------------------------------------------------------------
    Mutation(
        "coarse periods: coarse_factor ignored",
        SETS,
        "*range(cut, t_end, max(1, factor))",
        "*range(cut, t_end)",
    ),
    Mutation(
        "coarse periods: energy not weighted by period length",
        MODEL,
        "pyo.quicksum(n(t) * m.g[s, t] for s, t in m.ST)",
        "pyo.quicksum(m.g[s, t] for s, t in m.ST)",
    ),
    Mutation(
        "coarse periods: work not weighted by period length",
        MODEL,
        "hours = dt * grid.length(t)",
        "hours = dt",
    ),
    Mutation(
        "coarse periods: renewables of the first slot, not the period mean",
        MODEL,
        "float(R[s, t : t + grid.length(t)].mean())",
        "float(R[s, t])",
    ),
    Mutation(
        "coarse periods: flow delay not weighted by period length",
        MODEL,
        "sum(n(t) * m.cum[j, t] for t in sets.slots(j))",
        "sum(m.cum[j, t] for t in sets.slots(j))",
    ),
]

# The arrays backend (arrays.py), the default: the counterpart of each model.py mutation above.
ARRAY_MUTATIONS = [
    # ---- constraint families: each family call of build_arrays deleted ---------------------
    *(
        drop_array_family(call)
        for call in (
            "flow_conservation(sets, ix, arcs, par)",
            "departure_after_arrival(sets, ix, arcs)",
            "run_limits(sets, ix, arcs)",
            "gpu_capacity(sets, ix)",
            "link_capacity(sets, ix)",
            "work(sets, ix)",
            "grid_energy(sets, ix, par)",
            "*completion(sets, ix, par)",
            "deadlines(sets, ix, par)",
        )
    ),
    # ---- constraint families: parts flipped or left out ---------------------------------------
    Mutation(
        "arrays: flow: arrivals and departures swapped",
        ARRAYS,
        "(out_rows, out_cols, 1.0),\n            (in_rows, in_cols, -1.0),",
        "(out_rows, out_cols, -1.0),\n            (in_rows, in_cols, 1.0),",
    ),
    Mutation(
        "arrays: run_limit: computing allowed before a checkpoint arrives",
        ARRAYS,
        '(i, ix.offset["loc"] + i, -1.0), (rows, cols, vals)]',
        '(i, ix.offset["loc"] + i, -1.0)]',
    ),
    Mutation(
        "arrays: gpu_capacity: ≤ flipped to ≥",
        ARRAYS,
        "        np.full(binding.size, -INF),\n        site_gpus[binding // ix.n_periods],",
        "        site_gpus[binding // ix.n_periods],\n        np.full(binding.size, INF),",
    ),
    Mutation(
        "arrays: link_capacity: capacity doubled",
        ARRAYS,
        "            float(cap[li, t : t + length(t)].sum())",
        "            2 * float(cap[li, t : t + length(t)].sum())",
    ),
    Mutation(
        "arrays: grid energy: idle power left out",
        ARRAYS,
        "np.repeat(idle, ix.n_periods) - par.R.reshape(n)",
        "-par.R.reshape(n)",
    ),
    Mutation(
        "arrays: grid energy: PUE left out",
        ARRAYS,
        "coef = pue[ix.jst_site] * power[ix.jst_job]",
        "coef = power[ix.jst_job]",
    ),
    Mutation(
        "arrays: completion: done_monotone left out",
        ARRAYS,
        "return [needs_work, monotone]",
        "return [needs_work]",
    ),
    Mutation(
        "arrays: deadline: the end-of-period bound left out",
        ARRAYS,
        "        if k < sets.t_end:\n            row = len(lower)",
        "        if False:\n            row = len(lower)",
    ),
    Mutation(
        "arrays: deadline: a checkpoint arriving in the deadline period not charged",
        ARRAYS,
        'ix.offset["mig"] + np.array(xs, int), -np.array(late)))',
        'ix.offset["mig"] + np.array(xs, int), 0 * np.array(late)))',
    ),
    Mutation(
        "arrays: deadline: work of the period before the deadline's not counted after entry",
        ARRAYS,
        "if before >= entry.slot:",
        "if before > entry.slot:",
    ),
    Mutation(
        "arrays: deadline: work of the deadline's period not counted in the entry period",
        ARRAYS,
        "if k >= entry.slot:",
        "if k > entry.slot:",
    ),
    # ---- column bounds --------------------------------------------------------------------------
    Mutation(
        "arrays: run in the entry slot not capped by its usable share",
        ARRAYS,
        '    upper[ix.offset["run"] + at_entry] = first\n',
        "",
    ),
    # ---- objective terms ----------------------------------------------------------------------
    Mutation(
        "arrays: objective without migration energy",
        ARRAYS,
        '    c[ix.columns("mig")] = arcs["energy"]\n',
        "",
    ),
    Mutation(
        "arrays: objective: slowdown_weight ignored (1)",
        ARRAYS,
        "weight, n_t = inst.params.slowdown_weight, ix.lengths",
        "weight, n_t = 1.0, ix.lengths",
    ),
    Mutation(
        "arrays: objective without the terminal price",
        ARRAYS,
        "    np.add.at(c, last, -prices)\n    constant += float(np.sum(prices * par.rem))\n",
        "",
    ),
    Mutation(
        "arrays: deadline_price ignored (fixed at its default 100)",
        ARRAYS,
        'c[ix.columns("miss")] = settings.deadline_price',
        'c[ix.columns("miss")] = 100.0',
    ),
    Mutation(
        "arrays: delay_term ignored (always the flow term)",
        ARRAYS,
        '    if settings.delay_term == "exact":\n        c[ix.columns("done")] = per_period',
        '    if False:\n        c[ix.columns("done")] = per_period',
    ),
    # ---- coarse periods -----------------------------------------------------------------------
    Mutation(
        "arrays: coarse periods: energy not weighted by period length",
        ARRAYS,
        'c[ix.columns("g")] = np.tile(dt * n_t, ix.n_sites)',
        'c[ix.columns("g")] = np.full(ix.n_sites * ix.n_periods, dt)',
    ),
    Mutation(
        "arrays: coarse periods: work not weighted by period length",
        ARRAYS,
        "hours = sets.instance.dt_h * ix.lengths[ix.jst_period]",
        "hours = sets.instance.dt_h",
    ),
    Mutation(
        "arrays: coarse periods: renewables of the first slot, not the period mean",
        ARRAYS,
        "[R[s, t : t + grid.length(t)].mean() for t in grid.starts]",
        "[R[s, t] for t in grid.starts]",
    ),
    Mutation(
        "arrays: coarse periods: flow delay not weighted by period length",
        ARRAYS,
        'c[ix.columns("cum")] = per_period',
        'c[ix.columns("cum")] = -weight * scale[ix.jt_job]',
    ),
]
MUTATIONS += ARRAY_MUTATIONS


def scratch_copy(target: Path) -> None:
    """The package, its tests and instances, and pyproject.toml (pytest's settings)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for folder in ("greenopt", "tests", "instances"):
        shutil.copytree(ROOT / folder, target / folder, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")


def run_tests(scratch: Path, tests: list[str], markers: str) -> tuple[int, float, str]:
    """Exit code of pytest on the scratch copy, seconds taken, and the failing test (or the last
    output line)."""
    env = os.environ | {"PYTHONPATH": str(scratch), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "-m", markers, *tests], cwd=scratch, env=env, capture_output=True, text=True
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.strip()]
    failed = [ln.split()[1] for ln in lines if ln.startswith(("FAILED ", "ERROR "))]
    last = failed[0] if failed else lines[-1] if lines else done.stderr.strip()
    return done.returncode, time.perf_counter() - started, last


def check_imports_the_copy(scratch: Path) -> None:
    env = os.environ | {"PYTHONPATH": str(scratch)}
    code = "import greenopt; print(greenopt.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", code], cwd=scratch, env=env, capture_output=True, text=True
    ).stdout.strip()
    if not where.startswith(str(scratch)):
        sys.exit(f"the scratch copy would test {where}, not the mutated package")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", default="", help="only mutations whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the mutations and stop")
    parser.add_argument("--tests", nargs="+", default=TESTS, help="test files to run")
    parser.add_argument("-m", dest="markers", default=MARKERS, help="pytest -m selection")
    args = parser.parse_args(argv)
    chosen = [mu for mu in MUTATIONS if args.k.lower() in mu.name.lower()]
    if args.list:
        print("\n".join(f"{mu.path}: {mu.name}" for mu in chosen))
        return 0
    for mu in chosen:  # a mutation whose text has moved is an error, not a pass
        count = (ROOT / mu.path).read_text().count(mu.old)
        if count != 1:
            sys.exit(f"{mu.name!r}: its text occurs {count} times in {mu.path}; update the script")

    with tempfile.TemporaryDirectory(prefix="greenopt-mutants-") as tmp:
        scratch = Path(tmp)
        scratch_copy(scratch)
        check_imports_the_copy(scratch)
        print(f"tests: pytest -x -m {args.markers!r} {' '.join(args.tests)}", flush=True)
        code, seconds, last = run_tests(scratch, args.tests, args.markers)
        print(f"unmutated copy: exit {code} in {seconds:.0f} s ({last})", flush=True)
        if code != 0:
            return 1
        rows = []
        for mu in chosen:
            path = scratch / mu.path
            original = path.read_text()
            path.write_text(original.replace(mu.old, mu.new))
            try:
                code, seconds, last = run_tests(scratch, args.tests, args.markers)
            finally:
                path.write_text(original)
            verdict = {0: "MISSED", 1: "caught"}.get(code, f"ERROR (exit {code})")
            rows.append((mu.name, verdict, seconds, last))
            print(f"{verdict:>6}  {seconds:4.0f} s  {mu.name}  [{last}]", flush=True)

    width = max((len(name) for name, *_ in rows), default=8)
    print(f"\n{'mutation':<{width}}  result  first failing test")
    for name, verdict, _, last in rows:
        print(f"{name:<{width}}  {verdict:<6}  {last if verdict == 'caught' else ''}")
    bad = [name for name, verdict, *_ in rows if verdict != "caught"]
    print(f"\n{len(rows) - len(bad)} of {len(rows)} mutations caught")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
