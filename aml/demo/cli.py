"""`aml demo`: the whole pipeline locally, with a summary on stdout and summary.json + report.html."""
from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from aml.errors import AmlError


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def register(sub) -> None:
    from aml.demo.config import DemoConfig

    d = DemoConfig()
    p = sub.add_parser("demo", help="run the whole pipeline locally and write summary.json + report.html")
    p.add_argument("--customers", type=_positive, default=d.customers)
    p.add_argument("--days", type=_positive, default=d.days)
    p.add_argument("--live-days", type=_positive, default=d.live_days, help="last days that arrive through CDC")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--start-date", type=date.fromisoformat, default=d.start_date)
    p.add_argument("--out", type=Path, default=d.out_dir, help="output folder (summary.json, report.html)")
    p.add_argument("--env-name", default=d.env_name)
    p.add_argument("--no-deploy", dest="deploy", action="store_false",
                   help="create the resources by name instead of deploying the CDK app into the emulator")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from aml.demo.config import DemoConfig
    from aml.demo.pipeline import run

    if args.live_days >= args.days:
        raise AmlError(f"--live-days ({args.live_days}) must be smaller than --days ({args.days})")
    summary = run(DemoConfig(customers=args.customers, days=args.days, live_days=args.live_days, seed=args.seed,
                             start_date=args.start_date, out_dir=args.out, env_name=args.env_name,
                             deploy=args.deploy))
    print(json.dumps({k: summary[k] for k in ("rows_per_zone", "alerts_per_rule", "query_hits", "stages",
                                                "total_seconds")}, indent=2))
    print("detection (scenario: recall / precision):")
    for name, s in summary["detection"].items():
        fmt = lambda v: "n/a" if v is None else f"{v:.0%}"  # noqa: E731
        print(f"  {name:<24} {fmt(s['recall']):>5} / {fmt(s['precision'])}")
    print("flagged accounts by label kind (scenario queries):")
    for name, counts in summary["flagged_by_kind"]["batch"].items():
        print(f"  {name:<24} " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "none"))
    print(f"summary: {args.out / 'summary.json'}\nreport:  {args.out / 'report.html'}")
    return 0
