"""`aml reconcile`: live source keys against the curated zone; exit 1 when they disagree."""
from __future__ import annotations

import json
import os
from pathlib import Path

from aml.errors import AmlError


def _key(env_name: str) -> bytes:
    """The pseudonymisation key the curated zone was written with: AML_PSEUDONYMIZATION_KEY when
    set, else the local environment's own secret (what `make demo`'s Glue job read)."""
    from aml.local import resources
    from aml_contract.pseudonym import KEY_ENV, key_from_env

    if os.environ.get(KEY_ENV):
        return key_from_env()
    return resources.pseudonymization_key(resources.existing(env_name))


def _run(args) -> int:
    from aml.local.services import Postgres
    from aml.reconcile import reconcile

    curated = Path(args.data_dir)
    if not curated.is_dir():
        raise AmlError(f"no curated zone at {curated}", "pass the folder the Glue job wrote (--data-dir)")
    report = reconcile(args.db_url or Postgres().url(), curated,
                       Path(args.quarantine_dir) if args.quarantine_dir else None, _key(args.env))
    print(json.dumps(report.as_dict(), indent=2))
    return 0 if report.clean else 1


def register(sub) -> None:
    p = sub.add_parser("reconcile", help="compare the source's live keys with the curated zone (exit 1 on a "
                                         "difference: a lost key change or delete)")
    p.add_argument("--data-dir", required=True, help="the curated zone (one folder per table)")
    p.add_argument("--quarantine-dir", help="the quarantine the job wrote (refused rows count as accounted for)")
    p.add_argument("--db-url", help="source PostgreSQL URL (default: the local server's core_banking)")
    p.add_argument("--env", default="local", help="the local environment whose pseudonymisation key the zone was "
                                                  "written with, unless AML_PSEUDONYMIZATION_KEY is set (default: local)")
    p.set_defaults(func=_run)
