"""A hand-made curated zone for the report: three customers, their accounts, a few booked
transactions, alerts from both paths (one merged), a curation run manifest and a run report."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd

from aml_contract import schema


def alert(alert_id: str, rule: str, account: str, day: int, source: str, score: int = 50) -> dict:
    at = datetime(2025, 3, day, 12, tzinfo=UTC)
    return {"alert_id": alert_id, "rule_id": rule, "rule_version": 1, "severity": "high", "score": score,
            "subject_account_pid": account, "transaction_ids": ["T1"], "event_time": at, "window_start": at,
            "window_end": at, "details": "{}", "detected_at": at, "source": source}


ALERTS = [
    alert("A1", "structuring", "acc1", 2, "realtime"),
    alert("A1", "structuring", "acc1", 2, "batch"),  # one alert both paths found: merged
    alert("A2", "large_cash", "acc1", 2, "batch"),
    alert("A3", "fan_in", "acc2", 3, "realtime"),
    alert("A4", "fan_in", "acc2", 4, "batch"),
    alert("A5", "cycles", "acc3", 20, "batch"),  # outside the tests' window (1 to 10 March)
]


def manifest(run_id: str, days: list[str], quarantined: dict[str, int]) -> dict:
    return {"run_id": run_id, "started_at": f"2025-03-11T02:00:00+00:00-{run_id}", "reconciled": True,
            "warnings": ["stale reference data: fx_rates"],
            "tables": {"transactions": {"partitions_touched": days, "quarantined": quarantined,
                                        "rows_read_total": 10, "rows_written": 8,
                                        "quarantined_total": sum(quarantined.values())},
                       "accounts": {"partitions_touched": [], "quarantined": {}, "rows_read_total": 3,
                                    "rows_written": 3, "quarantined_total": 0}}}


def run_report(day: str) -> dict:
    return {"run_id": f"{day}-r1", "run_date": day, "window": {"start_date": "2025-03-01", "end_date": day},
            "raw_new_files": 2, "curated": True, "queries": ["structuring"],
            "alerts": {"hits": 3, "new": 2, "merged": 1, "joined": 0, "already_raised": 0, "unusable": {}},
            "profiles": {"as_of": day, "profiles": 3, "written": 3, "unchanged": 0, "older_than_stored": 0,
                         "unusable": {}}}


def _write(frame: pd.DataFrame, folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "part.parquet", index=False)


def write_zone(root) -> None:
    customers = pd.DataFrame({"customer_pid": ["c1", "c2", "c3"], "risk_rating": ["high", "low", "low"],
                              "is_pep": [True, False, False]})
    _write(customers, root / "customers")
    _write(pd.DataFrame({"account_pid": ["acc1", "acc2", "acc3"], "customer_pid": ["c1", "c2", "c3"]}),
           root / "accounts")
    for day, n in (("2025-03-02", 3), ("2025-03-03", 2), ("2025-03-20", 1)):
        _write(pd.DataFrame({"transaction_id": [f"{day}-{i}" for i in range(n)], "status": "booked",
                             "originator_account_pid": "acc1", "originator_customer_pid": "c1",
                             "beneficiary_account_pid": "acc2", "beneficiary_customer_pid": "c2"}),
               root / "transactions" / f"dt={day}")
    frame = pd.DataFrame(ALERTS).astype({"rule_version": "int32", "score": "int32"})
    frame["dt"] = frame["event_time"].dt.strftime("%Y-%m-%d")
    for dt, part in frame.groupby("dt"):
        _write(part[[c for c, _ in schema.CURATED_TABLES["alerts"]]], root / "alerts" / f"dt={dt}")
    runs = root / "_job_state" / "runs"
    runs.mkdir(parents=True)
    (runs / "r1.json").write_text(json.dumps(manifest("r1", ["2025-03-02", "2025-03-03"],
                                                      {"non_positive:amount": 1, "unknown_value:currency": 2})))
    (runs / "r2.json").write_text(json.dumps(manifest("r2", ["2025-03-20"], {"non_positive:amount": 5})))
    for day in ("2025-03-03", "2025-03-20"):
        folder = root / "reports" / f"run_date={day}"
        folder.mkdir(parents=True)
        (folder / "run_report.json").write_text(json.dumps(run_report(day)))


# A demo summary.json over the zone (aml/demo/pipeline.py writes the real one).
DEMO_SUMMARY = {"description": "3 customers", "stages": {"generate": 1.5, "queries": 2.0}, "total_seconds": 3.5,
           "detection": {"structuring": {"recall": 1.0, "precision": 0.5}}, "query_hits": {"structuring": 2},
           "stream": {"dead_lettered": 2},
           "reconciliation": {"tables": {"transactions": {"source": 6, "curated": 5, "missing": 1,
                                                          "extra": 0, "pending": 0}}},
           "daily_pipeline": {"execution": "2025-03-03-r1", "status": "SUCCEEDED", "run_date": "2025-03-03",
                              "states": ["Plan", "Report", "Report"], "report": {"summary": "AML daily pipeline."}},
           "flagged_by_kind": {"batch": {"structuring": {"laundering": 1, "charity": 2, "unlabelled": 3}},
                               "stream": {}}}


def step_report(root, run_date: str) -> tuple[dict, str]:
    """The daily pipeline's Report step over the zone at `root`, as the local pipeline runs it: the
    plan's report queries run on DuckDB (the Athena stand-in's engine, aml/pipeline/athena_binding.py)
    and stored as Athena's result CSVs, the run manifests and run reports in the curated bucket
    (in-process moto S3), then the step (lambdas/daily_pipeline/report.py). Its output and report.html."""
    import boto3
    from moto import mock_aws

    from aml.pipeline.athena_binding import result_csv, substitute_parameters
    from aml.query.local import LocalEngine
    from aml_report import queries
    from lambdas.daily_pipeline import batch_alerts, plan, report

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in ("raw", "curated", "results"):
            s3.create_bucket(Bucket=bucket)
        for path in sorted([*(root / "_job_state").rglob("*.json"), *(root / "reports").rglob("*.json")]):
            s3.put_object(Bucket="curated", Key=path.relative_to(root).as_posix(), Body=path.read_bytes())
        planned = plan.plan({"run_date": run_date, "run_id": f"{run_date}-r1"}, s3=s3, raw_bucket="raw",
                            curated_bucket="curated")
        results = []
        for i, q in enumerate(q for q in planned["queries"] if q["name"] in queries.NAMES):
            sql = substitute_parameters(q["query_string"], q["execution_parameters"])
            frame = LocalEngine(root).run_sql(q["name"], sql, []).frame
            s3.put_object(Bucket="results", Key=f"results/q{i}.csv", Body=result_csv(frame).encode())
            results.append({"name": q["name"], "query_execution_id": f"q{i}",
                            "output_location": f"s3://results/results/q{i}.csv"})
        state = {"plan": planned, "queries": results, "alerts": batch_alerts.Outcome().as_dict()}
        out = report.write(state, s3=s3, bucket="curated")
        key = out["html_report_uri"].removeprefix("s3://curated/")
        return out, s3.get_object(Bucket="curated", Key=key)["Body"].read().decode()
