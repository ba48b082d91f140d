"""The one report generator: the standard sections over a period, plus any a caller adds."""
from __future__ import annotations

from pathlib import Path

from aml.report import page, sections
from aml.report.data import ZoneData
from aml_contract import rules

TITLE = "AML monitoring report"


def standard_sections(zone: ZoneData, scores: dict | None = None, *, query_hits: dict[str, int] | None = None,
                      dead_letters: int | None = None, reconciliation: dict | None = None) -> list[page.Section]:
    """Alerts, top subjects, detection quality (with labelled `scores`; `query_hits`: rows per
    query), pipeline health (with the dead letters and a source reconciliation, when known)."""
    return [sections.alerts(zone.alerts_per_day, tuple(rules.load().rules)),
            sections.top_subjects(zone.risk),
            sections.detection_quality(scores, query_hits),
            sections.pipeline_health(zone.zone_rows, zone.curation_runs, zone.run_reports,
                                     dead_letters, reconciliation)]


def write(path: Path, zone: ZoneData, report_sections: list[page.Section], title: str = TITLE,
          description: str = "") -> Path:
    subtitle = f"{zone.start} to {zone.end} (engine: {zone.engine})" + (f". {description}" if description else "")
    return page.write(Path(path), title, subtitle, report_sections)
