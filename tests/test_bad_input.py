"""Bad input, table-driven, through the command line as a user meets it.

Each case copies ``instances/tiny``, puts one defect in it and runs ``greenopt validate`` and
``greenopt solve --policy feasibility_greedy --out DIR``: both must exit 2 with exactly the located
messages (``FILE:LINE:COLUMN: message``, or ``FILE: message`` for a whole file) on stderr, no
traceback, and ``solve`` must create no output folder. Schedule cases run ``greenopt evaluate``
(exit 2 unreadable, 1 invalid); warning cases exit 0 and print the located warning. The table
holds every kind of tests/test_io.py too (there against the vector instance, with more detail).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenopt.cli import app
from greenopt.files import (
    COLUMN_RANGES,
    DERIVED_LIMITS,
    load_instance,
    longest_transfer_s,
    ranges_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"

Edit = Callable[[Path], None]


def rep(file: str, old: str, new: str) -> Edit:
    """Replace the single occurrence of ``old`` in ``file``."""

    def apply(folder: Path) -> None:
        path = folder / file
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
        path.write_text(text.replace(old, new))

    return apply


def write(file: str, text: str | bytes) -> Edit:
    def apply(folder: Path) -> None:
        path = folder / file
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)

    return apply


def delete(file: str) -> Edit:
    return lambda folder: (folder / file).unlink()


def not_a_folder(folder: Path) -> None:
    shutil.rmtree(folder)
    folder.write_text("an instance folder replaced by a file\n")


def add_carbon(value: str) -> Edit:
    """A carbon column for site a (trace ``co2``), ``value`` in the first trace row, 300 after."""

    def apply(folder: Path) -> None:
        sites = (folder / "sites.csv").read_text().splitlines()
        sites = [sites[0] + ",carbon", sites[1] + ",co2", *(row + "," for row in sites[2:])]
        (folder / "sites.csv").write_text("\n".join(sites) + "\n")
        traces = (folder / "traces.csv").read_text().splitlines()
        rows = [f"{row},{value if i == 0 else 300}" for i, row in enumerate(traces[1:])]
        (folder / "traces.csv").write_text("\n".join([traces[0] + ",co2", *rows]) + "\n")

    return apply


@dataclass(frozen=True)
class Case:
    kind: str
    edits: tuple[Edit, ...]
    messages: tuple[str, ...]  # stderr, line by line; "{folder}" is the instance folder


def case(kind: str, edits: Edit | tuple[Edit, ...], *messages: str) -> Case:
    return Case(kind, edits if isinstance(edits, tuple) else (edits,), messages)


SITES_ALLOWED = "site_id, gpus, pue, idle_kw, renewable_kw, profile, carbon, lat, lon"
TOML_ALLOWED = (
    "slot_minutes, horizon_h, alpha, checkpoint_overhead_s, link_efficiency, network_kwh_per_gb, "
    "transfer_endpoint_kw, slowdown_weight, start, meta; free keys go under [meta]"
)
COVER = "(each value holds until the next time, the last one for the spacing before it)"

INSTANCE_CASES = [
    # ---- files, columns, rows
    case("not a folder", not_a_folder, "{folder}: not a folder"),
    case("missing file", delete("links.csv"), "links.csv: missing file"),
    case("empty file", write("jobs.csv", ""), "jobs.csv: empty file (no header line)"),
    case(
        "not UTF-8",
        write("sites.csv", b"site_id\xff\n"),
        "sites.csv: not UTF-8 text (invalid start byte at byte 7)",
    ),
    case(
        "CSV syntax",
        rep("links.csv", "b,c,1,20", '"b"x,c,1,20'),
        "links.csv: CSV syntax error on line 3: ',' expected after '\"'",
    ),
    case(
        "missing required column",
        write("jobs.csv", "job_id,power_kw,checkpoint_gb,arrival_h,origin\nj1,0.6,2,0,c\n"),
        "jobs.csv: missing required column 'work_h'",
    ),
    case(
        "unknown column",
        write(
            "sites.csv",
            "site_id,gpus,pue,idle_kw,renewable_kw,profile,colour\n"
            "a,2,1.2,0.1,4,pv_de,red\nb,2,1.2,0.1,2,wind_de,red\nc,2,1.2,0.1,4,pv_us,red\n",
        ),
        f"sites.csv:1:colour: unknown column (allowed: {SITES_ALLOWED})",
    ),
    case(
        "duplicate column",
        rep("links.csv", "latency_ms", "bandwidth_gbps"),
        "links.csv:1:bandwidth_gbps: duplicate column",
    ),
    case(
        "short row",
        rep("links.csv", "b,c,1,20", "b,c,1"),
        "links.csv:3:latency_ms: missing field (row has 3 fields, header has 4)",
    ),
    case(
        "long row",
        rep("links.csv", "b,c,1,20", "b,c,1,20,7"),
        "links.csv:3:5: 1 field(s) more than the 4 of the header",
    ),
    # ---- cell types
    case(
        "not a number",
        rep("sites.csv", "b,2,1.2", "b,2,abc"),
        "sites.csv:3:pue: expected a number, got 'abc'",
    ),
    case(
        "not an integer",
        rep("jobs.csv", "j2,1,", "j2,2.5,"),
        "jobs.csv:3:gpus: expected an integer, got '2.5'",
    ),
    case(
        "not a boolean",
        rep("jobs.csv", "a,false", "a,maybe"),
        "jobs.csv:3:migratable: expected a boolean (true/false, yes/no, 1/0), got 'maybe'",
    ),
    case(
        "NaN", rep("jobs.csv", "j3,1,0.6,", "j3,1,nan,"), "jobs.csv:4:power_kw: NaN is not allowed"
    ),
    case(
        "infinite",
        rep("links.csv", "a,b,10,5", "a,b,inf,5"),
        "links.csv:2:bandwidth_gbps: expected a finite number, got 'inf'",
    ),
    case(
        "empty required cell",
        rep("sites.csv", "c,2,1.2,0.1,4,", "c,2,1.2,0.1,,"),
        "sites.csv:4:renewable_kw: empty cell in a required column",
    ),
    # ---- ranges: sites.csv
    case(
        "site gpus negative",
        rep("sites.csv", "a,2,", "a,-2,"),
        "sites.csv:2:gpus: must be in [0, 1000000], got -2",
    ),
    case(
        "site gpus 1e300",
        rep("sites.csv", "a,2,", "a,1e300,"),
        "sites.csv:2:gpus: must be in [0, 1000000], got 1e300",
    ),
    case(
        "pue below 1",
        rep("sites.csv", "b,2,1.2", "b,2,0.9"),
        "sites.csv:3:pue: must be in [1, 3], got 0.9",
    ),
    case(
        "pue above 3",
        rep("sites.csv", "b,2,1.2", "b,2,7"),
        "sites.csv:3:pue: must be in [1, 3], got 7",
    ),
    case(
        "idle_kw 1e300",
        rep("sites.csv", "a,2,1.2,0.1", "a,2,1.2,1e300"),
        "sites.csv:2:idle_kw: must be in [0, 1000000], got 1e300",
    ),
    case(
        "renewable_kw 1e300",
        rep("sites.csv", "c,2,1.2,0.1,4,", "c,2,1.2,0.1,1e300,"),
        "sites.csv:4:renewable_kw: must be in [0, 1000000], got 1e300",
    ),
    case(
        "renewable_kw negative",
        rep("sites.csv", "c,2,1.2,0.1,4,", "c,2,1.2,0.1,-4,"),
        "sites.csv:4:renewable_kw: must be in [0, 1000000], got -4",
    ),
    # ---- ranges: links.csv
    case(
        "bandwidth 0",
        rep("links.csv", "a,b,10,5", "a,b,0,5"),
        "links.csv:2:bandwidth_gbps: must be in [0.001, 10000], got 0",
    ),
    case(
        "bandwidth 1e300",
        rep("links.csv", "a,b,10,5", "a,b,1e300,5"),
        "links.csv:2:bandwidth_gbps: must be in [0.001, 10000], got 1e300",
    ),
    case(
        "latency 1e300",
        rep("links.csv", "b,c,1,20", "b,c,1,1e300"),
        "links.csv:3:latency_ms: must be in [0, 10000], got 1e300",
    ),
    case(
        "latency negative",
        rep("links.csv", "b,c,1,20", "b,c,1,-20"),
        "links.csv:3:latency_ms: must be in [0, 10000], got -20",
    ),
    # ---- ranges: jobs.csv
    case(
        "job gpus 0",
        rep("jobs.csv", "j1,1,", "j1,0,"),
        "jobs.csv:2:gpus: must be in [1, 1000000], got 0",
    ),
    case(
        "power_kw 1e300",
        rep("jobs.csv", "j1,1,0.6,", "j1,1,1e300,"),
        "jobs.csv:2:power_kw: must be in [0.001, 100000], got 1e300",
    ),
    case(
        "power_kw 0",
        rep("jobs.csv", "j1,1,0.6,", "j1,1,0,"),
        "jobs.csv:2:power_kw: must be in [0.001, 100000], got 0",
    ),
    case(
        "power_kw per GPU",
        rep("jobs.csv", "j1,1,0.6,", "j1,1,50,"),
        "jobs.csv:2:power_kw: 50 kW for 1 GPU(s) is more than 10 kW per GPU",
    ),
    case(
        "work_h 0",
        rep("jobs.csv", "j2,1,0.5,2,", "j2,1,0.5,0,"),
        "jobs.csv:3:work_h: must be in [0.001, 100000], got 0",
    ),
    case(
        "work_h 1e300",
        rep("jobs.csv", "j2,1,0.5,2,", "j2,1,0.5,1e300,"),
        "jobs.csv:3:work_h: must be in [0.001, 100000], got 1e300",
    ),
    case(
        "checkpoint_gb 0",
        rep("jobs.csv", "j3,1,0.6,2.5,100,", "j3,1,0.6,2.5,0,"),
        "jobs.csv:4:checkpoint_gb: must be in (0, 100000], got 0",
    ),
    case(
        "checkpoint_gb 1e300",
        rep("jobs.csv", "j1,1,0.6,3,2,", "j1,1,0.6,3,1e300,"),
        "jobs.csv:2:checkpoint_gb: must be in (0, 100000], got 1e300",
    ),
    case(
        "arrival_h negative",
        rep("jobs.csv", ",10,1,3,", ",10,-1,3,"),
        "jobs.csv:5:arrival_h: must be >= 0, got -1",
    ),
    case(
        "arrival_h at the horizon",
        rep("jobs.csv", ",10,1,3,", ",10,4,5,"),
        "jobs.csv:5:arrival_h: must be < horizon_h = 4, got 4",
    ),
    case(
        "deadline before arrival",
        rep("jobs.csv", ",10,1,3,", ",10,1,0.5,"),
        "jobs.csv:5:deadline_h: must be > arrival_h = 1, got 0.5",
    ),
    case(
        "deadline 1e300",
        rep("jobs.csv", ",10,1,3,", ",10,1,1e300,"),
        "jobs.csv:5:deadline_h: must be in (0, 1000000], got 1e300",
    ),
    # ---- ids and references
    case(
        "duplicate site id",
        rep("sites.csv", "c,2,1.2,0.1,4,pv_us", "b,2,1.2,0.1,4,pv_us"),
        "sites.csv:4:site_id: duplicate site_id 'b' (first on line 3)",
        "links.csv:3:b: unknown site 'c'",
        "jobs.csv:2:origin: unknown site 'c'",
        "jobs.csv:4:origin: unknown site 'c'",
    ),
    case(
        "duplicate job id",
        rep("jobs.csv", "j4,", "j1,"),
        "jobs.csv:5:job_id: duplicate job_id 'j1' (first on line 2)",
    ),
    case(
        "unknown site in a link",
        rep("links.csv", "a,b,10,5", "a,z,10,5"),
        "links.csv:2:b: unknown site 'z'",
    ),
    case(
        "unknown origin",
        rep("jobs.csv", ",3,b,", ",3,mars,"),
        "jobs.csv:5:origin: unknown site 'mars'",
    ),
    case(
        "link to itself",
        rep("links.csv", "a,b,10,5", "a,a,10,5"),
        "links.csv:2:b: link from 'a' to itself",
    ),
    case(
        "second link between two sites",
        rep("links.csv", "b,c,1,20", "b,a,1,20"),
        "links.csv:3:b: second link between 'b' and 'a' (first on line 2)",
    ),
    case(
        "profile not a trace column",
        rep("sites.csv", "pv_us", "pv_mars"),
        "sites.csv:4:profile: 'pv_mars' is not a column of traces.csv",
    ),
    case(
        "no sites",
        (
            write("sites.csv", "site_id,gpus,pue,idle_kw,renewable_kw,profile\n"),
            write("links.csv", "a,b,bandwidth_gbps,latency_ms\n"),
            write("jobs.csv", "job_id,power_kw,work_h,checkpoint_gb,arrival_h,origin\n"),
        ),
        "sites.csv: no sites",
    ),
    # ---- traces.csv
    case(
        "first trace column not time",
        rep("traces.csv", "time,", "when,"),
        "traces.csv:1:when: the first column must be 'time'",
    ),
    case(
        "trace times not increasing",
        rep("traces.csv", "1.0,0.21", "0.5,0.21"),
        "traces.csv:6:time: times must strictly increase (0.5 h after 0.75 h on line 5)",
    ),
    case(
        "trace too short",
        rep("traces.csv", "3.75,0.49,0.37,0.0\n", ""),
        f"traces.csv: times cover [0, 3.75) h, not the horizon [0, 4) h {COVER}",
    ),
    case(
        "capacity factor above 1",
        rep("traces.csv", "1.0,0.21", "1.0,1.5"),
        "traces.csv:6:pv_de: capacity factor must be in [0, 1], got 1.5",
    ),
    case(
        "capacity factor 1e300",
        rep("traces.csv", "1.0,0.21,0.69", "1.0,0.21,1e300"),
        "traces.csv:6:wind_de: capacity factor must be in [0, 1], got 1e300",
    ),
    case(
        "trace time 1e300",
        rep("traces.csv", "3.75,", "1e300,"),
        "traces.csv:17:time: must be in [-1000000, 1000000] (hours from slot 0), got 1e300",
    ),
    case(
        "trace time not a number",
        rep("traces.csv", "1.0,0.21", "noon,0.21"),
        "traces.csv:6:time: expected hours (a number, like the first time), got 'noon'",
    ),
    case(
        "carbon 1e300",
        add_carbon("1e300"),
        "traces.csv:2:co2: carbon intensity must be in [0, 10000], got 1e300",
    ),
    case(
        "carbon negative",
        add_carbon("-5"),
        "traces.csv:2:co2: carbon intensity must be in [0, 10000], got -5",
    ),
    # ---- instance.toml
    case(
        "TOML syntax",
        rep("instance.toml", "alpha = 0.1", "alpha = 0.1 0.2"),
        "instance.toml:3:13: Expected newline or end of document after a statement",
    ),
    case(
        "unknown key",
        rep("instance.toml", "alpha = 0.1", "alpha = 0.1\nbeta = 2"),
        f"instance.toml:4:beta: unknown key (allowed: {TOML_ALLOWED})",
    ),
    case(
        "horizon missing",
        rep("instance.toml", "horizon_h = 4\n", ""),
        "instance.toml: missing required key 'horizon_h'",
    ),
    case(
        "horizon not whole slots",
        rep("instance.toml", "horizon_h = 4", "horizon_h = 4.1"),
        "instance.toml:2:horizon_h: 4.1 h is not a whole number of 15-minute slots",
    ),
    case(
        "horizon 1e300",
        rep("instance.toml", "horizon_h = 4", "horizon_h = 1e300"),
        "instance.toml:2:horizon_h: must be in (0, 87600], got 1e+300",
    ),
    case(
        "too many slots",
        (
            rep("instance.toml", "slot_minutes = 15", "slot_minutes = 1"),
            rep("instance.toml", "horizon_h = 4", "horizon_h = 20000"),
        ),
        "instance.toml:2:horizon_h: 20000 h of 1-minute slots is 1200000 slots, more than 1000000",
    ),
    case(
        "slot_minutes 1e-300",
        rep("instance.toml", "slot_minutes = 15", "slot_minutes = 1e-300"),
        "instance.toml:1:slot_minutes: must be in [1, 1440], got 1e-300",
    ),
    case(
        "alpha 0",
        rep("instance.toml", "alpha = 0.1", "alpha = 0"),
        "instance.toml:3:alpha: must be in (0, 1], got 0",
    ),
    case(
        "link_efficiency 1e-300",
        rep("instance.toml", "link_efficiency = 0.9", "link_efficiency = 1e-300"),
        "instance.toml:5:link_efficiency: must be in [0.01, 1], got 1e-300",
    ),
    case(
        "checkpoint_overhead_s 1e300",
        rep("instance.toml", "checkpoint_overhead_s = 60", "checkpoint_overhead_s = 1e300"),
        "instance.toml:4:checkpoint_overhead_s: must be in [0, 86400], got 1e+300",
    ),
    case(
        "network_kwh_per_gb 1e300",
        rep("instance.toml", "network_kwh_per_gb = 0.002", "network_kwh_per_gb = 1e300"),
        "instance.toml:6:network_kwh_per_gb: must be in [0, 10], got 1e+300",
    ),
    case(
        "transfer_endpoint_kw negative",
        rep("instance.toml", "transfer_endpoint_kw = 0.2", "transfer_endpoint_kw = -0.2"),
        "instance.toml:7:transfer_endpoint_kw: must be in [0, 1000], got -0.2",
    ),
    case(
        "slowdown_weight a string",
        rep("instance.toml", "slowdown_weight = 1", 'slowdown_weight = "1"'),
        "instance.toml:8:slowdown_weight: expected a number, got '1'",
    ),
    case(
        "start not a timestamp",
        rep("instance.toml", "start = 2016-04-16T06:00:00+00:00", 'start = "June 1st"'),
        "instance.toml:9:start: expected an ISO-8601 timestamp, got 'June 1st'",
    ),
    case(
        "TOML key defined twice (meta = 3 and [meta])",
        rep("instance.toml", "alpha = 0.1", "alpha = 0.1\nmeta = 3"),
        "instance.toml:12:6: Cannot overwrite a value",
    ),
    # ---- several at once: every one reported, in file order
    case(
        "several defects",
        (
            rep("instance.toml", "alpha = 0.1", "alpha = 2"),
            rep("sites.csv", "b,2,1.2", "b,-2,0.5"),
            rep("jobs.csv", "j1,1,0.6,3,2,", "j1,1,0.6,3,1e300,"),
            rep("traces.csv", "1.0,0.21", "1.0,2.1"),
        ),
        "instance.toml:3:alpha: must be in (0, 1], got 2",
        "sites.csv:3:gpus: must be in [0, 1000000], got -2",
        "sites.csv:3:pue: must be in [1, 3], got 0.5",
        "jobs.csv:2:checkpoint_gb: must be in (0, 100000], got 1e300",
        "traces.csv:6:pv_de: capacity factor must be in [0, 1], got 2.1",
    ),
]


def tiny_copy(tmp_path: Path, edits: tuple[Edit, ...] = ()) -> Path:
    folder = tmp_path / "inst"
    shutil.copytree(TINY, folder)
    for apply in edits:
        apply(folder)
    return folder


def invoke(*args: str | Path):
    result = CliRunner().invoke(app, [str(a) for a in args])
    # a traceback would be an exception other than the CLI's own exit
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_the_table_covers_at_least_forty_kinds():
    kinds = [c.kind for c in INSTANCE_CASES]
    assert len(set(kinds)) == len(kinds) >= 60
    assert len(kinds) + len(SCHEDULE_CASES) + len(WARNING_CASES) >= 80


@pytest.mark.parametrize("bad", INSTANCE_CASES, ids=lambda c: c.kind)
def test_validate_and_solve_refuse_with_located_messages(tmp_path, bad):
    folder = tiny_copy(tmp_path, bad.edits)
    expected = [m.format(folder=folder) for m in bad.messages]

    result = invoke("validate", folder)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == expected
    assert result.stdout == ""

    out = tmp_path / "out"
    result = invoke("solve", folder, "--policy", "feasibility_greedy", "--out", out)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == expected
    assert not out.exists()


# ---- instances at the bounds: valid, and nothing overflows ---------------------------------------


def extreme_instance(tmp_path: Path) -> Path:
    """tiny with every number at a bound of COLUMN_RANGES (the slowest link, the largest checkpoint,
    the largest site, the busiest job...)."""
    toml = {
        "checkpoint_overhead_s = 60": "checkpoint_overhead_s = 86400",
        "link_efficiency = 0.9": "link_efficiency = 0.01",
        "network_kwh_per_gb = 0.002": "network_kwh_per_gb = 10",
        "transfer_endpoint_kw = 0.2": "transfer_endpoint_kw = 1000",
        "slowdown_weight = 1": "slowdown_weight = 1000000",
    }
    return tiny_copy(
        tmp_path,
        (
            *(rep("instance.toml", old, new) for old, new in toml.items()),
            write("links.csv", "a,b,bandwidth_gbps,latency_ms\na,b,0.001,10000\nb,c,10000,0\n"),
            write(
                "sites.csv",
                "site_id,gpus,pue,idle_kw,renewable_kw,profile\n"
                "a,1000000,3,1000000,1000000,pv_de\nb,2,1,0,1000000,wind_de\n"
                "c,1000000,1,0,0,pv_us\n",
            ),
            write(
                "jobs.csv",
                "job_id,gpus,power_kw,work_h,checkpoint_gb,arrival_h,deadline_h,origin\n"
                "j1,1000000,100000,100000,100000,0,1000000,c\n"
                "j2,1,0.001,0.001,0.0001,0,,a\n"
                "j3,1,10,2.5,100000,0.5,,a\n"
                "j4,1,0.4,1.5,100000,1,3,b\n",
            ),
        ),
    )


def test_instance_at_the_bounds_solves_and_evaluates_with_finite_metrics(tmp_path):
    folder = extreme_instance(tmp_path)
    assert invoke("validate", folder).exit_code == 0
    for policy in ("feasibility_greedy", "energy_greedy", "pause_greedy", "static"):
        out = tmp_path / policy
        result = invoke("solve", folder, "--policy", policy, "--out", out)
        assert result.exit_code == 0, result.output
        metrics = json.loads((out / "metrics.json").read_text())
        numbers = [v for v in metrics.values() if isinstance(v, int | float)]
        assert numbers and all(abs(v) < 1e30 for v in numbers), metrics
        again = invoke("evaluate", folder, out, "--json")
        assert again.exit_code == 0
        assert json.loads(again.stdout)["metrics"]["nre_kwh"] == metrics["nre_kwh"]


def test_longest_transfer_fits_in_an_int_of_slots():
    """The bounds keep every derived slot number far from overflow: the longest transfer any valid
    instance allows, in the shortest slots, is under 2^31 slots."""
    shortest_slot_s = COLUMN_RANGES["instance.toml"]["slot_minutes"].low * 60
    assert longest_transfer_s() / shortest_slot_s < 2**31
    assert DERIVED_LIMITS["max_slots"] < 2**31


def test_a_move_far_past_the_horizon_is_judged_without_walking_its_slots(tmp_path):
    """A schedule moving the largest checkpoint over the slowest link (a transfer of ~10^9 slots)
    is evaluated at once: invalid, arriving past the horizon."""
    folder = extreme_instance(tmp_path)
    sched = tmp_path / "sched"
    sched.mkdir()
    t_mig = 86400 + 8 * 100000 / (0.001 * 0.01) + 10  # b -> a over the 0.001 Gbps link
    (sched / "assignment.csv").write_text(
        "job_id,slot,site,run_fraction\n"
        + "".join(f"j4,{t},{'b' if t < 5 else ''},0\n" for t in range(4, 16))
    )
    (sched / "migrations.csv").write_text(
        f"job_id,depart_slot,src,dst,transfer_s,arrive_slot\nj4,5,b,a,{t_mig!r},99999\n"
    )
    result = invoke("evaluate", folder, sched, "--json")
    assert result.exit_code == 1
    messages = [v[3] for v in json.loads(result.stdout)["violations"]]
    assert any(
        m.startswith("migrations.csv:2: arrives at ") and "past the horizon" in m for m in messages
    )


# ---- schedules: greenopt evaluate ----------------------------------------------------------------

#: A valid schedule of tiny: every job computes at its origin from its arrival until done.
#: Lines: j1 slots 0–11 on lines 2–13, j2 0–7 on 14–21, j3 2–11 on 22–31, j4 4–9 on 32–37.
STAY_ROWS = [
    *((f"j1,{t},c,1") for t in range(0, 12)),
    *((f"j2,{t},a,1") for t in range(0, 8)),
    *((f"j3,{t},c,1") for t in range(2, 12)),
    *((f"j4,{t},b,1") for t in range(4, 10)),
]
MIGRATIONS_HEADER = "job_id,depart_slot,src,dst,transfer_s,arrive_slot\n"


def schedule_folder(tmp_path: Path, rows: list[str], migrations: str = "") -> Path:
    folder = tmp_path / "sched"
    folder.mkdir(exist_ok=True)
    (folder / "assignment.csv").write_text(
        "job_id,slot,site,run_fraction\n" + "\n".join(rows) + "\n"
    )
    (folder / "migrations.csv").write_text(MIGRATIONS_HEADER + migrations)
    return folder


def with_row(line: int, text: str) -> list[str]:
    rows = list(STAY_ROWS)
    rows[line - 2] = text
    return rows


@dataclass(frozen=True)
class ScheduleCase:
    kind: str
    rows: list[str]
    migrations: str
    exit_code: int
    message: str  # exit 2: a whole stderr line ({sched} the folder); exit 1: a violation message


SCHEDULE_CASES = [
    ScheduleCase(
        "run_fraction not a number",
        with_row(5, "j1,3,c,lots"),
        "",
        2,
        "{sched}/assignment.csv:5:run_fraction: expected a number, got 'lots'",
    ),
    ScheduleCase(
        "run_fraction NaN",
        with_row(5, "j1,3,c,nan"),
        "",
        2,
        "{sched}/assignment.csv:5:run_fraction: NaN is not allowed",
    ),
    ScheduleCase(
        "slot empty", with_row(16, "j2,,a,1"), "", 2, "{sched}/assignment.csv:16:slot: empty cell"
    ),
    ScheduleCase(
        "job_id empty",
        with_row(16, ",2,a,1"),
        "",
        2,
        "{sched}/assignment.csv:16:job_id: empty cell",
    ),
    ScheduleCase(
        "assignment row too long",
        with_row(16, "j2,2,a,1,9"),
        "",
        2,
        "{sched}/assignment.csv:16:5: 1 field(s) more than the header",
    ),
    ScheduleCase(
        "transfer_s not a number",
        STAY_ROWS,
        "j4,6,b,a,soon,6\n",
        2,
        "{sched}/migrations.csv:2:transfer_s: expected a number, got 'soon'",
    ),
    ScheduleCase(
        "depart_slot infinite",
        STAY_ROWS,
        "j4,inf,b,a,68.9,6\n",
        2,
        "{sched}/migrations.csv:2:depart_slot: expected a finite number, got 'inf'",
    ),
    ScheduleCase(
        "run_fraction above 1",
        with_row(5, "j1,3,c,2"),
        "",
        1,
        "assignment.csv:5:run_fraction: run_fraction 2 outside [0, 1]",
    ),
    ScheduleCase(
        "slot not an integer",
        with_row(16, "j2,2.5,a,1"),
        "",
        1,
        "assignment.csv:16:slot: slot 2.5 is not a slot 0–15",
    ),
    ScheduleCase(
        "slot past the horizon",
        [*STAY_ROWS, "j2,99,a,0"],
        "",
        1,
        "assignment.csv:38:slot: slot 99 is not a slot 0–15",
    ),
    ScheduleCase(
        "unknown site",
        with_row(16, "j2,2,mars,1"),
        "",
        1,
        "assignment.csv:16:site: unknown site 'mars'",
    ),
    ScheduleCase(
        "unknown job",
        [*STAY_ROWS, "j9,0,a,0"],
        "",
        1,
        "assignment.csv:38:job_id: unknown job_id 'j9' (1 rows)",
    ),
    ScheduleCase(
        "duplicate row", [*STAY_ROWS, "j2,3,a,1"], "", 1, "assignment.csv:38: duplicate row"
    ),
    ScheduleCase(
        "computes before arrival",
        [*STAY_ROWS, "j3,1,c,1"],
        "",
        1,
        "assignment.csv:38: computes 1 of the slot before its arrival slot",
    ),
    ScheduleCase(
        "depart_slot not an integer",
        STAY_ROWS,
        "j4,1.5,b,a,68.9,6\n",
        1,
        "migrations.csv:2:depart_slot: depart_slot 1.5 is not an integer",
    ),
    ScheduleCase(
        "move of a non-migratable job",
        STAY_ROWS,
        "j2,4,a,b,61.8,4\n",
        1,
        "migrations.csv:2: j2 is not migratable but moves",
    ),
]


@pytest.mark.parametrize("bad", SCHEDULE_CASES, ids=lambda c: c.kind)
def test_evaluate_locates_schedule_defects(tmp_path, bad):
    sched = schedule_folder(tmp_path, bad.rows, bad.migrations)
    result = invoke("evaluate", TINY, sched, "--json")
    assert result.exit_code == bad.exit_code, result.output
    assert "np.float64" not in result.output
    if bad.exit_code == 2:
        assert bad.message.format(sched=sched) in result.stderr.splitlines()
        assert result.stdout == ""
    else:
        messages = [v[3] for v in json.loads(result.stdout)["violations"]]
        assert bad.message in messages, messages


def test_the_stay_schedule_is_valid(tmp_path):
    result = invoke("evaluate", TINY, schedule_folder(tmp_path, STAY_ROWS), "--json")
    assert result.exit_code == 0, result.output


def test_evaluate_table_prints_plain_numbers(tmp_path):
    sched = schedule_folder(tmp_path, with_row(16, "j2,2.5,a,1"))
    result = invoke("evaluate", TINY, sched)
    assert result.exit_code == 1
    assert "np.float64" not in result.output and "2.5" in result.output


# ---- warnings: exit 0, located ------------------------------------------------------------------

ISOLATED_SITE = rep(
    "sites.csv", "c,2,1.2,0.1,4,pv_us\n", "c,2,1.2,0.1,4,pv_us\nd,8,1.2,0.1,4,pv_us\n"
)

WARNING_CASES = [
    case(
        "job needs more GPUs than any site has",
        rep("jobs.csv", "j1,1,", "j1,4,"),
        "jobs.csv:2:gpus: warning: job 'j1' needs 4 GPUs, more than any site has (at most 2): "
        "it can never run",
    ),
    case(
        "job needs more GPUs than any site it can reach has",
        (ISOLATED_SITE, rep("jobs.csv", "j1,1,", "j1,3,")),
        "sites.csv:5:site_id: warning: no job can reach site 'd' (no job starts there, nor a "
        "migratable one in its part of the network)",
        "jobs.csv:2:gpus: warning: job 'j1' needs 3 GPUs, more than any site it can reach has "
        "(at most 2): it can never run",
    ),
    case(
        "work past the horizon",
        rep("jobs.csv", "j3,1,0.6,2.5,", "j3,1,0.6,3.75,"),
        "jobs.csv:4:work_h: warning: job 'j3' cannot finish before the horizon ends at 4 h "
        "(arrival_h 0.5 + work_h 3.75 = 4.25 h)",
    ),
    case(
        "work past the deadline",
        rep("jobs.csv", "j4,1,0.4,1.5,", "j4,1,0.4,2.5,"),
        "jobs.csv:5:deadline_h: warning: job 'j4' cannot finish before its deadline at 3 h "
        "(arrival_h 1 + work_h 2.5 = 3.5 h)",
    ),
    case(
        "site no job can reach",
        ISOLATED_SITE,
        "sites.csv:5:site_id: warning: no job can reach site 'd' (no job starts there, nor a "
        "migratable one in its part of the network)",
    ),
    case(
        "site reached only by a non-migratable job's neighbours",
        (
            rep("links.csv", "b,c,1,20\n", ""),
            rep("jobs.csv", "j1,1,0.6,3,2,0,,c,true", "j1,1,0.6,3,2,0,,a,true"),
            rep("jobs.csv", "j3,1,0.6,2.5,100,0.5,,c,true", "j3,1,0.6,2.5,100,0.5,,a,true"),
        ),
        "sites.csv:4:site_id: warning: no job can reach site 'c' (no job starts there, nor a "
        "migratable one in its part of the network)",
    ),
    case(
        "trace gap held",
        rep("traces.csv", "1.0,0.21,0.69,0.0\n", ""),
        "traces.csv:5:time: warning: gap of 0.5 h before the next time (line 6; the rows are "
        "0.25 h apart otherwise): this row's values are held from 0.75 h to 1.25 h",
    ),
]


@pytest.mark.parametrize("warned", WARNING_CASES, ids=lambda c: c.kind)
def test_warnings_are_printed_and_exit_0(tmp_path, warned):
    folder = tiny_copy(tmp_path, warned.edits)
    result = invoke("validate", folder)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == list(warned.messages)
    assert f"{len(warned.messages)} warning(s)." in result.stdout
    assert load_instance(folder).warnings == warned.messages


def test_a_warned_instance_still_solves(tmp_path):
    folder = tiny_copy(tmp_path, WARNING_CASES[0].edits)
    out = tmp_path / "out"
    result = invoke("solve", folder, "--policy", "feasibility_greedy", "--out", out)
    assert result.exit_code == 0, result.output
    assert WARNING_CASES[0].messages[0] in result.stderr.splitlines()
    assert (out / "metrics.json").is_file()


def test_shipped_instances_have_no_warnings():
    for name in ("tiny", "default"):
        assert load_instance(ROOT / "instances" / name).warnings == ()


def test_readme_ranges_table_is_the_code_table():
    assert ranges_markdown() in (ROOT / "README.md").read_text()


def test_schedule_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path):
    """The located line is the physical one, past a blank line and a quoted field with a line
    break (the csv path), and past a blank line alone (the fast path)."""
    sched = schedule_folder(tmp_path, STAY_ROWS)
    path = sched / "assignment.csv"
    text = path.read_text()
    path.write_text(text.replace("j1,3,c,1\n", "\nj1,3,c,x\n"))  # line 5 -> 6
    result = invoke("evaluate", TINY, sched)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"{path}:6:run_fraction: expected a number, got 'x'"]
    path.write_text(text.replace("j1,2,c,1\n", '"j1\nbis",2,c,1\n').replace("j1,3,c,1", "j1,3,c,x"))
    result = invoke("evaluate", TINY, sched)
    assert result.stderr.splitlines() == [f"{path}:6:run_fraction: expected a number, got 'x'"]
