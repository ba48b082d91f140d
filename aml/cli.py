"""`aml`: the project's command line. Each feature module registers its own sub-commands."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from aml.errors import AmlError

# Modules exposing register(subparsers); each adds one top-level sub-command.
COMMAND_MODULES = [
    "aml.local.cli",
    "aml.infra.cli",
    "aml.generate.cli",
    "aml.stream.cli",
    "aml.replicate.cli",
    "aml.query.cli",
    "aml.demo.cli",
    "aml.reconcile.cli",
    "aml.evaluate.cli",
    "aml.reference.cli",
    "aml.pipeline.cli",
    "aml.report.cli",
]


class _Parser(argparse.ArgumentParser):
    """argparse's refusals (a missing or unknown argument, a value its type refuses) in the form of
    every other bad input: one `aml: error:` line saying how to go on, exit 2. Sub-command parsers
    are made of the same class (add_subparsers' default parser_class)."""

    def error(self, message: str):
        self.exit(2, f"aml: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="aml", description="AML transaction monitoring: local runtime and tools")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("botocore", "boto3", "urllib3", "py4j", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except AmlError as err:
        print(f"aml: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("aml: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
