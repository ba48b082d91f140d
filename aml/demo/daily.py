"""The demo's day of batch work: the daily pipeline's state machine, as synthesized into the
emulator's cloud assembly, run end to end on the local stand-ins (aml/pipeline)."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from aml.errors import AmlError
from aml.local import services
from aml.pipeline.bindings import GLUE_START_JOB_RUN_SYNC, local_bindings
from aml.pipeline.definition import for_environment
from aml.pipeline.run import run_local
from aml_contract import daily_pipeline, glue_job, names
from glue_jobs.curation.run_manifest import run_summary


def run_day(res, work: Path, run_date: date, lookback_days: int,
            stream_caught_up: Callable[[], object] | None = None, source_database: str | None = None) -> dict:
    """One execution for `run_date` over `work` (raw/, curated/, quarantine/); its name, status,
    the states it entered and its output (plan, batch alerts, profiles loaded, report). Raises
    AmlError when it fails, with the failed step's error and cause.

    `stream_caught_up()`, when given, returns once the rules Lambda has processed the day's
    records; the states after the Glue job wait for it. On AWS the Lambda is seconds behind the
    stream and the run starts after the day is over, so the batch steps meet the day's real-time
    alerts; locally the stream is drained while the job curates. `source_database`: the local
    server's database the key reconciliation reads (default: the local services')."""
    runs = work / "executions"  # each execution's record: a rerun of the date takes the next name
    runs.mkdir(parents=True, exist_ok=True)
    name = daily_pipeline.rerun_name(run_date, [p.stem for p in runs.glob("*.json")])
    definition = for_environment(services.LOCAL_DIR / "cdk.out", res.env_name)
    bindings = local_bindings(res, work, source_database=source_database)
    if stream_caught_up is not None:
        bindings.after(GLUE_START_JOB_RUN_SYNC, stream_caught_up)
    execution = run_local(definition, {"run_date": run_date.isoformat(), "lookback_days": lookback_days},
                          bindings=bindings, work_dir=work, execution_name=name,
                          state_machine_name=names.name_of(res.env_name, "daily_pipeline"))
    if execution.status != "SUCCEEDED":
        raise AmlError(f"the daily pipeline's execution {name} {execution.status}: {execution.error}: "
                       f"{' '.join(str(execution.cause or '').split())[:800]}")
    (runs / f"{name}.json").write_text(json.dumps({"status": execution.status, "states": execution.states,
                                                   "output": execution.output}, default=str))
    output = execution.output or {}
    task_seconds: dict[str, float] = {}
    for call in execution.task_calls:  # where the run's time went, per state (the local stand-ins')
        task_seconds[call["state"]] = round(task_seconds.get(call["state"], 0) + call.get("seconds", 0), 1)
    plan = output.get(daily_pipeline.RESULT_KEYS["plan"], {})
    return {"execution": name, "status": execution.status, "states": execution.states,
            "run_date": plan.get("run_date"), "window": plan.get("window"), "raw": plan.get("raw"),
            "queries": len(output.get(daily_pipeline.RESULT_KEYS["queries"], [])),
            "batch_alerts": output.get(daily_pipeline.RESULT_KEYS["batch_alerts"]),
            "profiles": output.get(daily_pipeline.RESULT_KEYS["load_profiles"]),
            "reconciliation": output.get(daily_pipeline.RESULT_KEYS["reconcile"]),
            "report": output.get(daily_pipeline.RESULT_KEYS["report"]), "task_seconds": task_seconds}


def glue_summary(curated: Path) -> dict:
    """The headline of the Glue job's latest run (its run manifest in the job's state)."""
    runs = sorted((curated / glue_job.STATE_PREFIX / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise AmlError(f"the Glue job left no run manifest under {curated / glue_job.STATE_PREFIX / 'runs'}")
    return run_summary(json.loads(runs[-1].read_text()))
