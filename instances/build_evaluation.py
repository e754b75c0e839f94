"""Write the evaluation-instance set (:mod:`greenopt.evaluation`) and its table.

``python instances/build_evaluation.py`` writes one instance folder per member under
``results/evaluation/<id>/`` (``--out DIR`` elsewhere; not committed: regenerated exactly from the
seeded spec) and the table ``paper/tables/instances.csv``. ``--check`` regenerates the set in
memory and compares the table with the committed one, writing nothing. ``--table-only`` skips the
folders.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from greenopt.evaluation import EVALUATION_SET, describe, render_table
from greenopt.files import write_instance, write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "paper" / "tables" / "instances.csv"
OUT = ROOT / "results" / "evaluation"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the instance folders")
    parser.add_argument("--table", type=Path, default=TABLE, help="the instance table (CSV)")
    parser.add_argument("--check", action="store_true", help="compare the table, write nothing")
    parser.add_argument("--table-only", action="store_true", help="write the table only")
    args = parser.parse_args(argv)
    import pandas as pd

    rows = []
    for member in EVALUATION_SET:
        inst = member.generate()
        rows.append(describe(member, inst))
        if not (args.check or args.table_only):
            write_instance(inst, args.out / member.id)
    text = render_table(pd.DataFrame(rows))
    if args.check:
        same = args.table.exists() and args.table.read_text() == text
        print("up to date" if same else f"{args.table} differs from a fresh build")
        return 0 if same else 1
    write_text_atomic(text, args.table)
    where = "" if args.table_only else f"{len(rows)} instances under {args.out}, "
    print(f"wrote {where}table {args.table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
