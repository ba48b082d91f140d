"""`aml stream ...` sub-commands."""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from aml.stream.poller import DEFAULT_BATCH_SIZE

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    stream = subparsers.add_parser("stream", help="the real-time rules engine on the local emulator")
    sub = stream.add_subparsers(dest="stream_command", required=True, metavar="SUBCOMMAND")
    replay = sub.add_parser(
        "replay", help="send each line of a JSON Lines file through Kinesis and the rules engine",
        description="Each line (a DMS envelope or a plain transaction) goes through Kinesis, the local "
                    "poller and the rules Lambda handler; each alert raised is printed as one JSON line "
                    "on stdout. Invalid lines end in the dead-letter queue.")
    replay.add_argument("file", type=Path, metavar="FILE.jsonl")
    replay.add_argument("--env", default="local", help="environment name of the local resources (default: local)")
    replay.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                        help=f"records per handler invocation (default: {DEFAULT_BATCH_SIZE})")
    replay.set_defaults(func=_replay)


def _replay(args: argparse.Namespace) -> int:
    from aml.stream.replay import replay

    result = replay(args.file, env_name=args.env, batch_size=args.batch_size)
    for alert in result.alerts:
        print(json.dumps(alert, sort_keys=True), flush=True)
    s = result.stats
    log.info("replayed %d records in %d batches (%d redeliveries, %d handler errors): %d new alerts",
             result.sent, s.batches, s.redeliveries, s.handler_errors, len(result.alerts))
    if s.abandoned:
        log.error("records given up on after repeated failures: %s", ", ".join(s.abandoned))
        return 1
    return 0
