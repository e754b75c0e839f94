"""Typed records of what solving one window measured; :meth:`WindowRecord.as_dict` gives the flat
dict the policies report (its keys are those of ``metrics.json`` and the comparison CSVs)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class WindowRecord:
    """One window's build and solve figures. ``start``: which warm start HiGHS got (0 = the
    required one, None = none); ``start_objectives``: every start's model objective (None: the
    model cannot hold its moves). Solver fields as in
    :class:`~greenopt.optimization.solve.SolveReport`."""

    build_s: float
    sets_s: float
    model_s: float
    handoff_s: float
    n_periods: int
    solve_s: float
    model_gap: float | None
    model_bound: float | None
    objective: float
    solver_objective: float
    solver_status: str
    termination: str
    n_variables: int
    n_binaries: int
    n_constraints: int
    n_arcs: int
    start: int | None
    start_objectives: list[float | None]

    def as_dict(self) -> dict:
        """The record as a flat dict (field names as keys, in field order)."""
        return asdict(self)
