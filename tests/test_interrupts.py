"""Interrupts and progress, by injecting the fault: the command line runs in a subprocess of its
own process group, and SIGINT goes to the whole group as a terminal's Ctrl-C does (SIGTERM to the
process, as ``kill`` does) once the command is observably at the point under test (a progress
line on stderr, a file). Each case checks the exit code, that stderr holds no traceback and one
line saying what was kept, that what was kept is complete and loadable, and that nothing is
half-written."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import sweep_plugins as support
from typer.testing import CliRunner

from greenopt import interrupt
from greenopt.cli import app
from greenopt.files import load_instance
from greenopt.optimization import OptimizationError
from greenopt.policies import make_policy
from greenopt.sweep.results import finished_runs, read_run

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny"
DEFAULT = REPO / "instances" / "default"
#: Seconds a command may take to end after the signal before the test fails (generous: the
#: machine may be busy; the interrupt itself takes about a second).
END_WITHIN_S = 60


class Command:
    """The command line in a subprocess (own process group) whose stderr is collected line by
    line while it runs."""

    def __init__(self, args: list[str], tmp_path: Path):
        env = {
            **os.environ,
            "GREENOPT_PROGRESS_EVERY_S": "0",  # a progress line at every change: readiness
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path]),
        }
        cmd = [sys.executable, "-c", "from greenopt.cli import app; app()", *args]
        self.proc = subprocess.Popen(
            cmd,
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []  # stderr
        self.stdout: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(stream, kept), daemon=True)
            for stream, kept in ((self.proc.stderr, self.lines), (self.proc.stdout, self.stdout))
        ]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(stream, kept: list[str]) -> None:
        for line in stream:
            kept.append(line)

    def _join(self) -> None:
        """Collect the rest of the output and close the pipes (the process has ended)."""
        for reader in self.readers:
            reader.join(10)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def wait_for(self, ready: Callable[[], bool], what: str, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if self.proc.poll() is not None:
                self._join()
                pytest.fail(f"ended before {what}:\n{''.join(self.lines)}")
            if time.monotonic() > deadline:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                self._join()
                pytest.fail(f"never reached {what}:\n{''.join(self.lines)}")
            time.sleep(0.05)

    def wait_for_line(self, pattern: str) -> None:
        regex = re.compile(pattern)
        self.wait_for(lambda: any(regex.search(line) for line in self.lines), repr(pattern))

    def interrupt(self, sig: int = signal.SIGINT, group: bool = True) -> tuple[int, str, str]:
        """Send ``sig`` (to the whole group, as a terminal does, or to the process); returns the
        exit code, stdout and stderr."""
        (os.killpg if group else os.kill)(self.proc.pid, sig)
        try:
            self.proc.wait(END_WITHIN_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self._join()
            pytest.fail(f"still running {END_WITHIN_S} s after the signal:\n{''.join(self.lines)}")
        self._join()
        return self.proc.returncode, "".join(self.stdout), "".join(self.lines)


def assert_clean_end(stderr: str, sig_name: str = "SIGINT") -> str:
    """No traceback, no warning from the workers, one line saying what was kept; returns it."""
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
    assert "leaked" not in stderr, stderr
    ends = [line for line in stderr.splitlines() if line.startswith("interrupted")]
    assert len(ends) == 1, stderr
    assert ends[0].startswith(f"interrupted ({sig_name}): "), ends[0]
    return ends[0]


def temporary_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")] if folder.exists() else []


# ---- the five interrupt points ------------------------------------------------------------------

MILP = ["solve", str(DEFAULT), "--policy", "milp", "--time-limit", "120"]
MILP += ["--set", "warm_start=static", "--out", "out"]


@pytest.mark.slow
def test_interrupt_while_building_the_model(tmp_path):
    run = Command(MILP, tmp_path)
    run.wait_for_line(r"\[greenopt\] milp: .*building the model")
    code, stdout, stderr = run.interrupt()
    assert code == 130, stderr
    assert "nothing was written to out" in assert_clean_end(stderr)
    assert "HiGHS: " not in stderr  # stopped before HiGHS started
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_interrupt_inside_highs(tmp_path):
    run = Command(MILP, tmp_path)
    run.wait_for_line(r"\[greenopt\] HiGHS: .*(LP relaxation|incumbent)")
    code, stdout, stderr = run.interrupt()
    assert code == 130, stderr
    assert_clean_end(stderr)
    assert "HiGHS stopped" not in stderr + stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_sigterm_inside_highs_exits_143(tmp_path):
    run = Command(MILP, tmp_path)
    run.wait_for_line(r"\[greenopt\] HiGHS: .*(LP relaxation|incumbent)")
    code, stdout, stderr = run.interrupt(signal.SIGTERM, group=False)  # as `kill PID` does
    assert code == 143, stderr
    assert_clean_end(stderr, "SIGTERM")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_interrupt_between_rolling_steps_is_not_a_fallback(tmp_path):
    args = ["solve", str(DEFAULT), "--policy", "rolling", "--forecast", "noisy", "--step-h", "2"]
    run = Command([*args, "--time-limit", "4", "--out", "out"], tmp_path)
    run.wait_for_line(r"\[greenopt\] rolling steps: 2/36 ")  # two steps committed
    code, stdout, stderr = run.interrupt()
    assert code == 130, stderr  # it did not go on with the other steps
    assert_clean_end(stderr)
    assert "fell back" not in stderr + stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_interrupted_compare_keeps_the_finished_policies(tmp_path):
    policies = "static,energy_greedy,milp:time_limit_s=120:warm_start=static"
    run = Command(["compare", str(DEFAULT), "--policies", policies, "--out", "cmp"], tmp_path)
    run.wait_for_line(r"\[greenopt\] milp: ")  # the two heuristics are done, the MILP runs
    code, stdout, stderr = run.interrupt()
    assert code == 130, stderr
    line = assert_clean_end(stderr)
    assert "2 of 3 policies finished (static, energy_greedy)" in line
    out = tmp_path / "cmp"
    table = pd.read_csv(out / "comparison.csv")
    assert list(table["policy"]) == ["static", "energy_greedy"]
    assert table["valid"].all() and (table["nre_kwh"] > 0).all()
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["energy_greedy", "static"]
    inst = load_instance(DEFAULT)
    for label in ("static", "energy_greedy"):
        folder = out / "runs" / label
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["policy"] == label
        assert metrics["nre_kwh"] == pytest.approx(table.set_index("policy").loc[label, "nre_kwh"])
        assignment = pd.read_csv(folder / "assignment.csv")
        assert set(assignment["job_id"]) == {job.job_id for job in inst.jobs}
        pd.read_csv(folder / "migrations.csv")
        check = CliRunner().invoke(app, ["--quiet", "evaluate", str(DEFAULT), str(folder)])
        assert check.exit_code == 0, check.output  # a complete, valid schedule
    assert temporary_files(out) == []
    assert not list(out.glob("*.png"))  # plots come at the end only


@pytest.mark.slow
def test_interrupted_sweep_keeps_finished_runs(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        f'[instance]\nfolder = "{TINY}"\n'
        f'[policy]\nname = "{support.MODULE}:FlakyPolicy"\nsettings = {{ sleep_s = 1.0 }}\n'
        f"[vary]\ntag = {list(range(12))}\n"
    )
    out = tmp_path / "sw"
    run = Command(["sweep", str(sweep), "--out", str(out), "--workers", "2"], tmp_path)
    run.wait_for(lambda: len(list(out.glob("runs/*.parquet"))) >= 2, "two finished runs")
    code, stdout, stderr = run.interrupt()
    assert code == 130, stderr
    line = assert_clean_end(stderr)
    assert "rerun the same command to resume" in line
    assert "KeyboardInterrupt" not in stderr  # the workers ignored the group's SIGINT
    status = finished_runs(out)
    assert 2 <= len(status) < 12 and set(status.values()) == {"ok"}
    assert f"{len(status)} of 12 runs finished" in line
    for path in out.glob("runs/*.parquet"):
        assert read_run(path)["status"] == "ok"
    assert temporary_files(out) == []
    assert not (out / "results.parquet").exists()


# ---- in-process: an interrupt is never a solver failure -----------------------------------------


def test_rolling_lets_an_interrupt_through(monkeypatch):
    inst = load_instance(TINY)

    def interrupted_solve(*args, **kwargs):
        raise interrupt.Interrupted(signal.SIGINT)

    monkeypatch.setattr("greenopt.optimization.solve.WindowModel.solve", interrupted_solve)
    with pytest.raises(interrupt.Interrupted):
        make_policy("rolling", forecast="perfect").plan(inst)


def test_a_solve_failing_after_an_interrupt_is_not_a_fallback(monkeypatch):
    inst = load_instance(TINY)

    def failing_solve(*args, **kwargs):
        monkeypatch.setattr(interrupt, "_requested", signal.SIGINT)  # the signal came in HiGHS
        raise OptimizationError("HiGHS stopped with error")

    monkeypatch.setattr("greenopt.optimization.solve.WindowModel.solve", failing_solve)
    with pytest.raises(interrupt.Interrupted):
        make_policy("rolling", forecast="perfect").plan(inst)


def test_deferred_block_raises_at_its_end():
    """Outside the command line, Ctrl-C in a deferred block (a HiGHS run) is held to its end, then
    raised as KeyboardInterrupt; the handler in place before is restored."""
    # Python's own handler (an imported library, dask_jobqueue's runner, may have replaced it)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        reached_end = False
        with pytest.raises(KeyboardInterrupt), interrupt.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs here, and must not raise
            assert interrupt.requested() == signal.SIGINT
            reached_end = True
        assert reached_end
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert interrupt.requested() is None
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_deferred_block_that_raises_leaves_no_interrupt_behind():
    """Outside the command line, a block that fails after a Ctrl-C raises its own error, and the
    request ends with it: the next HiGHS run of the session is not stopped at once."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(ValueError), interrupt.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            raise ValueError("the block failed")
        assert interrupt.requested() is None
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


# ---- progress -----------------------------------------------------------------------------------


def test_progress_lines_off_a_terminal_and_quiet(tmp_path, monkeypatch):
    monkeypatch.setenv("GREENOPT_PROGRESS_EVERY_S", "0")
    args = ["compare", str(TINY), "--policies", "static,rolling:forecast=perfect:step_h=4"]
    shown = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert shown.exit_code == 0, shown.output
    assert "[greenopt] compare: 2/2 " in shown.stderr
    steps = re.findall(r"\[greenopt\] rolling steps: (\d+)/(\d+) .*last step gap", shown.stderr)
    assert steps and steps[-1][0] == steps[-1][1]  # step i/N up to N/N, with the step's gap
    assert "[greenopt]" not in shown.stdout  # stdout keeps only the table and file names
    quiet = CliRunner().invoke(app, ["--quiet", *args, "--out", str(tmp_path / "b")])
    assert quiet.exit_code == 0, quiet.output
    assert "[greenopt]" not in quiet.stderr + quiet.stdout
    assert pd.read_csv(tmp_path / "b" / "comparison.csv").shape[0] == 2


def test_compare_writes_each_finished_policy_before_the_next(tmp_path, monkeypatch):
    """An interrupt in the third policy: the first two are on disk, the note names them."""
    from greenopt import compare as compare_mod
    from greenopt.runner import run_policy

    calls = []

    def third_interrupted(instance, policy):
        calls.append(policy.name)
        if len(calls) == 3:
            # what the first two wrote is complete before the third starts
            assert list(pd.read_csv(tmp_path / "comparison.csv")["policy"]) == ["a", "b"]
            raise interrupt.Interrupted(signal.SIGTERM)
        return run_policy(instance, policy)

    monkeypatch.setattr(compare_mod, "run_policy", third_interrupted)
    specs = [
        compare_mod.PolicySpec("a", "static", {}),
        compare_mod.PolicySpec("b", "pause_greedy", {}),
        compare_mod.PolicySpec("c", "static", {}),
    ]
    with pytest.raises(interrupt.Interrupted) as caught:
        compare_mod.compare(load_instance(TINY), specs, out=tmp_path)
    assert caught.value.exit_code == 143
    assert caught.value.kept.startswith("2 of 3 policies finished (a, b), kept in ")
    assert "--policies c " in caught.value.kept
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["a", "b"]
    for label in "ab":
        assert {p.name for p in (tmp_path / "runs" / label).iterdir()} == {
            "assignment.csv", "migrations.csv", "metrics.json",
        }  # fmt: skip
    assert temporary_files(tmp_path) == []


def _signal_dispositions(queue) -> None:
    queue.put((signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)))


@pytest.mark.slow
def test_spawned_workers_ignore_the_terminals_signals():
    """What the embedded Dask cluster's worker processes start with (multiprocessing spawn)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    handler = signal.getsignal(signal.SIGINT)
    with interrupt.children_ignore_signals():
        queue = context.Queue()
        child = context.Process(target=_signal_dispositions, args=(queue,))
        child.start()
        dispositions = queue.get(timeout=60)
        child.join(60)
    queue.close()
    queue.join_thread()
    assert dispositions == (signal.SIG_IGN, signal.SIG_IGN)
    assert signal.getsignal(signal.SIGINT) is handler  # the parent's: unchanged


def test_plain_lines_are_periodic(monkeypatch):
    """Off a terminal a task gets a line once it has run ``every_s`` since its last one, and a
    closing line only if it was shown: short work prints nothing."""
    import io

    from greenopt import progress
    from greenopt.cli.progress_display import LineReporter

    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    stream = io.StringIO()
    with progress.reporting(LineReporter(stream, every_s=10)):
        with progress.task("quick", total=3) as quick:
            clock[0] += 2
            quick.update(advance=1)
        assert stream.getvalue() == ""
        with progress.task("rolling steps", total=4) as slow:
            clock[0] += 25
            slow.update(advance=2, status="last step gap 0.10 %")
            slow.update(advance=1)  # right after the last line: none
    lines = stream.getvalue().splitlines()
    assert lines == [
        "[greenopt] rolling steps: 2/4 · 0:00:25 elapsed · ETA 0:00:25 · last step gap 0.10 %",
        "[greenopt] rolling steps: 3/4 · 0:00:25 elapsed · ETA 0:00:08 · last step gap 0.10 % "
        "· ended",
    ]
