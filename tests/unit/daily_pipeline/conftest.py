"""Shared fixtures of the pipeline steps' tests."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest
from moto import mock_aws

from aml_contract import names
from aml_report import queries as report_queries
from lambdas.daily_pipeline import plan


@pytest.fixture()
def contract_table(monkeypatch):
    """contract_table(field, name): in-process moto holding the `field` table (names.table_definition)
    under `name`, as a context manager yielding the DynamoDB client."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    @contextmanager
    def make(field: str, table: str) -> Iterator:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", **names.table_definition(field))
            yield client
    return make


RUN_DATE = "2025-03-05"
# The three report queries' result files, as Athena writes them: a header, every value quoted, NULL empty.
CSVS = {
    report_queries.ALERTS_PER_DAY: '"dt","rule_id","sources","alerts"\n'
                                   '"2025-03-02","structuring","batch,realtime","1"\n'
                                   '"2025-03-02","large_cash","batch","2"\n"2025-03-04","fan_in","realtime","3"\n',
    report_queries.ZONE_ROWS: '"table_name","row_count"\n"curated.transactions","1200"\n"curated.alerts","6"\n'
                              '"curated.accounts","40"\n"curated.customers","30"\n',
    report_queries.RISK_QUERY: '"risk_rank","subject_account_pid","subject_customer_pid","risk_score","in_queue",'
                               '"scenarios_hit","scenarios","alert_count","total_score","max_score","first_event_at",'
                               '"last_event_at","risk_rating","is_pep"\n'
                               f'"1","{"a" * 64}","c1","450","true","2","large_cash,structuring","2","450","240",'
                               '"2025-03-02 12:00:00.000 UTC","2025-03-02 12:00:00.000 UTC","high","true"\n'
                               f'"2","{"b" * 64}",,"120","false","1","fan_in","1","120","120",'
                               '"2025-03-04 12:00:00.000 UTC","2025-03-04 12:00:00.000 UTC",,\n',
}
ALERTS = {"hits": 5, "new": 2, "merged": 1, "joined": 1, "already_raised": 0, "unusable": {"x": 1},
          "per_rule": {}, "delivery_failed": 0}


def _executed_state(s3) -> dict:
    """The state the Report step receives: the plan's, the Map's results (the report queries' CSVs
    stored as the workgroup's output), the earlier steps' outputs."""
    planned = plan.plan({"run_date": RUN_DATE, "run_id": f"{RUN_DATE}-r1"}, s3=s3, raw_bucket="raw",
                        curated_bucket="curated")
    results = []
    for i, q in enumerate(planned["queries"]):
        if q["name"] in CSVS:
            s3.put_object(Bucket="results", Key=f"results/q{i}.csv", Body=CSVS[q["name"]].encode())
        results.append({"name": q["name"], "query_execution_id": f"q{i}", "output_location": f"s3://results/results/q{i}.csv"})
    return {"plan": planned, "queries": results, "alerts": ALERTS,
            "profiles": {"profiles": 40, "written": 7, "unchanged": 30, "older_than_stored": 3, "unusable": {},
                         "as_of": RUN_DATE}}


@pytest.fixture()
def executed_state():
    """executed_state(s3): the state the Report step receives on RUN_DATE, the report queries' result
    CSVs (CSVS) stored in the `results` bucket of the in-process moto client `s3`, its `raw` and
    `curated` buckets planned over."""
    return _executed_state
