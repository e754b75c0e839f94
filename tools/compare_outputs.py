"""Check that a restructuring changes no CLI output: run a fixed set of ``greenopt`` commands and
record, or compare against a recorded snapshot, their exit codes, stdout, stderr and output files
(CSV, JSON and TOML content; PNG files by name only).

    python tools/compare_outputs.py record SNAPSHOT.json [--source DIR]
    python tools/compare_outputs.py check SNAPSHOT.json [--source DIR]

``--source DIR`` runs the package found in DIR (a checkout of another commit) instead of the
installed one: record the snapshot from the commit before a change, check after it. Wall times
(``wall_s``, ``solve_s``, ``build_s`` and the seconds ``compare`` prints) are masked. Exit code 0
when every output is identical, 1 otherwise (each difference is printed).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GREEDY = ("static", "energy_greedy", "feasibility_greedy", "pause_greedy")
TIMING_KEYS = {"wall_s", "solve_s", "build_s"}
TIMING_TEXT = [
    (re.compile(r"done in \d+(\.\d+)? s"), "done in <t> s"),
    (re.compile(r"\(\d+ s in all\)"), "(<t> s in all)"),
]
TEXT_SUFFIXES = {".csv", ".json", ".toml", ".md", ".txt"}


def commands() -> list[list[str]]:
    """The commands, run in order in one scratch folder (paths relative to it)."""
    out: list[list[str]] = [
        ["generate", "--sites", "6", "--jobs", "20", "--days", "2", "--seed", "1", "--out", "gen"],
        ["feasibility"],
    ]
    for name, folder in (("tiny", "tiny"), ("default", "default"), ("gen", "gen")):
        out.append(["validate", folder])
        for policy in GREEDY:
            run = f"out/{name}/{policy}"
            out.append(["solve", folder, "--policy", policy, "--out", run])
            out.append(["evaluate", folder, run])
            out.append(["evaluate", folder, run, "--json"])
        policies = ",".join(GREEDY)
        out.append(["compare", folder, "--policies", policies, "--out", f"out/{name}/compare"])
        out.append(["feasibility", folder])
    # bad input: a broken instance and an unreadable / an invalid schedule
    out += [
        ["validate", "broken_instance"],
        ["evaluate", "tiny", "broken_schedule"],
        ["evaluate", "tiny", "invalid_schedule"],
        ["evaluate", "tiny", "invalid_schedule", "--json"],
    ]
    return out


def prepare(work: Path) -> None:
    """Copy the committed instances and make the bad inputs from them."""
    for name in ("tiny", "default"):
        shutil.copytree(ROOT / "instances" / name, work / name)
    broken = work / "broken_instance"
    shutil.copytree(ROOT / "instances" / "tiny", broken)
    jobs = (broken / "jobs.csv").read_text().splitlines()
    header = jobs[0].split(",")
    cells = jobs[1].split(",")
    cells[header.index("work_h")] = "abc"
    cells[header.index("power_kw")] = "-1"
    (broken / "jobs.csv").write_text("\n".join([jobs[0], ",".join(cells), *jobs[2:]]) + "\n")


def make_bad_schedules(work: Path) -> None:
    """After the tiny runs: one schedule with an unreadable cell, one that breaks rules."""
    source = work / "out" / "tiny" / "feasibility_greedy"
    for name in ("broken_schedule", "invalid_schedule"):
        shutil.copytree(source, work / name)
    lines = (work / "broken_schedule" / "assignment.csv").read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",x"
    (work / "broken_schedule" / "assignment.csv").write_text("\n".join(lines) + "\n")
    lines = (work / "invalid_schedule" / "assignment.csv").read_text().splitlines()
    rows = [line.rsplit(",", 1)[0] + ",1" for line in lines[1:]]  # every row computes fully
    (work / "invalid_schedule" / "assignment.csv").write_text("\n".join([lines[0], *rows]) + "\n")


def mask_text(text: str) -> str:
    for pattern, replacement in TIMING_TEXT:
        text = pattern.sub(replacement, text)
    return text


def mask_json(value):
    if isinstance(value, dict):
        return {k: "<t>" if k in TIMING_KEYS else mask_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    return value


def mask_csv(text: str) -> str:
    lines = text.splitlines()
    if not lines:
        return text
    header = lines[0].split(",")
    masked = [i for i, name in enumerate(header) if name in TIMING_KEYS]
    if not masked:
        return text
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        for i in masked:
            if i < len(cells):
                cells[i] = "<t>"
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def files_of(folder: Path) -> dict[str, str]:
    """Every output file under ``folder``: text content (timings masked) or ``<binary N>``."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = str(path.relative_to(folder))
        if path.suffix == ".json":
            out[rel] = json.dumps(mask_json(json.loads(path.read_text())), indent=1)
        elif path.suffix == ".csv":
            out[rel] = mask_csv(path.read_text())
        elif path.suffix in TEXT_SUFFIXES:
            out[rel] = path.read_text()
        else:
            out[rel] = "<binary>"
    return out


def run_all(source: Path | None) -> dict:
    env = dict(os.environ, COLUMNS="120", NO_COLOR="1", TERM="dumb")
    if source is not None:
        env["PYTHONPATH"] = str(source)
    launcher = "import sys; from greenopt.cli import app; sys.argv[0] = 'greenopt'; app()"
    records = []
    with tempfile.TemporaryDirectory(prefix="greenopt-outputs-") as tmp:
        work = Path(tmp)
        where = subprocess.run(
            [sys.executable, "-c", "import greenopt; print(greenopt.__file__)"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"greenopt from {where}", file=sys.stderr)
        prepare(work)
        for args in commands():
            if args[:3] == ["validate", "broken_instance"]:
                make_bad_schedules(work)
            proc = subprocess.run(
                [sys.executable, "-c", launcher, *args],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
            )
            print(f"  exit {proc.returncode}: greenopt {' '.join(args)}", file=sys.stderr)
            records.append(
                {
                    "command": args,
                    "exit": proc.returncode,
                    "stdout": mask_text(proc.stdout),
                    "stderr": mask_text(proc.stderr),
                }
            )
        outputs = files_of(work / "out") | {
            f"gen/{k}": v for k, v in files_of(work / "gen").items()
        }
    return {"greenopt": where, "commands": records, "files": outputs}


def differences(reference: dict, current: dict) -> list[str]:
    out = []
    ref_cmds = {" ".join(r["command"]): r for r in reference["commands"]}
    cur_cmds = {" ".join(r["command"]): r for r in current["commands"]}
    for name in sorted(set(ref_cmds) | set(cur_cmds)):
        ref, cur = ref_cmds.get(name), cur_cmds.get(name)
        if ref is None or cur is None:
            out.append(f"greenopt {name}: only in {'current' if ref is None else 'reference'}")
            continue
        for key in ("exit", "stdout", "stderr"):
            if ref[key] != cur[key]:
                out.append(f"greenopt {name}: {key} differs\n" + diff(ref[key], cur[key]))
    for path in sorted(set(reference["files"]) | set(current["files"])):
        ref, cur = reference["files"].get(path), current["files"].get(path)
        if ref != cur:
            if ref is None or cur is None:
                out.append(f"{path}: only in {'current' if ref is None else 'reference'}")
            else:
                out.append(f"{path}: content differs\n" + diff(ref, cur))
    return out


def diff(a, b) -> str:
    lines = difflib.unified_diff(
        str(a).splitlines(), str(b).splitlines(), "reference", "current", lineterm="", n=1
    )
    return "\n".join(list(lines)[:40])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("record", "check"))
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--source", type=Path, help="run the package from this checkout")
    args = parser.parse_args()
    current = run_all(args.source.resolve() if args.source else None)
    if args.mode == "record":
        args.snapshot.write_text(json.dumps(current, indent=1) + "\n")
        print(
            f"recorded {len(current['commands'])} commands and {len(current['files'])} files "
            f"in {args.snapshot}"
        )
        return 0
    reference = json.loads(args.snapshot.read_text())
    found = differences(reference, current)
    for text in found:
        print(text)
    print(
        f"{len(current['commands'])} commands, {len(current['files'])} files: "
        + (f"{len(found)} difference(s)" if found else "identical")
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
