"""Why a grant no call uses stays: (role without CDK's hash, action or resource as the report
prints it) -> the reason. The access proof fails on an unused grant missing here and on an entry
no unused grant needs, so this list is exactly what the report shows."""
from __future__ import annotations

from infra.access.services import tables_queried

ANALYSTS = "analytics/AnalystPolicy"
CONSOLE = ("the Athena console (DESIGN: analysts run the named queries as console \"Saved queries\"), "
           "which the CLI path does not exercise")
CDK_ASSET_GRANT = ("CDK's asset grant (Code.from_asset: bucket.grant_read) beside the GetObject the job "
                   "uses; read-only, on the bootstrap assets bucket")
ESM_GRANT = ("added by CDK's KinesisEventSource (stream.grant_read) for enhanced fan-out consumers, "
             "which this mapping does not use; read-only, on this stream")
REFERENCE_LOOKUP = ("analysts may query every reference table (a rate or a currency looked up while checking an "
                    "alert); the named queries join only fatf_lists")
SEGMENT_LOOKUP = ("analysts may query the segment statistics (the floor a segment-relative threshold set for an "
                  "alert); no named query reads them yet, and once one does its declared calls use the grant")
SEGMENTS_READ = "segment_amounts" in tables_queried()
DLQ_GRANT = ("added by CDK's SqsDlq on-failure destination (queue.grant_send_messages), beside the "
             "SendMessage Lambda uses")

JUSTIFIED: dict[tuple[str, str], str] = {
    (ANALYSTS, "athena:BatchGetNamedQuery"): CONSOLE,
    (ANALYSTS, "athena:GetNamedQuery"): CONSOLE,
    (ANALYSTS, "athena:ListNamedQueries"): CONSOLE,
    (ANALYSTS, "athena:BatchGetQueryExecution"): CONSOLE + " (query history)",
    (ANALYSTS, "athena:ListQueryExecutions"): CONSOLE + " (query history)",
    (ANALYSTS, "athena:GetQueryResults"): CONSOLE + " (result pages); the CLI reads the result file",
    (ANALYSTS, "athena:GetQueryResultsStream"): CONSOLE + " (result download)",
    (ANALYSTS, "athena:StopQueryExecution"): "an analyst cancels a running query (console or API)",
    (ANALYSTS, "glue:GetTables"): CONSOLE + " (the table list of the database)",
    **{(ANALYSTS, f"arn:aws:glue:<region>:<account>:table/aml_curated/{table}"): REFERENCE_LOOKUP
       for table in ("currencies", "fx_rates")},
    **({} if SEGMENTS_READ else {
        (ANALYSTS, "arn:aws:glue:<region>:<account>:table/aml_curated/segment_amounts"): SEGMENT_LOOKUP,
        (ANALYSTS, "arn:aws:s3:::aml-dev-curated-<account>-<region>/statistics/segment_amounts/*"): SEGMENT_LOOKUP}),
    (ANALYSTS, "s3:AbortMultipartUpload"): "Athena aborts a failed multipart upload of a large result with the "
                                           "caller's credentials",
    (ANALYSTS, "s3:ListMultipartUploadParts"): "Athena lists the parts of a large result's multipart upload "
                                               "with the caller's credentials",
    ("etl/JobRole", "s3:GetBucket*"): CDK_ASSET_GRANT,
    ("etl/JobRole", "s3:List*"): CDK_ASSET_GRANT,
    ("etl/JobRole", "arn:aws:s3:::cdk-hnb659fds-assets-<account>-<region>"): CDK_ASSET_GRANT,
    ("streaming/RulesRole", "kinesis:DescribeStreamConsumer"): ESM_GRANT,
    ("streaming/RulesRole", "kinesis:ListStreams"): ESM_GRANT,
    ("streaming/RulesRole", "kinesis:SubscribeToShard"): ESM_GRANT,
    ("streaming/RulesRole", "sqs:GetQueueAttributes"): DLQ_GRANT,
    ("streaming/RulesRole", "sqs:GetQueueUrl"): DLQ_GRANT,
    ("streaming/RulesRole", "kms:Encrypt"): DLQ_GRANT + " (its key grant)",
    ("streaming/RulesRole", "kms:ReEncrypt*"): DLQ_GRANT + " (its key grant)",
}
