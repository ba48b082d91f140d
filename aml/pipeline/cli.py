"""`aml pipeline run-local`: the daily pipeline's state machine, as synthesized into cdk.out, run
end to end on the local stand-ins (aml/pipeline/run.py)."""
from __future__ import annotations

import argparse
import json
import logging
from datetime import date
from pathlib import Path

from aml import aws_account
from aml.errors import AmlError
from aml_contract import daily_pipeline, names

log = logging.getLogger(__name__)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of days")
    return int(text)


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    """What an execution's input holds: the run date and the queries' look-back."""
    parser.add_argument("--date", type=_date, required=True, help="the run date, YYYY-MM-DD")
    parser.add_argument("--lookback-days", type=_positive, default=daily_pipeline.DEFAULT_LOOKBACK_DAYS,
                        help=f"days the scenario queries read (default: {daily_pipeline.DEFAULT_LOOKBACK_DAYS})")


def register(subparsers: argparse._SubParsersAction) -> None:
    pipeline = subparsers.add_parser("pipeline", help="the daily pipeline (Step Functions state machine)")
    sub = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="SUBCOMMAND")
    run = sub.add_parser(
        "run-local", help="run the synthesized state machine end to end on the local stand-ins",
        description="Runs the daily pipeline's definition from cdk.out (synthesized first when missing) "
                    "with aws-local-stepfunctions: the Lambda steps in process, the Glue job on local Spark, "
                    "the scenario queries on DuckDB, SNS on the emulator. Prints the execution's status and "
                    "output; exits 1 when it fails.")
    _run_arguments(run)
    run.add_argument("--env", default="local", help="environment name of the local resources (default: local)")
    run.add_argument("--cdk-out", type=Path, help="cloud assembly to read (default: .local/cdk.out)")
    run.set_defaults(func=_run_local)
    start = sub.add_parser(
        "start", help="start the deployed state machine for a date (an on-demand run or rerun)",
        description="Starts aml-<env>-daily-pipeline on AWS (the credentials and region of the environment) "
                    "under the name <date>-r<N>: Step Functions refuses a closed execution's name for 90 "
                    "days, and a rerun is safe (deterministic alert ids, overwritten outputs).")
    _run_arguments(start)
    start.add_argument("--env", default="dev", help="the deployed environment's name (default: dev)")
    start.set_defaults(func=_start)


def _run_local(args: argparse.Namespace) -> int:
    from aml.local import resources, services
    from aml.pipeline.definition import for_environment
    from aml.pipeline.run import run_local

    res = resources.existing(args.env)
    work_dir = services.LOCAL_DIR / "pipeline" / args.env
    runs = work_dir / "executions"
    runs.mkdir(parents=True, exist_ok=True)
    name = daily_pipeline.rerun_name(args.date, [p.stem for p in runs.glob("*.json")])
    definition = for_environment(args.cdk_out or services.LOCAL_DIR / "cdk.out", args.env)
    execution = run_local(definition, {"run_date": args.date.isoformat(), "lookback_days": args.lookback_days},
                          resources=res, work_dir=work_dir, execution_name=name,
                          state_machine_name=names.name_of(args.env, "daily_pipeline"))
    record = {"name": name, "status": execution.status, "output": execution.output, "error": execution.error,
              "cause": execution.cause, "states": execution.states}
    (runs / f"{name}.json").write_text(json.dumps(record, indent=2, default=str))
    print(json.dumps({"execution": name, "status": execution.status, "output": execution.output}, indent=2,
                     default=str))
    if execution.status != "SUCCEEDED":
        cause = " ".join(str(execution.cause or "").split())
        failed = [c for c in execution.task_calls if "error" in c]
        last = (f" (last failed task {failed[-1]['state']}: {failed[-1]['error']}: "
                f"{' '.join(str(failed[-1]['cause']).split())[:500]})" if failed else "")
        raise AmlError(f"execution {name} {execution.status}: {execution.error}: {cause}{last}", exit_code=1)
    return 0


def start_execution(sfn, state_machine_arn: str, run_date: date, lookback_days: int) -> dict:
    """StartExecution named `<date>-r<N>`, N after the date's existing executions (ListExecutions)."""
    existing = [e["name"] for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn)
                for e in page["executions"]]
    name = daily_pipeline.rerun_name(run_date, existing)
    started = sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(
        {"run_date": run_date.isoformat(), "lookback_days": lookback_days}))
    return {"name": name, "executionArn": started["executionArn"]}


def _start(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        names.check_env_name(args.env)
    except ValueError as err:
        raise AmlError(str(err)) from None
    sfn = aws_account.session("aml pipeline start").client("stepfunctions")
    name = names.name_of(args.env, "daily_pipeline")
    try:
        arn = next((m["stateMachineArn"] for page in sfn.get_paginator("list_state_machines").paginate()
                    for m in page["stateMachines"] if m["name"] == name), None)
        if arn is None:
            raise AmlError(f"no state machine {name} in this account and region",
                           "deploy the app (cdk deploy) or pass the environment's --env")
        print(json.dumps(start_execution(sfn, arn, args.date, args.lookback_days), indent=2))
    except (BotoCoreError, ClientError) as err:
        raise AmlError(f"could not start {name}: {err}", "check the credentials and region") from err
    return 0
