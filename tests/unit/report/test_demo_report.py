"""The demo's report.html: the generator's sections over its zone plus the demo's own."""
from __future__ import annotations

import re
from datetime import date

from aml.demo import report

SUMMARY = {"description": "3 customers", "stages": {"generate": 1.5, "queries": 2.0}, "total_seconds": 3.5,
           "detection": {"structuring": {"recall": 1.0, "precision": 0.5}}, "query_hits": {"structuring": 2},
           "stream": {"dead_lettered": 2},
           "reconciliation": {"tables": {"transactions": {"source": 6, "curated": 5, "quarantined": 1,
                                                          "missing": 0, "extra": 0}}},
           "daily_pipeline": {"execution": "2025-03-03-r1", "status": "SUCCEEDED", "run_date": "2025-03-03",
                              "states": ["Plan", "Report", "Report"], "report": {"summary": "AML daily pipeline."}},
           "flagged_by_kind": {"batch": {"structuring": {"laundering": 1, "charity": 2, "unlabelled": 3}},
                               "stream": {}}}


def test_demo_report_sections_in_order(zone_dir, tmp_path):
    path = report.write_html(SUMMARY, zone_dir, date(2025, 3, 1), date(2025, 3, 10), tmp_path)
    text = path.read_text()
    assert re.findall(r"<h2>([^<]+)</h2>", text) == [
        "Demo run", "Alerts per rule per day, by source", "Top subjects by risk score", "Detection quality",
        "Who the alerts fall on: flagged accounts by label kind", "Pipeline health",
        "Daily pipeline (the last day&#x27;s run)"]
    assert text.count("Plotly.newPlot(") == 7  # stages, alerts, risk, detection, kinds (batch), zones, quarantine
    assert "Dead letters (records the rules Lambda could not process): 2." in text
    assert "Real-time rules: none flagged." in text and "Plan → Report" in text


def test_kind_columns_order():
    assert report.kind_columns({"a": {"unlabelled": 1, "charity": 1}, "b": {"near_miss": 1, "laundering": 2,
                                                                            "bakery": 1}}) == [
        "laundering", "near_miss", "bakery", "charity", "unlabelled"]
