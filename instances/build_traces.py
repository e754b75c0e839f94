"""Derive the compact renewable trace file ``greenopt/data/profiles.csv`` from real measurements.

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

Output: one CSV, ``time`` (ISO-8601 UTC, start of each 15-minute interval) then one column per
profile, capacity factors in [0, 1] rounded to 4 decimals, 28 days from 2016-04-04 00:00 UTC.
The script is deterministic; ``python instances/build_traces.py`` rebuilds the committed file
byte-identically (``--check`` compares without writing).
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

START = pd.Timestamp("2016-04-04 00:00", tz="UTC")  # a Monday; varied wind, spring sun
DAYS = 28
STEP = pd.Timedelta(minutes=15)

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
    return pd.date_range(START, periods=DAYS * 96, freq=STEP)


def simbench_profiles() -> pd.DataFrame:
    """SimBench PV and wind capacity factors on the UTC slot index."""
    import simbench

    path = Path(simbench.__file__).parent / "networks" / SIMBENCH_NETWORK / "RESProfile.csv"
    raw = pd.read_csv(path, sep=";", usecols=["time", *SIMBENCH_COLUMNS])
    local = pd.to_datetime(raw.pop("time"), format="%d.%m.%Y %H:%M")
    raw.index = local.dt.tz_localize(SIMBENCH_TIMEZONE, ambiguous="infer").dt.tz_convert("UTC")
    out = raw.reindex(slot_index())
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
    else:
        data, meta = read_tmy2(str(path))
        data = data.rename(columns={"GHI": "ghi", "DryBulb": "temp_air", "Wspd": "wind_speed"})
        data[["temp_air", "wind_speed"]] /= 10.0  # TMY2 stores tenths of °C and of m/s
        data.index = data.index.map(lambda t: t.replace(year=2016))  # pvlib labels the start
    data = data[["ghi", "temp_air", "wind_speed"]].astype(float)
    data.index = data.index.tz_convert("UTC")
    return data, meta


def pvlib_profiles() -> pd.DataFrame:
    """TMY-derived PV capacity factors on the UTC slot index (hourly values held per slot)."""
    columns = {}
    for name, filename, kind in PVLIB_FILES:
        weather, _ = read_pvlib_weather(filename, kind)
        cf = tmy_capacity_factor(weather)
        hours = slot_index().floor("h")
        values = cf.reindex(hours)
        if values.isna().any():
            raise RuntimeError(f"{filename} does not cover the chosen period")
        columns[name] = values.to_numpy()
    return pd.DataFrame(columns, index=slot_index())


def build() -> pd.DataFrame:
    table = pd.concat([simbench_profiles(), pvlib_profiles()], axis=1).round(4).clip(0.0, 1.0)
    if not np.isfinite(table.to_numpy()).all():
        raise RuntimeError("non-finite capacity factor")
    table.index = table.index.strftime("%Y-%m-%dT%H:%MZ")
    table.index.name = "time"
    return table + 0.0  # normalise −0.0


def render(table: pd.DataFrame) -> str:
    return table.to_csv(lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        same = OUTPUT.exists() and OUTPUT.read_text() == text
        print("up to date" if same else f"{OUTPUT} differs from a fresh build")
        return 0 if same else 1
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUTPUT.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(OUTPUT)
    print(f"wrote {OUTPUT} ({len(text) / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
