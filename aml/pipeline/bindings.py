"""Local bindings of the state machine's Task resources: each Task's Resource ARN (any partition)
-> a function of the task's effective input (after InputPath and Parameters) that returns what
the real service integration returns, or raises TaskError (the state's error name and cause, as
Retry and Catch see them).

| Resource                                   | stand-in                       | result                         |
|--------------------------------------------|--------------------------------|--------------------------------|
| arn:<p>:states:::lambda:invoke             | the handler, in process        | Lambda Invoke: Payload, ...    |
| arn:<p>:states:::glue:startJobRun.sync     | the Glue script on local Spark | GetJobRun's JobRun             |
| arn:<p>:states:::athena:startQueryExecution.sync | DuckDB (aml.query.local) | GetQueryExecution's response   |
| arn:<p>:states:::sns:publish               | SNS Publish on the emulator    | Publish: MessageId, ...        |
(glue_binding.py and athena_binding.py hold the Glue and Athena ones.)
"""
from __future__ import annotations

import importlib
import json
import os
import re
import sys
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from aml.errors import AmlError
from aml.local import aws
from aml_contract import daily_pipeline, names

Binding = Callable[[dict], object]

# Partition-agnostic patterns of the optimized integrations the daily pipeline uses.
LAMBDA_INVOKE = re.compile(r"^arn:aws[a-z-]*:states:::lambda:invoke$")
GLUE_START_JOB_RUN_SYNC = re.compile(r"^arn:aws[a-z-]*:states:::glue:startJobRun\.sync$")
ATHENA_START_QUERY_SYNC = re.compile(r"^arn:aws[a-z-]*:states:::athena:startQueryExecution\.sync$")
SNS_PUBLISH = re.compile(r"^arn:aws[a-z-]*:states:::sns:publish$")


class TaskError(Exception):
    """A task failure as the state machine sees it: `error` (what Retry/Catch ErrorEquals match)
    and `cause` (the Catch output's Cause)."""

    def __init__(self, error: str, cause: str):
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


class UnboundTaskError(AmlError):
    """Task resources of the definition with no local binding (raised before the execution starts)."""

    def __init__(self, unbound: dict[str, str]):
        listed = ", ".join(f"{state} ({resource})" for state, resource in sorted(unbound.items()))
        super().__init__(f"no local binding for the Task resource(s) of: {listed}",
                         "bind each one in aml/pipeline/bindings.py (local_bindings)")
        self.unbound = unbound


@dataclass
class Bindings:
    """Resource pattern -> binding, first match wins."""

    table: list[tuple[re.Pattern, Binding]] = field(default_factory=list)

    def add(self, pattern: str | re.Pattern, binding: Binding) -> Bindings:
        self.table.append((re.compile(pattern) if isinstance(pattern, str) else pattern, binding))
        return self

    def find(self, resource: str) -> Binding | None:
        return next((b for pattern, b in self.table if pattern.match(resource)), None)

    def after(self, pattern: re.Pattern, hook: Callable[[], object]) -> Bindings:
        """The binding registered under `pattern`, then `hook()`, before its output returns: the
        next state starts once the hook has returned (the demo: once the stream is drained)."""
        def followed(binding: Binding) -> Binding:
            def call(task_input: dict) -> dict:
                output = binding(task_input)
                hook()
                return output
            return call
        if not any(p is pattern for p, _ in self.table):
            raise ValueError(f"no binding is registered under {pattern.pattern}")
        self.table = [(p, followed(b) if p is pattern else b) for p, b in self.table]
        return self

    def unbound(self, tasks: dict[str, str]) -> dict[str, str]:
        """state -> resource for every task without a binding."""
        return {state: resource for state, resource in tasks.items() if self.find(resource) is None}


# ---- Lambda ---------------------------------------------------------------------------------
@dataclass
class LambdaContext:
    """The parts of the Lambda context object handlers use
    (https://docs.aws.amazon.com/lambda/latest/dg/python-context.html)."""

    function_name: str
    aws_request_id: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def function_name(value: str) -> str:
    """FunctionName as the Invoke API takes it (name, name:qualifier, full or partial ARN) -> name."""
    if ":function:" in value:
        value = value.split(":function:", 1)[1]
    elif value.count(":") >= 2:  # partial ARN 123456789012:function:name
        value = value.split(":")[2]
    return value.split(":", 1)[0]


def _load(target: str | Callable) -> Callable:
    """A handler given as a callable or "package.module.function" (or "module:function")."""
    if callable(target):
        return target
    module, _, func = target.rpartition(":") if ":" in target else target.rpartition(".")
    return getattr(importlib.import_module(module), func)


def _logs_to_stderr(handler: Callable) -> None:
    """The function's Powertools logger writes to stdout, as on Lambda (CloudWatch takes both);
    locally stdout is the command's own output, so its log lines go to stderr."""
    logger = getattr(sys.modules.get(getattr(handler, "__module__", "")), "logger", None)
    registered = getattr(logger, "registered_handler", None)
    if registered is not None and hasattr(registered, "setStream"):
        registered.setStream(sys.stderr)


def lambda_invoke_binding(env_name: str, environment: dict[str, str],
                          handlers: dict[str, str | Callable] | None = None) -> Binding:
    """`lambda:invoke` -> the pipeline handler of the named function, in process, with the
    function's environment (FUNCTION_ENV). The result is the Invoke response as the optimized
    integration returns it (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
    {"ExecutedVersion": "$LATEST", "Payload": <handler's return>, "StatusCode": 200,
     "SdkHttpMetadata": {"HttpStatusCode": 200, ...}, "SdkResponseMetadata": {"RequestId"}}.
    A handler's exception is the state's error named like Lambda's errorType (the exception's
    class name), cause {"errorMessage", "errorType", "requestId", "stackTrace"} as JSON
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)."""
    table = handlers if handlers is not None else daily_pipeline.HANDLERS
    by_name = {names.name_of(env_name, daily_pipeline.FUNCTIONS[step]): step for step in daily_pipeline.FUNCTIONS}

    def invoke(task_input: dict) -> dict:
        name = function_name(str(task_input.get("FunctionName", "")))
        step = by_name.get(name)
        if step is None or step not in table:
            raise TaskError("Lambda.ResourceNotFoundException", f"Function not found: {name} (local functions: "
                            f"{', '.join(sorted(by_name))})")
        request_id = str(uuid.uuid4())
        context = LambdaContext(name, request_id, invoked_function_arn=(
            f"arn:aws:lambda:{aws.DEFAULT_REGION}:{aws.ACCOUNT_ID}:function:{name}"))
        # the module is loaded in the function's environment: Powertools reads its service then
        with mock.patch.dict(os.environ, {**aws.local_env(), **environment, "AWS_LAMBDA_FUNCTION_NAME": name}):
            try:
                handler = _load(table[step])
            except (ImportError, AttributeError) as err:  # Lambda's name for a handler it cannot load
                raise TaskError("Runtime.ImportModuleError", json.dumps({
                    "errorMessage": f"Unable to import module {table[step]!r}: {err}",
                    "errorType": "Runtime.ImportModuleError", "requestId": request_id})) from err
            _logs_to_stderr(handler)
            try:
                result = handler(task_input.get("Payload", {}), context)
                payload = json.loads(json.dumps(result))
            except Exception as err:  # noqa: BLE001 (the function's error, as Lambda reports it)
                kind = type(err).__name__
                raise TaskError(kind, json.dumps({
                    "errorMessage": str(err), "errorType": kind, "requestId": request_id,
                    "stackTrace": traceback.format_tb(err.__traceback__)})) from err
        return {"ExecutedVersion": "$LATEST", "Payload": payload, "StatusCode": 200,
                "SdkHttpMetadata": {"HttpStatusCode": 200, "HttpHeaders": {"x-amzn-RequestId": request_id}},
                "SdkResponseMetadata": {"RequestId": request_id}}
    return invoke


def function_environment(res, source_database: str | None = None) -> dict[str, str]:
    """The pipeline functions' environment as the pipeline stack sets it (resources from
    LocalResources, Powertools, the settings from cdk.json), X-Ray off (no daemon here), with the
    reconciliation function's own variables: the local server's `source_database` (default: the
    local services' database) as the read-only login, and the pseudonymisation secret's name."""
    from aml.local.services import PG_DATABASE, Postgres
    from stacks.function_environments import pipeline_function_environment
    from stacks.settings import Settings

    resources = {field_: getattr(res, field_) for field_ in daily_pipeline.FUNCTION_ENV}
    return {**pipeline_function_environment(Settings.from_cdk_json(), resources), "POWERTOOLS_TRACE_DISABLED": "true",
            **Postgres().source_environment(source_database or PG_DATABASE),
            daily_pipeline.PSEUDONYMIZATION_SECRET_ENV: res.pseudonymization_secret_id}


# ---- SNS ------------------------------------------------------------------------------------
def sns_publish_binding(client=None) -> Binding:
    """`sns:publish` -> SNS Publish on the emulator; returns the Publish response
    {"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
    (https://docs.aws.amazon.com/step-functions/latest/dg/connect-sns.html,
    https://docs.aws.amazon.com/sns/latest/api/API_Publish.html). A Message given as JSON is sent
    as its text, as Step Functions does. A service error is `SNS.<Code>`."""
    from botocore.exceptions import ClientError

    def publish(task_input: dict) -> dict:
        sns = client or aws.client("sns")
        params = {k: v for k, v in task_input.items() if k in (
            "TopicArn", "TargetArn", "PhoneNumber", "Message", "Subject", "MessageStructure",
            "MessageAttributes", "MessageDeduplicationId", "MessageGroupId")}
        if not isinstance(params.get("Message"), str):
            params["Message"] = json.dumps(params.get("Message"))
        try:
            response = sns.publish(**params)
        except ClientError as err:
            raise TaskError(f"SNS.{err.response['Error']['Code']}", str(err)) from err
        meta = response.get("ResponseMetadata", {})
        return {"MessageId": response["MessageId"],
                "SdkHttpMetadata": {"HttpStatusCode": meta.get("HTTPStatusCode", 200)},
                "SdkResponseMetadata": {"RequestId": meta.get("RequestId", "")}}
    return publish


# ---- all of them ----------------------------------------------------------------------------
def local_bindings(res, work_dir: Path, handlers: dict[str, str | Callable] | None = None,
                   source_database: str | None = None) -> Bindings:
    """The daily pipeline's four integrations bound to the local stand-ins of `res` (LocalResources);
    the reconciliation reads `source_database` on the local server (default: the local services')."""
    from aml.pipeline.athena_binding import athena_query_binding
    from aml.pipeline.glue_binding import CuratedZone, glue_job_binding

    zone = CuratedZone(res, Path(work_dir))
    return (Bindings()
            .add(LAMBDA_INVOKE, lambda_invoke_binding(res.env_name, function_environment(res, source_database), handlers))
            .add(GLUE_START_JOB_RUN_SYNC, glue_job_binding(res, zone))
            .add(ATHENA_START_QUERY_SYNC, athena_query_binding(res, zone))
            .add(SNS_PUBLISH, sns_publish_binding()))
