"""Network: private isolated subnets only (no NAT, no internet path), flow logs, and the VPC
endpoints the private workloads (DMS, the rules Lambda, the schema custom resource) call."""
from __future__ import annotations

from aws_cdk import CfnOutput, Fn, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from aml_contract import names
from stacks import local_mode
from stacks.constructs import DataKey, EncryptedLogGroup
from stacks.settings import Settings

VPC_CIDR = "10.40.0.0/16"  # a literal (not a token) so rule packs can check ingress sources

# Interface endpoints: each private workload reaches these AWS APIs without an internet route.
INTERFACE_ENDPOINTS = {
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Kinesis": ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS,
    "Firehose": ec2.InterfaceVpcEndpointAwsService.KINESIS_FIREHOSE,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Sns": ec2.InterfaceVpcEndpointAwsService.SNS,
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "Glue": ec2.InterfaceVpcEndpointAwsService.GLUE,
    "RdsData": ec2.InterfaceVpcEndpointAwsService.RDS_DATA,
    "XRay": ec2.InterfaceVpcEndpointAwsService.XRAY,
}


class NetworkStack(Stack):
    @property
    def availability_zones(self) -> list[str]:
        """The first two zones as Fn::GetAZs, as CDK renders an environment-agnostic stack, also
        when the app is bound to an account and region: CDK would otherwise look the zones up with
        AWS calls at synth time (and fail without credentials); the project makes none."""
        return [Fn.select(i, Fn.get_azs()) for i in range(2)]

    def __init__(self, scope: Construct, id: str, *, settings: Settings, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.key = DataKey(self, "FlowLogsKey", settings=settings, purpose="network",
                           service_principals=("logs.{region}.amazonaws.com",))
        self.vpc = ec2.Vpc(
            self, "Vpc", vpc_name=names.name_of(settings.env_name, "vpc"),
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR), max_azs=settings.network.max_azs,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(
                name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22)],
            restrict_default_security_group=not local_mode.omitted(settings.local, "restrict-default-sg"),
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            },
        )
        flow_logs = EncryptedLogGroup(self, "FlowLogs", settings=settings, key=self.key)
        self.vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                              traffic_type=ec2.FlowLogTrafficType.ALL)

        # One security group for every interface endpoint: HTTPS from inside the VPC only.
        self.endpoint_sg = ec2.SecurityGroup(self, "EndpointsSg", vpc=self.vpc, allow_all_outbound=False,
                                             description="VPC interface endpoints: HTTPS from the VPC")
        self.endpoint_sg.add_ingress_rule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443),
                                          "HTTPS from workloads in the VPC")
        for name, service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(name, service=service, private_dns_enabled=True, open=False,
                                            security_groups=[self.endpoint_sg])
        CfnOutput(self, names.output_key("vpc"), value=self.vpc.vpc_id)

    @property
    def private_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
