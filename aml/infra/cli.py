"""`aml synth` and `aml deploy-local` (the work is in aml/infra/deploy.py).

`aml synth` runs the pinned CDK CLI offline: no AWS credentials, no network, output in cdk.out/.
`aml deploy-local` bootstraps the emulator and deploys every stack with `-c aml:local=true`
(stacks/local_mode.py lists what that leaves out), then prints the resources the local runtime
will use, read back from the deployed stacks' outputs.
"""
from __future__ import annotations

from pathlib import Path

from aml import REPO_ROOT
from aml.errors import AmlError
from aml.infra.deploy import deploy_local, synth
from aml.local import aws


def _synth_cmd(args) -> int:
    out = synth(Path(args.output))
    templates = sorted(p.name for p in out.glob("*.template.json"))
    print(f"synthesized {len(templates)} stacks into {out}/: " + ", ".join(templates))
    return 0


def _deploy_local_cmd(args) -> int:
    from aml.local import resources

    deploy_local(args.env_name, Path(args.output))
    aws.use_local_endpoint()
    found = resources.discover(args.env_name)
    if found is None:
        raise AmlError(f"the stacks of {args.env_name!r} deployed but lack outputs the local runtime needs")
    print(resources.as_json(found))
    return 0


def register(sub) -> None:
    p = sub.add_parser("synth", help="synthesize every CDK stack offline into cdk.out/ (no AWS credentials)")
    p.add_argument("--output", default=str(REPO_ROOT / "cdk.out"), help="cloud assembly directory")
    p.set_defaults(func=_synth_cmd)
    p = sub.add_parser("deploy-local", help="bootstrap the local emulator and deploy every stack into it")
    p.add_argument("--env-name", default="local", help="environment name: stacks are aml-<env>-<concern>")
    p.add_argument("--output", default=str(REPO_ROOT / ".local" / "cdk.out.deploy"),
                   help="cloud assembly directory (kept apart from `aml synth` output)")
    p.set_defaults(func=_deploy_local_cmd)
