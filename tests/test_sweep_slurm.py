"""Slurm glue: the worker job script, the one-allocation script, and SLURMRunner driven by
simulated SLURM_* variables in local processes (no real Slurm here)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenopt.cli import app
from greenopt.sweep.results import load_results
from greenopt.sweep.slurm import SlurmOptions, allocation_script

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
