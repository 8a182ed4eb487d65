"""`make report`: write the evidence report of the published warehouse (SALVO_WAREHOUSE,
default warehouse/salvo.duckdb) without running the pipeline.

    python -m pipeline.report [--warehouse FILE] [--out FILE] [--rows N] [--claims N]
"""

from __future__ import annotations

import argparse
import sys

from pipeline import settings
from pipeline.report import Limits, write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.report", description=__doc__)
    parser.add_argument("--warehouse", help="the published DuckDB file (SALVO_WAREHOUSE)")
    parser.add_argument("--out", help="the HTML file (default: report.html beside it)")
    defaults = Limits()
    parser.add_argument("--rows", type=int, default=defaults.rows, help="rows per section (0: all)")
    parser.add_argument(
        "--claims", type=int, default=defaults.claims, help="claims shown per row (0: all)"
    )
    args = parser.parse_args(argv)
    warehouse = args.warehouse or settings.warehouse_path()
    try:
        written = write_report(warehouse, args.out, Limits(args.rows, args.claims))
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"Wrote {written.path} ({written.size / 1e3:.0f} kB): "
        f"{written.transfers} transfers, {written.claims} claims"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
