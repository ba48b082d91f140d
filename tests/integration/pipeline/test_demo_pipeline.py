"""The whole pipeline on a small bank: replication, rules, Glue job, queries, report.

One run (it starts a Spark job) whose outputs every test below inspects."""
import json
from datetime import date

import pytest

from aml.demo.config import DemoConfig
from aml.demo.pipeline import run
from aml.generate.labels import MIN_RECALL
from aml.local.services import Postgres
from aml_contract import rules

pytestmark = pytest.mark.integration

DETERMINISTIC = ("structuring", "large_cash", "smurfing", "rapid_movement", "round_amounts",
                 "high_risk_jurisdiction", "cycles")


@pytest.fixture(scope="module")
def demo(local_services, tmp_path_factory):
    import uuid

    env = f"t{uuid.uuid4().hex[:8]}"
    out = tmp_path_factory.mktemp("demo")
    cfg = DemoConfig(customers=200, days=40, live_days=12, seed=11, start_date=date(2026, 2, 1),
                     out_dir=out, env_name=env, database=f"demo_{env}", deploy=False)
    try:
        yield cfg, run(cfg)
    finally:  # a failed run too: its replication slot would hold the server's WAL until dropped
        Postgres().drop_database(cfg.database)


def _glue_runs(summary) -> list[dict]:
    """The Glue job's two runs: the history's (before the live period) and the last day's."""
    return [summary["history_pipeline"]["glue"], summary["glue"]]


def test_counts_reconcile_across_zones(demo):
    _, summary = demo
    runs = [run["tables"]["transactions"] for run in _glue_runs(summary)]
    assert all(run["rows_read_total"] > 0 for run in runs)
    zones = summary["rows_per_zone"]
    # every curated row was inserted by one run and not deleted since
    assert zones["curated.transactions"] == sum(run["inserted"] - run["deleted"] for run in runs) > 0
    assert zones["quarantine.rows"] == sum(t["quarantined_total"] for run in _glue_runs(summary)
                                           for t in run["tables"].values())
    assert zones["quarantine.rows"] >= summary["live_activity"]["malformed"]
    assert summary["live_activity"]["deleted"] > 0 and summary["cdc"]["transactions"]["D"] > 0
    # The last day's ReconcileKeys step: no curated key is gone from the source, and the only live
    # source keys not curated are the malformed rows the job quarantined.
    found = summary["reconciliation"]
    assert found["key_mismatches"] == 0 and not any(t["extra"] for t in found["tables"].values()), found
    assert {t: f["missing"] + f["pending"] for t, f in found["tables"].items()} == {
        "customers": 0, "accounts": 0, "transactions": summary["live_activity"]["malformed"]}, found


def test_stream_raised_alerts_and_dead_lettered_the_defects(demo):
    _, summary = demo
    assert sum(summary["alerts_per_rule"].values()) > 0
    assert set(summary["alerts_per_rule"]) <= set(rules.load().rules)
    # The two malformed rows (negative amount, unknown currency) are poison; the DMS control
    # record the replicator sends when it starts streaming is acknowledged, never dead-lettered.
    assert summary["stream"]["dms_control_records"] >= 1
    assert summary["stream"]["dead_lettered"] == summary["live_activity"]["malformed"] == 2


def test_queries_find_the_injected_typologies(demo):
    _, summary = demo
    scored = summary["detection"]
    for scenario in DETERMINISTIC:
        assert scenario in scored, scenario
        assert scored[scenario]["recall"] >= MIN_RECALL, (scenario, scored[scenario])
        assert scored[scenario]["near_misses_flagged"] == 0, (scenario, scored[scenario])
    assert all(summary["query_hits"][s] > 0 for s in DETERMINISTIC)


def test_outputs_name_every_rule_and_scenario(demo):
    cfg, summary = demo
    saved = json.loads((cfg.out_dir / "summary.json").read_text())
    assert saved["query_hits"] == summary["query_hits"]
    page = (cfg.out_dir / "report.html").read_text()
    from aml.query import catalog

    for name in list(rules.load().rules) + list(catalog.window_queries()):
        assert name in page, name
    # the false-positive kinds behind each scenario's alerts (issue 24)
    assert "flagged accounts by label kind" in page
    by_kind = saved["flagged_by_kind"]["batch"]
    assert set(by_kind) == {name for name in catalog.queries() if name in rules.load().rules}
    for scenario, counts in by_kind.items():
        assert sum(counts.values()) <= summary["detection"].get(scenario, {}).get("flagged_accounts", 10**9), scenario


def test_every_currency_is_curated_and_each_amount_base_is_accounted_for(demo):
    """Issue 19: wires booked in the foreign party's currency (some the old contract refused) are
    curated, and amount_base is the source's, derived from the dated rates, or unknown: counted."""
    import pyarrow.parquet as pq

    cfg, summary = demo
    for glue_run in _glue_runs(summary):
        glue = glue_run["tables"]["transactions"]
        assert sum(glue["amount_base"].values()) == glue["inserted"] + glue["updated"]
        assert sorted(glue_run["reference"]) == ["currencies", "fatf_lists", "fx_rates"]
    # sent without amount_base, converted at the ECB rate
    assert sum(r["tables"]["transactions"]["amount_base"]["derived"] for r in _glue_runs(summary)) > 0
    curated = pq.read_table(cfg.out_dir / "work" / "curated" / "transactions", columns=["currency"])
    assert {"SEK", "NOK", "DKK", "NZD"} & set(curated.column("currency").to_pylist())


def test_one_daily_execution_raised_batch_alerts_beside_the_realtime_ones(demo):
    cfg, summary = demo
    run = summary["daily_pipeline"]
    assert run["status"] == "SUCCEEDED" and run["raw"]["new_files"] > 0
    from aml_contract import profiles
    from aml_report import queries as report_queries
    from lambdas.daily_pipeline.plan import scenario_queries

    # + account_profiles and the report's queries
    assert "CurateRaw" in run["states"] and run["queries"] == len(scenario_queries()) + 1 + len(report_queries.NAMES)
    assert run["states"].index("BatchAlerts") < run["states"].index("LoadProfiles") < run["states"].index("Report")
    loaded = run["profiles"]
    assert loaded["as_of"] == run["run_date"] and loaded["unusable"] == {} and loaded["written"] > 0
    assert loaded["profiles"] == loaded["written"] + loaded["unchanged"] + loaded["older_than_stored"]
    assert f"{loaded['written']} written" in run["report"]["summary"]
    assert profiles.QUERY_NAME not in summary["query_hits"]  # not a scenario: the pipeline's, not the queue's
    batch = run["batch_alerts"]
    assert batch["hits"] == (batch["new"] + batch["merged"] + batch["joined"] + batch["already_raised"]
                             + sum(batch["unusable"].values()))
    totals = summary["alerts_by_source"]["totals"]
    # the batch alerts of both executions: the day before the live period's, then this one's
    history = summary["history_pipeline"]["batch_alerts"]
    assert totals["batch"] == history["new"] + history["merged"] + batch["new"] + batch["merged"] > 0
    assert totals["realtime"] > 0
    # both paths found the same episodes: the batch side joined the Lambda's alerts, and the Lambda
    # joined alerts the history day's batch run raised before the live period (the other direction)
    assert totals["merged"] >= history["merged"] + batch["merged"] > 0
    assert totals["alerts"] == totals["realtime_only"] + totals["batch_only"] + totals["merged"]
    assert "cycles" in summary["alerts_by_source"]["per_rule"]  # a batch-only scenario reaches the queue
    page = (cfg.out_dir / "report.html").read_text()
    assert "Alerts per rule per day, by source" in page and run["execution"] in page
    # the Report step's HTML report, drawn by the same generator from the Athena stand-in's CSVs
    from aml.local import aws

    bucket, key = run["report"]["html_report_uri"].removeprefix("s3://").split("/", 1)
    assert key == f"reports/run_date={run['run_date']}/report.html"
    drawn = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert "<h2>Alerts per rule per day, by source</h2>" in drawn and f"<td>{run['execution']}</td>" in drawn
    assert drawn.count("Plotly.newPlot(") >= 3


def test_a_rerun_of_the_same_date_adds_no_alert(demo):
    from aml.demo import daily
    from aml.local import resources

    cfg, summary = demo
    res = resources.existing(cfg.env_name)
    again = daily.run_day(res, cfg.out_dir / "work", date.fromisoformat(summary["daily_pipeline"]["run_date"]),
                          cfg.days)
    assert "CurateRaw" not in again["states"] and again["raw"]["new_files"] == 0  # nothing new to curate
    batch = again["batch_alerts"]
    assert (batch["new"], batch["merged"]) == (0, 0)
    assert batch["already_raised"] + batch["joined"] + sum(batch["unusable"].values()) == batch["hits"]
    # ... and loads no profile (issue 26): the same profiles, every one unchanged, none written
    loaded, first = again["profiles"], summary["daily_pipeline"]["profiles"]
    assert loaded["profiles"] == first["profiles"] > 0 and loaded["unusable"] == {}
    assert (loaded["written"], loaded["unchanged"], loaded["older_than_stored"]) == (0, loaded["profiles"], 0)

