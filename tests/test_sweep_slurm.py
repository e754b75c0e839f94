"""Slurm glue: the worker job script, the one-allocation script, and SLURMRunner driven by
simulated SLURM_* variables in local processes, the options that keep workers alive. Against a
real Slurm: tests/test_slurm_real.py."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenopt.cli import app
from greenopt.sweep.results import load_results
from greenopt.sweep.slurm import (
    SlurmOptions,
    _replace_lost_jobs,
    allocation_script,
    slurm_cluster,
    slurm_seconds,
)

pytest.importorskip("dask_jobqueue")

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny"


@pytest.fixture
def sweep_path(tmp_path: Path) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(
        f'[instance]\nfolder = "{TINY}"\n[policy]\nname = "static"\n'
        "[vary]\nbandwidth_gbps = [1, 10, 100]\n"
    )
    return path


def test_job_script_has_the_requested_resources(sweep_path):
    handler = signal.getsignal(signal.SIGINT)
    args = ["sweep", str(sweep_path), "--print-job-script", "--slurm", "--queue", "gpu"]
    args += ["--account", "proj42", "--walltime", "02:30:00", "--memory", "8GB"]
    args += ["--cores-per-job", "4"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    for directive in [
        "#SBATCH -p gpu",
        "#SBATCH -A proj42",
        "#SBATCH -t 02:30:00",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --mem=8G",
    ]:
        assert directive in lines
    worker = next(ln for ln in lines if "distributed.cli.dask_worker" in ln)
    assert "--nworkers 4" in worker and "--nthreads 1" in worker  # one thread per process
    assert worker.startswith(sys.executable)
    assert signal.getsignal(signal.SIGINT) is handler  # importing dask_jobqueue changed nothing


def test_allocation_script(sweep_path):
    text = allocation_script(sweep_path, "/scratch/out", SlurmOptions(account="p", memory="2G"), 6)
    lines = text.splitlines()
    assert "#SBATCH --ntasks=6" in lines and "#SBATCH -A p" in lines
    assert "#SBATCH --mem-per-cpu=2G" in lines
    assert lines[-1].startswith("srun ") and lines[-1].endswith("--out /scratch/out --slurm-runner")
    with pytest.raises(ValueError, match="at least 3 tasks"):
        allocation_script(sweep_path, "o", SlurmOptions(), 2)
    res = CliRunner().invoke(
        app, ["sweep", str(sweep_path), "--print-job-script", "--slurm-runner", "--workers", "3"]
    )
    assert res.exit_code == 0 and "#SBATCH --ntasks=5" in res.output


@pytest.mark.slow
def test_slurm_runner_runs_a_sweep_in_simulated_tasks(sweep_path, tmp_path):
    """Four local processes with SLURM_PROCID 0..3 play the tasks of one allocation:
    0 = scheduler, 1 = driver, 2 and 3 = workers."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", "from greenopt.cli import app; app()"]
    cmd += ["sweep", str(sweep_path), "--out", str(out), "--slurm-runner", "--no-progress"]
    tasks = []
    for rank in range(4):
        env = {**os.environ, "SLURM_PROCID": str(rank), "SLURM_NTASKS": "4"}
        env["SLURM_JOB_ID"] = str(900000 + os.getpid() % 10000)
        tasks.append(
            subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    try:
        outputs = [t.communicate(timeout=90) for t in tasks]
    finally:
        for t in tasks:
            if t.poll() is None:
                t.kill()
    assert [t.returncode for t in tasks] == [0, 0, 0, 0], [o[1][-2000:] for o in outputs]
    assert "3 points, 3 runs (0 already finished): 3 ok" in outputs[1][0]  # the driver
    df = load_results(out)
    assert len(df) == 3 and set(df["status"]) == {"ok"}
    assert set(df["pid"]) <= {tasks[2].pid, tasks[3].pid}  # computed in the worker tasks
    assert not list(out.glob("scheduler-*.json"))  # the scheduler cleaned up


def _worker_line(args: list[str]) -> str:
    res = CliRunner().invoke(app, ["sweep", "x.toml", "--print-job-script", "--slurm", *args])
    assert res.exit_code == 0, res.output
    return next(ln for ln in res.output.splitlines() if "distributed.cli.dask_worker" in ln)


def test_job_script_keeps_workers_alive(tmp_path, monkeypatch):
    """Death timeout, and a worker lifetime (staggered) that ends before the wall time."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.toml").write_text(f'[instance]\nfolder = "{TINY}"\n[policy]\nname = "static"\n')
    default = _worker_line([])  # wall time 1 h: lifetime 54 min ± 3 min
    assert "--death-timeout 60" in default
    assert "--lifetime 3240s --lifetime-stagger 180s" in default
    line = _worker_line(["--walltime", "02:00:00", "--death-timeout", "120"])
    assert "--death-timeout 120" in line and "--lifetime 6600s --lifetime-stagger 300s" in line
    line = _worker_line(
        ["--walltime", "2:00:00", "--worker-lifetime", "1:30:00", "--lifetime-stagger", "5:00"]
    )
    assert "--lifetime 5400s --lifetime-stagger 300s" in line
    assert "--lifetime" not in _worker_line(["--worker-lifetime", "off"])
    assert "--lifetime" not in _worker_line(["--walltime", "00:05:00"])  # too short for auto
    res = CliRunner().invoke(
        app, ["sweep", "x.toml", "--print-job-script", "--slurm", "--worker-lifetime", "2:00:00"]
    )
    assert res.exit_code == 2 and "shorter than the wall time 01:00:00" in res.output


def test_slurm_times():
    assert [slurm_seconds(t) for t in ["90", "10:30", "01:00:00", "2-0", "1-02:03:04"]] == [
        5400, 630, 3600, 172800, 93784,
    ]  # fmt: skip
    with pytest.raises(ValueError, match="not a Slurm time"):
        slurm_seconds("1h")


def test_worker_ttl_is_set_on_the_scheduler():
    with slurm_cluster(SlurmOptions(worker_ttl_s=123)) as cluster:
        assert cluster.scheduler.worker_ttl == 123


def test_lost_jobs_are_replaced():
    """A job seen with connected workers whose workers are all gone is forgotten (and cancelled)
    and the cluster scaled back; a job never seen connected (still queued) is left alone."""

    class Job:
        closed = False

        async def close(self):
            self.closed = True

    class Cluster:
        def __init__(self):
            self.workers = {"c-0": Job(), "c-1": Job(), "c-2": Job()}
            self.worker_spec = dict.fromkeys(self.workers, {})
            self.scheduler_info = {"workers": {}}
            self.scaled: list[int] = []

        def connect(self, *names):
            self.scheduler_info["workers"] = {f"tcp://{n}": {"name": n} for n in names}

        def scale(self, n):
            self.scaled.append(n)

    async def scenario():
        cluster, seen = Cluster(), set()
        cluster.connect("c-0-0", "c-0-1", "c-1-0")  # c-0, c-1 running (grouped), c-2 queued
        assert _replace_lost_jobs(cluster, 6, seen) == [] and seen == {"c-0", "c-1"}
        cluster.connect("c-1-0")  # c-0 ended
        job = cluster.workers["c-0"]
        assert _replace_lost_jobs(cluster, 6, seen) == ["c-0"]
        await asyncio.sleep(0)
        assert job.closed and "c-0" not in cluster.worker_spec and cluster.scaled == [6]
        assert set(cluster.workers) == {"c-1", "c-2"}
        del cluster.workers["c-1"]  # dropped by SpecCluster itself, still in its worker_spec
        assert _replace_lost_jobs(cluster, 6, seen) == ["c-1"]
        assert set(cluster.worker_spec) == {"c-2"} and cluster.scaled == [6, 6]
        assert _replace_lost_jobs(cluster, 6, seen) == [] and cluster.scaled == [6, 6]

    asyncio.run(scenario())
