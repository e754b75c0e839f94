"""The simulator (SPEC §4–§5): the one place a schedule is checked and its metrics computed.

Modules: :mod:`~greenopt.simulation.timeline` (the schedule laid over jobs × slots),
:mod:`~greenopt.simulation.rules` (the SPEC §4 checks), :mod:`~greenopt.simulation.metrics`
(SPEC §5), :mod:`~greenopt.simulation.result` (what is reported) and
:mod:`~greenopt.simulation.run` (:func:`simulate`, the steps in order).

:func:`simulate` plays a :class:`~greenopt.schedule.Schedule` against an instance's **actual**
traces (``instance.renewable_kw``, never a forecast). It reports every violation of the SPEC §4
rules (``format``, ``arrival``, ``location``, ``migration_timing``, ``non_migratable``,
``capacity``, ``link_capacity``, ``work``) and, for a valid schedule only, the SPEC §5 metrics:

* load P[s,t] = idle_kw_s + pue_s · Σ_j power_kw_j · run[j,s,t]; r = min(P, R); g = P − r   (kW)
* nre_kwh = Σ g·Δ + Σ E_mig; renewable_kwh = Σ r·Δ; curtailed_kwh = Σ (R − r)·Δ
* carbon_kg = Σ g·Δ·carbon / 1000 over sites with a carbon column (migration energy excluded)
* C_j: the moment cumulative computing reaches work_h; inside slot t computing spans
  [tΔ + o, tΔ + o + f·Δ], o being the part of the slot before the job's (or its checkpoint's)
  arrival; censored at horizon_h when unfinished. JCT = C_j − arrival_h, slowdown = JCT / work_h.

Choices where SPEC leaves room (documented once, here):

* A migration departs at the moment depart_slot·Δ, which must not precede arrival_h: a job arriving
  inside slot t can leave at the start of slot t + 1 at the earliest (``arrival`` otherwise).
* A migration's transit lasts its recorded ``transfer_s`` when that matches T_mig within
  0.01 s + 1e-6·T_mig, else T_mig (the physical truth); in its arrival slot run_fraction may
  exceed the usable part by that tolerance (so fractions derived from either value pass).
  E_mig and ``migration_downtime_h`` use T_mig.
* ``capacity`` and ``link_capacity`` violations carry ``job_id=None``; their message names the
  site or directed link and the jobs involved.
* Missing rows are reported once per contiguous run of slots (slot = the first of the run);
  computing after completion once per contiguous run as well.
* A row's ``site`` must be where the job lies (empty in transit) from its arrival slot on, even
  with run_fraction 0 (``location``); rows before the arrival slot only need run_fraction 0.
* Computing recorded in an invalid row (before arrival, in transit) still counts towards work_h,
  so ``work`` is judged on what the schedule claims.
"""

from greenopt.simulation.result import METRIC_NAMES, RULES, SimulationResult, Violation
from greenopt.simulation.run import simulate

__all__ = ["METRIC_NAMES", "RULES", "SimulationResult", "Violation", "simulate"]
