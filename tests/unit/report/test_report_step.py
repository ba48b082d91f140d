"""One report generator: the daily pipeline's Report step draws, from Athena's result CSVs, the
tables `aml report` draws from DuckDB's frames over the same days (report_zone.step_report runs the
step as the local pipeline does)."""
from __future__ import annotations

import re

import pytest
from report_zone import step_report

from aml.cli import main

RUN_DATE = "2025-03-05"  # the report's week: 2025-02-27 to 2025-03-05


def _tables(page: str) -> dict[str, list[str]]:
    """Each section's tables, by the section's title."""
    found = {}
    for title, body in re.findall(r"<h2>([^<]+)</h2>(.*?)(?=<h2>|</body>)", page, re.DOTALL):
        found[title] = re.findall(r"<table>.*?</table>", body, re.DOTALL)
    return found


@pytest.fixture(scope="module")
def step(zone_dir):
    return step_report(zone_dir, RUN_DATE)


def test_the_step_and_aml_report_draw_the_same_sections(step, zone_dir, tmp_path):
    out, page = step
    cli = tmp_path / "report.html"
    assert main(["report", "--from", "2025-02-27", "--to", RUN_DATE, "--data-dir", str(zone_dir),
                 "--out", str(cli)]) == 0
    mine, theirs = _tables(page), _tables(cli.read_text())
    assert list(mine) == ["This run", *theirs]
    for title in ("Alerts per rule per day, by source", "Top subjects by risk score", "Detection quality"):
        assert mine[title] == theirs[title] and (theirs[title] or title == "Detection quality"), title
    # pipeline health: the same zone and curation-run tables; the step's run reports hold its own too
    assert mine["Pipeline health"][:2] == theirs["Pipeline health"][:2]
    assert f"<td>{RUN_DATE}-r1</td>" in mine["Pipeline health"][2] and "<td>2025-03-03-r1</td>" in mine["Pipeline health"][2]
    assert f"<td>{RUN_DATE}-r1</td>" not in theirs["Pipeline health"][2]


def test_the_step_names_its_report_beside_the_json(step):
    out, page = step
    assert out["html_report_uri"] == f"s3://curated/reports/run_date={RUN_DATE}/report.html"
    assert out["report_uri"] == f"s3://curated/reports/run_date={RUN_DATE}/run_report.json"
    assert page.count("Plotly.newPlot(") == 4 and "(engine: athena)" in page
