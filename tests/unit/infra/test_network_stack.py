"""The network stack: a private VPC with flow logs and endpoints."""
from __future__ import annotations

import json

from aws_cdk.assertions import Match


def test_network_is_private_with_flow_logs_and_endpoints(synth):
    t = synth.template("network")
    t.resource_count_is("AWS::EC2::NatGateway", 0)
    t.resource_count_is("AWS::EC2::InternetGateway", 0)
    t.has_resource_properties("AWS::EC2::Subnet", {"MapPublicIpOnLaunch": False})
    t.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"})
    t.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": Match.any_value(), "RetentionInDays": 365})
    endpoints = synth.resources("AWS::EC2::VPCEndpoint")
    assert sum(r["Properties"].get("VpcEndpointType") == "Interface" for _, _, r in endpoints) >= 8
    assert len({json.dumps(r["Properties"]["ServiceName"]) for _, _, r in endpoints}) == len(endpoints)
    subnets = synth.resources("AWS::EC2::Subnet")
    assert len({json.dumps(r["Properties"]["AvailabilityZone"]) for _, _, r in subnets}) >= 2
