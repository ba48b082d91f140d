"""`aml evaluate`: backtest the scenarios and the rules on a labelled dataset."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from aml import REPO_ROOT


def _share(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a share: {text!r} (write 0.01 or 1%)") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"the budget must be a share in (0, 1], got {text}")
    return value


def register(sub) -> None:
    from aml.evaluate.importers import FORMATS

    p = sub.add_parser("evaluate", help="backtest detection on a labelled dataset (evaluation.json)",
                       description="Import a labelled dataset into the source contract, run it through the batch "
                                   "path (raw zone, Glue job, curated zone, every named query) and the rules Lambda "
                                   "(event-time replay), and score recall and precision per typology and detector, "
                                   "and for the union at the alert budget, beside a naive baseline.")
    p.add_argument("--format", required=True, choices=list(FORMATS), dest="fmt")
    p.add_argument("path", type=Path, help="the dataset's file or folder")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "out" / "evaluate",
                   help="output folder (evaluation.json, labels.parquet, work/)")
    p.add_argument("--budget", type=_share, default=None,
                   help="alert budget: share of the active accounts the ranked union keeps (default: the rule "
                        "parameters' risk_score.alert_budget)")
    p.add_argument("--env-name", default="evaluate", help="environment in the local emulator (emptied first)")
    p.add_argument("--no-stream", dest="stream", action="store_false", help="skip the rules Lambda replay")
    p.add_argument("--batch-size", type=int, default=None,
                   help="records per rules-Lambda invocation in the replay (default: the stack's mapping, 500; "
                        "Lambda allows up to 10,000)")
    p.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from aml.evaluate import importers, report
    from aml.evaluate.pipeline import EvaluateConfig, run, timed

    dataset, seconds = timed(importers.load, args.fmt, args.path)
    dataset.report["import_seconds"] = seconds
    args.out.mkdir(parents=True, exist_ok=True)
    summary = run(dataset, EvaluateConfig(out_dir=args.out, budget=args.budget, env_name=args.env_name,
                                          stream=args.stream, batch_size=args.batch_size))
    print(report.text(summary, markdown=args.markdown))
    print(f"evaluation: {args.out / 'evaluation.json'}")
    if summary["dataset"].get("left_out"):
        print(json.dumps({"left_out": summary["dataset"]["left_out"]}))
    return 0
