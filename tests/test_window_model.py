"""The window model's steps (build, solve, read), its extension hook, and the typed records that
turn into the flat dicts of ``metrics.json``."""

from __future__ import annotations

import pytest
from helpers import ideal_instance, job

from greenopt.optimization import ModelSettings, OptimizationError, WindowState, solve_window
from greenopt.optimization.solve import WindowModel
from greenopt.policies.rolling import StepRecord

#: The keys of a window's ``info`` (and of metrics.json), in their order.
WINDOW_KEYS = [
    "build_s",
    "sets_s",
    "model_s",
    "handoff_s",
    "n_periods",
    "solve_s",
    "model_gap",
    "model_bound",
    "objective",
    "solver_objective",
    "solver_status",
    "termination",
    "n_variables",
    "n_binaries",
    "n_constraints",
    "n_arcs",
    "start",
    "start_objectives",
]


def one_job_two_slots():
    """A 1-h job at A with 5 kW of renewables in both slots: it runs in slot 0 unless told not
    to."""
    return ideal_instance({"A": [5, 5]}, [job()])


def test_extra_functionality_changes_the_solved_model():
    """The hook fixes run[job 0, A, slot 0] = 0: the job must then run all of slot 1 (without the
    hook it runs all of slot 0), and the hook sees the window's sets."""
    inst = one_job_two_slots()
    settings = ModelSettings(backend="pyomo", candidate_sites=0, departure_every=1)
    seen = []

    def no_work_in_slot_0(model, sets):
        seen.append(sets.t0)
        model.run[0, 0, 0].fix(0)

    plain = solve_window(inst, WindowState.initial(inst), 2, settings)
    hooked = solve_window(
        inst, WindowState.initial(inst), 2, settings, extra_functionality=no_work_in_slot_0
    )
    assert seen == [0]
    assert plain.plan.run[0].tolist() == pytest.approx([1.0, 0.0])
    assert hooked.plan.run[0].tolist() == pytest.approx([0.0, 1.0])
    assert hooked.report.objective > plain.report.objective


def test_the_arrays_backend_refuses_the_hook():
    inst = one_job_two_slots()
    with pytest.raises(ValueError, match="pyomo"):
        WindowModel(
            inst,
            WindowState.initial(inst),
            2,
            ModelSettings(backend="arrays"),
            extra_functionality=lambda model, sets: None,
        )


@pytest.mark.parametrize("backend", ["arrays", "pyomo"])
def test_steps_run_in_order_and_the_record_is_the_info(backend):
    inst = one_job_two_slots()
    window = WindowModel(inst, WindowState.initial(inst), 2, ModelSettings(backend=backend))
    with pytest.raises(OptimizationError, match="build"):
        window.solve()
    window.build()
    with pytest.raises(OptimizationError, match="solve"):
        window.read()
    report = window.solve()
    assert window.read().run[0].tolist() == pytest.approx([1.0, 0.0])
    record = window.record()
    assert list(record.as_dict()) == WINDOW_KEYS
    assert record.solver_status == report.status == "optimal"
    assert record.build_s == pytest.approx(record.sets_s + record.model_s + record.handoff_s)
    result = solve_window(inst, WindowState.initial(inst), 2, ModelSettings(backend=backend))
    assert list(result.info) == WINDOW_KEYS


def test_a_fallback_step_record_keeps_its_keys():
    record = StepRecord(4, 0.5, status="fallback", error="no time left", wall_s=1.0)
    assert record.as_dict() == {
        "t0": 4,
        "starts_s": 0.5,
        "status": "fallback",
        "error": "no time left",
        "wall_s": 1.0,
    }
