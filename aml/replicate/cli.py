"""`aml replicate full-load | cdc | status | drop-slot`: the local DMS stand-in.
Progress goes to stderr; the counts are printed on stdout as JSON."""
from __future__ import annotations

import json

from aml.replicate.replicator import DEFAULT_SLOT, Replicator


def _replicator(args, resources: bool = True) -> Replicator:
    from aml.local import resources as local_resources
    from aml.local.services import Postgres

    found = local_resources.existing(args.env) if resources else None
    return Replicator(args.db_url or Postgres().url(), found, slot_name=args.slot,
                      batch_changes=getattr(args, "batch_changes", 5000))


def _print(value) -> None:
    print(json.dumps(value, indent=2, default=str))


def _full_load(args) -> int:
    _print(_replicator(args).full_load())
    return 0


def _cdc(args) -> int:
    _print(_replicator(args).cdc(until_idle=args.until_idle, max_seconds=args.max_seconds))
    return 0


def _status(args) -> int:
    status = _replicator(args, resources=False).status()
    _print(status)
    return 0 if status["exists"] else 1


def _drop_slot(args) -> int:
    dropped = _replicator(args, resources=False).drop_slot()
    print(f"dropped slot {args.slot}" if dropped else f"slot {args.slot} did not exist")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("replicate", help="replicate PostgreSQL to the raw zone and the stream, as DMS does")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    commands = (
        ("full-load", _full_load, "create the slot, then load every core table into LOAD*.parquet files"),
        ("cdc", _cdc, "replicate committed changes from the slot (runs until stopped unless --until-idle)"),
        ("status", _status, "show the replication slot and the WAL it holds; exit 1 if it does not exist"),
        ("drop-slot", _drop_slot, "drop the replication slot (it holds WAL on the server until dropped)"),
    )
    for name, func, text in commands:
        p = actions.add_parser(name, help=text)
        p.add_argument("--db-url", help="source PostgreSQL URL (default: the local server's core_banking)")
        p.add_argument("--slot", default=DEFAULT_SLOT, help=f"logical replication slot (default {DEFAULT_SLOT})")
        p.add_argument("--env", default="local", help="environment whose raw bucket and stream to use")
        p.set_defaults(func=func)
        if name == "cdc":
            p.add_argument("--until-idle", action="store_true", help="stop when no change is pending")
            p.add_argument("--max-seconds", type=float, help="stop after this many seconds")
            p.add_argument("--batch-changes", type=int, default=5000,
                           help="changes per batch (whole transactions; default 5000)")
