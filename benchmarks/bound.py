"""Benchmark the lower bounds (greenopt.bounds): per instance and method, the bound, its time and
the peak memory of the process computing it; printed, and appended to a CSV.

    python -m benchmarks.bound --instances default,S,M --methods lp,lagrangian --time-limit 600

``default`` is instances/default; other names are benchmarks/registry.py sizes. Each (instance,
method) runs in a fresh process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import pandas as pd

from benchmarks.registry import append_rows

COLUMNS = ["instance", "method", "lower_bound", "time_s", "peak_rss_mib", "detail"]


def load(name: str):
    if name == "default":
        from greenopt.files import load_instance

        return load_instance(Path(__file__).resolve().parents[1] / "instances" / "default")
    from benchmarks.registry import SIZES

    return SIZES[name].instance()


def measure(name: str, method: str, time_limit_s: float) -> dict:
    """Compute one bound in this process."""
    from greenopt.bounds import BoundSettings, lower_bound

    instance = load(name)
    result = lower_bound(instance, BoundSettings(method=method, time_limit_s=time_limit_s))
    keep = ("lp_status", "lp_solve_s", "build_s", "rounds", "master_value", "columns", "dp_s")
    return {
        "instance": name,
        "method": method,
        "lower_bound": result.lower_bound,
        "time_s": result.time_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "detail": json.dumps({k: result.details[k] for k in keep if k in result.details}),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default="default,S")
    parser.add_argument("--methods", default="lp,lagrangian")
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bound.csv"))
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.in_process:
        (name,), (method,) = args.instances.split(","), args.methods.split(",")
        print(json.dumps(measure(name, method, args.time_limit)))
        return
    rows = []
    for name in args.instances.split(","):
        for method in args.methods.split(","):
            cmd = [sys.executable, "-m", "benchmarks.bound", "--in-process"]
            cmd += ["--instances", name, "--methods", method]
            cmd += ["--time-limit", str(args.time_limit)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{name}/{method} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{name}/{method}: bound {row['lower_bound']}, {row['time_s']:.1f} s, "
                f"{row['peak_rss_mib']:.0f} MiB {row['detail']}",
                flush=True,
            )
    if rows:
        append_rows(args.out, pd.DataFrame(rows, columns=COLUMNS))


if __name__ == "__main__":
    main()
