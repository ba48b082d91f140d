"""The daily pipeline's state machine definition, read from the synthesized CloudFormation
templates (cdk.out/*.template.json), and the Task resources it calls.

CDK renders `AWS::StepFunctions::StateMachine.DefinitionString` as an `Fn::Join` of literal JSON
text and tokens (`Ref`, `Fn::GetAtt`, `AWS::Partition`, `Fn::ImportValue` across stacks). They
are resolved here to local values: pseudo parameters to the emulator's region and account, a
`Ref`/`Fn::GetAtt` to the physical name the template gives the resource (its `FunctionName`,
`TopicName`, ...; a Lambda function's or a topic's ARN built from it), else a stable placeholder
`<LogicalId>` (`arn:aws:<service>:<region>:<account>:<kind>:<LogicalId>` for an Arn).
Intrinsics: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aml.errors import AmlError
from aml.local import aws

log = logging.getLogger(__name__)
STATE_MACHINE_TYPE = "AWS::StepFunctions::StateMachine"
# Resource type -> (the property naming it, the ARN service and kind of its name), for Ref/GetAtt.
_NAMED = {
    "AWS::Lambda::Function": ("FunctionName", "lambda", "function:"),
    "AWS::SNS::Topic": ("TopicName", "sns", ""),
    "AWS::Glue::Job": ("Name", "glue", "job/"),
    "AWS::S3::Bucket": ("BucketName", "s3", ""),
    "AWS::Athena::WorkGroup": ("Name", "athena", "workgroup/"),
    "AWS::DynamoDB::Table": ("TableName", "dynamodb", "table/"),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", "states", "stateMachine:"),
    "AWS::Glue::Database": ("DatabaseInput", "glue", "database/"),
}
_REF_IS_ARN = {"AWS::SNS::Topic", "AWS::StepFunctions::StateMachine"}  # Ref returns the ARN


@dataclass(frozen=True)
class Template:
    path: Path
    body: dict


def load_templates(cdk_out: Path) -> list[Template]:
    files = sorted(Path(cdk_out).glob("*.template.json"))
    if not files:
        raise AmlError(f"no CloudFormation template in {cdk_out}", "synthesize first: `aml synth`")
    return [Template(f, json.loads(f.read_text())) for f in files]


class Resolver:
    """Resolves intrinsic functions of one template to local values (exports looked up in all)."""

    def __init__(self, template: dict, exports: dict[str, object] | None = None, *,
                 region: str | None = None, account: str = aws.ACCOUNT_ID, stack_name: str = "stack"):
        self.resources: dict = template.get("Resources", {})
        self.parameters: dict = template.get("Parameters", {})
        self.exports = exports or {}
        self.region = region or aws.DEFAULT_REGION
        self.account = account
        self.pseudo = {"AWS::Partition": "aws", "AWS::Region": self.region, "AWS::AccountId": account,
                       "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": stack_name, "AWS::NoValue": None,
                       "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{account}:stack/{stack_name}/local"}

    def resolve(self, value, depth: int = 0):
        if depth > 50:
            raise AmlError("intrinsic functions nested too deep to resolve")
        if isinstance(value, list):
            return [self.resolve(v, depth + 1) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            handler = {"Ref": self._ref, "Fn::GetAtt": self._get_att, "Fn::Join": self._join, "Fn::Sub": self._sub,
                       "Fn::ImportValue": self._import, "Fn::Select": self._select}.get(key)
            if handler:
                return handler(arg, depth + 1)
        return {k: self.resolve(v, depth + 1) for k, v in value.items()}

    def _name(self, logical_id: str, depth: int) -> str | None:
        resource = self.resources.get(logical_id, {})
        prop = _NAMED.get(resource.get("Type", ""), ("",))[0]
        name = self.resolve(resource.get("Properties", {}).get(prop), depth)
        if isinstance(name, dict):  # a Glue database's DatabaseInput
            name = name.get("Name")
        return name if isinstance(name, str) else None

    def _arn(self, logical_id: str, depth: int) -> str:
        kind = self.resources.get(logical_id, {}).get("Type", "")
        _, service, prefix = _NAMED.get(kind, ("", kind.split("::")[1].lower() if "::" in kind else "unknown", ""))
        name = self._name(logical_id, depth) or logical_id
        if service == "s3":
            return f"arn:aws:s3:::{name}"
        return f"arn:aws:{service}:{self.region}:{self.account}:{prefix}{name}"

    def _ref(self, target: str, depth: int):
        if target in self.pseudo:
            return self.pseudo[target]
        if target in self.parameters:
            return self.parameters[target].get("Default", target)
        if self.resources.get(target, {}).get("Type") in _REF_IS_ARN:
            return self._arn(target, depth)
        return self._name(target, depth) or target

    def _get_att(self, arg, depth: int):
        logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        if attribute == "Arn":
            return self._arn(logical_id, depth)
        if attribute in ("Name", "TopicName"):
            return self._name(logical_id, depth) or logical_id
        return f"{logical_id}.{attribute}"

    def _join(self, arg, depth: int) -> str:
        delimiter, parts = arg
        return delimiter.join(str(p) for p in self.resolve(parts, depth) if p is not None)

    def _sub(self, arg, depth: int) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        variables = {k: self.resolve(v, depth) for k, v in variables.items()}

        def one(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return str(self._get_att(name, depth))
            return str(self._ref(name, depth))
        return re.sub(r"\$\{([^}]+)\}", one, text)

    def _import(self, arg, depth: int):
        name = self.resolve(arg, depth)
        return self.exports.get(name, f"import:{name}")

    def _select(self, arg, depth: int):
        index, items = arg
        return self.resolve(items, depth)[int(self.resolve(index, depth))]


def _stack_name(template: Template) -> str:
    return template.path.name.removesuffix(".template.json")


def exports(templates: list[Template], region: str | None = None) -> dict[str, object]:
    """Every stack's exported output: export name -> resolved value (Fn::ImportValue's source)."""
    found: dict[str, object] = {}
    for t in templates:
        resolver = Resolver(t.body, region=region, stack_name=_stack_name(t))
        for output in t.body.get("Outputs", {}).values():
            if "Export" in output:
                found[str(resolver.resolve(output["Export"]["Name"]))] = resolver.resolve(output["Value"])
    return found


def state_machine_definition(resource: dict, resolver: Resolver) -> dict:
    """The ASL of one AWS::StepFunctions::StateMachine resource: DefinitionString (text or
    intrinsics) or Definition (object), with its DefinitionSubstitutions applied."""
    props = resource.get("Properties", {})
    if "DefinitionString" in props:
        text = resolver.resolve(props["DefinitionString"])
    elif "Definition" in props:
        text = json.dumps(resolver.resolve(props["Definition"]))
    else:
        raise AmlError("the state machine has no inline definition (DefinitionS3Location is not supported locally)")
    for key, value in resolver.resolve(props.get("DefinitionSubstitutions", {})).items():
        text = text.replace("${" + key + "}", str(value))
    return json.loads(text)


def load_definition(cdk_out: Path, name: str | None = None, *, region: str | None = None) -> dict:
    """The ASL definition of the state machine in cdk.out (the one whose StateMachineName is
    `name` when given; else the only one), resolved to local values."""
    templates = load_templates(cdk_out)
    found = []
    for t in templates:
        for logical_id, resource in t.body.get("Resources", {}).items():
            if resource.get("Type") == STATE_MACHINE_TYPE:
                found.append((t, logical_id, resource))
    if name is not None:
        found = [f for f in found if Resolver(f[0].body, region=region).resolve(
            f[2].get("Properties", {}).get("StateMachineName")) == name]
    if len(found) != 1:
        listed = ", ".join(f"{t.path.name}:{lid}" for t, lid, _ in found) or "none"
        raise AmlError(f"expected one {STATE_MACHINE_TYPE}{f' named {name}' if name else ''} in {cdk_out}, "
                       f"found {listed}", "synthesize the app with the daily pipeline stack: `aml synth`")
    template, _, resource = found[0]
    resolver = Resolver(template.body, exports(templates, region), region=region, stack_name=_stack_name(template))
    return state_machine_definition(resource, resolver)


def states(definition: dict) -> Iterator[tuple[str, dict]]:
    """Every (name, state) of a definition, Map (ItemProcessor/Iterator) and Parallel branches included."""
    for name, state in definition.get("States", {}).items():
        yield name, state
        if state.get("Type") == "Map":
            inner = state.get("ItemProcessor") or state.get("Iterator")
            if inner:
                yield from states(inner)
        elif state.get("Type") == "Parallel":
            for branch in state.get("Branches", []):
                yield from states(branch)


def task_resources(definition: dict) -> dict[str, str]:
    """Task state name -> its Resource ARN, over the whole definition."""
    return {name: state["Resource"] for name, state in states(definition) if state.get("Type") == "Task"}


def for_environment(cdk_out: Path, env_name: str) -> dict:
    """The definition of aml-<env>-daily-pipeline in `cdk_out`, synthesized there first (local
    mode, as `aml deploy-local` deploys) when missing, or when the assembly is another
    environment's or older than the pipeline stack."""
    from aml.infra.deploy import local_context, synth
    from aml_contract import names

    def synthesize() -> None:
        log.info("synthesizing the CDK app into %s", cdk_out)
        synth(cdk_out, local_context(env_name))

    if not any(cdk_out.glob("*.template.json")):
        synthesize()
    name = names.name_of(env_name, "daily_pipeline")
    try:
        return load_definition(cdk_out, name)
    except AmlError:
        synthesize()
    return load_definition(cdk_out, name)
