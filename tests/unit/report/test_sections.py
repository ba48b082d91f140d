"""The standard sections and the page, on small hand-made inputs."""
from __future__ import annotations

import re

import plotly.graph_objects as go
import pytest
from report_zone import manifest, run_report

from aml_report import page, sections


def rows(**columns) -> list[dict]:
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


PER_DAY = rows(dt=["2025-03-02", "2025-03-02", "2025-03-03", "2025-03-03", "2025-03-04"],
               rule_id=["structuring", "large_cash", "fan_in", "structuring", "fan_in"],
               sources=["batch,realtime", "batch", "realtime", "realtime", "batch"], alerts=[1, 2, 3, 4, 5])


def tables(section: page.Section) -> list[page.Table]:
    return [p for p in section.parts if isinstance(p, page.Table)]


@pytest.mark.parametrize(("sources", "kind"), [("realtime", "real time"), ("batch", "batch"),
                                                ("batch,realtime", "merged"), ("realtime, batch", "merged")])
def test_source_kind(sources, kind):
    assert sections.source_kind(sources) == kind


def test_unknown_source_is_refused():
    with pytest.raises(ValueError, match="unknown alert sources"):
        sections.source_kind("manual")


def test_alerts_per_rule_by_kind():
    table = sections.alerts_by_rule_and_kind(PER_DAY)
    assert table == {
        "fan_in": {"real time": 3, "batch": 5, "merged": 0, "all": 8},
        "large_cash": {"real time": 0, "batch": 2, "merged": 0, "all": 2},
        "structuring": {"real time": 4, "batch": 0, "merged": 1, "all": 5}}


def test_every_rule_listed_even_without_alerts():
    table = sections.alerts_by_rule_and_kind(PER_DAY, ("cycles", "fan_in"))
    assert list(table) == ["cycles", "fan_in", "large_cash", "structuring"]
    assert table["cycles"] == {"real time": 0, "batch": 0, "merged": 0, "all": 0}


def test_alerts_section_one_chart_row_per_kind_a_trace_per_rule_and_kind():
    section = sections.alerts(PER_DAY)
    (fig,) = section.figures()
    assert [a.text for a in fig.layout.annotations] == ["real time", "batch", "merged"]
    traces = {(t.name, t.yaxis): (list(t.x), list(t.y)) for t in fig.data}
    assert traces[("structuring", "y")] == (["2025-03-03"], [4])
    assert traces[("fan_in", "y2")] == (["2025-03-04"], [5])
    assert traces[("structuring", "y3")] == (["2025-03-02"], [1])
    assert [t.name for t in fig.data if t.showlegend] == ["fan_in", "structuring", "large_cash"]  # once a rule
    assert list(fig.layout.xaxis.categoryarray) == ["2025-03-02", "2025-03-03", "2025-03-04"]  # days in order
    assert tables(section)[0].rows[-1] == ("all", 7, 7, 1, 15)


def test_no_alert_no_chart():
    section = sections.alerts([])
    assert section.figures() == [] and section.parts == ("No alert in the period.",)


RISK = rows(risk_rank=[1, 2, 2], subject_account_pid=["a" * 64, "b" * 64, "c" * 64], risk_score=[450, 120, 120],
            scenarios=["large_cash,structuring", "fan_in", "fan_in"], alert_count=[2, 1, 1],
            in_queue=[True, True, False], risk_rating=["high", None, "low"], is_pep=[True, float("nan"), False])


def athena_text(found: list[dict]) -> list[dict]:
    """The rows as Athena's result CSV gives them (lambdas/daily_pipeline/query_results.py): text,
    booleans as true/false, numbers as the engine printed them, NULL as None."""
    def one(value):
        if value is None or value != value:
            return None
        return str(value).lower() if isinstance(value, bool) else str(value)
    return [{k: one(v) for k, v in row.items()} for row in found]


def test_top_subjects_first_n_in_queue_order():
    section = sections.top_subjects(RISK, n=2)
    (fig,) = section.figures()
    assert list(fig.data[0].y) == ["a" * 12, "b" * 12] and list(fig.data[0].x) == [450, 120]
    assert tables(section)[0].rows == ((1, "a" * 12, 450, "large_cash,structuring", 2, "yes", "high", "yes"),
                                       (2, "b" * 12, 120, "fan_in", 1, "yes", "", ""))


@pytest.mark.parametrize(("build", "found"), [(sections.top_subjects, RISK), (sections.alerts, PER_DAY)])
def test_rows_as_text_from_athenas_csv_draw_the_same_sections(build, found):
    """The daily pipeline's Report step reads Athena's CSV: text, where DuckDB gives typed values."""
    typed, text = build(found), build(athena_text(found))
    assert tables(typed) == tables(text)
    assert [f.to_plotly_json() for f in typed.figures()] == [f.to_plotly_json() for f in text.figures()]


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("false", False), ("TRUE", True), (None, None),
                                                 ("", None), (float("nan"), None), (0, False)])
def test_flags_typed_or_as_text(value, expected):
    assert sections.flag(value) is expected


def test_counts_typed_or_as_text():
    assert [sections.as_int(v) for v in (3, "3", "450.0", 7.0)] == [3, 3, 450, 7]
    with pytest.raises(ValueError, match="not a boolean"):
        sections.flag("maybe")


def test_detection_quality_with_and_without_labels():
    assert sections.detection_quality(None).figures() == []
    section = sections.detection_quality({"structuring": {"recall": 1.0, "precision": 0.5},
                                          "cycles": {"recall": None, "precision": None}}, {"structuring": 4})
    recall, precision = section.figures()[0].data
    assert list(recall.x) == ["cycles", "structuring"] and list(recall.y) == [None, 1.0]
    assert list(precision.y) == [None, 0.5]
    assert tables(section)[0].rows == (("cycles", "", "n/a", "n/a"), ("structuring", 4, "100%", "50%"))


def test_quarantine_by_reason_summed_over_runs():
    runs = [manifest("r1", ["2025-03-02"], {"non_positive:amount": 1, "unknown_value:currency": 2}),
            manifest("r2", ["2025-03-03"], {"non_positive:amount": 5})]
    assert sections.quarantine_by_reason(runs) == {"transactions: non_positive:amount": 6,
                                                   "transactions: unknown_value:currency": 2}


def test_pipeline_health():
    runs = [manifest("r1", ["2025-03-02"], {"non_positive:amount": 1})]
    recon = {"tables": {"transactions": {"source": 9, "curated": 8, "missing": 1, "extra": 0, "pending": 0}}}
    section = sections.pipeline_health({"curated.transactions": 8}, runs, [run_report("2025-03-03")], 2, recon)
    zones, quarantine = section.figures()
    assert list(zones.data[0].x) == [8] and list(quarantine.data[0].y) == ["transactions: non_positive:amount"]
    zone_table, curation, daily, reconciliation = tables(section)
    assert curation.rows == (("r1", "2025-03-11T02:00:00", "yes", 13, 11, 1, 1),)
    assert daily.rows == (("2025-03-03", "2025-03-03-r1", 2, 3, 2, 1, 0, 3),)
    assert reconciliation.rows == (("transactions", 9, 8, 0, 1, 0),)
    assert "Dead letters (records the rules Lambda could not process): 2." in section.parts
    empty = sections.pipeline_health({}, [], [])
    assert "Dead letters (records the rules Lambda could not process): not recorded in the curated zone." \
        in empty.parts and "No row quarantined by the curation runs listed below." in empty.parts


def test_page_is_self_contained_with_plotly_once_and_a_div_per_figure():
    fig = go.Figure(go.Bar(x=[1], y=[2]))
    text = page.render("T <1>", "sub", [page.Section("A", "intro", (fig, "para & more")),
                                         page.Section("B", "", (page.Table(("h",), ((1234,),)), fig))])
    assert text.count("Plotly.newPlot(") == 2 and 'id="chart-0-0"' in text and 'id="chart-1-1"' in text
    assert "<title>T &lt;1&gt;</title>" in text and "<p>para &amp; more</p>" in text
    assert '<td class="n">1,234</td>' in text
    assert len(re.findall(r"plotly\.js v\d", text)) == 1  # the library, inlined once
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", text)  # nothing fetched
