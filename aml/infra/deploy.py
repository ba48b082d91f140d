"""Synthesize the CDK app offline, and deploy it into the local emulator (library functions of
`aml synth` and `aml deploy-local`, also used by `aml demo` and the tests).

`synth` runs the pinned CDK CLI offline: no AWS credentials, no network, output in cdk.out/.
`deploy_local` bootstraps the emulator and deploys every stack with `-c aml:local=true`
(stacks/local_mode.py lists what that leaves out).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from aml import REPO_ROOT
from aml.errors import AmlError
from aml.local import aws, resources

log = logging.getLogger(__name__)
CDK_BIN = REPO_ROOT / "node_modules" / ".bin" / "cdk"
VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"


def _cdk() -> Path:
    if not CDK_BIN.exists():
        raise AmlError(f"the CDK CLI is not installed at {CDK_BIN}", "run `make setup` (npm ci)")
    return CDK_BIN


def _node_major() -> str:
    """The major version of the `node` on PATH ("20"), "" when there is none."""
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    return out.strip().lstrip("v").split(".")[0]


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    # jsii's banners about the Node version (README "Node.js"): deprecated takes any value, end of
    # life only the major versions it lists (jsii's check-node reads a comma-separated list).
    env["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] = "1"
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = _node_major()
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    # The app runs with the project's interpreter whatever `python` is on PATH.
    env["PATH"] = f"{VENV_PYTHON.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def offline_env() -> dict[str, str]:
    """No credentials reach synth: it must not (and cannot) call AWS."""
    env = _base_env()
    for key in list(env):
        if key.startswith("AWS_") and key not in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            env.pop(key)
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    log.info("running %s", " ".join(args))
    proc = subprocess.run(args, cwd=REPO_ROOT, env=env)
    if proc.returncode != 0:
        raise AmlError(f"`{' '.join(args[:3])} ...` failed with exit code {proc.returncode}",
                       exit_code=proc.returncode)


def local_context(env_name: str) -> dict[str, str]:
    """The CDK context of an environment deployed into the emulator (`deploy_local`, and the
    daily pipeline's definition synthesized for a local run)."""
    return {"aml:local": "true", "aml:env_name": env_name, "aml:curated_database": f"aml_curated_{env_name}"}


def _context_args(context: dict[str, str]) -> list[str]:
    return [arg for key, value in context.items() for arg in ("--context", f"{key}={value}")]


def synth(output: Path, context: dict[str, str] | None = None, env: dict[str, str] | None = None) -> Path:
    """The cloud assembly in `output`; offline (no credentials) unless `env` is given."""
    # No --all: synth takes every stack and warns of an unknown option (--all is deploy's).
    args = [str(_cdk()), "synth", "--quiet", "--output", str(output), "--no-notices",
            "--app", f"{VENV_PYTHON} app.py", *_context_args(context or {})]
    _run(args, env or offline_env())
    return output


def _emulator_reachable() -> None:
    host, port = aws.endpoint_host_port()
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as err:
        raise AmlError(f"the AWS emulator at {aws.endpoint_url()} is not reachable ({err.__class__.__name__})",
                       "start it with `aml local up`") from err


def deploy_local(env_name: str, output: Path) -> None:
    resources.check_env_name(env_name)
    _emulator_reachable()
    env = {**_base_env(), **aws.local_env()}
    account, region = aws.account_id(), env["AWS_DEFAULT_REGION"]
    context = {**local_context(env_name),
               "aml:replication.account_roles_exist": json.dumps(_dms_account_roles_exist())}
    # Synthesized once: bootstrap and deploy read the cloud assembly (`--app` names a directory)
    # instead of running the app again each (each synthesis takes about 25 s here).
    synth(output, context, env)
    _run([str(_cdk()), "bootstrap", f"aws://{account}/{region}", "--no-notices", "--app", str(output)], env)
    # --method=direct: CreateStack rather than a change set; moto applies a change set's resources
    # but keeps the outputs of the stack's empty first template, and discover() reads outputs.
    _run([str(_cdk()), "deploy", "--all", "--require-approval", "never", "--no-notices", "--progress", "events",
          "--method", "direct", "--app", str(output)], env)
    # What the emulator cannot deploy, by the names the stacks output: the reference data (the
    # BucketDeployment is left out locally, stacks/local_mode.py) and the unmodelled resources.
    resources.ensure(env_name)


def deploy_local_once(env_name: str, output: Path,
                      deploying: Callable[[], AbstractContextManager] = nullcontext) -> str | None:
    """Deploy as `deploy_local` does unless `env_name`'s stacks are in the emulator already (later
    runs reuse them); `deploying()` wraps the deploy itself (the demo times it as a stage). Returns
    a note instead of deploying when resources of `env_name` were created by name earlier (e.g. by
    `aml stream replay`): a deploy would collide with them, so they are used as they are."""
    if resources.discover(env_name) is not None:
        return None
    if resources.created_by_name(env_name):
        note = f"resources of {env_name!r} were created by name earlier; using them"
        log.warning(note)
        return note
    with deploying():
        deploy_local(env_name, output)
    return None


def _dms_account_roles_exist() -> bool:
    """The DMS roles are account-wide: the first environment deployed creates them, later ones
    must not (CreateRole would fail on the existing name)."""
    iam = aws.client("iam")
    try:
        iam.get_role(RoleName="dms-vpc-role")
    except iam.exceptions.NoSuchEntityException:
        return False
    return True
