"""Streaming: the KMS-encrypted Kinesis stream DMS task 2 feeds, the rules engine reading it
(stacks/rules_engine.py) and the delivery of the alerts it raises (stacks/alerts_delivery.py)."""
from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from aml_contract import names
from stacks.alerts_delivery import AlertsDelivery
from stacks.constructs import DataKey, removal_policy
from stacks.data_lake import DataLakeStack
from stacks.network import NetworkStack
from stacks.rules_engine import RulesEngine
from stacks.settings import Settings


class StreamingStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, network: NetworkStack,
                 lake: DataLakeStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        cfg, env = settings.streaming, settings.env_name
        self.add_stack_dependency(lake)
        # One key for the stream, the engine's tables, queue and logs, and the alerts it delivers.
        self.key = DataKey(self, "StreamingKey", settings=settings, purpose="streaming",
                           service_principals=("logs.{region}.amazonaws.com",))
        self.stream = kinesis.Stream(
            self, "Transactions", stream_name=names.name_of(env, "stream_name"),
            shard_count=cfg.shard_count, retention_period=Duration.hours(cfg.retention_hours),
            encryption=kinesis.StreamEncryption.KMS, encryption_key=self.key,
            removal_policy=removal_policy(settings))
        self.alerts = AlertsDelivery(self, "Alerts", settings=settings, key=self.key, lake=lake)
        self.rules = RulesEngine(self, "Rules", settings=settings, key=self.key, stream=self.stream,
                                 alerts=self.alerts, network=network, lake=lake)
        self.function, self.dlq = self.rules.function, self.rules.dlq  # what monitoring alarms on

        outputs = {
            "stream_name": self.stream.stream_name,
            "rule_state_table": self.rules.rule_state.table_name,
            "alerts_table": self.alerts.table.table_name,
            "idempotency_table": self.rules.idempotency.table_name,
            "profiles_table": self.rules.profiles.table_name,
            "alerts_topic_arn": self.alerts.topic.topic_arn,
            "dlq_url": self.rules.dlq.queue_url,
            "alerts_delivery_stream": self.alerts.delivery_name,
            "rules_function": self.rules.function.function_name,
        }
        for field, value in outputs.items():
            CfnOutput(self, names.output_key(field), value=value)
