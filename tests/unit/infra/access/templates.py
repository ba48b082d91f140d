"""The synthesized templates as the access proof needs them: intrinsic functions resolved to the
names and ARNs CloudFormation would give in one account and region, each role with every identity
policy attached to it, and the resource policies (bucket, key, secret, queue, topic) by ARN."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

ACCOUNT, REGION, PARTITION = "123456789012", "us-east-1", "aws"  # moto's default account and region
SECRET_SUFFIX = "AbCdEf"  # Secrets Manager appends six random characters to a secret's ARN

_PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": PARTITION,
           "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}


def arn(service: str, resource: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


def _name(props: dict, key: str, lid: str, resolve) -> str:
    return resolve(props[key]) if key in props else lid.lower()


def _physical(type_: str, lid: str, props: dict, resolve) -> tuple[str, dict[str, str]]:
    """(Ref value, GetAtt attributes) of a resource, as CloudFormation returns them."""
    if type_ == "AWS::S3::Bucket":
        name = _name(props, "BucketName", lid, resolve)
        return name, {"Arn": f"arn:{PARTITION}:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com",
                      "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com"}
    if type_ == "AWS::KMS::Key":
        key_id = f"{lid.lower()}-0000"
        return key_id, {"Arn": arn("kms", f"key/{key_id}"), "KeyId": key_id}
    if type_ == "AWS::IAM::Role":
        name = _name(props, "RoleName", lid, resolve)
        return name, {"Arn": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}", "RoleId": lid}
    if type_ == "AWS::IAM::ManagedPolicy":
        name = _name(props, "ManagedPolicyName", lid, resolve)
        return f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{name}", {}
    if type_ == "AWS::DynamoDB::Table":
        name = _name(props, "TableName", lid, resolve)
        return name, {"Arn": arn("dynamodb", f"table/{name}"), "StreamArn": arn("dynamodb", f"table/{name}/stream/x")}
    if type_ == "AWS::SNS::Topic":
        topic = arn("sns", _name(props, "TopicName", lid, resolve))
        return topic, {"TopicArn": topic, "TopicName": topic.rsplit(":", 1)[1]}
    if type_ == "AWS::SQS::Queue":
        name = _name(props, "QueueName", lid, resolve)
        return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}", {"Arn": arn("sqs", name), "QueueName": name}
    if type_ == "AWS::Kinesis::Stream":
        name = _name(props, "Name", lid, resolve)
        return name, {"Arn": arn("kinesis", f"stream/{name}")}
    if type_ == "AWS::KinesisFirehose::DeliveryStream":
        name = _name(props, "DeliveryStreamName", lid, resolve)
        return name, {"Arn": arn("firehose", f"deliverystream/{name}")}
    if type_ == "AWS::Logs::LogGroup":
        name = _name(props, "LogGroupName", lid, resolve)
        return name, {"Arn": arn("logs", f"log-group:{name}:*")}
    if type_ == "AWS::SecretsManager::Secret":
        secret = arn("secretsmanager", f"secret:{_name(props, 'Name', lid, resolve)}-{SECRET_SUFFIX}")
        return secret, {"Id": secret}
    if type_ == "AWS::SecretsManager::SecretTargetAttachment":  # its Ref is the secret's ARN
        return resolve(props["SecretId"]), {}
    if type_ == "AWS::Glue::SecurityConfiguration":
        return _name(props, "Name", lid, resolve), {}
    if type_ == "AWS::Lambda::Function":
        name = _name(props, "FunctionName", lid, resolve)
        return name, {"Arn": arn("lambda", f"function:{name}")}
    if type_ == "AWS::StepFunctions::StateMachine":  # its Ref is its ARN
        machine = arn("states", f"stateMachine:{_name(props, 'StateMachineName', lid, resolve)}")
        return machine, {"Arn": machine, "Name": machine.rsplit(":", 1)[1]}
    if type_ == "AWS::RDS::DBCluster":
        name = _name(props, "DBClusterIdentifier", lid, resolve)
        return name, {"DBClusterArn": arn("rds", f"cluster:{name}"), "Endpoint.Address": f"{name}.rds"}
    return lid.lower(), {}


@dataclass
class Role:
    concern: str
    logical_id: str
    arn: str
    trusted_services: list[str]
    policies: list[tuple[str, dict]] = field(default_factory=list)  # (where, document)
    managed_policy_arns: list[str] = field(default_factory=list)  # AWS managed: outside the proof
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.concern}/{self.logical_id}"


class Templates:
    def __init__(self, templates: dict[str, dict]):
        self.raw = templates
        self._exports = {}
        for concern, template in templates.items():
            for output in template.get("Outputs", {}).values():
                if "Export" in output:
                    self._exports[self._literal(concern, output["Export"]["Name"])] = (concern, output["Value"])
        self.roles = self._roles()
        self.resource_policies = self._resource_policies()

    def _literal(self, concern: str, expr) -> str:
        return self.resolve(concern, expr)

    def resources(self, type_: str | None = None):
        for concern, template in self.raw.items():
            for lid, res in template.get("Resources", {}).items():
                if type_ is None or res["Type"] == type_:
                    yield concern, lid, res

    def physical(self, concern: str, lid: str) -> tuple[str, dict[str, str]]:
        res = self.raw[concern]["Resources"][lid]
        return _physical(res["Type"], lid, res.get("Properties", {}), lambda e: self.resolve(concern, e))

    def resolve(self, concern: str, expr):
        """Every intrinsic in `expr` resolved; anything else returned as is."""
        if isinstance(expr, list):
            return [self.resolve(concern, e) for e in expr]
        if not isinstance(expr, dict):
            return expr
        if len(expr) == 1:
            (fn, arg), = expr.items()
            if fn == "Ref":
                if arg in _PSEUDO:
                    return _PSEUDO[arg]
                if arg in ("AWS::StackName", "AWS::StackId"):
                    return f"stack-{concern}"
                if arg in self.raw[concern].get("Parameters", {}):
                    return self.raw[concern]["Parameters"][arg].get("Default", arg)
                return self.physical(concern, arg)[0]
            if fn == "Fn::GetAtt":
                lid, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                # Attributes no policy names (security groups, endpoints) resolve to a placeholder.
                return self.physical(concern, lid)[1].get(attribute, f"{lid.lower()}-{attribute.lower()}")
            if fn == "Fn::Join":
                sep, parts = arg
                return sep.join(str(self.resolve(concern, p)) for p in self.resolve(concern, parts))
            if fn == "Fn::Select":
                index, values = arg
                return self.resolve(concern, values)[int(self.resolve(concern, index))]
            if fn == "Fn::Split":
                sep, value = arg
                return self.resolve(concern, value).split(sep)
            if fn == "Fn::GetAZs":
                return [f"{REGION}{zone}" for zone in "abc"]
            if fn == "Fn::ImportValue":
                source, value = self._exports[self.resolve(concern, arg)]
                return self.resolve(source, value)
            if fn == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return self._sub(concern, text, variables)
        return {k: self.resolve(concern, v) for k, v in expr.items()}

    def _sub(self, concern: str, text: str, variables: dict) -> str:
        def one(match: re.Match) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(concern, variables[name]))
            if "." in name:
                return str(self.resolve(concern, {"Fn::GetAtt": name.split(".", 1)}))
            return str(self.resolve(concern, {"Ref": name}))
        return re.sub(r"\$\{([^!}][^}]*)\}", one, text)

    def _roles(self) -> dict[str, Role]:
        roles: dict[str, Role] = {}
        by_name: dict[str, Role] = {}
        for concern, lid, res in self.resources("AWS::IAM::Role"):
            props = self.resolve(concern, res.get("Properties", {}))
            principals = [s.get("Principal", {}).get("Service") for s in props["AssumeRolePolicyDocument"]["Statement"]]
            role = Role(concern, lid, self.physical(concern, lid)[1]["Arn"],
                        [p for ps in principals for p in (ps if isinstance(ps, list) else [ps]) if p],
                        tags={t["Key"]: t["Value"] for t in props.get("Tags", [])})
            for policy in props.get("Policies", []):
                role.policies.append((f"{role.name} inline {policy['PolicyName']}", policy["PolicyDocument"]))
            for managed in props.get("ManagedPolicyArns", []):
                role.managed_policy_arns.append(managed)
            roles[role.name] = by_name[role.arn.rsplit("/", 1)[1]] = role
        managed = {self.physical(c, lid)[0]: (c, lid, res) for c, lid, res in self.resources("AWS::IAM::ManagedPolicy")}
        for role in roles.values():
            for policy_arn in list(role.managed_policy_arns):
                if policy_arn in managed:  # ours: its document is in a template
                    concern, lid, res = managed.pop(policy_arn)
                    role.policies.append((f"{concern}/{lid}", self.resolve(concern, res["Properties"]["PolicyDocument"])))
                    role.managed_policy_arns.remove(policy_arn)
        for type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for concern, lid, res in self.resources(type_):
                props = self.resolve(concern, res["Properties"])
                for role_name in props.get("Roles", []):
                    by_name[role_name].policies.append((f"{concern}/{lid}", props["PolicyDocument"]))
        # A managed policy attached to no role of ours is for people (the analysts): the proof
        # evaluates it as the policy of a role holding only it.
        for concern, lid, res in managed.values():
            if not res["Properties"].get("Roles"):
                role = Role(concern, lid, f"arn:{PARTITION}:iam::{ACCOUNT}:role/holder-of-{lid.lower()}", [])
                role.policies.append((f"{concern}/{lid}", self.resolve(concern, res["Properties"]["PolicyDocument"])))
                roles[role.name] = role
        return roles

    def _resource_policies(self) -> dict[str, dict]:
        """Resource ARN -> its policy document."""
        found: dict[str, dict] = {}
        for concern, lid, res in self.resources("AWS::KMS::Key"):
            found[self.physical(concern, lid)[1]["Arn"]] = self.resolve(concern, res["Properties"]["KeyPolicy"])
        for concern, _, res in self.resources("AWS::S3::BucketPolicy"):
            props = self.resolve(concern, res["Properties"])
            found[f"arn:{PARTITION}:s3:::{props['Bucket']}"] = props["PolicyDocument"]
        for concern, _, res in self.resources("AWS::SecretsManager::ResourcePolicy"):
            props = self.resolve(concern, res["Properties"])
            found[props["SecretId"]] = props["ResourcePolicy"]
        for concern, _, res in self.resources("AWS::SQS::QueuePolicy"):
            props = self.resolve(concern, res["Properties"])
            for url in props["Queues"]:
                found[arn("sqs", url.rsplit("/", 1)[1])] = props["PolicyDocument"]
        for concern, _, res in self.resources("AWS::SNS::TopicPolicy"):
            props = self.resolve(concern, res["Properties"])
            for topic in props["Topics"]:
                found[topic] = props["PolicyDocument"]
        return found

    def encryption_keys(self) -> dict[str, str]:
        """Resource ARN -> the ARN of the customer-managed key it is encrypted with, from the
        template: S3 default encryption, DynamoDB SSE, Kinesis, SQS, SNS, Secrets Manager."""
        keys: dict[str, str] = {}
        for concern, lid, res in self.resources():
            props = self.resolve(concern, res.get("Properties", {}))
            type_, (ref, attrs) = res["Type"], (None, {})
            key = None
            if type_ == "AWS::S3::Bucket":
                rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
                key = next((r["ServerSideEncryptionByDefault"].get("KMSMasterKeyID") for r in rules), None)
            elif type_ == "AWS::DynamoDB::Table":
                key = props.get("SSESpecification", {}).get("KMSMasterKeyId")
            elif type_ == "AWS::Kinesis::Stream":
                key = props.get("StreamEncryption", {}).get("KeyId")
            elif type_ in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
                key = props.get("KmsMasterKeyId")
            elif type_ == "AWS::SecretsManager::Secret":
                key = props.get("KmsKeyId")
            if key:
                ref, attrs = self.physical(concern, lid)
                resource = attrs.get("Arn") or attrs.get("TopicArn") or ref
                keys[resource] = self._key_arn(key)
        return keys

    def _key_arn(self, key: str) -> str:
        if key.startswith("arn:"):
            return key
        return arn("kms", f"key/{key}")
