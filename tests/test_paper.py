"""The report (`greenopt paper`): statistics, template, quick build, the committed output."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import greenopt
from greenopt.cli import app
from greenopt.paper.build import TemplateError, build_paper, check_report, checkout_root, fill
from greenopt.paper.experiments import (
    EXPERIMENTS,
    QUICK_INSTANCE,
    QUICK_TIME_LIMIT_S,
    bundled,
    experiments_dir,
    load_experiment,
    shrink,
)
from greenopt.paper.report import Context, fmt
from greenopt.paper.sections.common import break_even_min
from greenopt.paper.sections.time_vs_energy import classify
from greenopt.paper.stats import mean_ci, t975

REPO = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---- statistics ----------------------------------------------------------------------------


def test_t_quantiles_from_the_table():
    assert t975(1) == 12.706
    assert t975(4) == 2.776
    assert t975(35) == 2.042  # next smaller tabulated df (30): conservative
    assert t975(10_000) == 1.960
    with pytest.raises(ValueError):
        t975(0)


def test_t_quantiles_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 3, 5, 9, 19, 30, 40, 60, 120):
        assert t975(df) == pytest.approx(stats.t.ppf(0.975, df), abs=6e-4)


def test_mean_ci_by_hand():
    # [1, 2, 3]: mean 2, s = 1, h = t(0.975, 2) · 1 / √3 = 4.303 / 1.7320508
    est = mean_ci([1.0, 2.0, 3.0])
    assert est.mean == 2.0 and est.n == 3
    assert est.half_width == pytest.approx(4.303 / math.sqrt(3))
    assert est.format(3) == "2.00 ± 2.48"
    single = mean_ci([5.0, float("nan")])
    assert single.n == 1 and math.isnan(single.half_width) and single.format() == "5"
    assert mean_ci([]).format() == "n/a"


def test_fmt_significant_figures():
    assert fmt(0.1) == "0.1"
    assert fmt(60.0) == "60"
    assert fmt(28.61) == "28.6"
    assert fmt(0.0044417) == "0.00444"
    assert fmt(3780.4) == "3780"
    assert fmt(1.3e-16) == "0"
    assert fmt(float("nan")) == "n/a"


# ---- hand-derived numbers of sections 1–2 -------------------------------------------------------


def _ctx(tmp_path: Path) -> Context:
    return Context(tmp_path, "quick", {})


def test_break_even_by_hand(tmp_path):
    # 1 GB at 10 Gbps: T = 60 + 8/(10·0.9) = 60.8889 s; E = 0.002 + 0.2·T/3600 = 0.00538272 kWh;
    # T_be = E / (1.2 · 0.4 kW) = 0.0112140 h = 0.672840 min
    assert break_even_min(_ctx(tmp_path), 1.0, 10.0, 0.4) == pytest.approx(0.672840, rel=1e-5)


def test_classify_by_hand(tmp_path):
    ctx = _ctx(tmp_path)
    # 1000 GB at 100 Gbps, W = 2.5 h, 0.25 kW: T = 60 + 8000/90 = 148.9 s ≤ 900 s (time ok);
    # E = 2 + 0.2·148.9/3600 = 2.00827 kWh, T_be = 2.00827/0.3 = 6.69 h > 2.5 h → energy only
    assert classify(ctx, 1000.0, 100.0, 2.5, 0.25) == 2
    # 200 GB at 1 Gbps: T = 60 + 1600/0.9 = 1837.8 s > 900 s; T_be = 0.50210/0.3 = 1.67 h ≤ 2.5 h
    assert classify(ctx, 200.0, 1.0, 2.5, 0.25) == 1
    # both fail: 1000 GB at 1 Gbps (T = 8949 s; T_be = 2.4972/0.3 = 8.3 h)
    assert classify(ctx, 1000.0, 1.0, 2.5, 0.25) == 3
    assert classify(ctx, 1.0, 1.0, 2.5, 0.25) == 0


# ---- template and checks -----------------------------------------------------------------------


def test_fill_requires_every_placeholder_and_every_value():
    assert fill("a ${x} b ${y}", {"x": "1", "y": "2"}) == "a 1 b 2"
    with pytest.raises(TemplateError, match=r"without a value: \['y'\]"):
        fill("a ${x} b ${y}", {"x": "1"})
    with pytest.raises(TemplateError, match=r"unused: \['z'\]"):
        fill("a ${x}", {"x": "1", "z": "3"})


def test_check_report_finds_problems(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "shown.png").write_bytes(PNG_MAGIC)
    (tmp_path / "figures" / "orphan.png").write_bytes(PNG_MAGIC)
    (tmp_path / "README.md").write_text(
        "![a](figures/shown.png) ![b](figures/gone.png) [t](tables/x.csv)\n"
        "left ${value} here\nvalue nan here\n"
    )
    problems = "\n".join(check_report(tmp_path))
    assert "figures/gone.png, which does not exist" in problems
    assert "tables/x.csv, which does not exist" in problems
    assert "figures/orphan.png is not shown" in problems
    assert "README.md:2: unfilled placeholder" in problems
    assert "README.md:3: missing number" in problems
    assert "shown.png," not in problems


# ---- experiments --------------------------------------------------------------------------------


def test_every_experiment_file_loads_at_both_sizes():
    for key, name in EXPERIMENTS.items():
        assert (experiments_dir() / name).is_file()
        full, quick = load_experiment(key, "full"), load_experiment(key, "quick")
        assert 0 < len(quick.runs()) <= len(full.runs())


def test_shrink_keeps_policies_and_ends_of_grids():
    raw = tomllib.loads((experiments_dir() / "bandwidth.toml").read_text())
    small = shrink(raw)
    assert raw["vary"]["alpha"] == [0.05, 0.1, 0.2]  # input untouched
    assert small["vary"]["alpha"] == [0.05, 0.2]
    assert small["vary"]["bandwidth_gbps"] == [1.0, 100.0]  # from a log grid
    assert small["vary"]["policy"] == raw["vary"]["policy"]
    assert small["instance"]["folder"] == str(bundled("instances", QUICK_INSTANCE))
    assert small["policy"]["settings"]["time_limit_s"] == QUICK_TIME_LIMIT_S
    gen = shrink(tomllib.loads((experiments_dir() / "paper_generated.toml").read_text()))
    assert gen["seeds"] == 2 and gen["instance"]["generate"]["jobs"] == 6


# ---- inputs: package resources, never the source tree ------------------------------------------

BUNDLED_INSTANCES = ("tiny", "default")


def test_bundled_inputs_are_the_repository_copies():
    """The package ships copies of the paper's sweep files and of the instances they name; the
    repository's experiments/ and instances/ must hold the same bytes (sync the one you did not
    edit: ``python instances/build_instances.py`` writes both instance copies)."""
    for name in EXPERIMENTS.values():
        shipped, repo = experiments_dir() / name, REPO / "experiments" / name
        assert shipped.read_bytes() == repo.read_bytes(), f"{shipped} differs from {repo}"
    for name in BUNDLED_INSTANCES:
        shipped, repo = bundled("instances", name), REPO / "instances" / name
        files = sorted(p.name for p in repo.iterdir())
        assert sorted(p.name for p in shipped.iterdir()) == files
        for file in files:
            assert (shipped / file).read_bytes() == (repo / file).read_bytes(), f"{name}/{file}"


def test_experiments_read_only_files_inside_the_package():
    package = Path(str(greenopt.__file__)).resolve().parent
    assert experiments_dir().resolve().is_relative_to(package / "data")
    seen = set()
    for key in EXPERIMENTS:
        for size in ("full", "quick"):
            for spec in load_experiment(key, size).runs().values():
                folder = spec["instance"].get("folder")
                if folder is not None:
                    assert Path(folder).resolve().is_relative_to(package / "data" / "instances")
                    seen.add(Path(folder).name)
    assert seen == set(BUNDLED_INSTANCES)


def test_commit_is_read_only_from_the_checkout_holding_this_package():
    if Path(greenopt.__file__).resolve().parent != REPO / "greenopt":
        pytest.skip("greenopt is not imported from this checkout")
    assert checkout_root() == REPO


# ---- the quick build ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper")
    result = build_paper(out, "quick")
    return out, result


@pytest.mark.slow
def test_quick_build_fills_everything(quick_report):
    out, result = quick_report
    text = (out / "README.md").read_text(encoding="utf-8")
    assert check_report(out) == []
    assert "${" not in text and "$" not in text.replace("$$", "")
    assert result.problems == []
    assert "| size | quick |" in text
    # the sections that must be there
    for heading in ("## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6.", "## 7."):
        assert heading in text


@pytest.mark.slow
def test_quick_build_figures_and_tables_exist(quick_report):
    out, result = quick_report
    text = (out / "README.md").read_text(encoding="utf-8")
    assert len(result.figures) >= 11
    for rel in result.figures:
        assert f"]({rel})" in text, rel  # every figure is shown
        assert (out / rel).read_bytes()[:8] == PNG_MAGIC
    for rel in result.tables:
        frame = pd.read_csv(out / rel)
        assert len(frame) > 0, rel
    assert not (out / ".stage").exists()


@pytest.mark.slow
def test_quick_build_runs_every_experiment_ok(quick_report):
    out, _ = quick_report
    table = pd.read_csv(out / "tables" / "experiments.csv")
    assert set(table["experiment"]) == set(EXPERIMENTS)
    assert (table["failed"] == 0).all() and (table["invalid"] == 0).all()
    assert (table["ok"] == table["runs"]).all()


def test_cli_rejects_an_unknown_size(tmp_path):
    result = CliRunner().invoke(app, ["paper", "--out", str(tmp_path), "--size", "huge"])
    assert result.exit_code == 2
    assert not (tmp_path / "README.md").exists()


# ---- the committed report -----------------------------------------------------------------------


def test_committed_report_is_complete():
    folder = REPO / "paper"
    if not (folder / "README.md").is_file():
        pytest.skip("no committed report")
    assert check_report(folder) == []
    assert "| size | full |" in (folder / "README.md").read_text(encoding="utf-8")
