"""`aml query list | show NAME | run NAME --param k=v ...`: the analyst's view of the named queries."""
from __future__ import annotations

import argparse
import sys

from aml.query import catalog, output
from aml.query.run import DATA_DIR_ENV, execute


def register(subparsers) -> None:
    parser = subparsers.add_parser("query", help="list, show and run the Athena named queries (AML scenarios)")
    sub = parser.add_subparsers(dest="query_command", required=True, metavar="ACTION")
    sub.add_parser("list", help="every named query with its parameters").set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="the rendered SQL of one query (thresholds filled in)")
    show.add_argument("name")
    show.add_argument("--engine", choices=("athena", "local"), default="athena",
                      help="athena: the Trino text registered as the named query; local: its DuckDB transpilation")
    show.set_defaults(func=cmd_show)
    run = sub.add_parser("run", help="run one query over a date window")
    run.add_argument("name")
    run.add_argument("--param", action="append", metavar="NAME=VALUE", help="e.g. start_date=2025-01-31 (repeat)")
    run.add_argument("--account", metavar="PID",
                     help="only the rows about this account (its pseudonym, a subject_account_pid value)")
    run.add_argument("--engine", choices=("local", "athena"), default="local")
    run.add_argument("--data-dir", help=f"curated data for --engine local (default ${DATA_DIR_ENV}, else .local/curated, "
                          "else the demo's out/demo/work/curated)")
    run.add_argument("--env", help="--engine athena: the deployed environment (env_name setting, default dev), "
                     "whose workgroup aml-<env>-analysts runs the query")
    run.add_argument("--workgroup", help="--engine athena: another Athena workgroup than the environment's")
    run.add_argument("--database", help="--engine athena: the curated Glue database (curated_database setting, "
                     "default aml_curated)")
    run.add_argument("--output", choices=output.FORMATS,
                     help="default: the --out file's suffix (.csv, .json, .jsonl, .parquet), else a table on the terminal")
    run.add_argument("--out", help="write the rows to this file, creating its folder (required for parquet)")
    run.set_defaults(func=cmd_run)


def cmd_list(args: argparse.Namespace) -> int:
    for q in catalog.queries().values():
        print(f"{q.name:<26} {', '.join(q.parameter_names):<40} {q.description}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    query = catalog.get(args.name)
    if args.engine == "local":
        from aml.query.local import transpile

        print(transpile(query.sql))
    else:
        print(query.sql, end="" if query.sql.endswith("\n") else "\n")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    fmt = output.resolve(args.output, args.out)
    result = execute(args.name, catalog.parse_assignments(args.param), args.engine, args.data_dir, args.workgroup,
                     args.account, env_name=args.env, database=args.database)
    output.write(result.frame, fmt, path=args.out)
    print(result.summary(), file=sys.stderr)
    return 0
