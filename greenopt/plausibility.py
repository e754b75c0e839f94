"""Warnings about a valid instance that will not behave as its author may expect.

:func:`check_instance` returns one ``FILE:LINE:COLUMN: warning: message`` per finding:

* a site no job can reach (no job starts there, nor a migratable one in its part of the network);
* a job needing more GPUs than any site it can reach has (it can never run);
* a job whose work cannot be done before the horizon ends (arrival_h + work_h > horizon_h), or
  before its deadline (arrival_h + work_h > deadline_h);
* a gap in the traces (a spacing more than :data:`GAP_FACTOR` times the median spacing, within the
  horizon): the loader holds the value before the gap across it.

None of these is an error: ``greenopt validate`` lists them and exits 0.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from greenopt.instance import Instance

#: A trace spacing more than this many times the median spacing is a gap (one missing row of a
#: regular trace doubles the spacing).
GAP_FACTOR = 1.5

#: Slack (h) when comparing the earliest completion with the horizon or a deadline.
EPS_H = 1e-9


def _default_lines(instance: Instance) -> dict[str, list[int]]:
    """Row i on line i + 2 (header on line 1), as :func:`greenopt.files.write_instance` writes."""
    counts = {
        "sites.csv": len(instance.sites),
        "links.csv": len(instance.links),
        "jobs.csv": len(instance.jobs),
        "traces.csv": len(instance.traces),
    }
    return {file: list(range(2, n + 2)) for file, n in counts.items()}


def _reachable_sites(instance: Instance) -> list[set[str]]:
    """Per job, the sites it can ever lie at: its origin, and its origin's part of the network when
    it is migratable."""
    graph = nx.Graph()
    graph.add_nodes_from(s.site_id for s in instance.sites)
    graph.add_edges_from((link.a, link.b) for link in instance.links)
    component = {}
    for part in nx.connected_components(graph):
        for site in part:
            component[site] = part
    return [set(component[j.origin]) if j.migratable else {j.origin} for j in instance.jobs]


def job_warnings(instance: Instance, lines: list[int]) -> list[str]:
    """GPUs no reachable site has; work that cannot finish before the horizon or the deadline."""
    out = []
    gpus = {s.site_id: s.gpus for s in instance.sites}
    most = max(gpus.values(), default=0)
    horizon = instance.params.horizon_h
    for job, line, reach in zip(instance.jobs, lines, _reachable_sites(instance), strict=True):
        where = f"jobs.csv:{line}"
        most_reachable = max(gpus[s] for s in reach)
        if job.gpus > most:
            out.append(
                f"{where}:gpus: warning: job {job.job_id!r} needs {job.gpus} GPUs, more than any "
                f"site has (at most {most}): it can never run"
            )
        elif job.gpus > most_reachable:
            out.append(
                f"{where}:gpus: warning: job {job.job_id!r} needs {job.gpus} GPUs, more than any "
                f"site it can reach has (at most {most_reachable}): it can never run"
            )
        earliest = job.arrival_h + job.work_h
        if earliest > horizon + EPS_H:
            out.append(
                f"{where}:work_h: warning: job {job.job_id!r} cannot finish before the horizon "
                f"ends at {horizon:g} h (arrival_h {job.arrival_h:g} + work_h {job.work_h:g} = "
                f"{earliest:g} h)"
            )
        if job.deadline_h is not None and earliest > job.deadline_h + EPS_H:
            out.append(
                f"{where}:deadline_h: warning: job {job.job_id!r} cannot finish before its "
                f"deadline at {job.deadline_h:g} h (arrival_h {job.arrival_h:g} + work_h "
                f"{job.work_h:g} = {earliest:g} h)"
            )
    return out


def site_warnings(instance: Instance, lines: list[int]) -> list[str]:
    """Sites no job can ever lie at (only when there are jobs)."""
    if not instance.jobs:
        return []
    reached = set().union(*_reachable_sites(instance))
    return [
        f"sites.csv:{line}:site_id: warning: no job can reach site {site.site_id!r} (no job "
        "starts there, nor a migratable one in its part of the network)"
        for site, line in zip(instance.sites, lines, strict=True)
        if site.site_id not in reached
    ]


def trace_gap_warnings(instance: Instance, lines: list[int]) -> list[str]:
    """Spacings of the trace times more than :data:`GAP_FACTOR` × the median spacing that overlap
    the horizon; the row before a gap is the one whose values are held across it."""
    times = instance.traces.index.to_numpy(float)
    if len(times) < 3:
        return []
    spacing = np.diff(times)
    typical = float(np.median(spacing))
    horizon = instance.params.horizon_h
    out = []
    for i in np.flatnonzero(spacing > GAP_FACTOR * typical):
        if times[i + 1] <= 0 or times[i] >= horizon:
            continue  # outside the horizon: never used
        out.append(
            f"traces.csv:{lines[i]}:time: warning: gap of {spacing[i]:g} h before the next time "
            f"(line {lines[i + 1]}; the rows are {typical:g} h apart otherwise): this row's "
            f"values are held from {times[i]:g} h to {times[i + 1]:g} h"
        )
    return out


def check_instance(instance: Instance, lines: dict[str, list[int]] | None = None) -> list[str]:
    """Every warning about ``instance``: sites, then jobs, then traces.

    ``lines`` gives the line of each row per file (``sites.csv``, ``jobs.csv``, ``traces.csv``), as
    :func:`greenopt.files.load_instance` knows them; by default row i is on line i + 2.
    """
    lines = {**_default_lines(instance), **(lines or {})}
    return [
        *site_warnings(instance, lines["sites.csv"]),
        *job_warnings(instance, lines["jobs.csv"]),
        *trace_gap_warnings(instance, lines["traces.csv"]),
    ]
