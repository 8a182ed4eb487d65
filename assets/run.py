"""`make run`: materialise every asset with a real Dagster instance, then summarise."""

from __future__ import annotations

import logging
import os
import sys

from pipeline.lifetime import long_lived

# Start-up builds modules and definitions that live as long as the process.
with long_lived():
    import dagster as dg

    from assets.definitions import defs
    from pipeline import settings, warehouse


def summary(path) -> str:
    con = warehouse.connect(path, read_only=True)
    try:
        lines = [f"Published warehouse: {path}"]
        counts = warehouse.table_counts(
            con, ["seed_files", "documents", "sentences", "entities", "claims"]
        )
        lines.append("  " + ", ".join(f"{table}: {n}" for table, n in counts.items()))
        statuses = con.execute(
            "SELECT status, count(*) FROM seed_files GROUP BY 1 ORDER BY 1"
        ).fetchall()
        lines.append("  files: " + ", ".join(f"{s} {n}" for s, n in statuses))
        dated = con.execute(
            "SELECT count(published_date), count(*) FILTER (WHERE date_source = 'text') "
            "FROM documents"
        ).fetchone()
        if dated:
            lines.append(f"  dated documents: {dated[0]} ({dated[1]} from the text)")
        lines.append("  top claims (claim_corroboration):")
        rows = con.execute(
            "SELECT relation, supplier, recipient, weapon_class, claims, documents, outlets "
            "FROM claim_corroboration ORDER BY documents DESC, claims DESC LIMIT 5"
        ).fetchall()
        lines.append(
            "    relation  supplier -> recipient  weapon_class  claims  documents  outlets"
        )
        for relation, supplier, recipient, weapon, claims, documents, outlets in rows:
            lines.append(
                f"    {relation:<9} {supplier or '?':>4} -> {recipient or '?':<4}  {weapon:<22} "
                f"{claims:>3} {documents:>5} {outlets:>5}"
            )
        return "\n".join(lines)
    finally:
        con.close()


def main() -> int:
    with long_lived():
        instance = dg.DagsterInstance.get()
        job = defs().resolve_job_def("salvo_job")
    try:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            # Step progress and our own progress lines; the full event stream is in `make dev`.
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
    finally:
        instance.dispose()
    if not result.success:
        print("The run failed; see the log above (or the run in `make dev`).", file=sys.stderr)
        return 1
    print(summary(settings.warehouse_path()))
    return 0


if __name__ == "__main__":
    code = main()
    # Everything is written and closed: the run's events (instance disposed), the warehouse
    # (published, every connection closed), the summary (flushed here). Tearing the
    # interpreter down would spend seconds collecting objects that die with the process.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
