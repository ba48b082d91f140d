"""Answer authorisation requests with @cloud-copilot/iam-simulate (pinned in package.json), run by
simulate.mjs under Node: each request against its role's identity policies and the policy of the
resource it names, if the templates give that resource one."""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from infra.access.actions import Request
from infra.access.templates import ACCOUNT, PARTITION, Role

SCRIPT = Path(__file__).with_name("simulate.mjs")
REPO_ROOT = Path(__file__).resolve().parents[4]


@dataclass(frozen=True)
class Answer:
    request: Request
    decision: str  # Allowed | ImplicitlyDenied | ExplicitlyDenied | Error
    errors: object

    @property
    def allowed(self) -> bool:
        return self.decision == "Allowed"


def policy_owner(resource: str, resource_policies: dict[str, dict]) -> str | None:
    """The ARN whose resource policy governs `resource`: an object's bucket, or itself."""
    candidates = [resource]
    if resource.startswith(f"arn:{PARTITION}:s3:::"):
        candidates.append(resource.split("/", 1)[0])
    return next((c for c in candidates if c in resource_policies), None)


def simulate(requests: list[Request], roles: dict[str, Role], resource_policies: dict[str, dict]) -> list[Answer]:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH: the access proof needs Node.js (see README prerequisites)")
    if not (REPO_ROOT / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        raise RuntimeError("@cloud-copilot/iam-simulate is not installed: run `make setup` (npm ci)")
    used_roles = {r.call.role for r in requests}
    payload = {
        "roles": {name: [{"name": f"p{i}", "policy": doc} for i, (_, doc) in enumerate(roles[name].policies)]
                  for name in used_roles},
        "resourcePolicies": resource_policies,
        "requests": [{
            "role": r.call.role, "principal": roles[r.call.role].arn, "action": r.action, "resource": r.resource,
            "accountId": ACCOUNT, "policyOf": policy_owner(r.resource, resource_policies),
            "context": {k: [v] if k == "aws:CalledVia" else v for k, v in r.context},
        } for r in requests],
    }
    proc = subprocess.run([node, str(SCRIPT)], input=json.dumps(payload), capture_output=True, text=True,
                          cwd=REPO_ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"iam-simulate failed: {proc.stderr[-2000:]}")
    answers = json.loads(proc.stdout)
    return [Answer(r, a["decision"], a["errors"]) for r, a in zip(requests, answers, strict=True)]
