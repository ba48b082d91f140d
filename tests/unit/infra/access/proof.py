"""The proof itself: calls -> authorisation requests -> the simulator's answers; and the grants of
each role that no allowed request used."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from infra.access.actions import Call, requests
from infra.access.simulator import Answer, simulate
from infra.access.templates import Templates

# Roles the proof does not cover, with why: they run no code of ours and no service call we
# can declare from the templates alone (their policies are AWS-managed or deploy-time only).
OUT_OF_SCOPE = {
    "network/VpcFlowLogIAMRole": "VPC Flow Logs delivery to its own log group (CDK's flow-log construct)",
    "network/CustomVpcRestrictDefaultSG": "deploy-time custom resource (closes the default security group)",
    "database/ClusterMonitoringRole": "RDS Enhanced Monitoring: AWS-managed policy only",
    "database/AWS679f53fac002430cb0da5b7982bd2287": "deploy-time custom resource (schema DDL through the Data API)",
    "data-lake/CustomCDKBucketDeployment": "deploy-time custom resource (CDK's BucketDeployment of the reference "
                                           "data; its grants are asserted in test_reference_data_stack)",
    "replication/AccountRoles": "DMS account roles: AWS-managed policies only",
    "streaming/AlertsDeliveryServiceRole": "Firehose's stream-encryption role created by the L2 (no grants of ours)",
}


def in_scope(role_name: str) -> bool:
    return not any(role_name.startswith(prefix) for prefix in OUT_OF_SCOPE)


def evaluate(templates: Templates, calls: list[Call]) -> list[Answer]:
    keys = templates.encryption_keys()
    found = [r for call in calls for r in requests(call, keys)]
    unique = list(dict.fromkeys(found))  # one answer per distinct request
    return simulate(unique, templates.roles, templates.resource_policies)


@cache
def _pattern(text: str) -> re.Pattern:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text), re.I)


def _matches(pattern: str, value: str) -> bool:
    return bool(_pattern(pattern).fullmatch(value))


@dataclass(frozen=True)
class Unused:
    """An action, or a resource, that a statement of a covered role allows and no allowed request
    of that role used (an action is used when a request of it fell on one of the statement's
    resources; a resource when a request of one of its actions fell on it)."""
    role: str
    policy: str  # where the statement is
    sid: str
    kind: str  # "action" | "resource"
    item: str


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def unused_grants(templates: Templates, answers: list[Answer]) -> list[Unused]:
    allowed: dict[str, list[tuple[str, str]]] = {}
    for a in answers:
        if a.allowed:
            allowed.setdefault(a.request.call.role, []).append((a.request.action, a.request.resource))
    unused = []
    for role in sorted(r for r in templates.roles if in_scope(r)):
        made = allowed.get(role, [])
        for policy, document in templates.roles[role].policies:
            for i, statement in enumerate(_as_list(document.get("Statement", []))):
                if statement.get("Effect") != "Allow":
                    continue
                sid = statement.get("Sid", f"#{i}")
                actions, resources = _as_list(statement["Action"]), _as_list(statement["Resource"])
                for action in actions:
                    if not any(_matches(action, a) and any(_matches(r, res) for r in resources) for a, res in made):
                        unused.append(Unused(role, policy, sid, "action", action))
                for resource in resources:
                    if not any(_matches(resource, res) and any(_matches(x, a) for x in actions) for a, res in made):
                        unused.append(Unused(role, policy, sid, "resource", resource))
    return unused
