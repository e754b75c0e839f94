"""Settings of a lower-bound computation: which objective it bounds, which method, solver options.

The objective is SPEC §6's with the instance's parameters (slowdown_weight) and the same prices and
delay term as :class:`~greenopt.optimization.settings.ModelSettings` (defaults equal): a bound
computed with these settings bounds ``schedule_objective`` scored with them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from greenopt.optimization.settings import DelayTerm

BoundMethod = Literal["auto", "lp", "lagrangian"]
LpAlgorithm = Literal["simplex", "ipm", "pdlp"]


class BoundSettings(BaseModel):
    """What is bounded and how. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: BoundMethod = Field(
        "auto",
        description="'lp': LP relaxation of the full model (every site, every departure slot); "
        "'lagrangian': coupling constraints priced, per-job shortest paths (scales); 'auto': lp "
        "while the full model has at most auto_lp_max_arcs candidate arcs (jobs × site pairs × "
        "slots), else lagrangian",
    )
    auto_lp_max_arcs: int = Field(
        400_000, ge=0, description="'auto' uses the LP up to this many candidate arcs"
    )
    time_limit_s: float = Field(
        600.0,
        gt=0,
        description="wall-clock budget, building included; the bound is valid whenever it stops",
    )
    # ---- the objective bounded ----------------------------------------------------------------
    delay_term: DelayTerm = Field(
        "flow", description="'flow' (fractional flow time) or 'exact' (LP only: done relaxed)"
    )
    feasibility_filter: bool = Field(
        True,
        description="only migrations feasible (SPEC §3) on the actual traces; False bounds every "
        "valid schedule, infeasible moves included (the energy-driven problem)",
    )
    terminal_price: float | None = Field(
        None, ge=0, description="as ModelSettings.terminal_price (None = per-job default)"
    )
    deadline_price: float = Field(100.0, ge=0, description="as ModelSettings.deadline_price")
    # ---- solver ---------------------------------------------------------------------------------
    lp_algorithm: LpAlgorithm = Field(
        "ipm",
        description="HiGHS LP algorithm ('ipm' without crossover, 'simplex', 'pdlp'); the bound "
        "is the dual objective of the returned row duals, valid at any status",
    )
    threads: int = Field(1, ge=0, description="HiGHS threads (0 = HiGHS decides)")
    seed: int = Field(0, ge=0, description="HiGHS random_seed")
    ascent: Literal["columns", "subgradient"] = Field(
        "columns",
        description="lagrangian: how the prices are found — 'columns': column generation (an LP "
        "master over the paths found, its duals price the next paths); 'subgradient': Polyak "
        "steps",
    )
    smoothing: float = Field(
        0.5,
        ge=0,
        lt=1,
        description="lagrangian (columns): price at α·(best prices) + (1 − α)·(master duals)",
    )
    gap_tol: float = Field(
        1e-5,
        ge=0,
        description="lagrangian (columns): stop when L is within this share of the master's value",
    )
    iterations: int = Field(
        400, ge=1, description="lagrangian: most rounds / iterations (the time limit also stops)"
    )
    solver_log: bool = Field(False, description="stream the HiGHS log to stdout")
