"""`make query SQL="..."`: run one query against the published warehouse, read-only.

Read-only connections never block the pipeline: it writes a working copy and renames the
published file over the old one, so this sees a consistent snapshot even mid-run.
"""

from __future__ import annotations

import sys

import duckdb

from pipeline import settings


def main(argv: list[str]) -> int:
    sql = " ".join(argv).strip()
    if not sql:
        print('usage: make query SQL="SELECT * FROM claim_corroboration LIMIT 5"', file=sys.stderr)
        return 2
    path = settings.warehouse_path()
    if not path.exists():
        print(f"No published warehouse at {path}: run `make run` first.", file=sys.stderr)
        return 1
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.sql(sql).show(max_width=200, max_rows=40)
    except duckdb.Error as exc:
        print(f"Query failed: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
