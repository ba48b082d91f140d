"""`aml pipeline run-local`: the daily pipeline's state machine, as synthesized into cdk.out, run
end to end on the local stand-ins (aml/pipeline/run.py)."""
from __future__ import annotations

import argparse
import json
import logging
from datetime import date
from pathlib import Path

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


def register(subparsers: argparse._SubParsersAction) -> None:
    pipeline = subparsers.add_parser("pipeline", help="the daily pipeline (Step Functions state machine)")
    sub = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="SUBCOMMAND")
    run = sub.add_parser(
        "run-local", help="run the synthesized state machine end to end on the local stand-ins",
        description="Runs the daily pipeline's definition from cdk.out (synthesized first when missing) "
                    "with aws-local-stepfunctions: the Lambda steps in process, the Glue job on local Spark, "
                    "the scenario queries on DuckDB, SNS on the emulator. Prints the execution's status and "
                    "output; exits 1 when it fails.")
    run.add_argument("--date", type=_date, required=True, help="the run date, YYYY-MM-DD")
    run.add_argument("--lookback-days", type=_positive, default=daily_pipeline.DEFAULT_LOOKBACK_DAYS,
                     help=f"days the scenario queries read (default: {daily_pipeline.DEFAULT_LOOKBACK_DAYS})")
    run.add_argument("--env", default="local", help="environment name of the local resources (default: local)")
    run.add_argument("--cdk-out", type=Path, help="cloud assembly to read (default: .local/cdk.out)")
    run.set_defaults(func=_run_local)


def _definition(cdk_out: Path, env_name: str) -> dict:
    from aml.infra.deploy import synth
    from aml.pipeline.definition import load_definition

    def synthesize() -> None:
        log.info("synthesizing the CDK app into %s", cdk_out)
        synth(cdk_out, {"aml:local": "true", "aml:env_name": env_name,
                        "aml:curated_database": f"aml_curated_{env_name}"})

    if not any(cdk_out.glob("*.template.json")):
        synthesize()
    name = names.name_of(env_name, "daily_pipeline")
    for attempt in (1, 2):
        try:
            return load_definition(cdk_out, name)
        except AmlError:
            if attempt == 1:  # an assembly of another environment, or from before the pipeline stack
                synthesize()
    return load_definition(cdk_out)  # a state machine without a StateMachineName: the only one


def _run_local(args: argparse.Namespace) -> int:
    from aml.local import resources, services
    from aml.pipeline.run import run_local

    res = resources.existing(args.env)
    work_dir = services.LOCAL_DIR / "pipeline" / args.env
    runs = work_dir / "executions"
    runs.mkdir(parents=True, exist_ok=True)
    name = daily_pipeline.rerun_name(args.date, [p.stem for p in runs.glob("*.json")])
    definition = _definition(args.cdk_out or services.LOCAL_DIR / "cdk.out", args.env)
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
