"""`aml stream ...` sub-commands."""
from __future__ import annotations

import argparse
import json
import logging
import shlex
from pathlib import Path

from aml.local import aws
from aml.stream.poller import DEFAULT_BATCH_SIZE

log = logging.getLogger(__name__)
# A Kinesis event source mapping takes 1 to 10,000 records per batch
# (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html, BatchSize).
MAX_BATCH_SIZE = 10_000


def batch_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"{text!r} is not a batch size: a Kinesis event source mapping "
                                         f"takes 1 to {MAX_BATCH_SIZE:,} records")
    return value


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
    replay.add_argument("--batch-size", type=batch_size, default=DEFAULT_BATCH_SIZE,
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
    if result.dead_lettered:
        log.warning("%d of %d records were dead-lettered (poison: not a valid record). Each message of the "
                    "queue holds the reason and the record: %s", result.dead_lettered, result.sent,
                    _read_queue_command(result.dlq_url))
    if s.abandoned:
        log.error("records given up on after repeated failures: %s", ", ".join(s.abandoned))
        return 1
    return 1 if result.sent and result.dead_lettered >= result.sent else 0


def _read_queue_command(queue_url: str) -> str:
    """An AWS CLI command that reads the queue on the emulator as printed, in any shell: the
    emulator's endpoint, region and dummy credentials spelled out (none is needed in the shell)."""
    env = aws.local_env()
    return shlex.join([f"AWS_ACCESS_KEY_ID={env['AWS_ACCESS_KEY_ID']}",
                       f"AWS_SECRET_ACCESS_KEY={env['AWS_SECRET_ACCESS_KEY']}", "aws", "sqs", "receive-message",
                       "--queue-url", queue_url, "--max-number-of-messages", "10",
                       "--endpoint-url", env["AWS_ENDPOINT_URL"], "--region", env["AWS_REGION"]])
