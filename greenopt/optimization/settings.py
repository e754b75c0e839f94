"""Settings of the scheduling MILP: model levers, objective prices and solver options.

Every field is recorded with the result. Levers use 0 for "off".

Defaults were chosen by measurement (threads=1; incumbent vs. the best dual bound found for the
instance; a shared 2-core machine, so timings are noisy). instances/default (6 sites × 32 jobs ×
288 slots, 60 s): k=0/m=4 0.33 %, k=3/m=4 0.45 %, k=2/m=4 0.57 %, k=1/m=4 1.0 %, k=2/m=1 2.3 %,
the full model k=0/m=1 8.9 % (45k binaries). Generated 12 × 60 × 192 (90 s, two seeds): k=1/m=4
1.9 % and 3.4 %; k=2/m=4 4.6 % and no better than its warm start; k=0 and k=3 (m=4) no better than
the warm start. HiGHS spends such limits in root cut rounds, so small models win as instances
grow: k=1, m=4 is the robust default (120 s: instances/default solved to optimality in 85 s,
1.9 % above the full model's bound; the 12-site seed 0.1 % gap, 1.2 % above its best bound). For
small instances k=0 or 2 does better. The warm start's sites and moves are always added to the
model, so results also depend on the heuristics. The exact delay term stayed at a 37–40 % gap
(60 s; 27 % at 300 s on instances/default) where the flow term reached 0.01–0.3 %, so "flow" is the
default. Note the
scales (SPEC §6): "exact" sums slowdowns; "flow" sums hours left over time per work_h, so a delay
costs (hours left)/work_h per hour — work_h times the slowdown it adds while the whole job is
left, less in its last hour.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DelayTerm = Literal["flow", "exact"]
Backend = Literal["arrays", "pyomo"]


class ModelSettings(BaseModel):
    """What the model contains and how HiGHS solves it. Unknown keys are errors; the policies
    built on the model (``milp``, ``rolling``) extend these settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # ---- levers -----------------------------------------------------------------------------
    candidate_sites: int = Field(
        1,
        ge=0,
        description="sites a job may use besides where it starts: the k best by the renewable "
        "energy it could use there (0 = every connected site)",
    )
    departure_every: int = Field(
        4,
        ge=0,
        description="migrations depart only at slots that are multiples of m (0 or 1 = every slot)",
    )
    coarsen_after_h: float = Field(
        0.0,
        ge=0,
        description="rolling only: hours after a window's start from which its periods are "
        "coarse_factor slots long (0 = off; at least step_h)",
    )
    coarse_factor: int = Field(4, ge=1, description="slots per period in the coarse part")
    delay_term: DelayTerm = Field(
        "flow",
        description="'flow': fractional flow time Σ Δ·remaining/work_h (no binaries); 'exact': "
        "completion indicators done[j,t] (binaries)",
    )
    feasibility_filter: bool = Field(
        True,
        description="keep only migrations feasible (SPEC §3) on the forecast; False gives the "
        "energy-driven MILP",
    )
    # ---- prices (kWh) ---------------------------------------------------------------------------
    terminal_price: float | None = Field(
        None,
        ge=0,
        description="kWh charged per hour of work left at the window end; None = per job "
        "min_s pue_s·power_kw_j + slowdown_weight/work_h_j (grid energy to finish it plus the "
        "slowdown it adds at least)",
    )
    deadline_price: float = Field(
        100.0, ge=0, description="kWh charged per hour of work still missing at a job's deadline"
    )
    # ---- solver -------------------------------------------------------------------------------
    time_limit_s: float = Field(
        60.0, gt=0, description="wall-clock budget of the whole plan, model building included"
    )
    mip_rel_gap: float = Field(1e-4, ge=0, description="HiGHS relative MIP gap to stop at")
    threads: int = Field(1, ge=0, description="HiGHS threads (0 = HiGHS decides)")
    seed: int = Field(0, ge=0, description="HiGHS random_seed")
    solver_log: bool = Field(False, description="stream the HiGHS log to stdout")
    backend: Backend = Field(
        "arrays",
        description="how the model reaches HiGHS: 'arrays' assembles the matrix with numpy "
        "(optimization/arrays.py, held equal to the Pyomo model by tests/test_arrays.py); "
        "'pyomo' builds the Pyomo model (model.py) and hands it over through appsi — use it for "
        "a family added in Pyomo only",
    )
