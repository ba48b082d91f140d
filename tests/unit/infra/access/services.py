"""Calls AWS services make for us with our roles, declared from their documentation and the
resources' settings in the templates (nothing of ours runs them, so nothing can record them):
DMS's S3 and Kinesis targets and its source secret, Firehose delivery with Parquet conversion,
Glue's own runtime for the curation job, Lambda's event source mapping and runtime for the rules
function, and the analysts' Athena path (`aml query run --engine athena`, through awswrangler)."""
from __future__ import annotations

import re
from collections.abc import Callable

from aml_contract import glue_job, pii_access, reference, schema
from aml_contract.named_queries import QUERIES_DIR
from aml_contract.names import ALERTS_S3_PREFIX, PSEUDONYMIZATION_SECRET_SUFFIX
from infra.access import rules_lambda
from infra.access.actions import Call, sse_kms
from infra.access.templates import REGION, Templates, arn
from stacks.catalog import TABLES

DAY = "2025/11/03"
DMS_KINESIS_ACTIONS = ("DescribeStream", "PutRecord", "PutRecords")
PARTITION = f"{schema.PARTITION_COLUMN}=2025-11-03"


def _role_by_arn(templates: Templates, role_arn: str) -> str:
    return next(name for name, role in templates.roles.items() if role.arn == role_arn)


def _props(templates: Templates, type_: str, match: Callable[[dict], bool] = lambda p: True) -> dict:
    for concern, _, res in templates.resources(type_):
        props = templates.resolve(concern, res["Properties"])
        if match(props):
            return props
    raise LookupError(type_)


def _s3(role: str, source: str, op: str, bucket: str, key: str | None = None, via: str | None = None,
        sse_key: str | None = None, **params) -> Call:
    body = {"Bucket": bucket, **({"Key": key} if key is not None else {}), **params}
    return Call(role, "s3", op, body, source, via, sse_kms(sse_key) if sse_key else ())


def dms(templates: Templates) -> list[Call]:
    """https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Target.S3.html#CHAP_Target.S3.Prerequisites
    (s3:PutObject, s3:DeleteObject, s3:PutObjectTagging, s3:ListBucket; SSE-KMS needs the key, and a
    large Parquet file is a multipart upload),
    https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Target.Kinesis.html#CHAP_Target.Kinesis.Prerequisites
    (kinesis:DescribeStream, PutRecord, PutRecords), and the source secret
    (https://docs.aws.amazon.com/dms/latest/userguide/security_iam_secretsmanager.html)."""
    source = "DMS (declared)"
    s3 = _props(templates, "AWS::DMS::Endpoint", lambda p: "S3Settings" in p)["S3Settings"]
    kinesis = _props(templates, "AWS::DMS::Endpoint", lambda p: "KinesisSettings" in p)["KinesisSettings"]
    pg = _props(templates, "AWS::DMS::Endpoint", lambda p: "PostgreSqlSettings" in p)["PostgreSqlSettings"]
    s3_role, stream_role = (_role_by_arn(templates, s["ServiceAccessRoleArn"]) for s in (s3, kinesis))
    bucket, folder = s3["BucketName"], s3["BucketFolder"]
    calls = [_s3(s3_role, source, "ListObjectsV2", bucket, Prefix=f"{folder}/{schema.SOURCE_SCHEMA}/")]
    for table in schema.SOURCE_TABLES:
        for key in (f"{folder}/{schema.SOURCE_SCHEMA}/{table}/LOAD00000001.parquet",
                    f"{folder}/{schema.SOURCE_SCHEMA}/{table}/{DAY}/20251103-120000000.parquet"):
            calls += [_s3(s3_role, source, op, bucket, key, sse_key=s3["ServerSideEncryptionKmsKeyId"])
                      for op in ("PutObject", "CreateMultipartUpload", "DeleteObject")]
            calls.append(Call(s3_role, "s3", "PutObjectTagging", {"Bucket": bucket, "Key": key}, source))
    stream = kinesis["StreamArn"]
    calls += [Call(stream_role, "kinesis", op, {"StreamARN": stream}, source)
              for op in DMS_KINESIS_ACTIONS]
    calls.append(Call(_role_by_arn(templates, pg["SecretsManagerAccessRoleArn"]), "secretsmanager", "GetSecretValue",
                      {"SecretId": pg["SecretsManagerSecretId"]}, source))
    return calls


def firehose(templates: Templates) -> list[Call]:
    """https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3
    (S3 destination: s3:AbortMultipartUpload, GetBucketLocation, GetObject, ListBucket,
    ListBucketMultipartUploads, PutObject; the bucket's key through S3; log delivery) and
    #using-iam-glue (record format conversion: glue:GetTable, GetTableVersion, GetTableVersions)."""
    source = "Firehose delivery (declared)"
    props = _props(templates, "AWS::KinesisFirehose::DeliveryStream")["ExtendedS3DestinationConfiguration"]
    role = _role_by_arn(templates, props["RoleARN"])
    bucket = props["BucketARN"].rsplit(":", 1)[1]
    data_key = f"{ALERTS_S3_PREFIX}/{PARTITION}/aml-dev-alerts-delivery-1-2025-11-03-12-00-00-x.parquet"
    error_key = f"{props['ErrorOutputPrefix'].split('/', 1)[0]}/format-conversion-failed/2025-11-03/x"
    sse = props["EncryptionConfiguration"]["KMSEncryptionConfig"]["AWSKMSKeyARN"]
    calls = [_s3(role, source, "GetBucketLocation", bucket), _s3(role, source, "ListObjectsV2", bucket, Prefix=""),
             _s3(role, source, "PutObject", bucket, data_key, sse_key=sse),
             _s3(role, source, "PutObject", bucket, error_key, sse_key=sse),
             _s3(role, source, "CreateMultipartUpload", bucket, data_key, sse_key=sse),
             _s3(role, source, "AbortMultipartUpload", bucket, data_key),
             _s3(role, source, "ListMultipartUploads", bucket), _s3(role, source, "GetObject", bucket, data_key)]
    schema_config = props["DataFormatConversionConfiguration"]["SchemaConfiguration"]
    table = [arn("glue", "catalog"), arn("glue", f"database/{schema_config['DatabaseName']}"),
             arn("glue", f"table/{schema_config['DatabaseName']}/{schema_config['TableName']}")]
    calls += [Call(role, "glue", op, {"Resources": table}, source)
              for op in ("GetTable", "GetTableVersion", "GetTableVersions")]
    logging = props["CloudWatchLoggingOptions"]
    calls.append(Call(role, "logs", "PutLogEvents", {"Resource": arn(
        "logs", f"log-group:{logging['LogGroupName']}:log-stream:{logging['LogStreamName']}")}, source))
    return calls


def glue_runtime(templates: Templates) -> list[Call]:
    """What Glue itself does with the job's role: fetch the script and libraries
    (https://docs.aws.amazon.com/glue/latest/dg/create-an-iam-role.html), write continuous and
    encrypted logs (https://docs.aws.amazon.com/glue/latest/dg/encryption-security-configuration.html:
    logs:AssociateKmsKey on /aws-glue/jobs/<security configuration>-role/<role>/...), publish job
    metrics to the Glue namespace (https://docs.aws.amazon.com/glue/latest/dg/monitoring-awsglue-with-cloudwatch-metrics.html),
    and use the security configuration's keys
    (https://docs.aws.amazon.com/glue/latest/ug/set-up-encryption.html: kms:Encrypt, Decrypt, GenerateDataKey)."""
    source = "Glue runtime (declared)"
    job = _props(templates, "AWS::Glue::Job")
    role = _role_by_arn(templates, job["Role"])
    role_name = job["Role"].rsplit("/", 1)[1]
    calls = []
    for uri in (job["Command"]["ScriptLocation"], job["DefaultArguments"]["--extra-py-files"]):
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        calls.append(_s3(role, source, "GetObject", bucket, key))
    config = _props(templates, "AWS::Glue::SecurityConfiguration", lambda p: p["Name"] == job["SecurityConfiguration"])
    groups = [f"/aws-glue/jobs/{config['Name']}-role/{role_name}/{kind}" for kind in ("output", "error")]
    for group in groups:
        calls += [Call(role, "logs", op, {"Resource": arn("logs", f"log-group:{group}")}, source)
                  for op in ("CreateLogGroup", "AssociateKmsKey")]
    for group in (*groups, job["DefaultArguments"]["--continuous-log-logGroup"]):
        calls += [Call(role, "logs", op, {"Resource": arn("logs", f"log-group:{group}:log-stream:jr_1")}, source)
                  for op in ("CreateLogStream", "PutLogEvents")]
    calls.append(Call(role, "cloudwatch", "PutMetricData", {"Namespace": "Glue"}, source))
    encryption = config["EncryptionConfiguration"]
    keys = {encryption["S3Encryptions"][0]["KmsKeyArn"], encryption["CloudWatchEncryption"]["KmsKeyArn"]}
    calls += [Call(role, "kms", op, {"KeyId": key}, source)
              for key in sorted(keys) for op in ("Encrypt", "Decrypt", "GenerateDataKey")]
    return calls


def lambda_service(templates: Templates) -> list[Call]:
    """What Lambda does with the rules function's role: the Kinesis event source mapping
    (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#events-kinesis-permissions:
    DescribeStream, DescribeStreamSummary, GetRecords, GetShardIterator, ListShards, and the stream's
    key; SubscribeToShard only for enhanced fan-out, which the mapping does not use), the on-failure
    destination (sqs:SendMessage), logs, active tracing (xray:PutTraceSegments, PutTelemetryRecords:
    https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html) and the VPC interfaces
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions)."""
    source = "Lambda service (declared)"
    _, fn = rules_lambda.function(templates)
    role = _role_by_arn(templates, fn["Role"])
    mapping = _props(templates, "AWS::Lambda::EventSourceMapping", lambda p: p["FunctionName"] == fn["FunctionName"])
    stream = mapping["EventSourceArn"]
    calls = [Call(role, "kinesis", op, {"StreamARN": stream}, source)
             for op in ("DescribeStream", "DescribeStreamSummary", "GetRecords", "GetShardIterator", "ListShards")]
    dlq = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    name = dlq.rsplit(":", 1)[1]
    calls.append(Call(role, "sqs", "SendMessage", {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/"
                                                               f"{dlq.split(':')[4]}/{name}"}, source))
    group = fn["LoggingConfig"]["LogGroup"]
    calls += [Call(role, "logs", op, {"Resource": arn("logs", f"log-group:{group}:log-stream:2025/11/03/x")}, source)
              for op in ("CreateLogStream", "PutLogEvents")]
    calls += [Call(role, "xray", op, {}, source) for op in ("PutTraceSegments", "PutTelemetryRecords")]
    calls += [Call(role, "ec2", op, {}, source)
              for op in ("CreateNetworkInterface", "DescribeNetworkInterfaces", "DescribeSubnets",
                         "DeleteNetworkInterface", "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses")]
    return calls


def tables_queried() -> list[str]:
    """The tables of the curated database (curated and reference) the named queries read (a FROM
    or JOIN of the table's name)."""
    texts = " ".join(path.read_text().lower() for path in QUERIES_DIR.glob("*.sql"))
    return [t for t in TABLES if re.search(rf"\b(from|join)\s+{t}\b", texts)]


def _object_read(name: str, key_prefix: str) -> str:
    """An object Athena reads for the table: a reference dataset's rows (derived ones included),
    a curated Parquet file."""
    if name in (*reference.DATASETS, *reference.DERIVED_DATASETS):
        return reference.data_key(name)
    return f"{key_prefix}part-0.parquet"


def athena(templates: Templates) -> list[Call]:
    """`aml query run --engine athena` (awswrangler's read_sql_query without CTAS): GetWorkGroup,
    StartQueryExecution, GetQueryExecution until done, then the result CSV read from S3 by the
    caller. Athena itself reads the catalog and the curated objects of every table the named
    queries read and writes the results, with the caller's credentials
    (https://docs.aws.amazon.com/athena/latest/ug/managed-policies.html,
    https://docs.aws.amazon.com/athena/latest/ug/encryption.html): aws:CalledVia is athena."""
    source = "analysts via Athena (declared)"
    role = next(name for name in templates.roles if name.startswith("analytics/AnalystPolicy"))
    group = _props(templates, "AWS::Athena::WorkGroup")
    results = group["WorkGroupConfiguration"]["ResultConfiguration"]
    results_bucket, results_prefix = results["OutputLocation"].removeprefix("s3://").rstrip("/").split("/", 1)
    result_key, results_key_arn = f"{results_prefix}/0000-query-id.csv", results["EncryptionConfiguration"]["KmsKey"]
    via = "athena"
    calls = [Call(role, "athena", op, {"WorkGroup": group["Name"]}, source)
             for op in ("GetWorkGroup", "StartQueryExecution", "GetQueryExecution")]
    calls += [_s3(role, source, "GetObject", results_bucket, result_key),  # awswrangler reads the CSV
              _s3(role, source, "GetBucketLocation", results_bucket, via=via),
              _s3(role, source, "PutObject", results_bucket, result_key, via=via, sse_key=results_key_arn),
              _s3(role, source, "GetObject", results_bucket, result_key, via=via)]
    return calls + athena_engine(templates, role, source, tables_queried())


def athena_engine(templates: Templates, role: str, source: str, tables) -> list[Call]:
    """What Athena reads with the caller's credentials for a query over these tables: the catalog
    and the tables' objects."""
    via, calls = "athena", []
    for name in tables:
        table = _props(templates, "AWS::Glue::Table", lambda p, name=name: p["TableInput"]["Name"] == name)
        database = table["DatabaseName"]
        location = table["TableInput"]["StorageDescriptor"]["Location"].removeprefix("s3://").rstrip("/")
        bucket, prefix = location.split("/", 1)
        key_prefix = f"{prefix}/{PARTITION}/" if table["TableInput"].get("PartitionKeys") else f"{prefix}/"
        # A catalog read needs the action on the catalog, the database and (for a table) the table
        # (https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html).
        database_arns = [arn("glue", "catalog"), arn("glue", f"database/{database}")]
        calls += [Call(role, "glue", "GetDatabase", {"Resources": database_arns}, source, via),
                  Call(role, "glue", "GetTable", {"Resources": [*database_arns, arn("glue", f"table/{database}/{name}")]},
                       source, via),
                  _s3(role, source, "GetBucketLocation", bucket, via=via),
                  _s3(role, source, "ListObjectsV2", bucket, via=via, Prefix=key_prefix),
                  _s3(role, source, "GetObject", bucket, _object_read(name, key_prefix), via=via)]
    return calls


DECLARED = (dms, firehose, glue_runtime, lambda_service, athena)


def calls(templates: Templates) -> list[Call]:
    return [call for declare in DECLARED for call in declare(templates)]


def pii_probes(templates: Templates) -> dict[str, list[Call]]:
    """Reads of each kind of PII in aml_contract.pii_access (role left blank): an object DMS lands
    and a quarantined file in the raw zone; the pseudonymisation key's secret value."""
    s3 = _props(templates, "AWS::DMS::Endpoint", lambda p: "S3Settings" in p)["S3Settings"]
    bucket, landing = s3["BucketName"], f"{s3['BucketFolder']}/{schema.SOURCE_SCHEMA}/customers/LOAD00000001.parquet"
    secret = _props(templates, "AWS::SecretsManager::Secret",
                    lambda p: p.get("Name", "").endswith(PSEUDONYMIZATION_SECRET_SUFFIX))["Name"]
    return {
        pii_access.RAW_ZONE: [_s3("", "PII probe", "GetObject", bucket, landing),
                              _s3("", "PII probe", "GetObject", bucket, f"{glue_job.QUARANTINE}/customers/x.parquet")],
        pii_access.PSEUDONYMIZATION_KEY: [Call("", "secretsmanager", "GetSecretValue", {"SecretId": secret}, "PII probe")],
    }
