"""API calls as IAM sees them: each call becomes the authorisation requests AWS makes for it (action,
resource ARN, the condition keys our policies test), plus the KMS requests implied by the
encryption of the resource it touches.

Action mappings follow the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html);
each mapping below names its page where the action is not the operation's own name."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from infra.access.templates import PARTITION, REGION, SECRET_SUFFIX, arn


@dataclass(frozen=True)
class Call:
    """One API call as made: by whom (a role's name in the proof), which operation, its parameters
    (as boto3 takes them), and who makes it (our code, recorded; or a service, declared)."""
    role: str
    service: str
    operation: str
    params: dict = field(hash=False, compare=False)
    source: str = ""
    via_service: str | None = None  # a service calling on the role's behalf (Athena reading S3: aws:CalledVia)
    # Condition keys the request carries beyond its parameters: the SSE-KMS headers a writer
    # sends because of its configuration (DMS endpoint, Glue security configuration, ...).
    headers: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        target = self.params.get("Bucket", "") + ("/" + self.params["Key"] if "Key" in self.params else "")
        target = target or self.params.get("Prefix") or next(
            (str(v) for k, v in self.params.items() if k.endswith(("Name", "Arn", "Id", "Url"))), "")
        return f"{self.service}:{self.operation} {target}".strip()


@dataclass(frozen=True)
class Request:
    """One authorisation: the simulator answers it."""
    call: Call
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        keys = ", ".join(f"{k}={v}" for k, v in self.context)
        return f"{self.action} on {self.resource}" + (f" [{keys}]" if keys else "")


def sse_kms(key_arn: str) -> tuple[tuple[str, str], ...]:
    """The condition keys of an upload that asks for SSE-KMS under `key_arn`
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html)."""
    return (("s3:x-amz-server-side-encryption", "aws:kms"), ("s3:x-amz-server-side-encryption-aws-kms-key-id", key_arn))


def _s3_object(bucket: str, key: str) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}/{key}"


def _s3_bucket(bucket: str) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}"


def _s3(call: Call) -> list[tuple[str, str, dict]]:
    """https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html:
    HeadObject needs s3:GetObject; ListObjects(V2) and HeadBucket need s3:ListBucket, with the
    listing's prefix as s3:prefix; multipart uploads are s3:PutObject; DeleteObjects needs
    s3:DeleteObject on every key; CopyObject reads the source and writes the target."""
    p, op = call.params, call.operation
    if op in ("GetObject", "HeadObject"):
        return [("s3:GetObject", _s3_object(p["Bucket"], p["Key"]), {})]
    if op in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        return [("s3:PutObject", _s3_object(p["Bucket"], p["Key"]), {})]
    if op == "CopyObject":
        source_bucket, source_key = p["CopySource"].split("/", 1)
        return [("s3:GetObject", _s3_object(source_bucket, source_key), {}),
                ("s3:PutObject", _s3_object(p["Bucket"], p["Key"]), {})]
    if op == "PutObjectTagging":
        return [("s3:PutObjectTagging", _s3_object(p["Bucket"], p["Key"]), {})]
    if op == "DeleteObject":
        return [("s3:DeleteObject", _s3_object(p["Bucket"], p["Key"]), {})]
    if op == "DeleteObjects":
        return [("s3:DeleteObject", _s3_object(p["Bucket"], o["Key"]), {}) for o in p["Delete"]["Objects"]]
    if op in ("ListObjectsV2", "ListObjects"):
        return [("s3:ListBucket", _s3_bucket(p["Bucket"]), {"s3:prefix": p.get("Prefix", "")})]
    if op == "HeadBucket":
        return [("s3:ListBucket", _s3_bucket(p["Bucket"]), {})]
    if op == "ListMultipartUploads":
        return [("s3:ListBucketMultipartUploads", _s3_bucket(p["Bucket"]), {})]
    if op == "GetBucketLocation":
        return [("s3:GetBucketLocation", _s3_bucket(p["Bucket"]), {})]
    if op == "AbortMultipartUpload":
        return [("s3:AbortMultipartUpload", _s3_object(p["Bucket"], p["Key"]), {})]
    raise KeyError(op)


def _table(name: str) -> str:
    return arn("dynamodb", f"table/{name}")


_TRANSACT_ITEM_ACTIONS = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem",
                          "Delete": "dynamodb:DeleteItem", "ConditionCheck": "dynamodb:ConditionCheckItem",
                          "Get": "dynamodb:GetItem"}


def _dynamodb(call: Call) -> list[tuple[str, str, dict]]:
    """Item operations are their own actions; BatchGetItem/BatchWriteItem are actions on each table
    they name; TransactWriteItems and TransactGetItems have no action of their own: each item needs
    the action of its kind, with dynamodb:EnclosingOperation naming the transaction
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
    A Query or Scan of a secondary index is authorised on the index's ARN
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html)."""
    p, op = call.params, call.operation
    if op in ("Query", "Scan") and "IndexName" in p:
        return [(f"dynamodb:{op}", f"{_table(p['TableName'])}/index/{p['IndexName']}", {})]
    if op in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{op}", _table(t), {}) for t in p["RequestItems"]]
    if op in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in p["TransactItems"]:
            (kind, body), = item.items()
            found.append((_TRANSACT_ITEM_ACTIONS[kind], _table(body["TableName"]),
                          {"dynamodb:EnclosingOperation": op}))
        return found
    if p.get("IndexName"):  # Query/Scan on an index: the index's ARN
        # (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/using-identity-based-policies.html)
        return [(f"dynamodb:{op}", f"{_table(p['TableName'])}/index/{p['IndexName']}", {})]
    return [(f"dynamodb:{op}", _table(p["TableName"]), {})]


def _queue_arn(url: str) -> str:
    account, name = urlparse(url).path.strip("/").split("/")
    return arn("sqs", name, account=account)


def _simple(call: Call) -> list[tuple[str, str, dict]]:
    """Services whose actions carry the operation's name (SNS PublishBatch is sns:Publish:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html; SQS
    SendMessageBatch is sqs:SendMessage:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html)."""
    p, op, service = call.params, call.operation, call.service
    if service == "sns":
        return [("sns:Publish", p["TopicArn"], {})]
    if service == "sqs":
        return [("sqs:SendMessage" if op.startswith("SendMessage") else f"sqs:{op}", _queue_arn(p["QueueUrl"]), {})]
    if service == "firehose":
        return [(f"firehose:{op}", arn("firehose", f"deliverystream/{p['DeliveryStreamName']}"), {})]
    if service == "kinesis":
        stream = p.get("StreamARN") or arn("kinesis", f"stream/{p['StreamName']}")
        return [(f"kinesis:{op}", stream, {})]
    if service == "secretsmanager":  # a secret named without its suffix: its ARN has one
        secret = p["SecretId"] if p["SecretId"].startswith("arn:") else \
            arn("secretsmanager", f"secret:{p['SecretId']}-{SECRET_SUFFIX}")
        return [(f"secretsmanager:{op}", secret, {})]
    if service == "glue":
        return [(f"glue:{op}", r, {}) for r in p["Resources"]]
    if service == "logs":
        return [(f"logs:{op}", p["Resource"], {})]
    if service == "cloudwatch":  # no resource-level permissions: Resource "*", namespace as condition
        return [("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": p["Namespace"]})]
    if service in ("xray", "ec2"):  # X-Ray and the ENI actions Lambda uses have no resource-level permissions
        return [(f"{service}:{op}", "*", {})]
    if service == "athena":
        return [(f"athena:{op}", arn("athena", f"workgroup/{p['WorkGroup']}"), {})]
    if service == "lambda":
        return [(f"lambda:{op}", arn("lambda", f"function:{p['FunctionName']}"), {})]
    if service == "states":
        return [(f"states:{op}", p["stateMachineArn"], {})]
    if service == "kms":
        return [(f"kms:{op}", p["KeyId"], {})]
    if service == "rds-db":  # an IAM database login: the database checks rds-db:connect on the dbuser ARN
        return [("rds-db:connect", p["Resource"], {})]
    raise KeyError(f"{service}:{op}")


# KMS permissions a call needs on the key of the resource it touches. S3 SSE-KMS: GetObject
# decrypts, PutObject generates a data key
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#require-sse-kms);
# DynamoDB with a customer-managed key decrypts the table key for reads and writes
# (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html); Kinesis producers
# generate data keys and consumers decrypt
# (https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html); SNS publishers and
# SQS producers need both (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html,
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html);
# reading a secret decrypts (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
_KMS_FOR_ACTION = {
    "s3:GetObject": ("kms:Decrypt",), "s3:PutObject": ("kms:GenerateDataKey",),
    "dynamodb:GetItem": ("kms:Decrypt",), "dynamodb:PutItem": ("kms:Decrypt",),
    "dynamodb:UpdateItem": ("kms:Decrypt",), "dynamodb:DeleteItem": ("kms:Decrypt",),
    "dynamodb:BatchGetItem": ("kms:Decrypt",), "dynamodb:BatchWriteItem": ("kms:Decrypt",),
    "dynamodb:Query": ("kms:Decrypt",),
    "kinesis:PutRecord": ("kms:GenerateDataKey",), "kinesis:PutRecords": ("kms:GenerateDataKey",),
    "kinesis:GetRecords": ("kms:Decrypt",),
    "sns:Publish": ("kms:GenerateDataKey", "kms:Decrypt"), "sqs:SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
    "secretsmanager:GetSecretValue": ("kms:Decrypt",),
}


# Multipart uploads under SSE-KMS also decrypt the data key to assemble the parts
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions).
_KMS_FOR_OPERATION = {"CreateMultipartUpload": ("kms:GenerateDataKey", "kms:Decrypt"),
                      "UploadPart": ("kms:GenerateDataKey", "kms:Decrypt")}


def _encrypted_resource(action: str, resource: str) -> str:
    """The resource whose encryption a request's KMS use follows: an object's bucket, a secret."""
    if action.startswith("s3:"):
        return resource.split("/", 1)[0]
    return resource


def requests(call: Call, encryption_keys: dict[str, str]) -> list[Request]:
    mapper = {"s3": _s3, "dynamodb": _dynamodb}.get(call.service, _simple)
    found: list[Request] = []
    secure = {"aws:SecureTransport": "true"}  # every SDK call goes over TLS
    called_via = {"aws:CalledVia": f"{call.via_service}.amazonaws.com"} if call.via_service else {}
    for action, resource, context in mapper(call):
        headers = dict(call.headers) if action == "s3:PutObject" else {}
        found.append(Request(call, action, resource,
                             tuple(sorted({**context, **headers, **secure, **called_via}.items()))))
        key = encryption_keys.get(_encrypted_resource(action, resource))
        if key:
            service = action.split(":", 1)[0]
            via = {"kms:ViaService": f"{service}.{REGION}.amazonaws.com", **called_via}
            for kms_action in _KMS_FOR_OPERATION.get(call.operation, _KMS_FOR_ACTION.get(action, ())):
                found.append(Request(call, kms_action, key, tuple(sorted({**via, **secure}.items()))))
    return found
