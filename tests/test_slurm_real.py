"""Sweeps against a real Slurm: the single-node cluster of ``.ci/slurm-up`` (read from
``$GREENOPT_SLURM_DIR/env``, default /tmp/greenopt-slurm).

Without it the tests skip with the reason, unless GREENOPT_REQUIRE_SLURM=1 (CI), where that is a
failure. Faults are injected for real: ``scancel`` of a worker job, SIGKILL of the driver, a
worker job reaching its wall time. The sweeps are tiny (instances/tiny, ``static`` behind a hold
that lets a test act while runs are known to be in flight: tests/slurm_support.py).
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny"
SLURM_DIR = Path(os.environ.get("GREENOPT_SLURM_DIR", "/tmp/greenopt-slurm"))
DRIVER = [sys.executable, "-c", "from greenopt.cli import app; app()", "sweep"]
HELD = "slurm_support:HeldStatic"


def _unavailable() -> str | None:
    """Why the Slurm tests cannot run here, or None."""
    if importlib.util.find_spec("dask_jobqueue") is None:
        return "dask-jobqueue is not installed (pip install -e '.[slurm]')"
    if not (SLURM_DIR / "env").is_file():
        why = SLURM_DIR / "unavailable"
        detail = why.read_text().strip() if why.is_file() else "run .ci/slurm-up as root"
        return f"no Slurm up ({SLURM_DIR}/env missing): {detail}"
    return None


@pytest.fixture(scope="module")
def slurm() -> dict[str, str]:
    """The environment of the test Slurm (SLURM_CONF, partition, node) on top of os.environ,
    with this folder on PYTHONPATH for the plugin; skips (or fails in CI) without Slurm."""
    reason = _unavailable()
    if reason is None:
        env = dict(os.environ)
        for line in (SLURM_DIR / "env").read_text().splitlines():
            m = re.match(r"export (\w+)=(.*)$", line.strip())
            if m:
                env[m.group(1)] = m.group(2)
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), str(REPO)])
        res = subprocess.run(
            ["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True, timeout=30
        )
        if res.returncode != 0 or not res.stdout.strip():
            reason = f"sinfo does not answer: {res.stderr.strip()}"
    if reason is not None:
        if os.environ.get("GREENOPT_REQUIRE_SLURM") == "1":
            pytest.fail(f"GREENOPT_REQUIRE_SLURM=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return env


@pytest.fixture
def jobs(slurm) -> Iterator[Callable[[], dict[str, str]]]:
    """``jobs()`` → {job id: state} of the Slurm jobs submitted since the test started (states
    of ended jobs included); any still queued or running at the end are cancelled."""
    before = set(_all_jobs(slurm))

    def new() -> dict[str, str]:
        return {j: s for j, s in _all_jobs(slurm).items() if j not in before}

    yield new
    alive = [j for j, s in new().items() if s in ("PENDING", "RUNNING", "CONFIGURING")]
    if alive:
        subprocess.run(["scancel", *alive], env=slurm, timeout=30)


def _all_jobs(env: dict[str, str]) -> dict[str, str]:
    res = subprocess.run(
        ["squeue", "-h", "-t", "all", "-o", "%i %T"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return dict(line.split() for line in res.stdout.splitlines() if line.strip())


def _sweep_file(tmp_path: Path, n: int, **settings) -> Path:
    fixed = ", ".join(
        f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in settings.items()
    )
    path = tmp_path / "s.toml"
    path.write_text(
        f'name = "slurm"\n[instance]\nfolder = "{TINY}"\n'
        f'[policy]\nname = "{HELD}"\nsettings = {{ {fixed} }}\n'
        f"[vary]\ntag = {list(range(n))}\n"
    )
    return path


def _slurm_args(env: dict[str, str], workers: int, walltime: str = "00:10:00") -> list[str]:
    return [
        "--slurm",
        "--queue",
        env["GREENOPT_SLURM_PARTITION"],
        "--cores-per-job",
        "1",
        "--workers",
        str(workers),
        "--memory",
        "1GB",
        "--walltime",
        walltime,
        "--death-timeout",
        "15",
        "--no-progress",
    ]


@contextmanager
def _driver(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen]:
    """``greenopt sweep ARGS`` in the background; killed at the end if still running."""
    proc = subprocess.Popen(
        [*DRIVER, *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        if not proc.stdout.closed:
            proc.communicate()


def _wait(what: str, cond: Callable[[], object], timeout: float, driver=None):
    """Poll ``cond`` until it is true; fail after ``timeout`` s or if ``driver`` ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        if driver is not None and driver.poll() is not None:
            out, err = driver.communicate()
            pytest.fail(
                f"driver ended ({driver.returncode}) while waiting for {what}: {err[-3000:]}"
            )
        time.sleep(0.3)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def _started_by_job(started: Path) -> dict[str, int]:
    """Runs started so far, per Slurm job id (marker files of the plugin)."""
    counts: dict[str, int] = {}
    for p in started.iterdir():
        job = p.name.split("-")[0]
        counts[job] = counts.get(job, 0) + 1
    return counts


def _results(out: Path, n: int) -> pd.DataFrame:
    """The consolidated results, checked to hold every point exactly once, each finished."""
    df = pd.read_parquet(out / "results.parquet")
    assert sorted(df["point"]) == list(range(n))
    assert df["key"].is_unique and len(list((out / "runs").glob("*.parquet"))) == n
    assert set(df["status"]) == {"ok"}, df[["point", "status", "error"]]
    assert not list((out / "runs").glob(".*"))  # no temporary file left
    return df


def _normalised(script: str) -> str:
    """A worker job script without what differs between jobs: scheduler address, worker name."""
    script = re.sub(r"tcp://\S+", "tcp://ADDRESS", script)
    return re.sub(r"--name \S+", "--name NAME", script).strip()


def test_sweep_on_slurm_worker_jobs(slurm, jobs, tmp_path):
    """SLURMCluster: every point once, rows carrying the Slurm node and job, and the jobs were
    submitted with exactly the script --print-job-script prints."""
    path = _sweep_file(tmp_path, 4, pause_s=0.5)
    out = tmp_path / "out"
    args = _slurm_args(slurm, workers=2)
    res = subprocess.run(
        [*DRIVER, str(path), "--out", str(out), *args],
        env=slurm,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "4 points, 4 runs (0 already finished): 4 ok" in res.stdout
    df = _results(out, 4)
    submitted = jobs()
    assert set(df["slurm_job_id"]) <= set(submitted) and len(submitted) >= 1
    assert set(df["slurm_node"]) == {slurm["GREENOPT_SLURM_NODE"]}
    assert set(df["host"]) == {slurm["GREENOPT_SLURM_NODE"]}

    printed = subprocess.run(
        [*DRIVER, str(path), "--print-job-script", *args],
        env=slurm,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for job in set(df["slurm_job_id"]):
        script = subprocess.run(
            ["scontrol", "write", "batch_script", job, "-"],
            env=slurm,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        assert _normalised(script) == _normalised(printed)


def test_printed_scripts_are_accepted_by_sbatch(slurm, jobs, tmp_path):
    """``sbatch --test-only`` accepts the worker job script and the one-allocation script."""
    path = _sweep_file(tmp_path, 2)
    args = _slurm_args(slurm, workers=2)
    for extra in [[], ["--slurm-runner", "--out", str(tmp_path / "out")]]:
        flags = [a for a in args if a != "--slurm"] if extra else args
        script = subprocess.run(
            [*DRIVER, str(path), "--print-job-script", *flags, *extra],
            env=slurm,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        (tmp_path / "job.sh").write_text(script)
        res = subprocess.run(
            ["sbatch", "--test-only", str(tmp_path / "job.sh")],
            env=slurm,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert res.returncode == 0 and "to start at" in res.stderr, (script, res.stderr)
    assert jobs() == {}  # --test-only submits nothing


def test_whole_sweep_in_one_allocation(slurm, jobs, tmp_path):
    """sbatch of the printed --slurm-runner script: srun -n 4 = scheduler, driver, 2 workers."""
    path = _sweep_file(tmp_path, 4, pause_s=0.5)
    out = tmp_path / "out"
    flags = ["--queue", slurm["GREENOPT_SLURM_PARTITION"], "--workers", "2", "--memory", "500M"]
    script = subprocess.run(
        [*DRIVER, str(path), "--out", str(out), "--print-job-script", "--slurm-runner", *flags],
        env=slurm,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "#SBATCH --ntasks=4" in script and "\nsrun " in script
    (tmp_path / "sweep.sbatch").write_text(script)
    res = subprocess.run(
        ["sbatch", "--wait", "-o", str(tmp_path / "alloc-%j.out"), str(tmp_path / "sweep.sbatch")],
        env=slurm,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    logs = "\n".join(p.read_text() for p in tmp_path.glob("alloc-*.out"))
    assert res.returncode == 0, res.stderr + logs[-3000:]
    assert "4 points, 4 runs (0 already finished): 4 ok" in logs, logs[-3000:]
    df = _results(out, 4)
    (allocation,) = jobs()
    assert set(df["slurm_job_id"]) == {allocation}
    assert df["pid"].nunique() <= 2  # computed by the 2 worker tasks
    assert not list(out.glob("scheduler-*.json"))


def test_scancel_of_a_worker_job_loses_no_point(slurm, jobs, tmp_path):
    """Two worker jobs each hold a run; one is cancelled: its run is redone elsewhere, a new job
    replaces it, and every point ends once."""
    started, gate = tmp_path / "started", tmp_path / "go"
    started.mkdir()
    path = _sweep_file(tmp_path, 6, started_dir=str(started), hold_until=str(gate))
    out = tmp_path / "out"
    args = [str(path), "--out", str(out), *_slurm_args(slurm, 2), "--retries", "2"]
    with _driver(args, slurm, tmp_path) as driver:
        holding = _wait(
            "a run held in each of 2 jobs",
            lambda: len(_started_by_job(started)) == 2 and _started_by_job(started),
            180,
            driver,
        )
        victim = min(holding, key=int)
        subprocess.run(["scancel", victim], env=slurm, check=True, timeout=30)
        _wait("the job cancelled", lambda: jobs()[victim] == "CANCELLED", 60, driver)
        _wait("a replacement job", lambda: len(jobs()) >= 3, 60, driver)
        gate.touch()
        stdout, stderr = driver.communicate(timeout=180)
    assert driver.returncode == 0, stderr[-3000:]
    df = _results(out, 6)
    assert victim not in set(df["slurm_job_id"])
    assert (df["tries"] == 2).sum() == 1  # the run held by the victim, redone once
    assert df["tries"].max() == 2


def test_driver_killed_and_rerun_redoes_no_finished_point(slurm, jobs, tmp_path):
    """SIGKILL of the driver mid-sweep: its worker jobs end by themselves (death timeout); a
    rerun resumes, leaving every finished run's file untouched."""
    path = _sweep_file(tmp_path, 8, pause_s=2.0)
    out = tmp_path / "out"
    args = [str(path), "--out", str(out), *_slurm_args(slurm, 2)]
    with _driver(args, slurm, tmp_path) as driver:
        _wait("2 finished runs", lambda: len(list(out.glob("runs/*.parquet"))) >= 2, 180, driver)
        driver.send_signal(signal.SIGKILL)
        driver.communicate(timeout=30)
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.glob("runs/*.parquet")}
    assert 2 <= len(before) < 8
    first_jobs = set(jobs())
    _wait(
        "the orphaned worker jobs to end (death timeout 15 s)",
        lambda: all(s not in ("PENDING", "RUNNING") for s in jobs().values()),
        90,
    )

    res = subprocess.run(
        [*DRIVER, *args], env=slurm, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"resuming: {len(before)} of 8 runs done" in res.stderr
    assert f"8 points, 8 runs ({len(before)} already finished): 8 ok" in res.stdout
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.glob("runs/*.parquet")}
    assert {k: after[k] for k in before} == before  # finished runs not redone
    df = _results(out, 8)
    old = df["key"].isin([Path(k).stem for k in before])
    assert set(df.loc[old, "slurm_job_id"]) <= first_jobs
    assert not set(df.loc[~old, "slurm_job_id"]) & first_jobs  # the rest ran in new jobs


def test_worker_job_hitting_its_wall_time_has_its_run_redone(slurm, jobs, tmp_path):
    """One worker job with a 1-minute wall time holds a run until Slurm ends it (TIMEOUT): the
    run is redone in the job that replaces it."""
    started, gate = tmp_path / "started", tmp_path / "go"
    started.mkdir()
    path = _sweep_file(tmp_path, 3, started_dir=str(started), hold_until=str(gate))
    out = tmp_path / "out"
    args = [str(path), "--out", str(out), *_slurm_args(slurm, 1, walltime="00:01:00")]
    with _driver([*args, "--retries", "2"], slurm, tmp_path) as driver:
        (first,) = _wait("a held run", lambda: _started_by_job(started), 120, driver)
        _wait("the wall time", lambda: jobs()[first] == "TIMEOUT", 180, driver)
        _wait("the run in another job", lambda: len(_started_by_job(started)) == 2, 120, driver)
        gate.touch()
        stdout, stderr = driver.communicate(timeout=120)
    assert driver.returncode == 0, stderr[-3000:]
    df = _results(out, 3)
    assert first not in set(df["slurm_job_id"])
    assert (df["tries"] == 2).sum() == 1


def test_worker_reaching_its_lifetime_is_replaced_without_a_failed_try(slurm, jobs, tmp_path):
    """--worker-lifetime: the worker retires while holding a run, a new job takes over and the
    run is redone there without counting a failed try."""
    started, gate = tmp_path / "started", tmp_path / "go"
    started.mkdir()
    path = _sweep_file(tmp_path, 2, started_dir=str(started), hold_until=str(gate))
    out = tmp_path / "out"
    args = [str(path), "--out", str(out), *_slurm_args(slurm, 1)]
    args += ["--worker-lifetime", "00:00:20", "--lifetime-stagger", "0", "--retries", "0"]
    with _driver(args, slurm, tmp_path) as driver:
        (first,) = _wait("a held run", lambda: _started_by_job(started), 120, driver)
        _wait("the run in another job", lambda: len(_started_by_job(started)) == 2, 120, driver)
        gate.touch()
        stdout, stderr = driver.communicate(timeout=120)
    assert driver.returncode == 0, stderr[-3000:]
    df = _results(out, 2)
    assert first not in set(df["slurm_job_id"])
    assert set(df["tries"]) == {1}
