"""`aml generate`: write a synthetic bank as Parquet files and/or load it into PostgreSQL."""
from __future__ import annotations

import argparse
import json

from aml.errors import AmlError
from aml.generate.config import DEFAULT_RATE, DEFAULT_START_DATE, BankConfig, parse_date


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None


def _run(args) -> int:
    from aml.generate import generate, load_postgres, write_parquet
    from aml.generate.writers import connect

    if not args.out and not args.db_url:
        raise AmlError("nothing to write", "give --out DIR, --db-url URL, or both")
    config = BankConfig(customers=args.customers, days=args.days, seed=args.seed,
                        start_date=parse_date(args.start_date), rate=args.rate)
    if args.db_url:
        connect(args.db_url).close()  # fail fast, before minutes of work
    bank = generate(config)
    summary = {"customers": len(bank.customers), "accounts": len(bank.accounts),
               "transactions": len(bank.transactions),
               "labels": bank.labels.groupby(["typology", "kind"]).size().unstack(fill_value=0).to_dict("index"),
               "skipped": bank.skipped}
    if args.db_url:
        summary["loaded"] = load_postgres(bank, args.db_url)
    if args.out:
        summary["files"] = {k: str(v) for k, v in write_parquet(bank, args.out).items()}
    print(json.dumps(summary, indent=2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("generate", help="generate a synthetic bank with injected laundering and labels",
                       description="Generate a deterministic synthetic bank (customers, accounts, transactions) "
                                   "with injected laundering typologies, near-miss look-alikes and a separate "
                                   "labels file.")
    p.add_argument("--customers", type=_int, required=True, help="number of customers (>= 50)")
    p.add_argument("--days", type=_int, required=True, help="length of the period in days")
    p.add_argument("--start-date", default=DEFAULT_START_DATE.isoformat(),
                   help=f"first day, YYYY-MM-DD (default {DEFAULT_START_DATE.isoformat()})")
    p.add_argument("--seed", type=_int, required=True, help="random seed: same arguments, same bytes")
    p.add_argument("--rate", type=_float, default=DEFAULT_RATE,
                   help=f"injected instances per typology per 1,000 customers (default {DEFAULT_RATE})")
    p.add_argument("--out", help="directory for customers/accounts/transactions/labels .parquet")
    p.add_argument("--db-url", help="PostgreSQL URL to load schema core into (one transaction)")
    p.set_defaults(func=_run)
