"""The demo's report.html: the generator's sections over its zone plus the demo's own."""
from __future__ import annotations

import re
from datetime import date

from report_zone import DEMO_SUMMARY as SUMMARY

from aml.demo import report


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
