"""Slurm glue (optional extra ``greenopt[slurm]``, i.e. dask-jobqueue).

Two ways to run a sweep on Slurm:

- ``greenopt sweep FILE --out DIR --slurm`` (from a login node): the driver and the Dask
  scheduler run where the command runs; workers are Slurm jobs submitted by
  ``dask_jobqueue.SLURMCluster``, each job holding ``cores_per_job`` worker processes of one
  thread. ``--print-job-script`` shows the sbatch script of such a job. Jobs that end (wall time,
  ``scancel``, a lost node) are replaced by new ones (:func:`slurm_cluster`).
- ``srun greenopt sweep FILE --out DIR --slurm-runner`` inside one allocation (sbatch script from
  :func:`allocation_script`): ``dask_jobqueue.slurm.SLURMRunner`` makes Slurm task 0 the
  scheduler, task 1 the driver and every other task a one-thread worker; they meet through a
  scheduler file in DIR (which must be on a shared filesystem).

Tested against a real single-node Slurm 22.05 (``.ci/slurm-up``, ``tests/test_slurm_real.py``).
"""

from __future__ import annotations

import asyncio
import re
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SLURM_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def slurm_seconds(text: str) -> int:
    """Seconds of a Slurm time: ``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH``, ``D-HH:MM`` or
    ``D-HH:MM:SS`` (a bare number is minutes, as for ``sbatch -t``)."""
    m = _SLURM_TIME.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a Slurm time (MM, MM:SS, HH:MM:SS or D-HH:MM:SS)")
    days, a, b, c = (int(x) if x else 0 for x in m.groups())
    if m.group(1) or m.group(4):  # D-HH[:MM[:SS]] or HH:MM:SS
        h, mi, s = a, b, c
    else:  # MM[:SS]
        h, mi, s = 0, a, b
    return ((days * 24 + h) * 60 + mi) * 60 + s


@dataclass(frozen=True)
class SlurmOptions:
    """Resources of one worker job (``#SBATCH`` lines): partition, account, wall time (a Slurm
    time), memory per job (e.g. "8GB") and cores per job (= worker processes per job); and what
    keeps workers alive on a busy cluster:

    - ``death_timeout_s``: a worker that cannot reach the scheduler this long exits (its job
      ends instead of idling when the driver is gone);
    - ``worker_ttl_s``: the scheduler drops a worker silent this long (no heartbeat) and gives
      its run to another worker;
    - ``worker_lifetime``: a worker retires gracefully after this time (a Slurm time, ``auto``
      or ``off``) and a new job replaces it, so no run is cut by the wall time; ``auto`` =
      the wall time minus a tenth of it (at most 10 min), off under 10 min of wall time;
    - ``lifetime_stagger``: workers retire at the lifetime ± this (a Slurm time or ``auto`` =
      half of wall time − lifetime), so they do not all leave at once.
    """

    queue: str | None = None
    account: str | None = None
    walltime: str = "01:00:00"
    memory: str = "4GB"
    cores_per_job: int = 1
    log_directory: str | None = None
    job_extra: tuple[str, ...] = field(default_factory=tuple)
    death_timeout_s: int = 60
    worker_ttl_s: int = 300
    worker_lifetime: str = "auto"
    lifetime_stagger: str = "auto"

    def __post_init__(self) -> None:
        if self.cores_per_job < 1:
            raise ValueError(f"cores per job must be >= 1, got {self.cores_per_job}")
        if self.death_timeout_s < 1 or self.worker_ttl_s < 1:
            raise ValueError("death timeout and worker TTL must be >= 1 s")
        self.lifetime()  # validates walltime, lifetime and stagger

    def lifetime(self) -> tuple[int, int] | None:
        """(lifetime, stagger) in seconds for the workers' ``--lifetime`` and
        ``--lifetime-stagger``, or None when workers live as long as their job."""
        wall = slurm_seconds(self.walltime)
        if self.worker_lifetime == "off":
            return None
        if self.worker_lifetime == "auto":
            if wall < 600:
                return None
            life = wall - min(wall // 10, 600)
        else:
            life = slurm_seconds(self.worker_lifetime)
            if not 0 < life < wall:
                raise ValueError(
                    f"worker lifetime {self.worker_lifetime} must be shorter than the "
                    f"wall time {self.walltime}"
                )
        if self.lifetime_stagger == "auto":
            stagger = (wall - life) // 2
        else:
            stagger = slurm_seconds(self.lifetime_stagger)
            if life + stagger >= wall or stagger >= life:
                raise ValueError(
                    f"lifetime {life} s ± stagger {stagger} s must stay within (0, wall time "
                    f"{wall} s)"
                )
        return life, stagger

    def worker_args(self) -> list[str]:
        """Extra ``dask worker`` arguments: ``--lifetime``, ``--lifetime-stagger``."""
        lt = self.lifetime()
        return [] if lt is None else ["--lifetime", f"{lt[0]}s", "--lifetime-stagger", f"{lt[1]}s"]

    def scheduler_config(self) -> dict[str, Any]:
        """Dask settings of the scheduler that SLURMCluster starts in the driver."""
        return {"distributed.scheduler.worker-ttl": f"{self.worker_ttl_s}s"}


class SlurmUnavailable(RuntimeError):
    """dask-jobqueue (the ``slurm`` extra) is not installed."""


def import_jobqueue() -> Any:
    """Import dask_jobqueue without keeping the SIGINT handler its runner module installs
    (it would turn Ctrl-C in the driver into a silent exit)."""
    try:
        previous = signal.getsignal(signal.SIGINT)
    except ValueError:  # not the main thread
        previous = None
    try:
        import dask_jobqueue
        import dask_jobqueue.slurm
    except ImportError as e:
        raise SlurmUnavailable(
            'Slurm support needs dask-jobqueue (the "slurm" extra): pip install -e ".[slurm]" '
            'in a source checkout, or pip install "greenopt[slurm]"'
        ) from e
    if previous is not None:
        signal.signal(signal.SIGINT, previous)
    return dask_jobqueue


@contextmanager
def slurm_cluster(
    opts: SlurmOptions,
    python: str | None = None,
    workers: int | None = None,
    check_every_s: float = 2.0,
):
    """A ``SLURMCluster`` whose jobs each run ``cores_per_job`` one-thread worker processes.

    With ``workers``, jobs for that many worker processes are submitted and kept: a job whose
    workers were connected and are all gone (wall time, ``scancel``, lost node) is replaced by a
    new job (:func:`_replace_lost_jobs`, checked every ``check_every_s``). SpecCluster alone
    never resubmits a lost job.
    """
    import dask

    jq = import_jobqueue()
    with dask.config.set(opts.scheduler_config()):
        cluster = jq.SLURMCluster(
            queue=opts.queue,
            account=opts.account,
            walltime=opts.walltime,
            memory=opts.memory,
            cores=opts.cores_per_job,
            processes=opts.cores_per_job,
            job_name="greenopt-sweep",
            python=python or sys.executable,
            log_directory=opts.log_directory,
            job_extra_directives=list(opts.job_extra),
            death_timeout=opts.death_timeout_s,
            worker_extra_args=opts.worker_args(),
            scheduler_options={"dashboard_address": ":0"},
        )
    stop = threading.Event()
    keeper = None
    try:
        if workers:
            cluster.scale(workers)
            seen: set[str] = set()

            def keep() -> None:
                while not stop.wait(check_every_s):
                    cluster.loop.add_callback(_replace_lost_jobs, cluster, workers, seen)

            keeper = threading.Thread(target=keep, name="greenopt-slurm-keeper", daemon=True)
            keeper.start()
        yield cluster
    finally:
        stop.set()
        if keeper is not None:
            keeper.join()
        cluster.close()


def _replace_lost_jobs(cluster: Any, workers: int, seen: set[str]) -> list[str]:
    """On the cluster's event loop: forget the jobs whose workers were seen connected and are
    all gone (cancel them in case they linger), then scale back to ``workers``. Returns the
    names of the jobs forgotten. ``seen`` holds the job names seen with a connected worker."""
    connected = {str(w.get("name")) for w in cluster.scheduler_info.get("workers", {}).values()}

    def has_worker(job: str) -> bool:  # grouped workers are named <job>-<i>
        return any(n == job or n.startswith(f"{job}-") for n in connected)

    for job in cluster.workers:
        if has_worker(job):
            seen.add(job)
    # lost: seen, and now without workers (or already dropped by SpecCluster after
    # distributed.deploy.lost-worker-timeout, which leaves it in worker_spec all the same)
    lost = sorted(job for job in seen if job not in cluster.workers or not has_worker(job))
    for job in lost:
        seen.discard(job)
        cluster.worker_spec.pop(job, None)
        ended = cluster.workers.pop(job, None)
        if ended is not None:
            asyncio.ensure_future(_close_quietly(ended))
    if lost:
        cluster.scale(workers)  # submits jobs for the missing workers
    return lost


async def _close_quietly(job: Any) -> None:
    with suppress(Exception):
        await job.close()


def job_script(opts: SlurmOptions, python: str | None = None) -> str:
    """The sbatch script one worker job would be submitted with."""
    with slurm_cluster(opts, python) as cluster:
        return cluster.job_script()


def allocation_script(
    sweep_file: str | Path, out: str | Path, opts: SlurmOptions, ntasks: int = 4
) -> str:
    """An sbatch script running a whole sweep inside one allocation of ``ntasks`` tasks
    (scheduler + driver + ``ntasks - 2`` workers) with :func:`run_with_slurm_runner`."""
    if ntasks < 3:
        raise ValueError("SLURMRunner needs at least 3 tasks (scheduler, driver, a worker)")
    lines = ["#!/usr/bin/env bash", "#SBATCH -J greenopt-sweep"]
    if opts.queue:
        lines.append(f"#SBATCH -p {opts.queue}")
    if opts.account:
        lines.append(f"#SBATCH -A {opts.account}")
    lines += [
        f"#SBATCH --ntasks={ntasks}",
        "#SBATCH --cpus-per-task=1",
        f"#SBATCH --mem-per-cpu={opts.memory}",
        f"#SBATCH -t {opts.walltime}",
        *[f"#SBATCH {x}" for x in opts.job_extra],
        "",
        f"srun {shlex.quote(greenopt_command())} sweep {shlex.quote(str(sweep_file))} "
        f"--out {shlex.quote(str(out))} --slurm-runner",
        "",
    ]
    return "\n".join(lines)


def greenopt_command() -> str:
    """The ``greenopt`` script of this environment (beside the interpreter), else ``greenopt``."""
    script = Path(sys.executable).parent / "greenopt"
    return str(script) if script.exists() else "greenopt"


def run_with_slurm_runner(scheduler_file: str | Path, body: Callable[[Any], Any]) -> Any:
    """Run ``body(client)`` in the driver task of a Slurm allocation (``SLURM_PROCID``,
    ``SLURM_NTASKS``, ``SLURM_JOB_ID`` set by srun). In the scheduler and worker tasks this call
    serves until the driver finishes and then exits the process (SLURMRunner's behaviour)."""
    import_jobqueue()
    from dask_jobqueue.slurm import SLURMRunner
    from distributed import Client

    # scheduler and worker tasks stop by signalling themselves SIGINT: make that a clean exit
    signal.signal(signal.SIGINT, lambda *_: sys.exit())

    with (
        SLURMRunner(
            scheduler_file=str(scheduler_file),
            scheduler_options={"dashboard_address": ":0"},
            worker_options={"nthreads": 1},
        ) as runner,
        Client(runner) as client,
    ):
        client.wait_for_workers(runner.n_workers)
        return body(client)
