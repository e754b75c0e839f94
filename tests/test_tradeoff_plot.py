"""compare's summary figure: energy against slowdown per policy, readable labels, the bound."""

from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.text
import pandas as pd
import pytest

from greenopt.compare import PolicySpec, compare
from greenopt.files import load_instance
from greenopt.plots import plot_tradeoff, readable_policy

INSTANCES = Path(__file__).resolve().parents[1] / "instances"
RAW_KEYS = ("nre_kwh", "slowdown_p95", "slowdown_std", "lower_bound", "_greedy")


def hand_table(**extra) -> pd.DataFrame:
    """Four policies, three of them nearly on top of each other (as on instances/default)."""
    table = pd.DataFrame(
        {
            "policy": ["static", "energy_greedy", "feasibility_greedy", "pause_greedy"],
            "valid": [True, True, True, True],
            "nre_kwh": [115.2, 75.15, 76.21, 83.2],
            "slowdown_p95": [1.0, 1.067, 1.091, 10.5],
            "slowdown_std": [0.21, 0.0424, 0.0429, 4.4],
            "objective": [289.2, 242.5, 242.7, 636.1],
            **extra,
        }
    )
    return table.set_index("policy")


def all_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def point_labels(fig) -> list[matplotlib.text.Annotation]:
    return [t for t in fig.findobj(matplotlib.text.Annotation) if t.get_text()]


def test_readable_policy_names():
    assert readable_policy("feasibility_greedy") == "feasibility greedy"
    assert readable_policy("milp:feasibility_filter=false") == "offline MILP (no filter)"
    assert (
        readable_policy("rolling:forecast=noisy:step_h=2")
        == "rolling MILP (noisy forecast, step h 2)"
    )


def test_figure_is_written_with_readable_axes_and_labels_that_fit(tmp_path):
    path = tmp_path / "policies.png"
    plot_tradeoff(hand_table(), path)
    assert path.stat().st_size > 10_000
    fig = plot_tradeoff(hand_table())  # the same figure, kept open to measure it
    energy, spread, objective = fig.axes[:3]
    assert energy.get_xlabel() == "95th-percentile slowdown (completion time / work)"
    assert spread.get_xlabel() == "slowdown standard deviation (stability)"
    assert energy.get_ylabel() == spread.get_ylabel() == "non-renewable energy (kWh)"
    assert objective.get_xlabel() == "objective (kWh: energy + priced delay)"
    assert "lower left is better" in energy.get_title()
    texts = all_texts(fig)
    assert not any(key in text for text in texts for key in RAW_KEYS)
    for ax in (energy, spread, objective):  # none of these quantities can be negative
        assert ax.get_xlim()[0] >= 0 and ax.get_ylim()[0] >= 0
    # every policy labelled in both trade-off panels (the crowded ones in a zoomed inset)
    labels = point_labels(fig)
    names = ["static", "energy greedy", "feasibility greedy", "pause greedy"]
    assert sorted(t.get_text() for t in labels) == sorted(names * 2)
    # the two points near (1.07, 75.5) are labelled in a zoomed inset of each panel
    assert len(energy.child_axes) == len(spread.child_axes) == 1
    # labels fit the figure's axes and do not overlap each other
    renderer = fig.canvas.get_renderer()
    boxes = []
    for text in labels:
        text.update_positions(renderer)
        box = matplotlib.text.Text.get_window_extent(text, renderer)
        frame = text.axes.get_window_extent(renderer)
        assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1, text.get_text()
        assert frame.y0 - 1 <= box.y0 and box.y1 <= frame.y1 + 1, text.get_text()
        boxes.append(box)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    assert not any("lower bound" in t for t in texts)
    plt.close(fig)


def test_lower_bound_is_marked_when_the_table_has_one(tmp_path):
    table = hand_table(lower_bound=[230.5] * 4)
    table["bound_ratio"] = table["objective"] / table["lower_bound"]
    fig = plot_tradeoff(table)
    objective = fig.axes[2]
    bound = [line for line in objective.get_lines() if line.get_label().startswith("lower bound")]
    assert len(bound) == 1 and bound[0].get_xdata()[0] == pytest.approx(230.5)
    ticks = [t.get_text() for t in objective.get_yticklabels()]
    assert ticks[1] == "energy greedy\n1.05× bound"
    plt.close(fig)


def test_without_objective_two_panels():
    fig = plot_tradeoff(hand_table().drop(columns="objective"))
    assert [ax.get_xlabel() for ax in fig.axes[:2]] == [
        "95th-percentile slowdown (completion time / work)",
        "slowdown standard deviation (stability)",
    ]
    assert not any(ax.get_xlabel().startswith("objective") for ax in fig.axes)
    plt.close(fig)


def test_compare_on_the_tiny_instance_gives_a_readable_figure(tmp_path):
    inst = load_instance(INSTANCES / "tiny")
    specs = [PolicySpec.parse(p) for p in ("static", "energy_greedy", "feasibility_greedy")]
    table, _ = compare(inst, specs)
    fig = plot_tradeoff(table, tmp_path / "p.png")
    assert (tmp_path / "p.png").exists()
    assert sorted(t.get_text() for t in point_labels(fig)) == sorted(
        ["static", "energy greedy", "feasibility greedy"] * 2
    )
