"""The bundled real renewable profiles.

* ``greenopt/data/profiles.csv``: 28 days from 2016-04-04 00:00 UTC (the default block of
  :mod:`greenopt.generate` and of the bundled instances), :func:`load_profiles`.
* ``greenopt/data/profiles_2016.parquet``: the whole year 2016 (UTC), :func:`load_year_profiles`;
  its April days equal the CSV's values.

Both at 15-minute resolution, capacity factors in [0, 1] with 4 decimals: SimBench 2016
measurements ``simbench_PV1``–``PV8`` (photovoltaics) and ``simbench_WP1``–``WP12`` (wind), and PV
capacity factors derived from the NREL TMY files shipped with pvlib (``tmy3_sand_point_ak``,
``tmy3_greensboro_nc``, ``tmy2_miami_fl``). ``instances/build_traces.py`` derives the files;
``instances/SOURCES.md`` gives origins and licences.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files

import pandas as pd

PROFILES_RESOURCE = "profiles.csv"
YEAR_PROFILES_RESOURCE = "profiles_2016.parquet"
#: The Parquet file stores round(YEAR_SCALE · capacity factor) as unsigned 16-bit integers.
YEAR_SCALE = 10_000
PROFILES_YEAR = 2016

#: Meteorological seasons (northern hemisphere, where every bundled profile lies): months.
SEASONS: dict[str, tuple[int, ...]] = {
    "winter": (12, 1, 2),
    "spring": (3, 4, 5),
    "summer": (6, 7, 8),
    "autumn": (9, 10, 11),
}

#: Source and licence of the bundled profiles (copied into generated instances' ``[meta]``).
PROFILES_SOURCE = (
    "SimBench 2016 RESProfile (1-complete_data-mixed-all-0-sw) PV/wind capacity factors; "
    "PV capacity factors from NREL TMY3/TMY2 files shipped with pvlib (PVWatts-style model)"
)
PROFILES_LICENCE = (
    "SimBench data: ODbL-1.0 (contents DbCL-1.0); NREL TMY data: public (US DOE/NREL)"
)

#: Stations of the TMY-derived profiles: (latitude, longitude).
TMY_STATIONS: dict[str, tuple[float, float]] = {
    "tmy3_sand_point_ak": (55.317, -160.517),
    "tmy3_greensboro_nc": (36.1, -79.95),
    "tmy2_miami_fl": (25.8, -80.267),
}


@dataclass(frozen=True)
class ProfileInfo:
    name: str
    kind: str  # "pv" or "wind"
    source: str  # "simbench" or "pvlib"
    lat: float | None = None
    lon: float | None = None


@cache
def load_profiles() -> pd.DataFrame:
    """The bundled profiles, indexed by UTC timestamps (interval starts), one column per profile.

    The returned frame is shared: copy it before modifying.
    """
    with (files("greenopt") / "data" / PROFILES_RESOURCE).open("r") as handle:
        table = pd.read_csv(handle, index_col="time")
    table.index = pd.to_datetime(table.index, utc=True)
    return table.astype(float)


@cache
def load_year_profiles() -> pd.DataFrame:
    """The bundled profiles over the whole year 2016 (35 136 UTC 15-minute slots), one float
    column per profile (the same columns as :func:`load_profiles`).

    The returned frame is shared: copy it before modifying.
    """
    import pyarrow.parquet as pq

    with (files("greenopt") / "data" / YEAR_PROFILES_RESOURCE).open("rb") as handle:
        table = pq.read_table(handle).to_pandas()
    index = pd.DatetimeIndex(table.pop("time")).as_unit("ns")
    return pd.DataFrame(table.to_numpy(float) / YEAR_SCALE, index=index, columns=table.columns)


def season_of(day: date | pd.Timestamp) -> str:
    """The meteorological season (:data:`SEASONS`) of a date."""
    return next(name for name, months in SEASONS.items() if day.month in months)


def profile_info(name: str) -> ProfileInfo:
    """Kind (``pv``/``wind``), source and station coordinates (TMY only) of a bundled profile."""
    if name in TMY_STATIONS:
        lat, lon = TMY_STATIONS[name]
        return ProfileInfo(name, "pv", "pvlib", lat, lon)
    if name.startswith("simbench_PV"):
        return ProfileInfo(name, "pv", "simbench")
    if name.startswith("simbench_WP"):
        return ProfileInfo(name, "wind", "simbench")
    raise KeyError(f"unknown profile {name!r}")


def profile_catalogue() -> list[ProfileInfo]:
    """Every bundled profile, in file order."""
    return [profile_info(name) for name in load_profiles().columns]
