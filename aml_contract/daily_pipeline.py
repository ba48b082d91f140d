"""The daily pipeline's contract: the Step Functions state machine's steps, what each step takes
and returns, and the names the stack, the Lambda handlers and the local runner share.

The state machine (stacks/daily_pipeline.py), Standard type, runs once a day from EventBridge
Scheduler and on demand (`aml pipeline start`):

    Plan (Lambda) -> NewRawData? (Choice) -> CurateRaw (glue:startJobRun.sync, skipped when no raw
    file is new) -> ScenarioQueries (Map of athena:startQueryExecution.sync, one per scenario query,
    the account_profiles query and the report's queries) -> BatchAlerts (Lambda) -> LoadProfiles (Lambda) ->
    CuratedKeyDigest (athena .sync) -> ReconcileDigests (Lambda) -> KeysToList? (Choice) ->
    [ListCuratedKeys (athena .sync)] -> ReconcileKeys (Lambda) -> Report (Lambda) -> Summary (sns:publish)
    any step failing after its retries -> NotifyFailure (sns:publish) -> Failed (Fail)

Execution input (either field gives the run date)::

    {"run_date": "YYYY-MM-DD"}                      on demand (the CLI names reruns <date>-r<N>)
    {"scheduled_time": "<ISO 8601 timestamp>"}      from the schedule: run_date = that UTC day - 1
    optional "lookback_days": N                      default DEFAULT_LOOKBACK_DAYS

Step outputs are placed under the state's ResultPath key below (JSONPath, `$.<key>`); each Lambda
returns a JSON object (the state takes `$.Payload` of the invoke response).

- plan (payload {"run_id": <execution name>, "input": <execution input>}) -> $.plan: {"run_date",
  "run_id", "window": {"start_date", "end_date"}, "report_window": {"start_date", "end_date"},
  "raw": {"new_files": int, "latest_modified": ISO|None}, "queries": [{"name", "query_string",
  "execution_parameters": [SQL literals]}]}: every scenario query (a named query whose name is a
  rule id), the profiles query (aml_contract.profiles.QUERY_NAME, end_date = run_date) and the
  report's queries (aml_report.queries.NAMES, over report_window: the REPORT_DAYS ending on run_date)
- each Map iteration -> one item of $.queries: {"name", "query_execution_id", "output_location"}
  (the s3:// CSV Athena wrote, from GetQueryExecution's ResultConfiguration.OutputLocation)
- batch_alerts (payload: the state) -> $.alerts: {"hits", "new", "merged", "joined", "already_raised",
  "unusable": {reason: rows}, "per_rule": {rule: {...}}, "delivery_failed": n} (scenario queries' results only)
- load_profiles (payload: the state) -> $.profiles: {"profiles": rows parsed, "written", "unchanged",
  "older_than_stored", "unusable": {reason: rows}, "as_of": run_date}; profiles = written +
  unchanged + older_than_stored (aml_contract.profiles.needs_write)
- the key reconciliation (aml_contract.key_reconciliation), one function in two phases, payload
  {"phase": "digests" | "keys", "state": <the state>}:
  - CuratedKeyDigest (Athena, the contract's curated_digest_sql) -> $.key_digest: {"query_execution_id",
    "output_location"}
  - ReconcileDigests (phase digests) -> $.key_digests: {"high_water_mark": ISO|None, "tables": {table:
    {"source", "curated", "buckets_mismatched", "buckets": [listed]}}, "list_keys": bool, "keys_query": str}
  - ListCuratedKeys (Athena, $.key_digests.keys_query; only when list_keys) -> $.curated_keys
  - ReconcileKeys (phase keys) -> $.reconciliation: {"clean", "key_mismatches", "high_water_mark",
    "tables": {table: {... "extra", "missing", "pending", examples}}, "summary"}; its metrics are put
- report (payload: the state) -> $.report: {"report_uri", "html_report_uri", "summary": str}: the run's
  JSON report and the HTML report over report_window (aml_report, drawn from the report queries'
  result CSVs and the run manifests and run reports of the curated bucket)
"""
from __future__ import annotations

import re
from datetime import date

# Lookback of each daily run: the scenario queries read [run_date - LOOKBACK + 1, run_date], long
# enough for the longest scenario window (fan_in/fan_out 672 h = 28 days, cycles) plus a margin.
DEFAULT_LOOKBACK_DAYS = 35
# The HTML report each run writes covers the week ending on its run date: the alerts per day of
# seven days, the curation runs and daily run reports of that week (`aml report --from D-6 --to D`).
REPORT_DAYS = 7

# The Lambda handlers of the pipeline's function steps: step -> "module:function" (lambdas/).
HANDLERS = {
    "plan": "lambdas.daily_pipeline.handler.plan",
    "batch_alerts": "lambdas.daily_pipeline.handler.batch_alerts",
    "load_profiles": "lambdas.daily_pipeline.handler.load_profiles",
    "report": "lambdas.daily_pipeline.handler.report",
    "reconcile": "lambdas.daily_pipeline.handler.reconcile",
}
# Step -> the names.RESOURCES field of its function.
FUNCTIONS = {"plan": "pipeline_plan_function", "batch_alerts": "pipeline_batch_alerts_function",
             "load_profiles": "pipeline_profiles_function", "report": "pipeline_report_function",
             "reconcile": "pipeline_reconcile_function"}
# ResultPath key of each step's output in the execution's state.
RESULT_KEYS = {"plan": "plan", "queries": "queries", "batch_alerts": "alerts", "load_profiles": "profiles",
               "report": "report", "key_digest": "key_digest", "key_digests": "key_digests",
               "curated_keys": "curated_keys", "reconcile": "reconciliation"}
# The reconciliation function's two phases: phase -> the RESULT_KEYS / STEP_FIELDS entry of its output.
RECONCILE_PHASES = {"digests": "key_digests", "keys": "reconcile"}
PHASE_FIELD, STATE_FIELD = "phase", "state"

# Environment variables of the pipeline functions (set by the stack, by the local runner from
# LocalResources): LocalResources field -> variable.
FUNCTION_ENV = {
    "raw_bucket": "RAW_BUCKET",
    "curated_bucket": "CURATED_BUCKET",
    "athena_results_bucket": "RESULTS_BUCKET",
    "alerts_table": "ALERTS_TABLE",
    "alerts_topic_arn": "ALERTS_TOPIC_ARN",
    "alerts_delivery_stream": "ALERTS_DELIVERY_STREAM",
    "profiles_table": "PROFILES_TABLE",  # written by load_profiles only (its role is the one allowed to)
}
# What the stack's Lambda states keep of each handler's return (a JSONPath ResultSelector cannot
# unwrap `Payload` whole, so the fields are named): a handler must return at least these.
STEP_FIELDS = {
    "plan": ("run_date", "run_id", "window", "report_window", "raw", "queries"),
    "batch_alerts": ("hits", "new", "merged", "joined", "already_raised", "unusable", "per_rule", "delivery_failed"),
    "load_profiles": ("profiles", "written", "unchanged", "older_than_stored", "unusable", "as_of"),
    "report": ("report_uri", "html_report_uri", "summary"),
    "key_digests": ("high_water_mark", "tables", "list_keys", "keys_query"),
    "reconcile": ("clean", "key_mismatches", "high_water_mark", "tables", "summary"),
}
# The plan's payload: {"run_id": <execution name>, "input": <execution input>}.
RUN_ID_FIELD, INPUT_FIELD = "run_id", "input"
# The lake buckets refuse a PutObject that does not ask for SSE-KMS under the lake key: the report
# step sends both headers, the key's ARN from this variable (set on the report function only).
DATA_KEY_ENV = "DATA_KEY_ARN"
# The source database, for the reconciliation function only (the stack sets them on it; locally the
# local server): its reader endpoint, port, database, the read-only login, and "true" when the
# password is an IAM authentication token.
SOURCE_DB_ENV = {"host": "SOURCE_DB_HOST", "port": "SOURCE_DB_PORT", "database": "SOURCE_DB_NAME",
                 "user": "SOURCE_DB_USER", "iam_auth": "SOURCE_DB_IAM_AUTH"}
PSEUDONYMIZATION_SECRET_ENV = "PSEUDONYMIZATION_SECRET_ID"  # noqa: S105 (a variable name; the reconciliation function only)
POWERTOOLS_SERVICE = "daily-pipeline"
POWERTOOLS_ENV = {"POWERTOOLS_SERVICE_NAME": POWERTOOLS_SERVICE, "POWERTOOLS_METRICS_NAMESPACE": "AmlDailyPipeline"}
REPORTS_PREFIX = "reports"  # s3://<curated>/reports/run_date=YYYY-MM-DD/ (the report step's output)
REPORT_FILES = {"json": "run_report.json", "html": "report.html"}  # the report step's two objects there

_RERUN = re.compile(r"^(\d{4}-\d{2}-\d{2})-r(\d+)$")


def rerun_name(run_date: date, existing: list[str]) -> str:
    """The name of an on-demand execution for `run_date`: `<date>-r<N>`, N one more than the
    highest of that date among `existing` execution names. Step Functions refuses the name of a
    closed Standard execution for 90 days (StartExecution, "ExecutionAlreadyExists"), so a rerun
    needs a new name; reruns are safe because alert ids are deterministic and outputs overwritten."""
    day = run_date.isoformat()
    taken = [int(m.group(2)) for name in existing if (m := _RERUN.match(name)) and m.group(1) == day]
    return f"{day}-r{max(taken, default=0) + 1}"
