"""Per-run Parquet files, resume bookkeeping, consolidation and plots (no cluster needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from greenopt.sweep import results
from greenopt.sweep.config import Point
from greenopt.sweep.plot import PlotError, parse_where, plot_sweep, select, summarise


def points_of(rows: list[dict]) -> list[Point]:
    return [Point(i, r, {}, f"k{i:02d}") for i, r in enumerate(rows)]


def test_run_files_are_atomic_and_unreadable_ones_are_ignored(tmp_path):
    path = results.write_run(tmp_path, "aa", {"status": "ok", "nre_kwh": 1.5, "info": {"gap": 0}})
    assert path == tmp_path / "runs" / "aa.parquet"
    assert results.read_run(path) == {"status": "ok", "nre_kwh": 1.5, "info.gap": 0, "key": "aa"}
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["aa.parquet"]  # no temp left
    # a half-written temporary file and a truncated final file (as if copied in by hand)
    (tmp_path / "runs" / ".bb.parquet.123.tmp").write_bytes(b"PAR1\x00\x01")
    good = path.read_bytes()
    (tmp_path / "runs" / "cc.parquet").write_bytes(good[: len(good) // 2])
    results.write_run(tmp_path, "dd", {"status": "failed", "error": "boom"})
    assert results.finished_runs(tmp_path) == {"aa": "ok", "dd": "failed"}
    assert results.finished_runs(tmp_path, ["aa", "bb", "cc", "zz"]) == {"aa": "ok"}
    assert results.read_run(tmp_path / "runs" / "cc.parquet") is None
    assert results.clean_temporary(tmp_path) == 1
    assert not (tmp_path / "runs" / ".bb.parquet.123.tmp").exists()


def test_flatten_makes_parquet_friendly_columns():
    flat = results.flatten(
        {"a": np.float64(2.5), "b": {"c": np.int64(3), "d": {"e": None}}, "f": [1, 2], "g": (3,)}
    )
    assert flat == {"a": 2.5, "b.c": 3, "b.d.e": None, "f": "[1, 2]", "g": "[3]"}
    assert type(flat["a"]) is float and type(flat["b.c"]) is int


def test_consolidate_one_row_per_point_params_first(tmp_path):
    pts = points_of(
        [{"alpha": a, "policy": "static", "seed": s} for a in (0.1, 0.2) for s in (0, 1)]
    )
    pts.append(Point(4, {"alpha": 0.3, "policy": "static", "seed": 0}, {}, "k00"))  # shares run 0
    for i, p in enumerate(pts[:3]):
        results.write_run(
            tmp_path, p.key, {"status": "ok", "policy": "other", "alpha": 9.0, "nre_kwh": float(i)}
        )
    (tmp_path / "runs" / ".k03.parquet.99.tmp").write_bytes(b"garbage")  # interrupted write
    df = results.consolidate(tmp_path, pts, ["alpha", "policy", "seed"], csv=True)
    assert list(df.columns[:5]) == ["alpha", "policy", "seed", "point", "key"]
    assert len(df) == 5
    assert df["status"].tolist() == ["ok", "ok", "ok", "missing", "ok"]
    assert df["nre_kwh"].tolist()[:3] == [0.0, 1.0, 2.0] and df["nre_kwh"].iloc[4] == 0.0
    # a run column named like a parameter yields to the parameter
    assert df["alpha"].tolist() == [0.1, 0.1, 0.2, 0.2, 0.3]
    assert set(df["policy"]) == {"static"}
    back = pd.read_parquet(tmp_path / "results.parquet")
    assert back["key"].tolist() == ["k00", "k01", "k02", "k03", "k00"]
    assert len(pd.read_csv(tmp_path / "results.csv")) == 5
    # a Parquet dataset reader over runs/ skips the temporary file
    assert pq.read_table(tmp_path / "runs").num_rows == 3


def test_consolidate_turns_mixed_columns_into_text(tmp_path):
    pts = points_of([{"x": 1}, {"x": 2}])
    results.write_run(tmp_path, "k00", {"status": "ok", "info.note": 3.5})
    results.write_run(tmp_path, "k01", {"status": "ok", "info.note": "fallback"})
    df = results.consolidate(tmp_path, pts, ["x"])
    assert df["info.note"].tolist() == ["3.5", "fallback"]


def fake_results(tmp_path: Path) -> Path:
    """Consolidated results of a 2 (bandwidth) × 2 (alpha) × 3 (seed) sweep with known values:
    y = bandwidth · 10 + alpha + seed."""
    rows = [
        {"bandwidth_gbps": b, "alpha": a, "policy": "p", "seed": s}
        for b in (1, 100)
        for a in (0.1, 0.2)
        for s in (0, 1, 2)
    ]
    pts = points_of(rows)
    for p in pts:
        y = p.params["bandwidth_gbps"] * 10 + p.params["alpha"] + p.params["seed"]
        results.write_run(tmp_path, p.key, {"status": "ok", "nre_kwh": y})
    results.write_run(tmp_path, pts[0].key, {"status": "failed", "error": "x"})
    results.consolidate(tmp_path, pts, ["bandwidth_gbps", "alpha", "policy", "seed"])
    (tmp_path / "sweep.json").write_text(
        '{"name": "fake", "params": ["bandwidth_gbps", "alpha", "policy", "seed"]}'
    )
    return tmp_path


def test_summary_is_mean_and_sample_std_over_seeds(tmp_path):
    df = results.load_results(fake_results(tmp_path))
    params = ["bandwidth_gbps", "alpha", "policy", "seed"]
    sel = select(df, params, "bandwidth_gbps", "nre_kwh", "alpha", None, {})
    assert len(sel) == 11  # the failed row is left out
    s = summarise(sel[sel["alpha"] == 0.2], "bandwidth_gbps", "nre_kwh", [])
    assert s["mean"].tolist() == pytest.approx([11.2, 1001.2])
    assert s["std"].tolist() == pytest.approx([1.0, 1.0])
    assert s["count"].tolist() == [3, 3]
    one = summarise(sel[sel["alpha"] == 0.1], "bandwidth_gbps", "nre_kwh", [])
    assert one["mean"].tolist() == pytest.approx([11.6, 1001.1])  # bandwidth 1: seeds 1, 2 only
    with pytest.raises(PlotError, match="alpha also vary"):
        select(df, params, "bandwidth_gbps", "nre_kwh", None, None, {})
    assert len(select(df, params, "bandwidth_gbps", "nre_kwh", None, None, {"alpha": "0.2"})) == 6
    with pytest.raises(PlotError, match="no column 'nope'"):
        select(df, params, "nope", "nre_kwh", None, None, {})


def test_plot_sweep_writes_an_image(tmp_path):
    out = fake_results(tmp_path)
    path = plot_sweep(out, "bandwidth_gbps", "nre_kwh", hue="alpha")
    assert path == out / "plots" / "nre_kwh_vs_bandwidth_gbps_by_alpha.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    panel = plot_sweep(out, "alpha", "nre_kwh", col="bandwidth_gbps", path=tmp_path / "c.png")
    assert panel.stat().st_size > 1000
    assert parse_where(["alpha=0.1", "policy = p"]) == {"alpha": "0.1", "policy": "p"}
    with pytest.raises(PlotError):
        parse_where(["alpha"])
