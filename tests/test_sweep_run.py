"""Sweeps on a real 2-worker Dask LocalCluster: one result per point, resume after the driver is
killed, retries after a worker dies, failures recorded without stopping the sweep."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sweep_plugins as support
from typer.testing import CliRunner

import greenopt
from greenopt.cli import app
from greenopt.sweep.config import load_sweep
from greenopt.sweep.execute import run_sweep
from greenopt.sweep.results import finished_runs, load_results

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny"
FLAKY = f"{support.MODULE}:FlakyPolicy"
METRICS = [  # SPEC §5 (carbon_kg: tiny has no carbon column; solver figures: no solver here)
    "nre_kwh", "renewable_kwh", "renewable_share", "curtailed_kwh", "jct_mean_h", "jct_p95_h",
    "slowdown_mean", "slowdown_p95", "slowdown_std", "unfinished_jobs", "unfinished_work_h",
    "deadline_misses", "migrations", "migrated_gb", "migration_downtime_h",
    "infeasible_migrations",
]  # fmt: skip


@pytest.fixture(scope="module")
def client():
    """A 2-worker embedded cluster, started while Dask's default port 8787 is taken (as by
    another sweep running on the machine): no "port in use" warning may surface."""
    from distributed import Client

    from greenopt.sweep.execute import local_cluster

    with socket.socket() as squatter:
        with contextlib.suppress(OSError):  # already taken by someone else: as good
            squatter.bind(("127.0.0.1", 8787))
            squatter.listen()
        with local_cluster(2) as cluster, Client(cluster) as c:
            yield c


def sweep_file(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'[instance]\nfolder = "{TINY}"\n' + text)
    return path


def run_files(out: Path) -> dict[str, tuple[int, int]]:
    """Finished run files (not the hidden temporary file of a write under way) and their
    modification time and inode."""
    paths = (out / "runs").glob("[!.]*.parquet")
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in paths}


@pytest.mark.slow
def test_one_result_per_point_and_rerun_skips_them(client, tmp_path):
    sw = load_sweep(
        sweep_file(
            tmp_path,
            '[policy]\nname = "energy_greedy"\n'
            "[vary]\ncheckpoint_gb = [1, 30]\njob_load = [0.5, 1.0, 2.0]\n",
        )
    )
    out = tmp_path / "out"
    log = io.StringIO()
    report = run_sweep(sw, out, client=client, progress=False, stream=log)
    assert (report.points, report.runs, report.ok, report.failed, report.skipped) == (6, 6, 6, 0, 0)
    assert "6/6 runs: done 6 · failed 0 · remaining 0" in log.getvalue()
    df = load_results(out)
    assert len(df) == 6 and df["point"].tolist() == list(range(6))
    assert df["key"].is_unique and set(df["status"]) == {"ok"}
    assert len(list((out / "runs").glob("*.parquet"))) == 6
    for m in METRICS:
        assert df[m].notna().all(), m
    assert set(df["host"]) == {socket.gethostname()}
    assert set(df["greenopt_version"]) == {greenopt.__version__}
    assert (df["tries"] == 1).all() and (df["point_s"] > 0).all()
    # the knobs reached the workers: every job carries the swept checkpoint, the job set scales
    assert (df["migrated_gb"] == df["migrations"] * df["checkpoint_gb"]).all()
    assert df["migrations"].sum() > 0
    assert df.groupby("job_load")["n_jobs"].first().to_dict() == {0.5: 2, 1.0: 4, 2.0: 8}

    before = run_files(out)
    again = run_sweep(sw, out, client=client, progress=False, stream=io.StringIO())
    assert (again.skipped, again.ok) == (6, 6)
    assert run_files(out) == before  # nothing redone
    assert load_results(out).equals(df)


@pytest.mark.slow
def test_dead_worker_is_retried_and_failures_are_recorded(client, tmp_path):
    text = (
        f'[policy]\nname = "{FLAKY}"\nsettings = {{ marker_dir = "{tmp_path}" }}\n'
        "[run]\nretries = 1\n"
        "[[zip]]\ntag = [0, 1, 2, 3, 4]\n"
        'mode = ["ok", "crash_once", "raise", "crash_always", "ok"]\n'
    )
    out = tmp_path / "out"
    report = run_sweep(
        load_sweep(sweep_file(tmp_path, text)), out, client=client, progress=False,
        stream=io.StringIO(),
    )  # fmt: skip
    assert (report.ok, report.failed) == (3, 2)
    df = load_results(out).set_index("tag")
    assert df["status"].to_dict() == {0: "ok", 1: "ok", 2: "failed", 3: "failed", 4: "ok"}
    assert (tmp_path / "tried-1").exists()  # tag 1 really died once ...
    assert df.loc[1, "tries"] == 2  # ... and completed on its second try
    assert df.loc[2, "tries"] == 2 and "RuntimeError: point 2 always fails" in df.loc[2, "error"]
    assert df.loc[3, "tries"] == 2 and "KilledWorker" in df.loc[3, "error"]
    assert df.loc[0, "nre_kwh"] == df.loc[4, "nre_kwh"] > 0
    # a rerun tries the failed points again (and only them)
    status = finished_runs(out)
    assert sorted(status.values()) == ["failed", "failed", "ok", "ok", "ok"]


@pytest.mark.slow
def test_killed_driver_resumes_without_redoing_points(tmp_path):
    n = 8
    path = sweep_file(
        tmp_path,
        f'[policy]\nname = "{FLAKY}"\nsettings = {{ sleep_s = 0.3 }}\n'
        f"[vary]\ntag = {list(range(n))}\n",
    )
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    cmd = [sys.executable, "-c", "from greenopt.cli import app; app()"]
    cmd += ["sweep", str(path), "--out", str(out)]
    cmd += ["--workers", "2", "--no-progress"]
    first = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(list((out / "runs").glob("*.parquet"))) < 3:
            assert first.poll() is None, "the sweep ended before it could be interrupted"
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.05)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the driver and its cluster, at once
        first.wait()
    done_before = run_files(out)
    assert 3 <= len(done_before) < n
    assert not (out / "results.parquet").exists()
    (out / "runs" / ".deadbeef.parquet.1.tmp").write_bytes(b"PAR1 half")  # a torn write

    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert f"resuming: {len(done_before)} of {n} runs done" in second.stderr
    df = load_results(out)
    assert len(df) == n and set(df["status"]) == {"ok"} and sorted(df["tag"]) == list(range(n))
    after = run_files(out)
    assert {k: after[k] for k in done_before} == done_before  # finished points untouched
    assert len(after) == n
    assert not list((out / "runs").glob(".*.tmp"))  # torn temporary files are gone

    plot = CliRunner().invoke(app, ["plot-sweep", str(out), "--x", "tag", "--y", "nre_kwh"])
    assert plot.exit_code == 0, plot.output
    assert (out / "plots" / "nre_kwh_vs_tag.png").stat().st_size > 1000


def test_dry_run_lists_points_and_their_state(tmp_path):
    path = sweep_file(
        tmp_path,
        '[policy]\nname = "static"\n[vary]\nalpha = [0.1, 0.2]\nbandwidth_gbps = [1, 10]\n',
    )
    res = CliRunner().invoke(app, ["sweep", str(path), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "4 points, 4 distinct runs" in res.output
    assert len([ln for ln in res.output.splitlines() if ln.strip().startswith(("0 ", "3 "))]) == 2
    res = CliRunner().invoke(app, ["sweep", str(path), "--slurm", "--scheduler", "tcp://x:1"])
    assert res.exit_code == 2 and "choose one place to run: --scheduler, --slurm" in res.output
    bad = sweep_file(tmp_path, '[policy]\nname = "static"\n[vary]\nalpha = [2]\n', "bad.toml")
    res = CliRunner().invoke(app, ["sweep", str(bad), "--dry-run"])
    assert res.exit_code == 2 and "alpha must be <= 1" in res.output


def test_attaches_to_a_running_scheduler(client, tmp_path):
    """--scheduler ADDRESS: the sweep runs on an existing cluster's workers."""
    sw = load_sweep(sweep_file(tmp_path, '[policy]\nname = "static"\n[vary]\nalpha = [0.1, 0.2]\n'))
    address = client.scheduler.address
    report = run_sweep(sw, tmp_path / "out", scheduler=address, stream=io.StringIO())
    assert (report.ok, report.failed) == (2, 0)
    worker_pids = set(client.run(os.getpid).values())
    assert set(load_results(tmp_path / "out")["pid"]) <= worker_pids
    # --scheduler-file: the JSON file `dask scheduler --scheduler-file` writes
    (tmp_path / "sched.json").write_text(json.dumps({"address": address}))
    report = run_sweep(
        sw, tmp_path / "out2", scheduler_file=tmp_path / "sched.json", stream=io.StringIO()
    )
    assert (report.ok, report.failed) == (2, 0)


def test_progress_lines_and_bar():
    from greenopt.sweep.execute import SweepProgress

    plain = io.StringIO()
    with SweepProgress("s", 4, live=False, stream=plain, every_s=3600) as bar:
        bar.update("ok")
        bar.update("failed", "run x failed")
        bar.update("ok")
        bar.update("ok")
    lines = plain.getvalue().splitlines()
    assert len(lines) == 3  # the first, the failure, the end (the third is throttled)
    assert "1/4 runs: done 1 · failed 0 · remaining 3" in lines[0]
    assert lines[1].endswith("| run x failed")
    assert "4/4 runs: done 3 · failed 1 · remaining 0" in lines[2] and "ETA 0:00:00" in lines[2]
    from greenopt.cli.progress_display import RichSweepBar

    live = io.StringIO()
    with SweepProgress("s", 2, live=True, stream=live, live_bar=RichSweepBar) as bar:
        bar.update("ok")
        bar.update("ok")
    assert "done 2 · failed 0 · remaining 0" in live.getvalue()


def test_sweep_command_hands_the_rich_bar_to_the_core_unless_quiet(tmp_path, monkeypatch):
    """The core draws no bar itself (it imports no rich): ``greenopt sweep`` passes the command
    line's; ``--quiet`` turns progress off and sends the lines to a buffer."""
    from greenopt.cli.progress_display import RichSweepBar
    from greenopt.sweep import execute

    calls = []

    def fake_run_sweep(sw, out, **kwargs):
        calls.append(kwargs)
        return execute.SweepReport(1, 1, 0, 1, 0, 0, 0.0, out / "results.parquet")

    monkeypatch.setattr(execute, "run_sweep", fake_run_sweep)
    path = sweep_file(tmp_path, '[policy]\nname = "static"\n')
    out = str(tmp_path / "out")
    res = CliRunner().invoke(app, ["sweep", str(path), "--out", out, "--progress"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["--quiet", "sweep", str(path), "--out", out, "--progress"])
    assert res.exit_code == 0, res.output
    assert [c["live_bar"] for c in calls] == [RichSweepBar, RichSweepBar]
    assert [c["progress"] for c in calls] == [True, False]
    assert "stream" not in calls[0] and isinstance(calls[1]["stream"], io.StringIO)
