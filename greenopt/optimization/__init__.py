"""The scheduling MILP (SPEC §6): sparse sets, Pyomo model, HiGHS solve, solution read-back.

One window [t0, t_end) of an instance (actual or forecast renewables) from a job state is a
:class:`WindowModel` (build, solve, read; an ``extra_functionality`` hook), run whole by
:func:`solve_window`; the offline MILP (:class:`greenopt.policies.milp.MilpPolicy`) is the window
[0, n_slots) from :meth:`WindowState.initial`. :func:`schedule_objective` scores any schedule with
the model's objective.
"""

from greenopt.optimization.objective import objective_terms, schedule_objective, terminal_prices
from greenopt.optimization.records import WindowRecord
from greenopt.optimization.sets import Arc, OptimizationError, WindowSets, build_sets
from greenopt.optimization.settings import ModelSettings
from greenopt.optimization.solution import WindowPlan, apply_plan, read_plan, set_start
from greenopt.optimization.solve import (
    Budget,
    ModelSolver,
    SolveReport,
    WindowModel,
    WindowResult,
    solve_window,
)
from greenopt.state import JobState, WindowState

__all__ = [
    "Arc",
    "Budget",
    "JobState",
    "ModelSettings",
    "ModelSolver",
    "OptimizationError",
    "SolveReport",
    "WindowModel",
    "WindowPlan",
    "WindowRecord",
    "WindowResult",
    "WindowSets",
    "WindowState",
    "apply_plan",
    "build_sets",
    "objective_terms",
    "read_plan",
    "schedule_objective",
    "set_start",
    "solve_window",
    "terminal_prices",
]
