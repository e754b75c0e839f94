"""The year of real profiles, generation anywhere in 2016, the checkpoint-mix and WAN classes,
and the evaluation-instance set with its table (issue 16, item 1)."""

import hashlib
import importlib.util
import itertools
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from greenopt.cli import app
from greenopt.data import SEASONS, load_profiles, load_year_profiles, season_of
from greenopt.evaluation import EVALUATION_SET, SIZES, TABLE_COLUMNS
from greenopt.files import load_instance, write_instance
from greenopt.generate import CHECKPOINT_MIXES, WAN_CLASSES, generate_instance

ROOT = Path(__file__).resolve().parents[1]
YEAR_FILE = ROOT / "greenopt" / "data" / "profiles_2016.parquet"


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "instances" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the year file ----------------------------------------------------------------------------


def test_year_file_covers_2016_without_gaps_in_unit_range():
    assert YEAR_FILE.stat().st_size < 5_000_000
    year = load_year_profiles()
    expected = pd.date_range("2016-01-01", "2016-12-31 23:45", freq="15min", tz="UTC")
    assert len(year) == 366 * 96
    assert year.index.as_unit("ns").equals(expected.as_unit("ns"))  # pandas 3 defaults to µs
    values = year.to_numpy()
    assert np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1
    assert np.array_equal(values, np.round(values, 4))
    assert list(year.columns) == list(load_profiles().columns)
    # PV is zero at night every day; TMY PV sees daylight every day, SimBench PV on most days
    # (its measurements have some zero days in winter and autumn)
    days = values.reshape(366, 96, -1)
    pv = [i for i, c in enumerate(year.columns) if "PV" in c or c.startswith("tmy")]
    tmy = [i for i, c in enumerate(year.columns) if c.startswith("tmy")]
    assert (days[:, :, pv].min(axis=1) == 0).all()
    assert (days[:, :, tmy].max(axis=1) > 0).all()
    assert ((days[:, :, pv].max(axis=1) > 0).sum(axis=0) >= 340).all()


def test_year_agrees_with_the_april_block_and_has_seasons():
    year, april = load_year_profiles(), load_profiles()
    np.testing.assert_array_equal(year.loc[april.index].to_numpy(), april.to_numpy())
    pv = year.filter(like="simbench_PV").mean(axis=1)
    by_month = pv.groupby(pv.index.month).mean()
    assert by_month[[5, 6, 7]].min() > 3 * by_month[[12, 1]].max()  # summer sun, winter dark
    wind = year.filter(like="simbench_WP").mean(axis=1)
    assert wind[wind.index.month == 12].mean() > wind[wind.index.month.isin([6, 7, 8])].mean()


def test_tmy_leap_day_repeats_28_february():
    year = load_year_profiles()
    for column, utc_offset_h in (("tmy3_greensboro_nc", -5), ("tmy3_sand_point_ak", -9)):
        local = year[column].copy()
        local.index = local.index.tz_localize(None) + pd.Timedelta(hours=utc_offset_h)
        feb28 = local["2016-02-28"].to_numpy()
        np.testing.assert_array_equal(local["2016-02-29"].to_numpy(), feb28)
        assert feb28.max() > 0
        assert not np.array_equal(local["2016-02-27"].to_numpy(), feb28)


def test_committed_year_matches_a_fresh_build():
    pytest.importorskip("simbench")
    pytest.importorskip("pvlib")
    module = load_script("build_traces")
    year = module.build_year()
    assert module.year_is_current(year, YEAR_FILE)
    assert (
        module.render(module.april_block(year)) == (YEAR_FILE.parent / "profiles.csv").read_text()
    )
    altered = year.copy()
    altered.iloc[1000, 3] = round(altered.iloc[1000, 3] + 0.0001, 4)
    assert not module.year_is_current(altered, YEAR_FILE)


# ---- generation anywhere in the year ----------------------------------------------------------


def test_instance_at_a_start_date_uses_that_dates_profiles():
    inst = generate_instance(7, 20, 2, seed=4, start="2016-07-01")
    year = load_year_profiles()
    first = 182 * 96  # 1 July is day 182 of 2016
    assert inst.params.start == pd.Timestamp("2016-07-01", tz="UTC").to_pydatetime()
    assert year.index[first] == pd.Timestamp("2016-07-01", tz="UTC")
    for site in inst.sites:
        expected = year[site.profile].to_numpy()[first : first + 2 * 96]
        np.testing.assert_array_equal(inst.traces[site.profile].to_numpy(), expected)
    assert inst.params.meta["generator"].endswith("start='2016-07-01', load=1)")
    assert inst == generate_instance(7, 20, 2, seed=4, start=date(2016, 7, 1))


def test_shifted_profiles_wrap_within_the_year():
    inst = generate_instance(30, 20, 3, seed=2, start="2016-12-29")
    year = load_year_profiles()
    shifted = [s.profile for s in inst.sites if "+" in s.profile]
    assert len(shifted) == 7
    start = 363 * 96
    for name in shifted:
        base, k = name.rsplit("+", 1)
        rows = (np.arange(3 * 96) + start + int(k.removesuffix("d")) * 96) % len(year)
        np.testing.assert_array_equal(inst.traces[name].to_numpy(), year[base].to_numpy()[rows])


def test_season_draws_a_seeded_start_in_its_months():
    for season, months in SEASONS.items():
        starts = {generate_instance(3, 5, 7, seed=s, season=season).params.start for s in range(8)}
        assert len(starts) > 1 and all(s.month in months for s in starts)
        assert all(season_of(s) == season for s in starts)
        last = max(pd.Timestamp(s) for s in starts) + pd.Timedelta(days=7)
        assert last <= pd.Timestamp("2017-01-01", tz="UTC")
    a = generate_instance(3, 5, 7, seed=1, season="winter")
    assert a == generate_instance(3, 5, 7, seed=1, season="winter")


def test_year_capacity_is_sized_on_the_year_so_seasons_differ():
    """Same seed, other dates: same sites and jobs; the renewable energy follows the season."""
    profiles = ["simbench_PV1", "simbench_PV2", "simbench_PV3", "simbench_PV4"]
    kwargs = {"sites": 4, "jobs": 10, "days": 7, "seed": 3, "profiles": profiles}
    summer = generate_instance(**kwargs, start="2016-06-20")
    winter = generate_instance(**kwargs, start="2016-12-05")
    assert summer.sites == winter.sites and summer.jobs == winter.jobs
    assert summer.renewable_kw.sum() > 2 * winter.renewable_kw.sum()


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


#: Hashes of instance folders written by the generator before it gained start, season,
#: checkpoint_mix and wan: the defaults must keep reproducing them byte for byte.
DEFAULT_HASHES = [
    ((6, 30, 3, 0), {}, "b81ef2b9b04eac86f35d27ebb78a4c9703f1c51ad69f904fda9c81b37fd72df2"),
    (
        (12, 100, 3, 1),
        {"start_day": 20},
        "33345bafd340fba69bb8266b91762a0c7a9d11892932c744ac9c6d76f234856e",
    ),
    (
        (30, 40, 2, 2),
        {"load": 1.5, "checkpoint_mix": "mixed", "wan": "mixed"},
        "d4bc62f9c5db57fab61789aca902ec54f72cfdc38d1725ad5779a8301c455ac4",
    ),
]


@pytest.mark.parametrize(("args", "kwargs", "sha256"), DEFAULT_HASHES)
def test_default_generation_is_unchanged(tmp_path, args, kwargs, sha256):
    write_instance(generate_instance(*args, **kwargs), tmp_path / "x")
    assert digest(tmp_path / "x") == sha256


def test_cli_generate_with_start_mix_and_wan(tmp_path):
    runner = CliRunner()
    args = ["generate", "--sites", "6", "--jobs", "30", "--days", "3", "--seed", "0"]
    out = tmp_path / "plain"
    assert runner.invoke(app, [*args, "--out", str(out)]).exit_code == 0
    assert digest(out) == DEFAULT_HASHES[0][2]
    out = tmp_path / "summer"
    extra = ["--start", "2016-07-04", "--checkpoint-mix", "heavy", "--wan", "thin"]
    result = runner.invoke(app, [*args, *extra, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert load_instance(out) == generate_instance(
        6, 30, 3, 0, start="2016-07-04", checkpoint_mix="heavy", wan="thin"
    )
    for bad in (["--start", "2016-12-30"], ["--season", "monsoon"], ["--wan", "fat"]):
        result = runner.invoke(app, [*args, *bad, "--out", str(tmp_path / "bad")])
        assert result.exit_code == 2 and not (tmp_path / "bad").exists()


# ---- checkpoint mix and WAN class -------------------------------------------------------------


def test_classes_change_only_their_draws():
    base = generate_instance(10, 80, 3, seed=5, start="2016-03-21")
    for mix, wan in itertools.product(CHECKPOINT_MIXES, WAN_CLASSES):
        inst = generate_instance(10, 80, 3, seed=5, start="2016-03-21", checkpoint_mix=mix, wan=wan)
        low, high = CHECKPOINT_MIXES[mix]
        assert all(low <= j.checkpoint_gb <= high for j in inst.jobs)
        assert {x.bandwidth_gbps for x in inst.links} <= set(WAN_CLASSES[wan][0])
        assert [(x.a, x.b, x.latency_ms) for x in inst.links] == [
            (x.a, x.b, x.latency_ms) for x in base.links
        ]
        strip = [(j.job_id, j.power_kw, j.work_h, j.arrival_h, j.origin) for j in inst.jobs]
        assert strip == [(j.job_id, j.power_kw, j.work_h, j.arrival_h, j.origin) for j in base.jobs]
    heavy = generate_instance(10, 80, 3, seed=5, checkpoint_mix="heavy")
    light = generate_instance(10, 80, 3, seed=5, checkpoint_mix="light")
    assert np.median([j.checkpoint_gb for j in heavy.jobs]) > 5 * np.median(
        [j.checkpoint_gb for j in light.jobs]
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": "2016-12-30"},
        {"start": "2015-12-31"},
        {"start": "2016-07-01T06:00"},
        {"start": "first of July"},
        {"start": "2016-07-01", "start_day": 3},
        {"start": "2016-07-01", "season": "summer"},
        {"season": "monsoon"},
        {"checkpoint_mix": "huge"},
        {"wan": "fat"},
    ],
)
def test_bad_year_options_are_rejected(kwargs):
    with pytest.raises(ValueError):
        generate_instance(4, 10, 3, seed=0, **kwargs)


# ---- the evaluation set and its table ---------------------------------------------------------


def test_evaluation_set_spans_seasons_sizes_and_classes():
    members = EVALUATION_SET
    assert len(members) >= 24
    assert len({m.id for m in members}) == len(members)
    assert len({m.seed for m in members}) == len(members)
    assert {m.season for m in members} == set(SEASONS)
    assert {(m.sites, m.jobs) for m in members} == set(SIZES) == {(6, 30), (12, 100), (20, 200)}
    assert all(m.season == season_of(m.start) for m in members)
    classes = {(m.checkpoint_mix, m.wan) for m in members}
    assert classes == {("heavy", "thin"), ("heavy", "thick"), ("light", "thin"), ("light", "thick")}
    for season in SEASONS:  # every season meets every class
        assert {(m.checkpoint_mix, m.wan) for m in members if m.season == season} == classes
    per_size = Counter((m.sites, m.checkpoint_mix, m.wan) for m in members)
    assert set(per_size.values()) == {2}
    assert Counter(m.season for m in members) == {s: 6 for s in SEASONS}


def test_instances_table_matches_the_generated_instances():
    table = pd.read_csv(ROOT / "paper" / "tables" / "instances.csv")
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert list(table["id"]) == [m.id for m in EVALUATION_SET]
    for member, row in zip(EVALUATION_SET, table.itertuples(), strict=True):
        inst = member.generate()
        assert inst.name == member.id and str(inst.params.start.date()) == row.start
        renewable_kwh = sum(
            s.renewable_kw * inst.slot_traces[s.profile].to_numpy().sum() * 0.25 for s in inst.sites
        )
        job_kwh = sum(j.power_kw * j.work_h for j in inst.jobs)
        assert row.renewable_job_energy_ratio == pytest.approx(renewable_kwh / job_kwh, abs=1e-4)
        assert row.renewable_kwh == pytest.approx(renewable_kwh, abs=0.01)
        assert (row.sites, row.jobs, row.slots) == (len(inst.sites), len(inst.jobs), 288)
        assert row.gpus == sum(s.gpus for s in inst.sites) and row.horizon_days == 3
        assert row.season == season_of(inst.params.start)
        assert (row.checkpoint_mix, row.wan, row.seed) == (
            member.checkpoint_mix,
            member.wan,
            member.seed,
        )
    assert table["renewable_job_energy_ratio"].between(0.5, 5).all()


def test_build_evaluation_writes_loadable_folders_and_checks_the_table(tmp_path, capsys):
    module = load_script("build_evaluation")
    table = tmp_path / "instances.csv"
    assert module.main(["--out", str(tmp_path / "set"), "--table", str(table)]) == 0
    assert table.read_text() == (ROOT / "paper" / "tables" / "instances.csv").read_text()
    member = EVALUATION_SET[-1]
    assert load_instance(tmp_path / "set" / member.id) == member.generate()
    assert len(list((tmp_path / "set").iterdir())) == len(EVALUATION_SET)
    assert module.main(["--check", "--table", str(table)]) == 0
    table.write_text(table.read_text().replace("winter", "summer", 1))
    assert module.main(["--check", "--table", str(table)]) == 1
    assert "differs" in capsys.readouterr().out
