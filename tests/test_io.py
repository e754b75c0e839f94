"""Instance folders (SPEC §2): every kind of bad input with its exact FILE:LINE:COLUMN message,
round trips through write_instance, and the ``greenopt validate`` command."""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from greenopt.cli import app
from greenopt.files import InstanceError, load_instance, write_instance
from greenopt.instance import Instance, Job, Link, Parameters, Site

VECTOR = Path(__file__).resolve().parent / "data" / "vectors" / "instance"

SITES_HEADER = "site_id,gpus,pue,idle_kw,renewable_kw,profile,carbon,lat,lon"
JOBS_HEADER = "job_id,gpus,power_kw,work_h,checkpoint_gb,arrival_h,deadline_h,origin,migratable"


def copy_vector(tmp_path: Path) -> Path:
    folder = tmp_path / "inst"
    folder.mkdir(parents=True)
    for src in VECTOR.iterdir():
        (folder / src.name).write_text(src.read_text())
    return folder


def edit(folder: Path, file: str, old: str, new: str) -> Path:
    """Replace the single occurrence of ``old`` in ``file``."""
    path = folder / file
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
    path.write_text(text.replace(old, new))
    return folder


def problems(folder: Path) -> list[str]:
    with pytest.raises(InstanceError) as info:
        load_instance(folder)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def bad(tmp_path: Path, file: str, old: str, new: str) -> list[str]:
    return problems(edit(copy_vector(tmp_path), file, old, new))


# ---- the vector itself ---------------------------------------------------------------------


def test_vector_instance_loads_with_every_field():
    inst = load_instance(VECTOR)
    assert inst.name == "instance"
    p = inst.params
    assert (p.horizon_h, p.slot_minutes, p.n_slots) == (8.0, 15.0, 32)
    assert p.start == datetime(2024, 6, 1, tzinfo=UTC)
    assert inst.sites[0] == Site("north", 2, 6.0, "wind", 1.1, 0.3, "grid_n", 59.3, 18.1)
    assert inst.links[2] == Link("north", "south", 1.0, 40.0)
    assert inst.jobs[1] == Job("j2", 0.3, 3.0, 2.0, 0.5, "hub", 1, None, False)
    assert inst.jobs[2].deadline_h == 6.0
    # R[s, t] = renewable_kw × cf, hourly values held over the four 15-minute slots of each hour
    assert inst.renewable_kw[0, :5].tolist() == pytest.approx([5.4, 5.4, 5.4, 5.4, 4.8])
    assert inst.carbon[1, 4] == 280.0


# ---- files and columns ---------------------------------------------------------------------


def test_missing_file(tmp_path):
    folder = copy_vector(tmp_path)
    (folder / "links.csv").unlink()
    assert problems(folder) == ["links.csv: missing file"]


def test_missing_required_column(tmp_path):
    folder = copy_vector(tmp_path)
    (folder / "jobs.csv").write_text(
        "job_id,power_kw,checkpoint_gb,arrival_h,origin\nj1,1,1,0,hub\n"
    )
    assert problems(folder) == ["jobs.csv: missing required column 'work_h'"]


def test_columns_with_defaults_may_be_left_out(tmp_path):
    folder = copy_vector(tmp_path)
    (folder / "jobs.csv").write_text(
        "job_id,power_kw,work_h,checkpoint_gb,arrival_h,origin\nj1,0.3,2,5,0,hub\n"
    )
    (folder / "links.csv").write_text("a,b,bandwidth_gbps\nnorth,hub,10\n")
    inst = load_instance(folder)
    assert inst.jobs == (Job("j1", 0.3, 2.0, 5.0, 0.0, "hub", 1, None, True),)
    assert inst.links == (Link("north", "hub", 10.0, 0.0),)


def test_unknown_column(tmp_path):
    folder = edit(copy_vector(tmp_path), "sites.csv", "lat,lon", "lat,lon,colour")
    edit(folder, "sites.csv", "18.1\n", "18.1,red\n")
    edit(folder, "sites.csv", "-5.9\n", "-5.9,red\n")
    edit(folder, "sites.csv", "8.7\n", "8.7,red\n")
    got = problems(folder)
    assert len(got) == 1
    assert got[0].startswith("sites.csv:1:colour: unknown column (allowed: site_id, gpus, ")


def test_unknown_columns_of_traces_are_free_and_unnamed_ones_ignored(tmp_path):
    folder = copy_vector(tmp_path)
    text = (folder / "traces.csv").read_text().splitlines()
    text = [text[0] + ",notes"] + [row + ",not a number" for row in text[1:]]
    (folder / "traces.csv").write_text("\n".join(text) + "\n")
    inst = load_instance(folder)
    assert "notes" not in inst.traces.columns
    assert inst == load_instance(VECTOR)


def test_short_and_long_rows(tmp_path):
    folder = edit(copy_vector(tmp_path), "links.csv", "hub,south,10,15", "hub,south,10")
    edit(folder, "links.csv", "north,south,1,40", "north,south,1,40,7")
    assert problems(folder) == [
        "links.csv:3:latency_ms: missing field (row has 3 fields, header has 4)",
        "links.csv:4:5: 1 field(s) more than the 4 of the header",
    ]


def test_csv_syntax_error(tmp_path):
    assert bad(tmp_path, "links.csv", "hub,south", '"hub"x,south') == [
        "links.csv: CSV syntax error on line 3: ',' expected after '\"'"
    ]


def test_duplicate_column_empty_file_and_no_trace_rows(tmp_path):
    folder = edit(copy_vector(tmp_path), "links.csv", "latency_ms", "bandwidth_gbps")
    (folder / "jobs.csv").write_text("")
    (folder / "traces.csv").write_text("time,wind,solar,grid_n,grid_s,grid_h\n")
    assert problems(folder) == [
        "links.csv:1:bandwidth_gbps: duplicate column",
        "jobs.csv: empty file (no header line)",
        "traces.csv: no rows",
    ]


def test_not_a_folder(tmp_path):
    assert problems(tmp_path / "nope") == [f"{tmp_path / 'nope'}: not a folder"]


# ---- cell types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "sites.csv",
            "south,2,1.2",
            "south,2,abc",
            "sites.csv:3:pue: expected a number, got 'abc'",
        ),
        ("jobs.csv", "j2,1,", "j2,2.5,", "jobs.csv:3:gpus: expected an integer, got '2.5'"),
        ("sites.csv", "hub,4,", "hub,x4,", "sites.csv:4:gpus: expected a number, got 'x4'"),
        (
            "jobs.csv",
            "hub,false",
            "hub,maybe",
            "jobs.csv:3:migratable: expected a boolean (true/false, yes/no, 1/0), got 'maybe'",
        ),
        (
            "jobs.csv",
            "hub,false",
            "hub,1.0",
            "jobs.csv:3:migratable: expected a boolean (true/false, yes/no, 1/0), got '1.0'",
        ),
        (
            "links.csv",
            "north,hub,10,20",
            "north,hub,inf,20",
            "links.csv:2:bandwidth_gbps: expected a finite number, got 'inf'",
        ),
    ],
)
def test_wrong_type(tmp_path, file, old, new, expected):
    assert bad(tmp_path, file, old, new) == [expected]


@pytest.mark.parametrize(
    ("text", "value"), [("No", False), ("YES", True), ("0", False), ("1", True), ("TRUE", True)]
)
def test_booleans_in_any_case(tmp_path, text, value):
    folder = edit(copy_vector(tmp_path), "jobs.csv", "hub,false", f"hub,{text}")
    assert load_instance(folder).jobs[1].migratable is value


def test_integral_floats_are_integers(tmp_path):
    folder = edit(copy_vector(tmp_path), "sites.csv", "hub,4,", "hub,4.0,")
    edit(folder, "jobs.csv", "j3,1,", "j3,2.0,")
    inst = load_instance(folder)
    assert inst.sites[2].gpus == 4 and isinstance(inst.sites[2].gpus, int)
    assert inst.jobs[2].gpus == 2 and isinstance(inst.jobs[2].gpus, int)


def test_empty_cells(tmp_path):
    folder = copy_vector(tmp_path)
    (folder / "sites.csv").write_text(
        f"{SITES_HEADER}\n"
        "north,2,,,6,wind,,,\n"  # pue, idle_kw take defaults; carbon, lat, lon absent
        "south,2,1.2,0.3,8,solar,grid_s,37.4,-5.9\n"
        "hub,4,1.4,1.0,0,solar,grid_h,50.1,8.7\n"
    )
    north = load_instance(folder).sites[0]
    assert north == Site("north", 2, 6.0, "wind", 1.2, 0.0, None, None, None)
    edit(folder, "jobs.csv", "j2,1,0.30,", "j2,1,,")
    edit(folder, "sites.csv", "south,2,1.2,0.3,8,solar,", "south,2,1.2,0.3,8,,")
    assert problems(folder) == [
        "sites.csv:3:profile: empty cell in a required column",
        "jobs.csv:3:power_kw: empty cell in a required column",
    ]


# ---- ranges --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("sites.csv", "north,2,", "north,-1,", "sites.csv:2:gpus: must be in [0, 1000000], got -1"),
        ("sites.csv", "north,2,1.1", "north,2,0.9", "sites.csv:2:pue: must be in [1, 3], got 0.9"),
        (
            "sites.csv",
            "1.1,0.3",
            "1.1,-0.3",
            "sites.csv:2:idle_kw: must be in [0, 1000000], got -0.3",
        ),
        (
            "sites.csv",
            "0.3,6,",
            "0.3,-6,",
            "sites.csv:2:renewable_kw: must be in [0, 1000000], got -6",
        ),
        ("sites.csv", "59.3,18.1", "99.3,18.1", "sites.csv:2:lat: must be in [-90, 90], got 99.3"),
        (
            "links.csv",
            "hub,south,10,",
            "hub,south,0,",
            "links.csv:3:bandwidth_gbps: must be in [0.001, 10000], got 0",
        ),
        (
            "links.csv",
            "south,1,40",
            "south,1,-4",
            "links.csv:4:latency_ms: must be in [0, 10000], got -4",
        ),
        ("jobs.csv", "j1,1,", "j1,0,", "jobs.csv:2:gpus: must be in [1, 1000000], got 0"),
        (
            "jobs.csv",
            "j1,1,0.35",
            "j1,1,0",
            "jobs.csv:2:power_kw: must be in [0.001, 100000], got 0",
        ),
        (
            "jobs.csv",
            "0.35,4,",
            "0.35,-4,",
            "jobs.csv:2:work_h: must be in [0.001, 100000], got -4",
        ),
        (
            "jobs.csv",
            "0.35,4,20,",
            "0.35,4,0,",
            "jobs.csv:2:checkpoint_gb: must be in (0, 100000], got 0",
        ),
        ("jobs.csv", "20,0,", "20,-0.5,", "jobs.csv:2:arrival_h: must be >= 0, got -0.5"),
        ("jobs.csv", "20,0,", "20,8,", "jobs.csv:2:arrival_h: must be < horizon_h = 8, got 8"),
        (
            "jobs.csv",
            "1.25,6,",
            "1.25,1.25,",
            "jobs.csv:4:deadline_h: must be > arrival_h = 1.25, got 1.25",
        ),
    ],
)
def test_out_of_range(tmp_path, file, old, new, expected):
    assert bad(tmp_path, file, old, new) == [expected]


def test_deadline_beyond_horizon_is_fine(tmp_path):
    folder = edit(copy_vector(tmp_path), "jobs.csv", "1.25,6,", "1.25,30,")
    assert load_instance(folder).jobs[2].deadline_h == 30.0


@pytest.mark.parametrize("text", ["nan", "NaN", "-nan"])
def test_nan_anywhere(tmp_path, text):
    folder = edit(copy_vector(tmp_path), "jobs.csv", "2,0.5,,", f"2,{text},,")
    edit(folder, "traces.csv", "0.6,0.4,40", f"0.6,{text},40")
    edit(folder, "instance.toml", "alpha = 0.1", "alpha = nan")
    assert problems(folder) == [
        "instance.toml:3:alpha: NaN is not allowed",
        "jobs.csv:3:arrival_h: NaN is not allowed",
        "traces.csv:4:solar: NaN is not allowed",
    ]


# ---- ids and references --------------------------------------------------------------------


def test_duplicate_ids(tmp_path):
    folder = edit(copy_vector(tmp_path), "sites.csv", "hub,4,", "north,4,")
    edit(folder, "jobs.csv", "j3,", "j1,")
    got = problems(folder)
    assert got[0] == "sites.csv:4:site_id: duplicate site_id 'north' (first on line 2)"
    assert "jobs.csv:4:job_id: duplicate job_id 'j1' (first on line 2)" in got


def test_unknown_sites_in_links_and_jobs(tmp_path):
    folder = edit(copy_vector(tmp_path), "links.csv", "north,hub", "nowhere,hub")
    edit(folder, "links.csv", "hub,south", "hub,elsewhere")
    edit(folder, "jobs.csv", ",south,", ",mars,")
    assert problems(folder) == [
        "links.csv:2:a: unknown site 'nowhere'",
        "links.csv:3:b: unknown site 'elsewhere'",
        "jobs.csv:4:origin: unknown site 'mars'",
    ]


def test_profile_and_carbon_must_be_trace_columns(tmp_path):
    folder = edit(copy_vector(tmp_path), "sites.csv", "6,wind,grid_n", "6,wnd,grid_x")
    edit(folder, "sites.csv", "0,solar,grid_h", "0,time,grid_h")
    assert problems(folder) == [
        "sites.csv:2:profile: 'wnd' is not a column of traces.csv",
        "sites.csv:2:carbon: 'grid_x' is not a column of traces.csv",
        "sites.csv:4:profile: 'time' is the time column of traces.csv",
    ]


def test_self_and_parallel_links(tmp_path):
    folder = edit(copy_vector(tmp_path), "links.csv", "north,south,1,40", "south,hub,1,40")
    assert problems(folder) == [
        "links.csv:4:b: second link between 'south' and 'hub' (first on line 3)"
    ]
    edit(folder, "links.csv", "south,hub,1,40", "south,south,1,40")
    assert problems(folder) == ["links.csv:4:b: link from 'south' to itself"]


def test_no_sites(tmp_path):
    folder = copy_vector(tmp_path)
    (folder / "sites.csv").write_text(SITES_HEADER + "\n")
    (folder / "links.csv").write_text("a,b,bandwidth_gbps\n")
    (folder / "jobs.csv").write_text(JOBS_HEADER + "\n")
    assert problems(folder) == ["sites.csv: no sites"]


# ---- line numbers --------------------------------------------------------------------------


def test_line_numbers_count_physical_lines(tmp_path):
    """A quoted field spanning two lines and a blank line shift the following rows."""
    folder = copy_vector(tmp_path)
    (folder / "jobs.csv").write_text(
        f"{JOBS_HEADER}\n"
        '"j1\nsecond line",1,0.35,4,20,0,,north,true\n'
        "\n"
        "j2,1,0.30,3,2,0.5,,hub,perhaps\n"
    )
    assert problems(folder) == [
        "jobs.csv:5:migratable: expected a boolean (true/false, yes/no, 1/0), got 'perhaps'"
    ]
    edit(folder, "jobs.csv", "perhaps", "no")
    assert load_instance(folder).jobs[0].job_id == "j1\nsecond line"


# ---- traces --------------------------------------------------------------------------------


def test_time_column_first(tmp_path):
    assert bad(tmp_path, "traces.csv", "time,wind", "when,wind") == [
        "traces.csv:1:when: the first column must be 'time'"
    ]


def test_bad_timestamp(tmp_path):
    assert bad(tmp_path, "traces.csv", "2024-06-01T03:00:00Z", "2024-06-01T03:00:00Zulu") == [
        "traces.csv:5:time: expected an ISO-8601 timestamp, got '2024-06-01T03:00:00Zulu'"
    ]


def test_times_strictly_increase(tmp_path):
    assert bad(tmp_path, "traces.csv", "2024-06-01T03:00:00Z", "2024-06-01T02:00:00Z") == [
        "traces.csv:5:time: times must strictly increase (2 h after 2 h on line 4)"
    ]


def test_trace_too_short(tmp_path):
    got = bad(tmp_path, "traces.csv", "2024-06-01T07:00:00Z,0.4,0.2,40,320,460\n", "")
    assert got == [
        "traces.csv: times cover [0, 7) h, not the horizon [0, 8) h (each value holds until the "
        "next time, the last one for the spacing before it)"
    ]


def test_trace_starting_after_slot_zero(tmp_path):
    got = bad(
        tmp_path, "instance.toml", "start = 2024-06-01T00:00:00Z", "start = 2024-05-31T23:00:00"
    )
    assert got[0].startswith("traces.csv: times cover [1, 9) h, not the horizon [0, 8) h")


def test_trace_may_start_before_slot_zero(tmp_path):
    folder = edit(copy_vector(tmp_path), "instance.toml", "horizon_h = 8", "horizon_h = 7")
    edit(folder, "instance.toml", "start = 2024-06-01T00:00:00Z", 'start = "2024-06-01T01:00:00"')
    inst = load_instance(folder)
    assert inst.params.start == datetime(2024, 6, 1, 1, tzinfo=UTC)
    assert inst.renewable_kw[0, 0] == pytest.approx(6 * 0.8)  # 01:00 value in slot 0


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "0.8,0.1,40",
            "1.8,0.1,40",
            "traces.csv:3:wind: capacity factor must be in [0, 1], got 1.8",
        ),
        (
            "0.8,0.1,40",
            "0.8,-0.1,40",
            "traces.csv:3:solar: capacity factor must be in [0, 1], got -0.1",
        ),
        (
            "40,280,440",
            "40,-280,440",
            "traces.csv:3:grid_s: carbon intensity must be in [0, 10000], got -280",
        ),
        ("0.8,0.1,40", "0.8,,40", "traces.csv:3:solar: empty cell in a trace column a site names"),
        ("0.8,0.1,40", "0.8,high,40", "traces.csv:3:solar: expected a number, got 'high'"),
    ],
)
def test_trace_values(tmp_path, old, new, expected):
    assert bad(tmp_path, "traces.csv", old, new) == [expected]


def test_numeric_and_iso_times_do_not_mix(tmp_path):
    got = bad(tmp_path, "traces.csv", "2024-06-01T00:00:00Z", "0")
    assert len(got) == 7  # every later ISO time, lines 3-9
    assert got[0] == (
        "traces.csv:3:time: expected hours (a number, like the first time), "
        "got '2024-06-01T01:00:00Z'"
    )
    assert got[-1].startswith("traces.csv:9:time: ")


# ---- instance.toml -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "alpha = 0.1",
            "alpha = 0.1\nbeta = 2",
            "instance.toml:4:beta: unknown key (allowed: slot_minutes, horizon_h, alpha, "
            "checkpoint_overhead_s, link_efficiency, network_kwh_per_gb, transfer_endpoint_kw, "
            "slowdown_weight, start, meta; free keys go under [meta])",
        ),
        (
            "horizon_h = 8",
            "horizon_h = 8.1",
            "instance.toml:2:horizon_h: 8.1 h is not a whole number of 15-minute slots",
        ),
        (
            "horizon_h = 8",
            "horizon_h = -8",
            "instance.toml:2:horizon_h: must be in (0, 87600], got -8",
        ),
        ("alpha = 0.1", "alpha = 0", "instance.toml:3:alpha: must be in (0, 1], got 0"),
        ("alpha = 0.1", "alpha = 1.5", "instance.toml:3:alpha: must be in (0, 1], got 1.5"),
        (
            "link_efficiency = 0.9",
            "link_efficiency = 0",
            "instance.toml:5:link_efficiency: must be in [0.01, 1], got 0",
        ),
        (
            "slot_minutes = 15",
            "slot_minutes = 0",
            "instance.toml:1:slot_minutes: must be in [1, 1440], got 0",
        ),
        (
            "checkpoint_overhead_s = 60",
            "checkpoint_overhead_s = -1",
            "instance.toml:4:checkpoint_overhead_s: must be in [0, 86400], got -1",
        ),
        (
            "slowdown_weight = 1.0",
            'slowdown_weight = "1"',
            "instance.toml:8:slowdown_weight: expected a number, got '1'",
        ),
        (
            "start = 2024-06-01T00:00:00Z",
            'start = "June 1st"',
            "instance.toml:9:start: expected an ISO-8601 timestamp, got 'June 1st'",
        ),
        (
            "alpha = 0.1",
            "alpha = 0.1 0.2",
            "instance.toml:3:13: Expected newline or end of document after a statement",
        ),
    ],
)
def test_instance_toml(tmp_path, old, new, expected):
    assert bad(tmp_path, "instance.toml", old, new) == [expected]


def test_horizon_required(tmp_path):
    assert bad(tmp_path, "instance.toml", "horizon_h = 8\n", "") == [
        "instance.toml: missing required key 'horizon_h'"
    ]


def test_meta_is_free_and_start_may_be_a_naive_string(tmp_path):
    folder = edit(
        copy_vector(tmp_path),
        "instance.toml",
        "start = 2024-06-01T00:00:00Z",
        'start = "2024-06-01 00:00"\n[meta]\nsource = "test"\nanything = [1, 2]\nsynthetic = true',
    )
    inst = load_instance(folder)
    assert inst.params.start == datetime(2024, 6, 1, tzinfo=UTC)
    assert inst.params.meta == {"source": "test", "anything": [1, 2], "synthetic": True}


def test_meta_must_be_a_table_and_start_may_be_a_date(tmp_path):
    folder = edit(copy_vector(tmp_path), "instance.toml", "alpha = 0.1", "alpha = 0.1\nmeta = 3")
    assert problems(folder) == ["instance.toml:4:meta: [meta] must be a table"]
    edit(folder, "instance.toml", "meta = 3\n", "")
    edit(folder, "instance.toml", "start = 2024-06-01T00:00:00Z", "start = 2024-06-01")
    assert load_instance(folder).params.start == datetime(2024, 6, 1, tzinfo=UTC)


# ---- several at once ----------------------------------------------------------------------


def test_every_problem_is_reported_at_once(tmp_path):
    folder = copy_vector(tmp_path)
    (folder / "links.csv").unlink()
    edit(folder, "instance.toml", "alpha = 0.1", "alpha = 2")
    edit(folder, "sites.csv", "south,2,1.2", "south,-2,0.5")
    edit(folder, "jobs.csv", "j1,1,0.35,4,20,0,,north,", "j1,1,0.35,4,20,0,,venus,")
    edit(folder, "jobs.csv", ",hub,false", ",hub,nope")
    edit(folder, "traces.csv", "0.9,0.0,40", "0.9,2.0,40")
    assert problems(folder) == [
        "instance.toml:3:alpha: must be in (0, 1], got 2",
        "sites.csv:3:gpus: must be in [0, 1000000], got -2",
        "sites.csv:3:pue: must be in [1, 3], got 0.5",
        "links.csv: missing file",
        "jobs.csv:2:origin: unknown site 'venus'",
        "jobs.csv:3:migratable: expected a boolean (true/false, yes/no, 1/0), got 'nope'",
        "traces.csv:2:solar: capacity factor must be in [0, 1], got 2.0",
    ]


# ---- round trips ---------------------------------------------------------------------------


def assert_round_trip(inst: Instance, folder: Path) -> Instance:
    assert write_instance(inst, folder) == folder
    back = load_instance(folder)
    assert back == inst
    assert back.params == inst.params and back.sites == inst.sites and back.jobs == inst.jobs
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temp files
    return back


def test_round_trip_vector(tmp_path):
    inst = load_instance(VECTOR)
    back = assert_round_trip(inst, tmp_path / "instance")
    assert back.params.start == datetime(2024, 6, 1, tzinfo=UTC)
    assert np.array_equal(back.carbon, inst.carbon)
    assert_round_trip(inst, tmp_path / "instance")  # writing over an existing folder


def test_round_trip_numeric_times_meta_and_optional_fields(tmp_path):
    params = Parameters(
        horizon_h=1.5,
        slot_minutes=30,
        alpha=0.25,
        meta={"source": 'a "b"', "synthetic": True, "n": 3, "nested": {"x": 1.5}},
    )
    traces = pd.DataFrame(
        {"pv": [0.1, 0.7, 1 / 3], "co2": [100.0, 0.0, 55.5], "unused": [9.0, 9.0, 9.0]},
        index=pd.Index([0.0, 0.5, 1.0], name="time_h"),
    )
    sites = (
        Site("a,1", 2, 3.0, "pv", carbon="co2", lat=1.5),
        Site("b", 0, 0.0, "pv", pue=1.0),
    )
    jobs = (
        Job("x", 0.1, 1 / 3, 1.0, 0.2, "a,1", deadline_h=99.0, migratable=False),
        Job("y", 0.2, 2.0, 0.5, 1.0, "b", gpus=2),
    )
    inst = Instance(params, sites, (Link("a,1", "b", 0.1),), jobs, traces, name="num")
    back = assert_round_trip(inst, tmp_path / "num")
    assert back.params.start is None
    assert back.renewable_kw[0].tolist() == pytest.approx([0.3, 2.1, 1.0])
    assert back.carbon[0].tolist() == [100.0, 0.0, 55.5] and np.isnan(back.carbon[1]).all()
    assert list(back.traces.columns) == ["pv", "co2"]  # the unused column is ignored


def naive_trace_folder(tmp_path: Path, minutes: int, values: list[float]) -> Path:
    folder = copy_vector(tmp_path)
    stamps = pd.date_range("2024-06-01 00:00", periods=len(values), freq=f"{minutes}min")
    rows = [f"{s:%Y-%m-%d %H:%M},{v},0.5,1,2,3" for s, v in zip(stamps, values, strict=True)]
    (folder / "traces.csv").write_text("time,wind,solar,grid_n,grid_s,grid_h\n" + "\n".join(rows))
    edit(folder, "instance.toml", "start = 2024-06-01T00:00:00Z\n", "")
    edit(folder, "instance.toml", "horizon_h = 8", "horizon_h = 1")
    edit(folder, "jobs.csv", "2.5,50,1.25,6,", "2.5,50,0.75,6,")
    return folder


def test_finer_trace_is_averaged_over_slots(tmp_path):
    values = [0.0, 0.3, 0.6] * 4  # 5-minute steps: each 15-minute slot averages 0.3
    folder = naive_trace_folder(tmp_path, 5, values)
    inst = load_instance(folder)
    assert inst.params.start == datetime(2024, 6, 1, tzinfo=UTC)  # naive = UTC, first stamp
    assert inst.renewable_kw[0].tolist() == pytest.approx([6 * 0.3] * 4)
    assert_round_trip(inst, tmp_path / "fine")


def test_coarser_trace_is_held(tmp_path):
    folder = naive_trace_folder(tmp_path, 30, [0.2, 0.8])  # last value holds for 30 min
    inst = load_instance(folder)
    assert inst.renewable_kw[0].tolist() == pytest.approx([1.2, 1.2, 4.8, 4.8])
    assert_round_trip(inst, tmp_path / "coarse")
    # 20-minute steps straddle slot edges: slot 1 = (5 min of 0.0 + 10 min of 0.9) / 15 = 0.6,
    # slot 2 = (10 min of 0.9 + 5 min of 0.3) / 15 = 0.7
    folder = naive_trace_folder(tmp_path / "b", 20, [0.0, 0.9, 0.3])
    assert load_instance(folder).renewable_kw[0].tolist() == pytest.approx(
        [0.0, 6 * 0.6, 6 * 0.7, 6 * 0.3]
    )


# ---- command line --------------------------------------------------------------------------


def test_cli_validate_ok():
    result = CliRunner().invoke(app, ["validate", str(VECTOR)])
    assert result.exit_code == 0, result.output
    assert "3 sites, 3 links, 3 jobs; 32 slots of 15 min (horizon 8 h" in result.stdout
    assert "total renewable energy 52.4 kWh" in result.stdout


def test_cli_validate_reports_every_problem_and_exits_2(tmp_path):
    folder = edit(copy_vector(tmp_path), "jobs.csv", "j2,1,0.30", "j2,0,nan")
    (folder / "links.csv").unlink()
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "links.csv: missing file",
        "jobs.csv:3:gpus: must be in [1, 1000000], got 0",
        "jobs.csv:3:power_kw: NaN is not allowed",
    ]
    assert result.stdout == ""
