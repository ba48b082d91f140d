"""Run a state machine definition locally: aws-local-stepfunctions (Node, scripts/run_state_machine.mjs)
walks the states; every Task it reaches is sent here and answered by the local binding of its
Resource (aml/pipeline/bindings.py).

Protocol (JSON lines): the child writes `{"id", "state", "resource", "input"}` per task on its
stdout; this side answers on its stdin `{"id", "output"}` or `{"id", "error", "cause"}` (a
TaskError: the state's error name, as Retry/Catch ErrorEquals match it, and its cause). The last
line is `{"done": true, "status", "output" | "error" + "cause", "events"}` (the library's
execution event log), or status INVALID when asl-validator rejects the definition.
"""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aml import REPO_ROOT
from aml.errors import AmlError
from aml.local import aws
from aml.pipeline.bindings import Bindings, TaskError, UnboundTaskError
from aml.pipeline.definition import task_resources

log = logging.getLogger(__name__)
SCRIPT = REPO_ROOT / "scripts" / "run_state_machine.mjs"


class DefinitionError(AmlError):
    """asl-validator rejected the definition."""


@dataclass
class Execution:
    name: str
    status: str  # SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    output: object = None
    error: str | None = None
    cause: str | None = None
    states: list[str] = field(default_factory=list)  # states entered, in order (Map iterations included)
    task_calls: list[dict] = field(default_factory=list)  # {state, resource, input, seconds, output | error + cause}
    events: list[dict] = field(default_factory=list)  # aws-local-stepfunctions' event log

    def retries(self, state: str) -> int:
        return sum(1 for e in self.events if e.get("type") == "StateRetried" and e["state"]["name"] == state)


def _node() -> str:
    node = shutil.which("node")
    if not node or not (REPO_ROOT / "node_modules" / "aws-local-stepfunctions").is_dir():
        raise AmlError("Node.js and the npm packages are needed to run a state machine locally",
                       "run `make setup` (npm ci) with Node.js 20+ on PATH")
    return node


def _start(definition: dict, work_dir: Path, args: list[str]) -> subprocess.Popen:
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / "definition.json"
    path.write_text(json.dumps(definition, indent=1))
    with open(work_dir / "state_machine.stderr", "w") as stderr:  # the child keeps its own handle
        return subprocess.Popen([_node(), str(SCRIPT), str(path), *args], cwd=REPO_ROOT, text=True, bufsize=1,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)


def _messages(proc: subprocess.Popen):
    """The child's protocol lines (a stray non-JSON line on its stdout is logged and skipped)."""
    for line in proc.stdout:
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if isinstance(message, dict):
            yield message
        else:
            log.debug("state machine runner: %s", line.rstrip())


def _final(proc: subprocess.Popen, work_dir: Path) -> dict:
    """The child's `done` line, once every earlier line is consumed."""
    for message in _messages(proc):
        if message.get("done"):
            return message
    proc.wait()
    tail = (work_dir / "state_machine.stderr").read_text(errors="replace")[-2000:]
    raise AmlError(f"the state machine runner exited ({proc.returncode}) without a result: {tail}")


def validate(definition: dict) -> list[str]:
    """asl-validator's errors for the definition (empty when valid)."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = _start(definition, Path(tmp), ["--validate-only"])
        proc.stdin.close()
        done = _final(proc, Path(tmp))
        proc.wait()
    return [] if done["status"] == "VALID" else done["cause"].splitlines()


def context_object(execution_name: str, state_machine_name: str) -> dict:
    """The Context Object's Execution and StateMachine
    (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html)."""
    prefix = f"arn:aws:states:{aws.DEFAULT_REGION}:{aws.ACCOUNT_ID}"
    machine = f"{prefix}:stateMachine:{state_machine_name}"
    return {"Execution": {"Id": f"{prefix}:execution:{state_machine_name}:{execution_name}", "Name": execution_name,
                          "RoleArn": f"arn:aws:iam::{aws.ACCOUNT_ID}:role/{state_machine_name}"},
            "StateMachine": {"Id": machine, "Name": state_machine_name}}


def _answer(bindings: Bindings, request: dict, calls: list[dict]) -> dict:
    call = {"state": request["state"], "resource": request["resource"], "input": request["input"]}
    calls.append(call)
    started = time.perf_counter()
    try:
        output = bindings.find(request["resource"])(request["input"])
    except TaskError as err:
        call.update(error=err.error, cause=err.cause)
        return {"id": request["id"], "error": err.error, "cause": err.cause}
    except Exception as err:  # noqa: BLE001 (a stand-in's own failure: the task fails, the run goes on)
        log.exception("the local binding of %s (state %s) failed", request["resource"], request["state"])
        call.update(error="States.TaskFailed", cause=f"{type(err).__name__}: {err}")
        return {"id": request["id"], "error": "States.TaskFailed", "cause": call["cause"]}
    finally:
        call["seconds"] = round(time.perf_counter() - started, 3)  # the local stand-in's time
    call["output"] = output
    return {"id": request["id"], "output": output}


def run_local(definition: dict, execution_input: dict, *, bindings: Bindings | None = None, resources=None,
              work_dir: Path, execution_name: str, retry_interval_ms: int | None = 0,
              state_machine_name: str = "local", handlers: dict | None = None) -> Execution:
    """Run one execution of `definition` with every Task bound locally. `bindings` default to
    local_bindings(resources, work_dir, handlers) (the moto/Spark/DuckDB stand-ins). Task
    resources without a binding raise UnboundTaskError before anything runs; an invalid
    definition raises DefinitionError. `retry_interval_ms` replaces every Retry's wait (None:
    the definition's IntervalSeconds/BackoffRate, slept for real). `$$.Execution.Name` is
    `execution_name`."""
    if bindings is None:
        if resources is None:
            raise ValueError("run_local needs bindings or resources")
        from aml.pipeline.bindings import local_bindings

        bindings = local_bindings(resources, work_dir, handlers)
    unbound = bindings.unbound(task_resources(definition))
    if unbound:
        raise UnboundTaskError(unbound)
    args = ["--input", json.dumps(execution_input),
            "--context", json.dumps(context_object(execution_name, state_machine_name))]
    if retry_interval_ms is not None:
        args += ["--retry-interval-ms", str(int(retry_interval_ms))]
    calls: list[dict] = []
    proc = _start(definition, Path(work_dir), args)
    try:
        for message in _messages(proc):
            if message.get("done"):
                break
            proc.stdin.write(json.dumps(_answer(bindings, message, calls)) + "\n")
            proc.stdin.flush()
        else:
            message = _final(proc, Path(work_dir))
    finally:
        proc.stdin.close()
        proc.wait()
    if message["status"] == "INVALID":
        raise DefinitionError(f"the state machine definition is invalid: {message['cause']}")
    if message["status"] == "ERROR":
        raise AmlError(f"the state machine runner failed: {message['cause']}")
    events = message.get("events", [])
    return Execution(execution_name, message["status"], message.get("output"), message.get("error"),
                     message.get("cause"), [e["state"]["name"] for e in events if e["type"] == "StateEntered"],
                     calls, events)
