"""Publish the reference datasets: to S3 (the deployed bucket, or the local moto one) or a folder.

`cdk deploy` publishes the same objects with a BucketDeployment (stacks); this is the path for
the local runtime and for a refresh between deployments (`aml reference publish`).
"""
from __future__ import annotations

from pathlib import Path

from aml.reference import build
from aml_contract import reference


def to_s3(s3_client, bucket: str, objects: dict[str, bytes] | None = None) -> dict[str, reference.Manifest]:
    """Upload every dataset, data before manifest (a reader never sees a manifest whose data is
    missing). The bucket's default encryption (SSE-KMS, data lake stack) applies."""
    objects = objects or build.build()
    for key in sorted(objects, key=lambda k: k.endswith("_manifest.json")):
        s3_client.put_object(Bucket=bucket, Key=key, Body=objects[key])
    return reference.ReferenceData.from_s3(s3_client, bucket).manifests


def to_directory(root: str | Path) -> dict[str, reference.Manifest]:
    """Write the layout under `root` (root/reference/<dataset>/...), as the curated zone's folder."""
    return build.write(root)


def reference_versions(manifests: dict[str, reference.Manifest]) -> dict[str, str]:
    """dataset -> version, for a run's summary."""
    return {name: m.version for name, m in sorted(manifests.items())}
