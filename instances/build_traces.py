"""Derive the bundled renewable trace files from real measurements (SimBench, pvlib's TMY files).

``greenopt/data/profiles.csv`` holds 28 days of April 2016, ``greenopt/data/profiles_2016.parquet``
the whole year 2016.

Sources (both read from the installed registry packages, ``pip install simbench pvlib``):

* SimBench ``RESProfile.csv`` (network ``1-complete_data-mixed-all-0-sw``, ODbL-1.0): normalised
  15-minute generation of 2016, columns ``PV1``–``PV8`` (photovoltaics) and ``WP1``–``WP12``
  (wind power). The timestamps are German civil time (Europe/Berlin: the hour 02:00–03:00 is
  missing on 27 March and repeated on 30 October 2016), converted to UTC.
* pvlib's bundled NREL typical-meteorological-year files (hourly, local standard time): TMY3
  ``703165TY.csv`` (Sand Point, AK), TMY3 ``723170TYA.CSV`` (Greensboro, NC) and TMY2 ``12839.tm2``
  (Miami, FL). Each hour of the file's calendar (years coerced to 2016) is shifted to UTC and
  labelled by its start; the hourly value is held over its four 15-minute slots.

PV model for the TMY files (PVWatts-style, on the horizontal plane, via pvlib):
    T_cell = sapm_cell(GHI, T_air, wind, open-rack glass/polymer)
    cf     = clip(pvwatts_dc(GHI, T_cell, pdc0=1, gamma_pdc=−0.004) · (1 − 0.14), 0, 1)
i.e. DC output per kWp at irradiance GHI (W/m², = Wh/m² over the hour) with a −0.4 %/K temperature
coefficient and the PVWatts default 14 % system losses. A horizontal plane ignores tilt gains;
the result is a plausible, not a site-exact, capacity factor.

The year 2016 in UTC (2016-01-01 00:00 to 2016-12-31 23:45) is read cyclically: a UTC hour a
source file lacks at either end of the year (SimBench's last UTC hour, which is German 1 January
2017; the TMY hours before local midnight of 1 January) is taken 366 days later or earlier, i.e.
from the other end of the same year. The TMY files have no 29 February: that day repeats
28 February.

Outputs (same columns, capacity factors in [0, 1] rounded to 4 decimals):

* ``profiles.csv``: ``time`` (ISO-8601 UTC, start of each 15-minute interval) then one column per
  profile, 28 days from 2016-04-04 00:00 UTC; the April slice of the year.
* ``profiles_2016.parquet``: ``time`` (timestamp, UTC) then one uint16 column per profile holding
  round(10 000 · capacity factor), 366 days × 96 slots, zstd-compressed.

The script is deterministic; ``python instances/build_traces.py`` rebuilds both files (the CSV
byte-identically); ``--check`` compares both without writing (the CSV byte by byte, the Parquet
file by its decoded content, which does not depend on the pyarrow version that wrote it).
"""

from __future__ import annotations

import argparse
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "greenopt" / "data" / "profiles.csv"
YEAR_OUTPUT = ROOT / "greenopt" / "data" / "profiles_2016.parquet"

START = pd.Timestamp("2016-04-04 00:00", tz="UTC")  # a Monday; varied wind, spring sun
DAYS = 28
STEP = pd.Timedelta(minutes=15)
YEAR_START = pd.Timestamp("2016-01-01 00:00", tz="UTC")
YEAR_DAYS = 366  # 2016 is a leap year
YEAR = pd.Timedelta(days=YEAR_DAYS)
SCALE = 10_000  # the Parquet file stores round(SCALE · capacity factor) as uint16

SIMBENCH_NETWORK = "1-complete_data-mixed-all-0-sw"
SIMBENCH_COLUMNS = [f"PV{i}" for i in range(1, 9)] + [f"WP{i}" for i in range(1, 13)]
SIMBENCH_TIMEZONE = "Europe/Berlin"

#: (output column, file in pvlib/data, reader)
PVLIB_FILES = [
    ("tmy3_sand_point_ak", "703165TY.csv", "tmy3"),
    ("tmy3_greensboro_nc", "723170TYA.CSV", "tmy3"),
    ("tmy2_miami_fl", "12839.tm2", "tmy2"),
]
SYSTEM_LOSSES = 0.14
GAMMA_PDC = -0.004


def slot_index() -> pd.DatetimeIndex:
    """The 28-day April block."""
    return pd.date_range(START, periods=DAYS * 96, freq=STEP)


def year_index() -> pd.DatetimeIndex:
    """Every 15-minute slot of 2016 (UTC)."""
    return pd.date_range(YEAR_START, periods=YEAR_DAYS * 96, freq=STEP)


def cyclic_reindex(frame: pd.DataFrame | pd.Series, index: pd.DatetimeIndex):
    """``frame`` on ``index`` (within 2016), a missing time filled from 366 days later or
    earlier (the other end of the year), see the module docstring."""
    out = frame.reindex(index)
    for shift in (YEAR, -YEAR):
        missing = out.isna() if out.ndim == 1 else out.isna().any(axis=1)
        if missing.any():
            filled = frame.reindex(index[missing.to_numpy()] + shift)
            out.loc[missing.to_numpy()] = filled.to_numpy()
    return out


def simbench_profiles(index: pd.DatetimeIndex) -> pd.DataFrame:
    """SimBench PV and wind capacity factors on the UTC slots ``index`` (within 2016)."""
    import simbench

    path = Path(simbench.__file__).parent / "networks" / SIMBENCH_NETWORK / "RESProfile.csv"
    raw = pd.read_csv(path, sep=";", usecols=["time", *SIMBENCH_COLUMNS])
    local = pd.to_datetime(raw.pop("time"), format="%d.%m.%Y %H:%M")
    raw.index = local.dt.tz_localize(SIMBENCH_TIMEZONE, ambiguous="infer").dt.tz_convert("UTC")
    out = cyclic_reindex(raw, index)
    if out.isna().any().any():
        raise RuntimeError("SimBench profile does not cover the chosen period")
    return out.rename(columns=lambda c: f"simbench_{c}")


def tmy_capacity_factor(weather: pd.DataFrame) -> pd.Series:
    """PVWatts-style capacity factor (module docstring) from columns ghi, temp_air, wind_speed."""
    from pvlib.pvsystem import pvwatts_dc
    from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS, sapm_cell

    ghi = weather["ghi"].clip(lower=0.0)
    mount = TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
    t_cell = sapm_cell(ghi, weather["temp_air"], weather["wind_speed"], **mount)
    dc = pvwatts_dc(ghi, t_cell, pdc0=1.0, gamma_pdc=GAMMA_PDC)
    return (dc * (1.0 - SYSTEM_LOSSES)).clip(0.0, 1.0)


def read_pvlib_weather(filename: str, kind: str) -> tuple[pd.DataFrame, dict]:
    """Hourly weather indexed by the UTC start of each hour, years coerced to 2016."""
    from pvlib.iotools import read_tmy2, read_tmy3

    path = files("pvlib") / "data" / filename
    if kind == "tmy3":
        data, meta = read_tmy3(str(path), coerce_year=2016, map_variables=True)
        data.index = data.index - pd.Timedelta(hours=1)  # TMY3 labels the hour's end
        # The file's "28 Feb 24:00" (a non-leap year's 1 March 00:00) comes out as 29 Feb 24:00
        # once the year is 2016: put that hour back at 28 Feb 23:00 (local standard time).
        local = data.index.tz_localize(None)  # pvlib's index is in local standard time
        stray = local == pd.Timestamp("2016-02-29 23:00")
        if stray.any():
            data.index = data.index.where(~stray, data.index - pd.Timedelta(days=1))
    else:
        data, meta = read_tmy2(str(path))
        data = data.rename(columns={"GHI": "ghi", "DryBulb": "temp_air", "Wspd": "wind_speed"})
        data[["temp_air", "wind_speed"]] /= 10.0  # TMY2 stores tenths of °C and of m/s
        data.index = data.index.map(lambda t: t.replace(year=2016))  # pvlib labels the start
    data = data[["ghi", "temp_air", "wind_speed"]].astype(float)
    data.index = data.index.tz_convert("UTC")
    return data, meta


def with_leap_day(cf: pd.Series, utc_offset_h: float) -> pd.Series:
    """``cf`` (UTC-indexed hours of a TMY file, which has no 29 February) plus local
    29 February 2016 as a copy of local 28 February."""
    offset = pd.Timedelta(hours=utc_offset_h)
    leap = pd.date_range("2016-02-29", periods=24, freq="h", tz="UTC") - offset  # local → UTC
    copy = pd.Series(cf.reindex(leap - pd.Timedelta(days=1)).to_numpy(), index=leap)
    if copy.isna().any() or leap.isin(cf.index).any():
        raise RuntimeError("unexpected TMY calendar around 29 February")
    return pd.concat([cf, copy]).sort_index()


def pvlib_profiles(index: pd.DatetimeIndex) -> pd.DataFrame:
    """TMY-derived PV capacity factors on the UTC slots ``index`` (hourly values held per slot)."""
    columns = {}
    for name, filename, kind in PVLIB_FILES:
        weather, meta = read_pvlib_weather(filename, kind)
        utc_offset = meta["TZ"]  # hours east of UTC (local standard time)
        cf = with_leap_day(tmy_capacity_factor(weather), utc_offset)
        hours = index.floor("h")
        values = cyclic_reindex(cf, hours)
        if values.isna().any():
            raise RuntimeError(f"{filename} does not cover the chosen period")
        columns[name] = values.to_numpy()
    return pd.DataFrame(columns, index=index)


def build_year() -> pd.DataFrame:
    """All profiles over 2016 (UTC index), rounded to 4 decimals, in [0, 1]."""
    index = year_index()
    table = pd.concat([simbench_profiles(index), pvlib_profiles(index)], axis=1)
    table = table.round(4).clip(0.0, 1.0)
    if not np.isfinite(table.to_numpy()).all():
        raise RuntimeError("non-finite capacity factor")
    return table + 0.0  # normalise −0.0


def april_block(year: pd.DataFrame) -> pd.DataFrame:
    """The 28-day block of ``profiles.csv`` (ISO time strings as index)."""
    table = year.loc[slot_index()].copy()
    table.index = table.index.strftime("%Y-%m-%dT%H:%MZ")
    table.index.name = "time"
    return table


def build() -> pd.DataFrame:
    """The content of ``profiles.csv``."""
    return april_block(build_year())


def year_arrow(year: pd.DataFrame):
    """The year as an Arrow table: ``time`` (timestamp UTC) and uint16 columns (× SCALE)."""
    import pyarrow as pa

    arrays = [pa.array(year.index.as_unit("ms"), pa.timestamp("ms", tz="UTC"))]
    for column in year.columns:
        scaled = np.rint(year[column].to_numpy() * SCALE).astype(np.uint16)
        arrays.append(pa.array(scaled, pa.uint16()))
    return pa.Table.from_arrays(arrays, names=["time", *year.columns])


def write_year(year: pd.DataFrame, path: Path) -> None:
    import pyarrow.parquet as pq

    tmp = path.with_suffix(".tmp")
    pq.write_table(year_arrow(year), tmp, compression="zstd", compression_level=19)
    tmp.replace(path)


def year_is_current(year: pd.DataFrame, path: Path) -> bool:
    """Whether the Parquet file at ``path`` decodes to exactly ``year``'s content."""
    import pyarrow.parquet as pq

    return path.exists() and pq.read_table(path).equals(year_arrow(year))


def render(table: pd.DataFrame) -> str:
    return table.to_csv(lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    args = parser.parse_args(argv)
    year = build_year()
    text = render(april_block(year))
    if args.check:
        stale = [
            str(path)
            for path, same in (
                (OUTPUT, OUTPUT.exists() and OUTPUT.read_text() == text),
                (YEAR_OUTPUT, year_is_current(year, YEAR_OUTPUT)),
            )
            if not same
        ]
        print("up to date" if not stale else "differ from a fresh build: " + ", ".join(stale))
        return 1 if stale else 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUTPUT.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(OUTPUT)
    print(f"wrote {OUTPUT} ({len(text) / 1024:.0f} KiB)")
    write_year(year, YEAR_OUTPUT)
    print(f"wrote {YEAR_OUTPUT} ({YEAR_OUTPUT.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
