"""Time the greedy engine: whole-horizon ``plan`` of ``feasibility_greedy`` and ``energy_greedy``,
and one 24 h window from a mid-horizon state as the rolling policy runs it for its MIP start.

    python -m benchmarks.greedy --sizes M,L,XL --repeat 3

Each figure is the fastest of ``--repeat`` runs (seconds); the window run starts at the middle
slot, from the state ``feasibility_greedy`` reached there on a perfect forecast, building its own
routes (``window_24h_s``) or reusing the instance's (``window_shared_s``, as rolling does).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from benchmarks.registry import SIZES
from greenopt.network import Network
from greenopt.policies import make_policy
from greenopt.policies.heuristics import FeasibilityGreedyPolicy, GreedyEngine
from greenopt.policies.rolling import greedy_engine_at
from greenopt.state import state_at

WINDOW_H = 24.0


def fastest(run: Callable[[], object], repeat: int) -> float:
    """Smallest wall time (s) of ``repeat`` calls of ``run``."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def time_size(name: str, repeat: int) -> str:
    """One printed row: the figures of size ``name``."""
    inst = SIZES[name].instance()
    feas = fastest(lambda: make_policy("feasibility_greedy").plan(inst), repeat)
    energy = fastest(lambda: make_policy("energy_greedy").plan(inst), repeat)
    t0 = inst.n_slots // 2
    t_end = min(inst.n_slots, t0 + int(round(WINDOW_H / inst.dt_h)))
    policy = FeasibilityGreedyPolicy()
    policy.prepare(inst)
    played = GreedyEngine(inst, policy).run(0, t0)  # the committed past, as rolling has it
    state = state_at(inst, played, t0)
    window = fastest(lambda: greedy_engine_at(inst, played.copy(), state).run(t0, t_end), repeat)
    network = Network(inst)  # rolling builds its routes once
    shared = fastest(
        lambda: greedy_engine_at(inst, played.copy(), state, network).run(t0, t_end), repeat
    )
    return (
        f"{name:>4} {inst.n_slots:>6} {feas:>12.3f} {energy:>14.3f} {window:>13.3f} {shared:>16.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="M,L,XL", help="comma-separated SIZES names")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (fastest kept)")
    args = parser.parse_args()
    print(
        f"{'size':>4} {'slots':>6} {'feas_plan_s':>12} {'energy_plan_s':>14} "
        f"{'window_24h_s':>13} {'window_shared_s':>16}"
    )
    for name in args.sizes.split(","):
        print(time_size(name, args.repeat), flush=True)


if __name__ == "__main__":
    main()
