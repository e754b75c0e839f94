"""Running a sweep on Dask: an embedded LocalCluster, any running Dask cluster, or Slurm.

The driver submits one task per unfinished run (no more at a time than the workers have threads,
so a run that kills its worker takes no other run with it), writes each finished run's row as it
arrives (:mod:`greenopt.sweep.results`), retries failed runs (exception, worker lost) up to
``retries`` more times and then records them as failed, and ends by consolidating
``DIR/results.parquet``.
Workers receive the resolved run (instance folder path or generator settings, knobs, policy and
settings) and build the instance and the policy themselves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import random
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TextIO

from greenopt import interrupt
from greenopt.progress import hms
from greenopt.sweep import results
from greenopt.sweep.config import Sweep, import_object, make_any_policy
from greenopt.sweep.transform import apply_transforms

log = logging.getLogger(__name__)

#: Dask settings of the clusters greenopt starts (embedded, Slurm): a task whose worker dies fails
#: at once (the driver retries it and counts the try), and a worker holds only the task it runs.
EMBEDDED_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.scheduler.worker-saturation": 1.0,
}


def package_version() -> str:
    import greenopt

    return getattr(greenopt, "__version__", "unknown")


# ---- worker side ----------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _base_instance(source: str):
    src = json.loads(source)
    if "folder" in src:
        folder = Path(src["folder"])
        if not folder.is_dir():
            raise FileNotFoundError(
                f"instance folder {folder} not found on host {socket.gethostname()} "
                "(workers need the folder on a shared filesystem)"
            )
        from greenopt.files import load_instance

        return load_instance(folder)
    return import_object(src["generator"])(**src["generate"])


def build_instance(spec: dict[str, Any]):
    """The instance of a resolved run: the base (loaded or generated, cached per process) with the
    run's knobs applied."""
    base = _base_instance(json.dumps(spec["instance"], sort_keys=True))
    return apply_transforms(base, spec.get("transform", {}), spec.get("seed", 0))


#: lower bounds computed in this process, by instance spec (a sweep varies policies on few)
_BOUNDS: dict[str, Any] = {}


def _instance_bound(instance_key: str, instance: Any) -> Any:
    """The auto lower bound of an instance, once per process (keyed by its spec)."""
    from greenopt.bounds import lower_bound

    if instance_key not in _BOUNDS:
        if len(_BOUNDS) >= 8:
            _BOUNDS.pop(next(iter(_BOUNDS)))
        _BOUNDS[instance_key] = lower_bound(instance)
    return _BOUNDS[instance_key]


def point_bound(spec: dict[str, Any], instance: Any, result: Any) -> dict[str, Any]:
    """``objective`` (the common score), ``lower_bound``, ``bound_ratio``, ``bound_method``, and
    how the bound was obtained: ``bound_time_s`` and ``bound_settings`` (JSON; a bound stopped
    by its time limit may differ between workers under different load, so it is recorded)."""
    from greenopt.compare import bound_columns
    from greenopt.optimization import ModelSettings, schedule_objective

    key = json.dumps(
        [spec["instance"], spec.get("transform", {}), spec.get("seed", 0)], sort_keys=True
    )
    lower = _instance_bound(key, instance)
    objective = None
    if result.simulation.valid:
        objective = schedule_objective(
            instance, result.schedule, result.simulation, ModelSettings()
        )
    return {
        "objective": objective,
        **bound_columns(objective, lower),
        "bound_time_s": lower.time_s,
        "bound_settings": json.dumps(lower.settings, sort_keys=True, default=str),
    }


def run_point(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one resolved run on this process; returns its result row (flat dict).

    ``status`` is ``ok``, or ``invalid`` when the simulator rejects the schedule (then ``error``
    lists the first violations); then come :meth:`RunResult.record` (policy, ``setting.*``, SPEC §5
    metrics, ``info.*``, ``wall_s`` = planning time), the instance's size, timings (``setup_s``:
    instance and policy, ``run_s``: planning and simulation, ``point_s``: both), worker host and
    pid, the Slurm job and node of the worker (``slurm_job_id``, ``slurm_node``) and the package
    version. Exceptions propagate: the driver retries them.
    """
    from greenopt.runner import run_policy

    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    instance = build_instance(spec)
    policy = make_any_policy(spec["policy"], spec["settings"])
    t1 = time.perf_counter()
    result = run_policy(instance, policy)
    t2 = time.perf_counter()
    simulation = getattr(result, "simulation", None)
    valid = bool(getattr(simulation, "valid", True))
    error = None
    if not valid:
        violations = list(getattr(simulation, "violations", []))
        shown = "; ".join(str(getattr(v, "message", v)) for v in violations[:5])
        error = f"invalid schedule ({len(violations)} violations): {shown}"
    bound = point_bound(spec, instance, result) if spec.get("bound") else {}
    return {
        "status": "ok" if valid else "invalid",
        "error": error,
        **results.flatten(result.record()),
        **bound,
        **instance_summary(instance),
        "setup_s": t1 - t0,
        "run_s": t2 - t1,
        "point_s": t2 - t0,
        "started_at": started,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),  # None outside Slurm
        "slurm_node": os.environ.get("SLURMD_NODENAME"),
        "greenopt_version": package_version(),
    }


def instance_summary(instance) -> dict[str, Any]:
    return {
        "instance": instance.name,
        "n_sites": len(instance.sites),
        "n_links": len(instance.links),
        "n_jobs": len(instance.jobs),
        "n_slots": instance.n_slots,
    }


# ---- clusters ---------------------------------------------------------------------------------


@contextmanager
def local_cluster(n_workers: int | None = None) -> Iterator[Any]:
    """An embedded LocalCluster: ``n_workers`` processes (default: the number of cores), one
    thread each, its HTTP server on a free port (no fixed 8787), with :data:`EMBEDDED_CONFIG`."""
    import dask
    from distributed import LocalCluster

    n = n_workers or os.cpu_count() or 1
    # worker processes ignore SIGINT and SIGTERM: a signal to the whole process group reaches the
    # driver only, which closes the cluster
    with dask.config.set(EMBEDDED_CONFIG), interrupt.children_ignore_signals():
        cluster = None
        try:
            with interrupt.deferred():  # a signal while the cluster starts: raised once started
                cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # no fixed port: concurrent sweeps must not collide
                    silence_logs=logging.CRITICAL,  # failures are reported by the driver instead
                )
        except BaseException:
            if cluster is not None:
                cluster.close()
            raise
        with cluster:
            yield cluster


@contextmanager
def open_client(
    workers: int | None = None,
    scheduler: str | None = None,
    scheduler_file: str | Path | None = None,
    slurm: Any | None = None,
) -> Iterator[Any]:
    """A Dask client: attached to ``scheduler`` / ``scheduler_file`` if given, else on Slurm
    workers (``slurm``: :class:`greenopt.sweep.slurm.SlurmOptions`, ``workers`` worker processes),
    else on an embedded LocalCluster of ``workers`` processes."""
    from distributed import Client

    if scheduler or scheduler_file:
        if slurm is not None:
            raise ValueError("--slurm starts its own cluster; do not combine it with --scheduler")
        sf = str(scheduler_file) if scheduler_file else None
        with Client(scheduler, scheduler_file=sf) as client:
            yield client
    elif slurm is not None:
        import dask

        from greenopt.sweep.slurm import slurm_cluster

        n = workers or slurm.cores_per_job
        with (
            dask.config.set(EMBEDDED_CONFIG),  # the scheduler runs here, in the driver
            slurm_cluster(slurm, workers=n) as cluster,
            Client(cluster) as client,
        ):
            yield client
    else:
        with local_cluster(workers) as cluster, Client(cluster) as client:
            yield client


# ---- progress ---------------------------------------------------------------------------------


def estimate_eta_s(
    durations: list[float], remaining: int, workers: int, running_s: list[float] = ()
) -> float | None:
    """Seconds until the sweep ends: the runs left (``remaining``, those running included) times
    the mean duration of the finished runs, less the time the running ones have already spent
    (each counted up to that mean), shared by the workers that can run them at once. None until
    a run has finished; 0 when none is left."""
    if remaining <= 0:
        return 0.0
    if not durations:
        return None
    mean = sum(durations) / len(durations)
    work_s = remaining * mean - sum(min(r, mean) for r in running_s)
    return max(0.0, work_s) / max(1, min(workers, remaining))


class LiveBar(Protocol):
    """A live display of a :class:`SweepProgress` (the command line draws one with rich:
    ``greenopt.cli.progress_display.RichSweepBar``); made by a factory called with the
    progress once the sweep starts."""

    def advance(self) -> None:
        """One more run ended (the progress's counts and status have changed)."""

    def print(self, text: str) -> None:
        """Show a line (a failure) above the bar."""

    def stop(self) -> None:
        """The sweep ended: stop drawing."""


class SweepProgress:
    """Runs done / failed / remaining with an ETA (:func:`estimate_eta_s`, refreshed as time
    passes): a live bar when ``live`` (default: on a terminal) and a ``live_bar`` factory is given,
    plain log lines otherwise (at most one per ``every_s`` seconds when runs finish, one every
    ``every_s`` seconds while none does, plus every failure and the end). ``started(key)`` and
    ``update(status, key=key)`` time each run."""

    def __init__(
        self,
        name: str,
        total: int,
        live: bool | None = None,
        stream: TextIO | None = None,
        every_s: float = 10.0,
        workers: int = 1,
        clock: Callable[[], float] = time.monotonic,
        live_bar: Callable[[SweepProgress], LiveBar] | None = None,
    ):
        self.name, self.total = name, total
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.every_s = every_s
        self.workers = workers
        self.clock = clock
        self.live_bar = live_bar
        self.done = self.failed = 0
        self.durations: list[float] = []
        self._running: dict[str, float] = {}  # key -> start
        self.start = clock()
        self._last = -math.inf  # the first update always prints
        self._bar: LiveBar | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    def __enter__(self) -> SweepProgress:
        if self.live and self.total and self.live_bar is not None:
            self._bar = self.live_bar(self)
        elif self.total:
            self._timer = threading.Thread(target=self._tick, name="sweep-progress", daemon=True)
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
        if self._bar is not None:
            self._bar.stop()

    def _tick(self) -> None:
        """Plain mode: a line every ``every_s`` seconds while no run finishes."""
        while not self._stop.wait(self.every_s / 4):
            if self.clock() - self._last >= self.every_s and self.remaining:
                self.line()

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed

    def status_text(self) -> str:
        """``done 3 · failed 1 · remaining 6``."""
        return f"done {self.done} · failed {self.failed} · remaining {self.remaining}"

    def started(self, key: str) -> None:
        """Run ``key`` was submitted (a retry restarts its clock)."""
        self._running[key] = self.clock()

    def eta_s(self) -> float | None:
        now = self.clock()
        running = [now - t for t in list(self._running.values())]
        return estimate_eta_s(self.durations, self.remaining, self.workers, running)

    def eta_text(self) -> str:
        eta = self.eta_s()
        return "estimating…" if eta is None else hms(eta)

    def update(self, status: str, note: str = "", key: str | None = None) -> None:
        if status == "failed":
            self.failed += 1
        else:
            self.done += 1
        begun = self._running.pop(key, None) if key is not None else None
        if begun is not None:
            self.durations.append(self.clock() - begun)
        if self._bar is not None:
            self._bar.advance()
            if note:
                self._bar.print(note)
            return
        now = self.clock()
        if note or self.remaining == 0 or now - self._last >= self.every_s:
            self.line(note)

    def line(self, note: str = "") -> None:
        text = (
            f"[sweep {self.name}] {self.done + self.failed}/{self.total} runs: "
            f"{self.status_text()}, elapsed {hms(self.clock() - self.start)}, "
            f"ETA {self.eta_text()}"
        )
        with self._lock:
            self._last = self.clock()
            if self._bar is not None:
                self._bar.print(text)
            else:
                print(text + (f" | {note}" if note else ""), file=self.stream, flush=True)


# ---- the driver -----------------------------------------------------------------------------


@dataclass
class SweepReport:
    points: int
    runs: int
    skipped: int  # runs already finished before this call
    ok: int
    invalid: int
    failed: int
    wall_s: float
    results_path: Path

    def summary(self) -> str:
        return (
            f"{self.points} points, {self.runs} runs ({self.skipped} already finished): "
            f"{self.ok} ok, {self.invalid} invalid, {self.failed} failed; "
            f"{self.wall_s:.1f} s; results in {self.results_path}"
        )


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    *,
    client: Any | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    scheduler_file: str | Path | None = None,
    slurm: Any | None = None,
    retries: int | None = None,
    csv: bool = False,
    progress: bool | None = None,
    stream: TextIO | None = None,
    point_fn: Callable[[dict[str, Any]], dict[str, Any]] = run_point,
    live_bar: Callable[[SweepProgress], LiveBar] | None = None,
) -> SweepReport:
    """Run every unfinished run of ``sweep`` into ``out`` and consolidate ``out/results.parquet``.

    Finished runs (status ok or invalid) in ``out/runs`` are skipped; failed ones are tried
    again. ``client`` reuses a connected Dask client; otherwise :func:`open_client` makes one.
    Progress goes to ``stream`` (default stderr): a ``live_bar`` when ``progress`` (default: on a
    terminal), plain lines otherwise (:class:`SweepProgress`). ``point_fn`` is the function run on
    workers (tests replace it).
    """
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results.write_manifest(out, sweep, package_version())
    results.clean_temporary(out)
    runs = sweep.runs()
    status = results.finished_runs(out, runs)
    todo = {k: s for k, s in runs.items() if status.get(k) not in results.DONE_STATUSES}
    skipped = len(runs) - len(todo)
    retries = sweep.retries if retries is None else retries
    stream = stream or sys.stderr
    if skipped:
        print(f"[sweep {sweep.name}] resuming: {skipped} of {len(runs)} runs done", file=stream)

    if todo:
        if client is not None:
            _drive(client, sweep.name, todo, out, retries, progress, stream, point_fn, live_bar)
        else:
            with open_client(workers, scheduler, scheduler_file, slurm) as own:
                _drive(own, sweep.name, todo, out, retries, progress, stream, point_fn, live_bar)

    results.consolidate(out, sweep.points, sweep.param_names, csv=csv)
    final = results.finished_runs(out, runs)
    counts = {s: sum(1 for v in final.values() if v == s) for s in results.STATUSES}
    return SweepReport(
        points=len(sweep.points),
        runs=len(runs),
        skipped=skipped,
        ok=counts["ok"],
        invalid=counts["invalid"],
        failed=counts["failed"],
        wall_s=time.perf_counter() - t0,
        results_path=out / results.RESULTS,
    )


def _drive(client, name, todo, out, retries, live, stream, point_fn, live_bar) -> None:
    from distributed import as_completed

    tries: dict[str, int] = {}
    owner: dict[str, str] = {}
    bar = SweepProgress(name, len(todo), live=live, stream=stream, live_bar=live_bar)

    def submit(key: str):
        tries[key] = tries.get(key, 0) + 1
        fut = client.submit(point_fn, todo[key], key=f"greenopt-run-{key}-{tries[key]}", pure=False)
        owner[fut.key] = key
        bar.started(key)
        return fut

    # a seeded shuffle spreads slow kinds of runs (e.g. one policy) over the sweep: steadier ETA
    order = sorted(todo)
    random.Random(0).shuffle(order)
    waiting = deque(order)
    pending = as_completed()

    def fill() -> None:
        """Submit no more runs than the workers have threads (at least one): a run never waits on
        a busy worker, so a run that kills its worker takes no other run with it."""
        bar.workers = max(1, sum(client.nthreads().values()))  # clusters grow and shrink
        room = bar.workers - pending.count()
        while waiting and room > 0:
            pending.add(submit(waiting.popleft()))
            room -= 1

    with bar:
        fill()
        for fut in _completed(pending, fill):
            key = owner.pop(fut.key)
            try:
                row = fut.result()
            except (Exception, asyncio.CancelledError) as e:
                reason = f"{type(e).__name__}: {e}"
                if tries[key] <= retries:
                    log.info("run %s failed (try %d): %s; retrying", key, tries[key], reason)
                    waiting.appendleft(key)
                    fut.release()
                    fill()
                    continue
                row = failure_row(todo[key], reason, e)
            fut.release()
            fill()
            row["tries"] = tries[key]
            row["spec"] = json.dumps(todo[key], sort_keys=True, default=str)
            results.write_run(out, key, row)
            note = f"run {key} failed after {tries[key]} tries: {row['error']}"
            bar.update(row["status"], note if row["status"] == "failed" else "", key=key)


def _completed(pending: Any, refill: Callable[[], None], every_s: float = 1.0) -> Iterator[Any]:
    """The futures of ``pending`` (``as_completed``) as they finish; while none is ready,
    ``refill`` runs every ``every_s``, so workers that join late (Slurm jobs leaving the queue)
    get runs without waiting for a run to finish."""
    last = time.monotonic()
    while not pending.is_empty():
        if pending.has_ready():
            yield next(pending)
        elif time.monotonic() - last >= every_s:
            refill()
            last = time.monotonic()
        else:
            time.sleep(0.02)


def failure_row(spec: dict[str, Any], reason: str, exc: BaseException) -> dict[str, Any]:
    """The row recorded for a run that failed every try."""
    tb = "".join(traceback.format_exception(exc))
    return {
        "status": "failed",
        "error": reason[:2000],
        "traceback": tb[-4000:],
        "policy": spec.get("policy"),
        "greenopt_version": package_version(),
    }
