"""`aml report --from YYYY-MM-DD --to YYYY-MM-DD`: one HTML report of the period."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aml.query.run import DATA_DIR_ENV

DEFAULT_OUT = Path("out") / "report"


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="one self-contained HTML report (charts) over a period")
    p.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first day (inclusive)")
    p.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last day (inclusive)")
    p.add_argument("--engine", choices=("local", "athena"), default="local")
    p.add_argument("--data-dir", help=f"curated zone for --engine local (default ${DATA_DIR_ENV}, else .local/curated, "
                   "else the demo's out/demo/work/curated)")
    p.add_argument("--workgroup", help="Athena workgroup for --engine athena (default: the deployed one)")
    p.add_argument("--env", help="--engine athena: the deployed environment (env_name setting, default dev), "
                   "whose workgroup runs the queries and whose curated bucket holds the run manifests and reports")
    p.add_argument("--scores", help="labelled figures for the detection-quality section (JSON, e.g. "
                   "out/demo/summary.json)")
    p.add_argument("--out", type=Path, help=f"the HTML file (default {DEFAULT_OUT}/report_<from>_<to>.html)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from aml.report import data
    from aml_report.build import standard_sections, write

    start, end = data.parse_period(args.start, args.end)
    scores = data.load_scores(args.scores) if args.scores else None
    zone = data.gather(start, end, args.engine, args.data_dir, args.workgroup, args.env)
    out = args.out or DEFAULT_OUT / f"report_{start}_{end}.html"
    path = write(out, zone, standard_sections(zone, scores))
    print(f"wrote {path}: {start} to {end} on {args.engine}, {zone.alert_count:,} alerts, {len(zone.risk):,} accounts "
          f"alerted, {len(zone.curation_runs)} curation run(s), {len(zone.run_reports)} daily run report(s)",
          file=sys.stderr)
    return 0
