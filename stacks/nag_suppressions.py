"""The five cdk-nag packs and every acknowledgement of a finding, with its reason, in one place.

Each `Ack` names a rule, the constructs it applies to (a regex over `<concern>/<construct path>`,
so it holds for every environment name) and, for the rules that report one finding per wildcard
or managed policy (IAM4, IAM5), a regex over the finding itself. Every finding is acknowledged
individually (cdk-nag 3 has no blanket acknowledgement): a new wildcard or a new resource that no
entry here explains still fails the synth.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)
from constructs import IConstruct

from aml_contract import daily_pipeline, glue_job, names, reference, schema
from stacks.data_lake import CURATED, RAW, RESULTS

PACKS = (AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks, HIPAASecurityChecks, ServerlessChecks)
COMPLIANCE = ("NIST.800.53.R5", "PCI.DSS.321", "HIPAA.Security")  # packs sharing rule names


@dataclass(frozen=True)
class Ack:
    rule: str  # e.g. "AwsSolutions-IAM5" or "NIST.800.53.R5-IAMNoInlinePolicy"
    where: str  # regex over "<concern>/<path in stack>", e.g. "streaming/Rules/Role/.*"
    reason: str
    finding: str | None = None  # regex over the finding (IAM4/IAM5), e.g. r"Action::s3:GetObject\*"


def _compliance(rule: str, where: str, reason: str) -> list[Ack]:
    return [Ack(f"{pack}-{rule}", where, reason) for pack in COMPLIANCE]


def _deploy_time_lambda(where: str) -> list[Ack]:
    """A CDK-provided Lambda that only CloudFormation invokes, during deployments."""
    return [
        *_compliance("LambdaConcurrency", where,
                     "Deploy-time framework Lambda, invoked only by CloudFormation, one event at a time"),
        *_compliance("LambdaDLQ", where,
                     "CloudFormation invokes it synchronously and reports failures in the stack events"),
        Ack("Serverless-LambdaDLQ", where,
            "CloudFormation invokes it synchronously and reports failures in the stack events"),
        Ack("Serverless-LambdaTracing", where,
            "Deploy-time framework Lambda; its calls are in CloudTrail and the stack events"),
    ]


def bucket_arn(zone: str) -> str:
    """How a lake bucket's ARN renders in a finding (stacks/data_lake.py bucket_name)."""
    return rf"arn:<AWS::Partition>:s3:::aml-[a-z0-9]+-{re.escape(zone)}-<AWS::AccountId>-<AWS::Region>"


def prefixes(zone: str, *names_: str) -> str:
    """A finding's object-ARN resource under any of these prefixes of a lake bucket, as a regex."""
    return rf"{bucket_arn(zone)}/({'|'.join(map(re.escape, names_))})"


def _listed(items) -> str:
    return ", ".join(f"{i}/" for i in items)


# The prefixes the stacks grant, from the contract the stacks build them from.
GLUE_RAW = (schema.RAW_PREFIX, glue_job.QUARANTINE)  # the job reads dms/, writes quarantine/
GLUE_CURATED = (*glue_job.TABLES_WRITTEN, glue_job.STATE_PREFIX)  # its tables and its state
GLUE_REFERENCE = (reference.PREFIX,)  # read only
# The folders of the datasets the job derives (statistics/segment_amounts): it writes them by key.
DERIVED = tuple(reference.table_prefix(d).rstrip("/") for d in reference.DERIVED_DATASETS)
ANALYST_CURATED = (*schema.CURATED_TABLES, reference.PREFIX, *DERIVED)  # stacks/analytics.py READABLE_PREFIXES
ALERTS_PREFIXES = (names.ALERTS_S3_PREFIX, f"{names.ALERTS_S3_PREFIX}-errors")  # Firehose's


# The daily pipeline (stacks/daily_pipeline.py): its functions, and what Athena reads and writes
# for its state machine (the curated tables' folders the scenario queries read, their results).
PIPELINE_FUNCTIONS = r"pipeline/(Plan|BatchAlerts|LoadProfiles|Report|Reconcile)Function/Resource"
PIPELINE_QUERIED = (*schema.CURATED_TABLES, reference.PREFIX, *DERIVED)


CUSTOM_RESOURCE_LAMBDA = r"database/AWS679f53fac002430cb0da5b7982bd2287/.*"
BUCKET_DEPLOYMENT_LAMBDA = r"data-lake/Custom::CDKBucketDeployment[0-9A-F]+(\d+MiB)?/.*"  # CDK's singleton
CDK_GRANT_KMS = ("CDK grants for an encrypted stream/bucket: GenerateDataKey*/ReEncrypt* cover the "
                 "data-key variants the service calls, on one key ARN only")

ACKS: tuple[Ack, ...] = (
    # ---- identity policies --------------------------------------------------------------------
    *_compliance("IAMNoInlinePolicy", r".*/(DefaultPolicy|JobPolicy|CustomResourcePolicy|Alerts/SchemaAccess)/Resource",
                 "Each inline policy is attached to exactly one role created beside it and scoped to "
                 "that workload's resources; a customer-managed policy would add a reusable, "
                 "attachable permission set with no reader besides this role"),
    Ack("AwsSolutions-IAM5", r"(streaming|replication)/.*/DefaultPolicy/Resource", CDK_GRANT_KMS,
        r"Action::kms:(GenerateDataKey|ReEncrypt)\*"),
    Ack("AwsSolutions-IAM5", r"streaming/Alerts/Delivery/S3 Destination Role/DefaultPolicy/Resource",
        f"Firehose writes objects under the curated bucket's {_listed(ALERTS_PREFIXES)} prefixes only, "
        "whose dynamic partitions (dt=...) are known at delivery time",
        rf"Resource::{prefixes(CURATED, *ALERTS_PREFIXES)}/\*"),
    Ack("AwsSolutions-IAM5", r"streaming/Rules/Role/DefaultPolicy/Resource",
        f"The rules Lambda reads the reference datasets under the curated bucket's {reference.PREFIX}/ "
        f"and the derived ones under {_listed(DERIVED)} (aml_contract.reference keys), nothing else of that bucket",
        rf"Resource::{prefixes(CURATED, reference.PREFIX, *DERIVED)}/\*"),
    Ack("AwsSolutions-IAM5", r"streaming/Rules/Role/DefaultPolicy/Resource",
        "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) and the EC2 network-interface "
        "actions Lambda needs in a VPC support no resource-level permissions", r"Resource::\*"),
    Ack("AwsSolutions-IAM5", r"etl/JobPolicy/Resource",
        "cloudwatch:PutMetricData has no resource-level permissions; a condition limits it to the "
        "Glue namespace", r"Resource::\*"),
    Ack("AwsSolutions-IAM5", r"etl/JobPolicy/Resource",
        f"The job reads and writes objects under its own prefixes only (raw {_listed(GLUE_RAW)}; "
        f"curated {_listed(GLUE_CURATED)}: aml_contract.glue_job), reads the reference data "
        f"({_listed(GLUE_REFERENCE)}) and writes the datasets it derives ({_listed(DERIVED)}, PutObject "
        "only); object keys are data-dependent",
        rf"Resource::({prefixes(RAW, *GLUE_RAW)}|{prefixes(CURATED, *GLUE_CURATED, *GLUE_REFERENCE, *DERIVED)})/\*"),
    Ack("AwsSolutions-GL3", r"etl/CurateTransactions/Resource",
        "The job runs without job bookmarks (Glue's default, disabled): its incrementality is the "
        "processed-files manifest under the curated zone's _job_state/, encrypted with the lake key "
        "like the rest of the bucket, so there is no bookmark data to encrypt"),
    Ack("AwsSolutions-IAM5", r"etl/JobPolicy/Resource",
        "Glue creates the job's log groups under /aws-glue/jobs/ (names derived from the security "
        "configuration and role) and associates our key with them",
        r"Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/jobs/\*"),
    Ack("AwsSolutions-IAM5", r"etl/JobRole/DefaultPolicy/Resource",
        "CDK asset grant: the job reads its script and library zip from the bootstrap assets "
        "bucket, whose object keys are content hashes",
        r"Action::s3:(GetBucket|GetObject|List)\*|Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-"
        r"<AWS::AccountId>-<AWS::Region>/\*"),
    Ack("AwsSolutions-IAM5", r"replication/RawZoneRole/DefaultPolicy/Resource",
        f"DMS writes one object per table, load and CDC batch under the raw zone's {schema.RAW_PREFIX}/ prefix only",
        rf"Resource::{prefixes(RAW, schema.RAW_PREFIX)}/\*"),
    Ack("AwsSolutions-IAM5", r"analytics/AnalystPolicy/Resource",
        "Analysts read the curated tables' prefixes (object keys are partitions), the reference "
        f"data under {reference.PREFIX}/ and {_listed(DERIVED)}, and their own query results under "
        f"{names.ATHENA_RESULTS_PREFIX}/",
        rf"Resource::({prefixes(CURATED, *ANALYST_CURATED)}|{prefixes(RESULTS, names.ATHENA_RESULTS_PREFIX)})/\*"),
    Ack("AwsSolutions-IAM5", r"pipeline/(Plan|BatchAlerts|LoadProfiles|Report)Role/DefaultPolicy/Resource",
        "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) and the EC2 network-interface "
        "actions Lambda needs in a VPC support no resource-level permissions", r"Resource::\*"),
    Ack("AwsSolutions-IAM5", r"pipeline/ReconcileRole/DefaultPolicy/Resource",
        "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing), the EC2 network-interface actions "
        "Lambda needs in a VPC and cloudwatch:PutMetricData support no resource-level permissions; "
        "PutMetricData is held to the pipeline's namespace by the cloudwatch:namespace condition", r"Resource::\*"),
    Ack("AwsSolutions-IAM5", r"pipeline/ReconcileRole/DefaultPolicy/Resource",
        f"The key reconciliation reads its two queries' result files under the results bucket's "
        f"{names.ATHENA_RESULTS_PREFIX}/ (keys are query execution ids)",
        rf"Resource::{prefixes(RESULTS, names.ATHENA_RESULTS_PREFIX)}/\*"),
    Ack("AwsSolutions-IAM5", r"pipeline/BatchAlertsRole/DefaultPolicy/Resource",
        f"The batch-alerts function reads the scenario queries' result files under the results bucket's "
        f"{names.ATHENA_RESULTS_PREFIX}/ (keys are query execution ids) and queries the alerts table's indexes",
        rf"Resource::({prefixes(RESULTS, names.ATHENA_RESULTS_PREFIX)}/\*|arn:<AWS::Partition>:dynamodb:<AWS::Region>:"
        r"<AWS::AccountId>:table/aml-[a-z0-9]+-alerts/index/\*)"),
    Ack("AwsSolutions-IAM5", r"pipeline/LoadProfilesRole/DefaultPolicy/Resource",
        f"The profiles function reads the profiles query's result file under the results bucket's "
        f"{names.ATHENA_RESULTS_PREFIX}/ (keys are query execution ids)",
        rf"Resource::{prefixes(RESULTS, names.ATHENA_RESULTS_PREFIX)}/\*"),
    Ack("AwsSolutions-IAM5", r"pipeline/ReportRole/DefaultPolicy/Resource",
        f"The report function writes the day's JSON and HTML reports under the curated bucket's "
        f"{daily_pipeline.REPORTS_PREFIX}/ (keys carry the run date), and for the HTML report reads the run "
        f"reports there, the curation runs' manifests under {glue_job.RUNS_PREFIX}/ (keys are run ids) and the "
        f"report queries' result files under the results bucket's {names.ATHENA_RESULTS_PREFIX}/ (keys are "
        "query execution ids)",
        rf"Resource::({prefixes(CURATED, daily_pipeline.REPORTS_PREFIX, glue_job.RUNS_PREFIX)}|"
        rf"{prefixes(RESULTS, names.ATHENA_RESULTS_PREFIX)})/\*"),
    Ack("AwsSolutions-IAM5", r"pipeline/StateMachineRole/DefaultPolicy/Resource",
        "Athena runs the scenario queries with the state machine's role: it reads the objects of the "
        "tables they query (partition files; stacks/daily_pipeline.tables_queried) and writes their "
        f"results under the results bucket's {names.ATHENA_RESULTS_PREFIX}/",
        rf"Resource::({prefixes(CURATED, *PIPELINE_QUERIED)}.*|{prefixes(RESULTS, names.ATHENA_RESULTS_PREFIX)}/\*)"),
    Ack("AwsSolutions-IAM5", r"pipeline/StateMachineRole/DefaultPolicy/Resource",
        "Step Functions' CloudWatch Logs delivery actions and X-Ray tracing support no resource-level "
        "permissions (AWS documents them on *: step-functions/latest/dg/cw-logs.html, concepts-xray-tracing.html)",
        r"Resource::\*"),
    Ack("AwsSolutions-IAM4", r"database/Cluster/MonitoringRole/Resource",
        "RDS Enhanced Monitoring requires the AWS-managed AmazonRDSEnhancedMonitoringRole",
        r"Policy::.*/AmazonRDSEnhancedMonitoringRole"),
    Ack("AwsSolutions-IAM4", r"replication/AccountRoles/.*",
        "DMS looks up dms-vpc-role and dms-cloudwatch-logs-role by name and documents exactly these "
        "AWS-managed policies for them", r"Policy::.*/AmazonDMS(VPCManagementRole|CloudWatchLogsRole)"),
    # ---- the CDK-provided deploy-time Lambdas (AwsCustomResource, BucketDeployment) ------------
    Ack("AwsSolutions-IAM4", CUSTOM_RESOURCE_LAMBDA,
        "CDK's AwsCustomResource framework Lambda (schema DDL at deploy time) uses the AWS-managed "
        "basic and VPC execution policies", r"Policy::.*/AWSLambda(Basic|VPCAccess)ExecutionRole"),
    *_deploy_time_lambda(CUSTOM_RESOURCE_LAMBDA),
    Ack("Serverless-LambdaDefaultMemorySize", CUSTOM_RESOURCE_LAMBDA,
        "Deploy-time framework Lambda making one Data API call per invocation"),
    Ack("AwsSolutions-IAM4", BUCKET_DEPLOYMENT_LAMBDA,
        "CDK's BucketDeployment Lambda (publishes the reference data at deploy time) uses the "
        "AWS-managed basic execution policy for its logs", r"Policy::.*/AWSLambdaBasicExecutionRole"),
    *_deploy_time_lambda(BUCKET_DEPLOYMENT_LAMBDA),
    *_compliance("LambdaInsideVPC", BUCKET_DEPLOYMENT_LAMBDA,
                 "Deploy-time Lambda copying public reference data (no PII) from the CDK assets bucket "
                 "into the curated bucket; both are reached through S3's regional endpoint"),
    Ack("AwsSolutions-IAM5", BUCKET_DEPLOYMENT_LAMBDA,
        "CDK's BucketDeployment grants (`aws s3 sync --delete`): read the asset from the bootstrap "
        "assets bucket, read/write the destination bucket; its own statement denies every write "
        f"outside {reference.PREFIX}/ (stacks/reference_data.py)",
        r"Action::s3:(Abort|DeleteObject|GetBucket|GetObject|List)\*|Resource::("
        rf"{bucket_arn(CURATED)}|arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-<AWS::AccountId>-<AWS::Region>)/\*"),
    *[Ack(rule, BUCKET_DEPLOYMENT_LAMBDA,
          "The runtime aws-cdk-lib chooses for its BucketDeployment handler; it moves with the "
          "aws-cdk-lib pin (requirements.txt)") for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion")],
    # ---- runtime --------------------------------------------------------------------------------
    *[Ack(rule, r"streaming/Rules/Function/Resource",
          "Pinned to python3.13 (supported by Lambda until 2029-06-30), the newest Python whose "
          "interpreter the Lambda's tests run on (make test, .venv-lambda313); moved on together "
          "with that test interpreter in stacks/lambda_runtime.py")
      for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion")],
    *[Ack(rule, PIPELINE_FUNCTIONS,
          "The rules Lambda's runtime (stacks/lambda_runtime.py: python3.13, supported until 2029-06-30), "
          "moved on together with it")
      for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion")],
    *_compliance("LambdaDLQ", PIPELINE_FUNCTIONS,
                 "Invoked synchronously by the daily pipeline's state machine, which retries a failure and "
                 "then publishes it to the alarm topic (NotifyFailure); no asynchronous event to dead-letter"),
    Ack("Serverless-LambdaDLQ", PIPELINE_FUNCTIONS,
        "Invoked synchronously by the daily pipeline's state machine, which retries a failure and then "
        "publishes it to the alarm topic (NotifyFailure); no asynchronous event to dead-letter"),
    Ack("AwsSolutions-KDS3", r"streaming/Transactions/Resource",
        "The stream is encrypted with our customer-managed key (stricter than aws/kinesis); the "
        "rule cannot resolve the cross-construct key reference"),
    Ack("Serverless-SQSRedrivePolicy", r"streaming/Rules/Dlq/Resource",
        "This queue is the dead-letter queue; its messages are inspected and replayed, not redriven"),
    *[Ack("Serverless-EventBusDLQ", rf"monitoring/{rule}Rule/Resource",
          "The rule has no targets: it exists so its TriggeredRules metric drives an alarm, whose SNS "
          "action is the notification path") for rule in ("GlueJobFailed", "DmsTaskFailed")],
    # ---- storage and backups --------------------------------------------------------------------
    *_compliance("DynamoDBInBackupPlan", r"streaming/(Rules/RuleState|Rules/Idempotency|Rules/Profiles|Alerts/Table)/Resource",
                 "Point-in-time recovery (35 days) protects the tables; AWS Backup plans are an "
                 "organisation-level policy applied by tag, outside this app"),
    *_compliance("RDSInBackupPlan", r"database/Cluster/(writer|reader\d+)/Resource",
                 "Aurora automated backups with point-in-time restore; AWS Backup plans are an "
                 "organisation-level policy applied by tag, outside this app"),
    *_compliance("S3BucketReplicationEnabled", r"data-lake/(Raw|Curated|AthenaResults|AccessLogs)/Resource",
                 "Single-region deployment; buckets are versioned and retained. Cross-region "
                 "replication is a disaster-recovery decision (and doubles storage of PII) left to the operator"),
    *_compliance("S3DefaultEncryptionKMS", r"data-lake/AccessLogs/Resource",
                 "S3 server access logs can only be delivered to an SSE-S3 bucket"),
    Ack("AwsSolutions-SMG4", r"data-lake/PseudonymizationKey/Resource",
        "The HMAC pseudonymisation key must not rotate automatically: a new key changes every "
        "pseudonym and breaks joins with history; rotation is a planned re-pseudonymisation"),
    *_compliance("SecretsManagerRotationEnabled", r"data-lake/PseudonymizationKey/Resource",
                 "The HMAC pseudonymisation key must not rotate automatically (see AwsSolutions-SMG4)"),
    # ---- CDK's own template validation ----------------------------------------------------------
    Ack("CloudFormation-Validate::W7001", r"streaming",
        "The Firehose L2 adds a CIDR mapping used only with Redshift/HTTP destinations"),
)


# Only with `-c aml:local=true` (stacks/local_mode.py): what leaving a resource out causes.
LOCAL_ACKS: tuple[Ack, ...] = (
    *_compliance("VPCDefaultSecurityGroupClosed", r"network/Vpc/Resource",
                 "Local emulator deployment only: the custom resource closing the default security "
                 "group is left out (moto cannot run it); every AWS deployment keeps it"),
)


def _concern_path(node: IConstruct) -> str:
    stack = cdk.Stack.of(node)
    concern = re.sub(r"^aml-[a-z0-9]+-", "", stack.node.id)
    rest = node.node.path[len(stack.node.path):].lstrip("/")
    return f"{concern}/{rest}" if rest else concern


def _flatten(ref) -> str:
    """cdk-nag's rendering of a resolved CloudFormation value in finding ids."""
    if isinstance(ref, str):
        return ref.replace("${", "<").replace("}", ">")
    if isinstance(ref, dict):
        if "Fn::Join" in ref:
            delimiter, items = ref["Fn::Join"]
            return delimiter.join(_flatten(i) for i in items)
        if "Fn::Sub" in ref:
            return _flatten(ref["Fn::Sub"])
        if "Fn::GetAtt" in ref:
            resource, attribute = ref["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in ref:
            return _flatten(ref["Fn::ImportValue"])
        if "Ref" in ref:
            return f"<{_flatten(ref['Ref'])}>"
    return json.dumps(ref, separators=(",", ":"))


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _policy_documents(node: cdk.CfnResource) -> list[dict]:
    stack = cdk.Stack.of(node)
    if isinstance(node, iam.CfnPolicy | iam.CfnManagedPolicy):
        return [stack.resolve(node.policy_document)]
    if isinstance(node, iam.CfnRole):
        return [stack.resolve(p)["PolicyDocument"] for p in (stack.resolve(node.policies) or [])]
    return []


def findings(node: cdk.CfnResource, rule: str) -> list[str]:
    """The findings IAM4/IAM5 report for this resource (same rendering as cdk-nag)."""
    stack = cdk.Stack.of(node)
    if rule.endswith("-IAM4"):
        if not isinstance(node, iam.CfnRole):
            return []
        arns = stack.resolve(node.managed_policy_arns) or []
        return [f"Policy::{_flatten(a)}" for a in arns if ":iam::aws:" in _flatten(a)]
    out: list[str] = []
    for document in _policy_documents(node):
        for statement in document.get("Statement", []):
            if statement.get("Effect") != "Allow":
                continue
            out += [f"Action::{a}" for a in _as_list(statement.get("Action", [])) if "*" in a]
            out += [f"Resource::{_flatten(r)}" for r in _as_list(statement.get("Resource", []))
                    if "*" in _flatten(r)]
    return list(dict.fromkeys(out))


def _environment_agnostic(finding: str, node: IConstruct) -> str:
    """A finding as an environment-agnostic stack renders it, which is what ACKS are written
    against. A stack bound to an account and region (`-c aml:account=... -c aml:region=...`)
    renders them, and the partition, as literals (`arn:aws:logs:eu-west-1:123456789012:...`)."""
    stack = cdk.Stack.of(node)
    literals = ((stack.partition, r"(?<=arn:){}(?=:)", "<AWS::Partition>"),
                (stack.region, "{}", "<AWS::Region>"), (stack.account, "{}", "<AWS::AccountId>"))
    for value, shape, placeholder in literals:
        if not cdk.Token.is_unresolved(value):
            finding = re.sub(shape.format(re.escape(value)), placeholder, finding)
    return finding


@jsii.implements(cdk.IAspect)
class AcknowledgeFindings:
    """Applies ACKS to every resource once the tree is complete (grants add statements late)."""

    def __init__(self, acks: tuple[Ack, ...] = ACKS) -> None:
        self.acks = acks

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cdk.CfnResource | cdk.Stack):
            return
        path = _concern_path(node)
        matched: dict[str, str] = {}
        for ack in self.acks:
            if not re.fullmatch(ack.where, path):
                continue
            if ack.finding is None:
                matched[ack.rule] = ack.reason
                continue
            for finding in findings(node, ack.rule):
                if re.fullmatch(ack.finding, _environment_agnostic(finding, node)):
                    matched[f"{ack.rule}[{finding}]"] = ack.reason
        if matched:
            cdk.Validations.of(node).acknowledge(
                *[cdk.Acknowledgment(id=rule, reason=reason) for rule, reason in matched.items()])


def packs(app: cdk.App) -> list:
    return [pack(app) for pack in PACKS]


def register(app: cdk.App, *, local: bool = False) -> None:
    """Every pack validates the whole app at synth; unacknowledged findings fail `cdk synth`."""
    cdk.Aspects.of(app).add(AcknowledgeFindings(ACKS + LOCAL_ACKS if local else ACKS))
    cdk.Validations.of(app).add_plugins(*packs(app))
