"""Slurm glue (optional extra ``greenopt[slurm]``, i.e. dask-jobqueue).

Two ways to run a sweep on Slurm:

- ``greenopt sweep FILE --out DIR --slurm`` (from a login node): the driver and the Dask
  scheduler run where the command runs; workers are Slurm jobs submitted by
  ``dask_jobqueue.SLURMCluster``, each job holding ``cores_per_job`` worker processes of one
  thread. ``--print-job-script`` shows the sbatch script of such a job.
- ``srun greenopt sweep FILE --out DIR --slurm-runner`` inside one allocation (sbatch script from
  :func:`allocation_script`): ``dask_jobqueue.slurm.SLURMRunner`` makes Slurm task 0 the
  scheduler, task 1 the driver and every other task a one-thread worker; they meet through a
  scheduler file in DIR (which must be on a shared filesystem).
"""

from __future__ import annotations

import shlex
import signal
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SlurmOptions:
    """Resources of one worker job (``#SBATCH`` lines): partition, account, wall time (HH:MM:SS),
    memory per job (e.g. "8GB") and cores per job (= worker processes per job)."""

    queue: str | None = None
    account: str | None = None
    walltime: str = "01:00:00"
    memory: str = "4GB"
    cores_per_job: int = 1
    log_directory: str | None = None
    job_extra: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.cores_per_job < 1:
            raise ValueError(f"cores per job must be >= 1, got {self.cores_per_job}")


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
def slurm_cluster(opts: SlurmOptions, python: str | None = None):
    """A ``SLURMCluster`` whose jobs each run ``cores_per_job`` one-thread worker processes."""
    jq = import_jobqueue()
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
        scheduler_options={"dashboard_address": ":0"},
    )
    try:
        yield cluster
    finally:
        cluster.close()


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
