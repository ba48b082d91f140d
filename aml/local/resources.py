"""The AWS resources the local runtime uses, by name.

Preferred: what `cdk deploy` created in the emulator, read from the stacks' CloudFormation
outputs (keys in aml_contract.names.STACK_OUTPUTS), so local runs exercise the resources the CDK
code defines. Otherwise every resource is created by name in the emulator (idempotent), from the
same table of names (aml_contract.names.RESOURCES) and key schemas the stacks use. Either way the
curated bucket then holds the reference data (reference/), which the rules Lambda reads from the
bucket its REFERENCE_BUCKET names.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import secrets
import time
from dataclasses import dataclass

from botocore.exceptions import ClientError, EndpointConnectionError

from aml.errors import AmlError
from aml.local import aws
from aml_contract import names

log = logging.getLogger(__name__)
STREAM_SHARDS = 2


# pylint: disable=duplicate-code
# The fields are names.RESOURCES' local entries (a test holds them equal); the rules Lambda's
# Settings name the same resources, in a layer that cannot import this one.
@dataclass(frozen=True)
class LocalResources:
    env_name: str
    raw_bucket: str
    curated_bucket: str
    athena_results_bucket: str
    stream_name: str
    rule_state_table: str
    alerts_table: str
    idempotency_table: str
    profiles_table: str
    alerts_topic_arn: str
    dlq_url: str
    alerts_delivery_stream: str
    pseudonymization_secret_id: str
    athena_workgroup: str
    glue_job_name: str
    source: str  # "cloudformation" | "created"
    # pylint: enable=duplicate-code

    @property
    def stream_arn(self) -> str:
        return aws.client("kinesis").describe_stream_summary(
            StreamName=self.stream_name)["StreamDescriptionSummary"]["StreamARN"]


def lambda_environment(res: LocalResources) -> dict[str, str]:
    """The rules Lambda's whole environment, as the streaming stack sets it: its resources,
    Powertools' service and namespace, and its settings (from cdk.json, as `cdk deploy` reads them)."""
    from stacks.function_environments import function_environment
    from stacks.settings import Settings

    return function_environment(Settings.from_cdk_json(),
                                {field: getattr(res, field) for field in names.RULES_LAMBDA_ENV})


def _unreachable(err: Exception) -> AmlError:
    return AmlError(f"the AWS emulator at {aws.endpoint_url()} is not reachable ({err.__class__.__name__})",
                    "start it with `aml local up`, or point AWS_ENDPOINT_URL at a running LocalStack")


def discover(env_name: str = "local") -> LocalResources | None:
    """Resources from deployed stacks whose outputs carry every key of names.STACK_OUTPUTS."""
    cfn = aws.client("cloudformation")
    found: dict[str, str] = {}
    try:
        for page in cfn.get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                if not stack["StackName"].startswith(f"{names.PROJECT}-{env_name}-"):
                    continue
                if stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
                    continue
                for output in stack.get("Outputs", []):
                    field = names.STACK_OUTPUTS.get(output["OutputKey"])
                    if field:
                        found[field] = output["OutputValue"]
    except EndpointConnectionError as err:
        raise _unreachable(err) from err
    if set(found) != set(names.STACK_OUTPUTS.values()):
        if found:
            missing = sorted(set(names.STACK_OUTPUTS.values()) - set(found))
            log.warning("deployed stacks for %s lack outputs %s; creating resources by name", env_name, missing)
        return None
    return LocalResources(env_name=env_name, source="cloudformation", **found)


def created_by_name(env_name: str) -> bool:
    """Whether resources of this environment were created by name (not deployed): then a deploy
    would collide with them (and a failed CreateStack leaves moto's CloudFormation unusable)."""
    kinesis = aws.client("kinesis")
    try:
        kinesis.describe_stream_summary(StreamName=names.name_of(env_name, "stream_name"))
    except kinesis.exceptions.ResourceNotFoundException:
        return False
    return True


def ensure(env_name: str = "local") -> LocalResources:
    """Deployed resources if the stacks exist, else create them by name (idempotent)."""
    aws.use_local_endpoint()
    try:
        found = discover(env_name)
        if found:
            _ensure_unmodelled(found)
        else:
            found = _create(env_name)
        ensure_reference_data(found.curated_bucket)
        return found
    except EndpointConnectionError as err:
        raise _unreachable(err) from err


def check_env_name(env_name: str) -> None:
    """One `aml: error:` line for a name no environment can have (names.ENV_NAME_RULE)."""
    try:
        names.check_env_name(env_name)
    except ValueError as err:
        raise AmlError(str(err), "an environment name is part of every resource name, S3 bucket names among them") from None


def existing(env_name: str = "local") -> LocalResources:
    """The environment's resources when it exists in the emulator (deployed, or created by name by
    `aml demo`, `aml evaluate` or a test), else one clear error. What the user-facing commands
    (`aml stream replay`, `aml replicate`, `aml query --engine athena`) use: a typo in --env must
    not create a new environment, whose by-name resources would then collide with a later deploy."""
    check_env_name(env_name)
    aws.use_local_endpoint()
    try:
        deployed = discover(env_name) is not None
        if not deployed and not created_by_name(env_name):
            raise AmlError(f"environment {env_name!r} has no resources in the emulator at {aws.endpoint_url()}",
                           f"deploy it first: `aml deploy-local --env-name {env_name}` (`make demo` deploys "
                           "`local`), or pass the --env of one that exists")
    except EndpointConnectionError as err:
        raise _unreachable(err) from err
    return ensure(env_name)


def _ensure_unmodelled(res: LocalResources) -> None:
    """moto deploys the stacks but skips resource types it does not model (Firehose delivery
    streams, Athena workgroups, Secrets Manager secrets among them); create those by the names
    the stacks output, so the local runtime finds everything it uses."""
    _ensure_delivery_stream(res.alerts_delivery_stream, res.curated_bucket)
    _ensure_secret(res.pseudonymization_secret_id)
    _ensure_workgroup(res.athena_workgroup, res.athena_results_bucket)


def ensure_reference_data(bucket: str) -> bool:
    """Publish the reference datasets to the curated bucket unless it already holds exactly
    these (each dataset's manifest carries its data's SHA-256), as `cdk deploy`'s BucketDeployment
    does in AWS (left out locally: stacks/local_mode.py). True when it published."""
    from aml.reference import build, publish
    from aml_contract import reference

    s3, objects = aws.client("s3"), build.build()  # built once per process
    try:
        current = all(s3.get_object(Bucket=bucket, Key=key)["Body"].read() == objects[key]
                      for key in map(reference.manifest_key, reference.DATASETS))
    except s3.exceptions.NoSuchKey:
        current = False
    if not current:
        publish.to_s3(s3, bucket, objects)
        log.info("published the reference data to s3://%s/%s/", bucket, reference.PREFIX)
    return not current


def _create(env_name: str) -> LocalResources:
    """Every resource the local runtime uses (names.STACK_OUTPUTS' fields), by its name in
    names.RESOURCES. Buckets are named aml-<env>-<zone>, without the deployed names' account and
    region (the emulator has one of each). The Glue job is not created: the local runtime runs
    its script directly, under the same name."""
    fields = names.STACK_OUTPUTS.values()
    found = {field: names.name_of(env_name, field) for field in fields}
    s3 = aws.client("s3")
    for field in (f for f in names.BUCKETS if f in fields):
        try:
            s3.create_bucket(Bucket=found[field])
        except ClientError as err:
            if err.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    stream = found["stream_name"]
    kinesis = aws.client("kinesis")
    with contextlib.suppress(kinesis.exceptions.ResourceInUseException):
        kinesis.create_stream(StreamName=stream, ShardCount=STREAM_SHARDS)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1, "MaxAttempts": 60})

    ddb = aws.client("dynamodb")
    for field in names.TABLE_KEYS:
        _ensure_table(ddb, found[field], field)

    # These two fields hold what the service returns for the name: the topic's ARN, the queue's URL.
    found["alerts_topic_arn"] = aws.client("sns").create_topic(Name=found["alerts_topic_arn"])["TopicArn"]
    found["dlq_url"] = aws.client("sqs").create_queue(QueueName=found["dlq_url"])["QueueUrl"]
    _ensure_delivery_stream(found["alerts_delivery_stream"], found["curated_bucket"])
    _ensure_secret(found["pseudonymization_secret_id"])
    _ensure_workgroup(found["athena_workgroup"], found["athena_results_bucket"])
    return LocalResources(env_name=env_name, source="created", **found)


def _ensure_table(ddb, table: str, field: str) -> None:
    """The table as the stacks' ContractTable declares it (names.table_definition)."""
    definition = names.table_definition(field)
    try:
        ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", **definition)
    except ddb.exceptions.ResourceInUseException:
        # created by an earlier version: add the indexes it lacks
        have = {i["IndexName"] for i in ddb.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])}
        for gsi in definition.get("GlobalSecondaryIndexes", []):
            if gsi["IndexName"] not in have:
                ddb.update_table(TableName=table, AttributeDefinitions=definition["AttributeDefinitions"],
                                 GlobalSecondaryIndexUpdates=[{"Create": gsi}])
        return
    ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": names.TABLE_KEYS[field]["ttl"]})


def _ensure_delivery_stream(name: str, bucket: str) -> None:
    firehose = aws.client("firehose")
    if name in firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]:
        return
    firehose.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{aws.account_id()}:role/{name}",
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": f"{names.ALERTS_S3_PREFIX}/",
            "ErrorOutputPrefix": f"{names.ALERTS_S3_PREFIX}-errors/",
            "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 64},
        })
    for _ in range(60):
        status = firehose.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"]["DeliveryStreamStatus"]
        if status == "ACTIVE":
            return
        time.sleep(0.5)


def _ensure_secret(secret_id: str) -> None:
    sm = aws.client("secretsmanager")
    try:
        sm.describe_secret(SecretId=secret_id)
    except sm.exceptions.ResourceNotFoundException:
        # A fresh random key per local environment: never a key committed to the repo.
        sm.create_secret(Name=secret_id, SecretString=secrets.token_hex(32))


def _ensure_workgroup(name: str, results_bucket: str) -> None:
    athena = aws.client("athena")
    try:
        athena.get_work_group(WorkGroup=name)
    except ClientError:
        athena.create_work_group(Name=name, Configuration={
            "ResultConfiguration": {"OutputLocation": f"s3://{results_bucket}/{names.ATHENA_RESULTS_PREFIX}/"},
            "EnforceWorkGroupConfiguration": True})


def pseudonymization_key(res: LocalResources) -> bytes:
    from aml_contract.pseudonym import key_from_secret_string

    value = aws.client("secretsmanager").get_secret_value(SecretId=res.pseudonymization_secret_id)["SecretString"]
    return key_from_secret_string(value)


def as_json(res: LocalResources) -> str:
    return json.dumps(dataclasses.asdict(res), indent=2)
