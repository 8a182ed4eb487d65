"""The evidence report: one self-contained HTML page beside the published warehouse, built
from the published file (read-only) by `pipeline.report`."""

import dagster as dg

from assets.resources import SalvoSettings
from pipeline.report import write_report


@dg.asset(
    deps=[dg.AssetKey("published_warehouse")],
    group_name="publish",
    kinds={"html"},
    automation_condition=dg.AutomationCondition.eager(),
)
def evidence_report(
    context: dg.AssetExecutionContext, salvo: SalvoSettings
) -> dg.MaterializeResult:
    """`report.html` in the warehouse folder: the transfer register (arms_transfers), each
    row expandable into its claims (the sentence with actors and weapons marked, who says
    so, hedged or denied, outlet, date, story and file), and the monthly charts. No server,
    no network: open the file in a browser. Written after each publish while `make dev`
    runs (not part of salvo_job), and by `make report`."""
    written = write_report(salvo.published_path)
    context.log.info(
        f"Wrote {written.path} ({written.size / 1e3:.0f} kB): "
        f"{written.transfers} transfers, {written.claims} claims"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(written.path)),
            "size": written.size,
            "transfers": written.transfers,
            "claims": written.claims,
        }
    )
