"""Publish the reference datasets: to S3 (the deployed bucket, or the local moto one) or a folder.

`cdk deploy` publishes the same objects with a BucketDeployment (stacks); this is the path for
the local runtime and for a refresh between deployments (`aml reference publish`).
"""
from __future__ import annotations

from pathlib import Path

from aml.reference import build
from aml_contract import reference


def read_directory(root: str | Path) -> dict[str, bytes]:
    """The objects of a built layout (`aml reference build --out ROOT`), key -> bytes."""
    base = Path(root)
    objects = {reference.data_key(d): base / reference.data_key(d) for d in reference.DATASETS}
    objects |= {reference.manifest_key(d): base / reference.manifest_key(d) for d in reference.DATASETS}
    missing = sorted(str(p) for p in objects.values() if not p.is_file())
    if missing:
        raise reference.ReferenceDataError(f"not a built reference layout, missing {', '.join(missing)}")
    return {key: path.read_bytes() for key, path in objects.items()}


def to_s3(s3_client, bucket: str, objects: dict[str, bytes] | None = None,
          kms_key_id: str | None = None) -> dict[str, reference.Manifest]:
    """Upload every dataset, data before manifest (a reader never sees a manifest whose data is
    missing). With `kms_key_id`, each PutObject names SSE-KMS and the key: the lake's bucket
    policies deny any upload that does not (stacks/constructs.py, `DenyNonKmsEncryption`)."""
    objects = objects or build.build()
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
    for key in sorted(objects, key=lambda k: k.endswith("_manifest.json")):
        s3_client.put_object(Bucket=bucket, Key=key, Body=objects[key], **encryption)
    return reference.ReferenceData.from_s3(s3_client, bucket).manifests


def to_directory(root: str | Path) -> dict[str, reference.Manifest]:
    """Write the layout under `root` (root/reference/<dataset>/...), as the curated zone's folder."""
    return build.write(root)

