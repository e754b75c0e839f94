"""Play a schedule against an instance: lay it out, check every rule, compute the metrics."""

from __future__ import annotations

from greenopt.instance import Instance
from greenopt.network import Network
from greenopt.schedule import Schedule
from greenopt.simulation import metrics, rules
from greenopt.simulation.result import RULES, SimulationResult
from greenopt.simulation.timeline import Timeline


def simulate(
    instance: Instance, schedule: Schedule, network: Network | None = None
) -> SimulationResult:
    """Check ``schedule`` against SPEC §4 and, if valid, compute the SPEC §5 metrics on the
    instance's actual traces. Pass ``network`` to reuse its graph across calls."""
    timeline = Timeline(instance, schedule, network)
    timeline.read_rows()
    timeline.place_migrations()
    rules.check_rows(timeline)
    rules.check_capacity(timeline)
    rules.check_links(timeline)
    metrics.energy_arrays(timeline)
    metrics.judge_migrations(timeline)
    C = metrics.completion(timeline)
    order = {rule: i for i, rule in enumerate(RULES)}
    jpos = instance.job_index
    timeline.violations.sort(
        key=lambda v: (
            v.job_id is None,
            jpos.get(v.job_id, len(jpos)) if v.job_id is not None else 0,
            v.slot if v.slot is not None else -1,
            order[v.rule],
        )
    )
    valid = not timeline.violations
    return SimulationResult(
        valid=valid,
        violations=timeline.violations,
        metrics=metrics.metrics(timeline, C) if valid else None,
        load_kw=timeline.P,
        renewable_kw=timeline.R,
        renewable_used_kw=timeline.r,
        grid_kw=timeline.g,
        completion_h=C,
        computed_h=timeline.cum[:, -1].copy(),
        finished=timeline.finished,
        run_fraction=timeline.run,
        location=timeline.loc,
        migration_feasible=timeline.migration_feasible,
    )
