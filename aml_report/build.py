"""The one report generator: what a report is made of (ZoneData: the report queries' rows and the
pipeline's documents over a period) and the standard sections over it, plus any a caller adds."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from aml_contract import rules
from aml_report import documents, page, queries, sections

TITLE = "AML monitoring report"


@dataclass(frozen=True)
class ZoneData:
    start: date
    end: date
    engine: str
    alerts_per_day: list[dict]  # report_alerts_per_day's rows
    risk: list[dict]  # customer_risk_summary's rows, in queue order
    zone_rows: dict[str, int]
    curation_runs: list[dict]
    run_reports: list[dict]

    @property
    def alert_count(self) -> int:
        return sum(sections.as_int(r["alerts"]) for r in self.alerts_per_day)


def zone_data(start: date, end: date, engine: str, rows: dict[str, list[dict]], files) -> ZoneData:
    """ZoneData from the rows of each report query (queries.NAMES: rows as dicts, typed or Athena's
    text) over [start, end] and the documents under `files` (documents.LocalFiles or S3Files)."""
    missing = [name for name in queries.NAMES if name not in rows]
    if missing:
        raise ValueError(f"no rows of the report queries {', '.join(missing)}")
    zone = {str(r["table_name"]): sections.as_int(r["row_count"]) for r in rows[queries.ZONE_ROWS]}
    return ZoneData(start, end, engine, list(rows[queries.ALERTS_PER_DAY]), list(rows[queries.RISK_QUERY]), zone,
                    documents.curation_runs(files, start, end), documents.run_reports(files, start, end))


def standard_sections(zone: ZoneData, scores: dict | None = None, *, query_hits: dict[str, int] | None = None,
                      dead_letters: int | None = None, reconciliation: dict | None = None) -> list[page.Section]:
    """Alerts, top subjects, detection quality (with labelled `scores`; `query_hits`: rows per
    query), pipeline health (with the dead letters and a source reconciliation, when known)."""
    return [sections.alerts(zone.alerts_per_day, tuple(rules.load().rules)),
            sections.top_subjects(zone.risk),
            sections.detection_quality(scores, query_hits),
            sections.pipeline_health(zone.zone_rows, zone.curation_runs, zone.run_reports,
                                     dead_letters, reconciliation)]


def subtitle(zone: ZoneData, description: str = "") -> str:
    return f"{zone.start} to {zone.end} (engine: {zone.engine})" + (f". {description}" if description else "")


def render(zone: ZoneData, report_sections: list[page.Section], title: str = TITLE, description: str = "") -> str:
    """The whole page as a string."""
    return page.render(title, subtitle(zone, description), report_sections)


def write(path: Path, zone: ZoneData, report_sections: list[page.Section], title: str = TITLE,
          description: str = "") -> Path:
    return page.write(Path(path), title, subtitle(zone, description), report_sections)
