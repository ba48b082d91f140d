"""`aml reference`: build, publish and check the dated reference data (aml_contract.reference)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from aml.errors import AmlError


def _manifests(manifests) -> None:
    print(json.dumps({name: {"version": m.version, "rows": m.rows, "coverage": [m.coverage_start, m.coverage_end],
                             "review_by": m.review_by} for name, m in manifests.items()}, indent=2))


def _s3(args):
    """The local emulator's client with --local; otherwise the standard AWS credential chain
    (which also honours AWS_ENDPOINT_URL)."""
    if args.local:
        from aml.local import aws

        return aws.client("s3")
    import boto3

    return boto3.client("s3")


def _build(args) -> int:
    import zipfile

    from aml.reference import build
    from aml_contract.reference import ReferenceDataError

    try:
        _manifests(build.write(args.out, Path(args.ecb_zip) if args.ecb_zip else None))
    except (OSError, zipfile.BadZipFile, ReferenceDataError, ValueError) as err:
        raise AmlError(f"could not build the reference data: {err}",
                       "--out must be a writable folder; --ecb-zip the ECB's eurofxref-hist.zip") from None
    return 0


def _publish(args) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from aml.reference import publish
    from aml_contract.reference import ReferenceDataError

    if not args.local and not args.kms_key_id:
        raise AmlError("publishing to AWS needs --kms-key-id", "pass the DataKeyArn output of aml-<env>-data-lake "
                                                                "(the bucket refuses uploads without it), or --local")
    try:
        objects = publish.read_directory(args.source) if args.source else None
        _manifests(publish.to_s3(_s3(args), args.bucket, objects, kms_key_id=args.kms_key_id))
    except ReferenceDataError as err:
        raise AmlError(str(err), "run `aml reference build --out DIR` first") from None
    except (BotoCoreError, ClientError) as err:
        raise AmlError(f"could not publish to s3://{args.bucket}/: {err}",
                       "check the bucket name (CuratedBucketName output), credentials and --kms-key-id") from None
    return 0


def _check(args) -> int:
    """Exit 1 when a dataset is past its review date (the freshness check both paths log)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from aml_contract.reference import ReferenceData, ReferenceDataError

    try:
        data = ReferenceData.from_directory(args.dir) if args.dir else ReferenceData.from_s3(_s3(args), args.bucket)
        data.usd_per_unit("EUR", datetime.now(UTC).date())  # reads fx_rates too
    except (ReferenceDataError, BotoCoreError, ClientError, OSError) as err:
        raise AmlError(str(err), "run `aml reference publish` (or `build`)") from None
    _manifests(data.manifests)
    stale = data.stale(datetime.now(UTC).date())
    for problem in stale:
        print(f"stale: {problem}")
    return 1 if stale else 0


def register(sub) -> None:
    p = sub.add_parser("reference", help="dated reference data (currencies, FX rates, FATF lists)")
    s = p.add_subparsers(dest="reference_command", required=True)
    b = s.add_parser("build", help="write the datasets to a folder (OUT/reference/<dataset>/)")
    b.add_argument("--out", default="build", help="folder to write under (default: build)")
    b.add_argument("--ecb-zip", help="a newer eurofxref-hist.zip from the ECB (default: the pinned copy)")
    b.set_defaults(func=_build)
    u = s.add_parser("publish", help="upload the datasets to the curated bucket")
    u.add_argument("--bucket", required=True, help="the curated bucket (CuratedBucketName output)")
    u.add_argument("--source", help="a folder `aml reference build --out` wrote (default: build from the sources now)")
    u.add_argument("--kms-key-id", help="the data key's ARN (DataKeyArn output); required unless --local")
    u.add_argument("--local", action="store_true", help="the local emulator instead of AWS")
    u.set_defaults(func=_publish)
    c = s.add_parser("check", help="exit 1 when a dataset is past its review date")
    where = c.add_mutually_exclusive_group(required=True)
    where.add_argument("--bucket", help="the curated bucket")
    where.add_argument("--dir", help="a folder holding reference/<dataset>/")
    c.add_argument("--local", action="store_true", help="the local emulator instead of AWS")
    c.set_defaults(func=_check)
