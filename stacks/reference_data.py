"""The reference datasets (aml_contract.reference) published by `cdk deploy`: built at synth time
by the app (app.py, from their pinned sources with aml.reference.build: deterministic bytes, so an
unchanged source makes no new asset and no redeployment; the stacks only receive the folder) and
copied into the curated bucket's reference/ prefix by a BucketDeployment, which needs no Docker
(it runs the AWS CLI layer shipped with aws-cdk-lib).

https://docs.aws.amazon.com/cdk/api/v2/python/aws_cdk.aws_s3_deployment/README.html
"""
from __future__ import annotations

from pathlib import Path

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from aml_contract import reference

# The deployment prunes this prefix: the datasets the Glue job derives (statistics/) lie outside it
# (tested), or a deployment would delete them.
DESTINATION_PREFIX = f"{reference.PREFIX}/"
# The data key, as the deployment's `aws s3 sync` uses it: an SSE-KMS upload needs GenerateDataKey,
# a multipart one (objects above the CLI's 8 MB threshold) also Decrypt; the sync compares by
# listing, and reads no object of the bucket
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions).
KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
MEMORY_MB = 512  # the CLI's sync holds the FX table (a few MB) while it uploads


class ReferenceDeployment(Construct):
    """Syncs the built folder into s3://<curated>/reference/: prune deletes only objects under
    that prefix that the build no longer holds; the objects stay when the stack is deleted.

    The deployment's own grant is narrowed: the bucket is handed over without its key (CDK's
    grant_read_write would add every key action), and the role gets KEY_ACTIONS on the data key,
    through S3 only."""

    def __init__(self, scope: Construct, id: str, *, folder: Path, bucket: s3.Bucket, bucket_name: str,
                 key: kms.IKey) -> None:
        super().__init__(scope, id)
        missing = [d for d in reference.DATASETS if not (folder / d / f"{d}.jsonl.gz").is_file()]
        if missing:
            raise ValueError(f"{folder} is no built reference layout (lacks {', '.join(missing)})")
        self.folder = folder
        # Named literally (stacks/data_lake.py bucket_name), as every other grant on the lake is.
        destination = s3.Bucket.from_bucket_name(self, "Destination", bucket_name)
        self.deployment = s3deploy.BucketDeployment(
            self, "Deployment", sources=[s3deploy.Source.asset(str(self.folder))],
            destination_bucket=destination, destination_key_prefix=DESTINATION_PREFIX,
            prune=True, retain_on_delete=True, output_object_keys=False,
            # The bucket policy denies an upload that does not ask for SSE-KMS under the data key
            # (stacks/constructs.py SecureBucket): `aws s3 sync --sse aws:kms --sse-kms-key-id <arn>`.
            server_side_encryption=s3deploy.ServerSideEncryption.AWS_KMS,
            server_side_encryption_aws_kms_key_id=key.key_arn,
            memory_limit=MEMORY_MB)
        self.deployment.node.add_dependency(bucket)
        role = self.deployment.handler_role
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="DataKeyViaS3", actions=list(KEY_ACTIONS), resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}}))
        # CDK grants the handler read/write on the whole destination bucket: no write outside
        # reference/ (the curated tables, the job's state, the alerts) can come from it.
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="DenyWritesOutsideReference", effect=iam.Effect.DENY,
            actions=["s3:PutObject*", "s3:DeleteObject*", "s3:Abort*"],
            not_resources=[destination.arn_for_objects(f"{DESTINATION_PREFIX}*")]))
