"""The SPEC §4 rules checked on a :class:`~greenopt.simulation.timeline.Timeline`: per row
(arrival, location, work, missing rows) and on shared resources (site GPUs, link capacity)."""

from __future__ import annotations

import numpy as np

from greenopt.schedule import transfer_volume_by_slot
from greenopt.simulation.timeline import (
    CAP_ARRIVAL,
    CAP_LOCATION,
    GPU_TOL,
    IN_TRANSIT,
    LINK_RTOL,
    NO_ROW,
    NOT_ARRIVED,
    RUN_TOL,
    UNKNOWN_SITE,
    WORK_TOL_H,
    Timeline,
)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous runs [first, last] of True in a 1-D mask."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.append(idx[0], idx[breaks + 1])
    ends = np.append(idx[breaks], idx[-1])
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _span(first: int, last: int) -> str:
    return f"slot {first}" if first == last else f"slots {first}–{last}"


def check_rows(timeline: Timeline) -> None:
    """Run fractions against the usable part of each slot and where the job lies; computed hours
    against work_h (completion: ``cum``, ``finished``, ``done_slot``); missing rows."""
    T = timeline.n_slots
    has_row = timeline.row_site != NO_ROW
    excess = has_row & (timeline.run > timeline.avail + timeline.slack + RUN_TOL)
    arrived = timeline.loc != NOT_ARRIVED
    row_site = timeline.row_site
    mismatch = has_row & arrived & (row_site != timeline.loc) & (row_site != UNKNOWN_SITE)
    for j, t in zip(*np.nonzero(excess & (timeline.cap_reason == CAP_ARRIVAL)), strict=True):
        run, avail = timeline.run[j, t], timeline.avail[j, t]
        if t < timeline.arrival_slot[j]:
            why = f"computes {run:.6g} of the slot before its arrival slot"
        else:
            why = f"run_fraction {run:.6g} but only {avail:.6g} of the slot follows arrival_h"
        timeline.add("arrival", int(j), int(t), timeline.at_cell(j, t) + why)
    loc_excess = excess & (timeline.cap_reason == CAP_LOCATION)
    for j, t in zip(*np.nonzero(loc_excess | mismatch), strict=True):
        run, avail, lies = timeline.run[j, t], timeline.avail[j, t], timeline.loc[j, t]
        parts = []
        if mismatch[j, t]:
            where = timeline.where(lies) if lies < 0 else f"at {timeline.where(lies)}"
            says = timeline.where(timeline.row_site[j, t])
            parts.append(f"row says {says}, the job lies {where}")
        if loc_excess[j, t] and lies == IN_TRANSIT:
            parts.append(f"computes {run:.6g} of the slot while in transit")
        elif loc_excess[j, t]:
            parts.append(f"run_fraction {run:.6g} but only {avail:.6g} follows the arrival")
        timeline.add("location", int(j), int(t), timeline.at_cell(j, t) + "; ".join(parts))

    # work and completion
    hours = timeline.run * timeline.dt
    timeline.cum = np.cumsum(hours, axis=1)
    done = timeline.cum >= timeline.work_h[:, None] - WORK_TOL_H
    timeline.finished = done[:, -1]
    timeline.done_slot = np.where(timeline.finished, np.argmax(done, axis=1), T - 1)
    t = np.arange(T)
    for j in np.flatnonzero(timeline.finished):
        k = timeline.done_slot[j]
        if timeline.cum[j, k] > timeline.work_h[j] + WORK_TOL_H:
            timeline.add(
                "work",
                int(j),
                int(k),
                f"computes {timeline.cum[j, k]:.6g} h by this slot, "
                f"more than work_h {timeline.work_h[j]:g}",
            )
        after = (t > k) & (hours[j] > WORK_TOL_H)
        for first, last in _runs(after):
            extra = hours[j, first : last + 1].sum()
            timeline.add(
                "work",
                int(j),
                first,
                f"computes {extra:.6g} h after completing in slot {k} ({_span(first, last)})",
            )

    # required rows: arrival slot through completion slot (or the last slot)
    required = (t[None, :] >= timeline.arrival_slot[:, None]) & (
        t[None, :] <= timeline.done_slot[:, None]
    )
    for j in np.flatnonzero((required & ~has_row).any(axis=1)):
        for first, last in _runs(required[j] & ~has_row[j]):
            timeline.add("format", int(j), first, f"missing row(s) for {_span(first, last)}")


def check_capacity(timeline: Timeline) -> None:
    """GPUs in use per site and slot against the site's GPUs (and the IT load ``it_kw``)."""
    S, T = timeline.n_sites, timeline.n_slots
    at_site = timeline.row_site >= 0
    j_idx, t_idx = np.nonzero(at_site)
    flat = timeline.row_site[j_idx, t_idx] * T + t_idx
    run = timeline.run[j_idx, t_idx]
    it_kw = np.bincount(flat, weights=timeline.power[j_idx] * run, minlength=S * T)
    timeline.it_kw = it_kw.reshape(S, T)
    gpu = np.bincount(flat, weights=timeline.gpus_job[j_idx] * run, minlength=S * T).reshape(S, T)
    cap = np.array([s.gpus for s in timeline.inst.sites], float)[:, None]
    for s, t in zip(*np.nonzero(gpu > cap + GPU_TOL), strict=True):
        jobs = [
            timeline.job_ids[j]
            for j in np.flatnonzero((timeline.row_site[:, t] == s) & (timeline.run[:, t] > 0))
        ]
        timeline.add(
            "capacity",
            None,
            int(t),
            f"{timeline.site_ids[s]}: {gpu[s, t]:.6g} GPUs in use > {cap[s, 0]:g} "
            f"({', '.join(jobs)})",
        )


def check_links(timeline: Timeline) -> None:
    """In-flight checkpoint volume per directed link and slot (each move's volume spread evenly
    over [departure, arrival moment)) against bandwidth · link_efficiency · Δ · 3600 / 8 GB."""
    T, dt = timeline.n_slots, timeline.dt
    link_ids: dict[tuple[str, str], int] = {}
    cols: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []  # link·T+slot, GB, move
    for m, mv in enumerate(timeline.moves):
        if mv.route is None or mv.transit_s <= 0:
            continue
        spread = transfer_volume_by_slot(
            timeline.inst.jobs[mv.job].checkpoint_gb, mv.depart_slot, mv.transit_s, dt, T
        )
        slots = np.array([t for t, _ in spread if t < T], int)
        gb = np.array([v for t, v in spread if t < T], float)
        for link in mv.route.directed_links:
            lid = link_ids.setdefault(link, len(link_ids))
            cols.append((lid * T + slots, gb, m))
    if not cols:
        return
    cell = np.concatenate([c[0] for c in cols])
    gb = np.concatenate([c[1] for c in cols])
    move = np.concatenate([np.full(len(c[0]), c[2]) for c in cols])
    load = np.bincount(cell, weights=gb, minlength=len(link_ids) * T)
    p = timeline.params
    bandwidth = np.array([timeline.graph.edges[a, b]["bandwidth_gbps"] for a, b in link_ids])
    cap = np.repeat(bandwidth * p.link_efficiency * dt * 3600 / 8, T)
    links = list(link_ids)
    for c in np.flatnonzero(load > cap * (1 + LINK_RTOL)):
        (a, b), t = links[c // T], int(c % T)
        moved = move[(cell == c) & (gb > 0)]
        jobs = ", ".join(timeline.job_ids[timeline.moves[m].job] for m in moved)
        timeline.add(
            "link_capacity",
            None,
            t,
            f"link {a}->{b}: {load[c]:.6g} GB in flight > {cap[c]:.6g} GB ({jobs})",
        )
