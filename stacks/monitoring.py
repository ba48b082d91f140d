"""Monitoring: alarms (to an encrypted SNS topic) on stream and Lambda iterator age, Lambda errors
and throttles, source schema changes, records beyond the rules' late-record horizon, reference data
the Lambda could not reload or found past its review date, DLQ depth, Glue job failures and DMS
task failures; one dashboard."""
from __future__ import annotations

from aws_cdk import ArnFormat, CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from aml_contract import names, reference
from aml_contract.names import resource_name
from stacks.constructs import DataKey
from stacks.etl import EtlStack
from stacks.replication import ReplicationStack
from stacks.settings import Settings
from stacks.streaming import StreamingStack

PERIOD = Duration.minutes(5)
# Each Lambda container reloads the reference data every 15 minutes and reports a stale dataset
# once per load: an hour holds a datapoint whenever the data is stale and records flow. The segment
# statistics the Glue job derives are reviewed by its run day + 2: stale when the job stops.
STALE_PERIOD = Duration.hours(1)
WATCHED_DATASETS = (*reference.DATASETS, *reference.DERIVED_DATASETS)


class MonitoringStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, streaming: StreamingStack,
                 etl: EtlStack, replication: ReplicationStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        # Names, not Refs, tie the alarms to the job and the tasks: no import of resources the
        # local emulator cannot model; the stack still deploys after them.
        self.add_stack_dependency(etl)
        self.add_stack_dependency(replication)
        env, thresholds = settings.env_name, settings.alarms
        self._env, self._alarm_names = env, {}
        # CloudWatch alarms publish to the encrypted topic: the key policy admits that service.
        self.key = key = DataKey(self, "AlarmsKey", settings=settings, purpose="alarms",
                                 service_principals=("cloudwatch.amazonaws.com",))
        self.topic = sns.Topic(self, "AlarmTopic", topic_name=names.name_of(env, "alarm_topic"),
                               display_name="AML platform alarms", master_key=key, enforce_ssl=True)
        if settings.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        action = actions.SnsAction(self.topic)
        function, stream, dlq = streaming.function, streaming.stream, streaming.dlq

        iterator_age = thresholds.iterator_age_ms
        self.alarms = [
            self._alarm("StreamIteratorAge", stream.metric_get_records_iterator_age_milliseconds(
                statistic="Maximum", period=PERIOD), iterator_age, "Kinesis consumers are falling behind"),
            self._alarm("LambdaIteratorAge", function.metric(
                "IteratorAge", statistic="Maximum", period=PERIOD), iterator_age,
                "The rules Lambda is falling behind the stream"),
            self._alarm("LambdaErrors", function.metric_errors(statistic="Sum", period=PERIOD),
                        thresholds.lambda_errors, "The rules Lambda raised errors"),
            self._alarm("LambdaThrottles", function.metric_throttles(statistic="Sum", period=PERIOD),
                        thresholds.lambda_throttles, "The rules Lambda was throttled (reserved concurrency)"),
            # Any one control record that adds, drops or renames a column or table: the contract
            # changed under the pipeline (DMS IncludeTableAlterOperations).
            self._alarm("SourceSchemaChanged", self._rules_metric(names.SCHEMA_CHANGES_METRIC), 1,
                "The source's tables or columns changed (DMS control record): check the contract"),
            # Any one record too far behind its account's watermark for the windowed rules (the
            # late-record horizon): its real-time windows were not evaluated, the batch queries'
            # are; the Lambda logs its transaction id.
            self._alarm("LateRecordsBeyondHorizon", self._rules_metric(names.LATE_BEYOND_HORIZON_METRIC), 1,
                "Records arrived beyond the rules' late-record horizon: real-time windows skipped them"),
            self._alarm("ReferenceRefreshFailed", self._rules_metric(names.REFERENCE_REFRESH_FAILED_METRIC), 1,
                        "The rules Lambda could not reload the reference data: it runs on the copy it has"),
            self._alarm("ReferenceDataStale", cw.MathExpression(
                expression=" + ".join(f"FILL(m{i}, 0)" for i in range(len(WATCHED_DATASETS))),
                using_metrics={f"m{i}": self._rules_metric(names.reference_stale_metric(d), STALE_PERIOD)
                               for i, d in enumerate(WATCHED_DATASETS)},
                period=STALE_PERIOD, label="stale reference datasets"), 1,
                "Reference data (currencies, FX rates, FATF lists) is past its review date: publish a newer "
                "version (aml reference publish); or the segment statistics are: the Glue job has not run "
                "for two days"),
            self._alarm("DlqDepth", dlq.metric_approximate_number_of_messages_visible(
                statistic="Maximum", period=PERIOD), thresholds.dlq_messages,
                "Records reached the rules dead-letter queue"),
            self._event_alarm("GlueJobFailed", events.EventPattern(
                source=["aws.glue"], detail_type=["Glue Job State Change"],
                detail={"jobName": [etl.job_name], "state": ["FAILED", "TIMEOUT", "ERROR"]}),
                "The curation Glue job failed", env),
            self._event_alarm("DmsTaskFailed", events.EventPattern(
                source=["aws.dms"], detail_type=["DMS Replication Task State Change"],
                detail={"category": ["Failure"]}),
                "A DMS replication task in this account and region failed", env),
        ]
        for alarm in self.alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=names.name_of(env, "dashboard"),
                                 default_interval=Duration.hours(24))
        dashboard.add_widgets(
            cw.GraphWidget(title="Stream: incoming records", left=[stream.metric_incoming_records(period=PERIOD)]),
            cw.GraphWidget(title="Iterator age (ms)", left=[
                stream.metric_get_records_iterator_age_milliseconds(statistic="Maximum", period=PERIOD),
                function.metric("IteratorAge", statistic="Maximum", period=PERIOD)]),
            cw.GraphWidget(title="Rules Lambda", left=[
                function.metric_invocations(period=PERIOD), function.metric_errors(period=PERIOD),
                function.metric_throttles(period=PERIOD)], right=[function.metric_duration(period=PERIOD)]),
        )
        # Alarms by ARN from their names, not GetAtt (the local emulator does not model alarms).
        by_name = [cw.Alarm.from_alarm_arn(self, f"{a.node.id}ByName", self.format_arn(
            service="cloudwatch", resource="alarm", resource_name=self._alarm_names[a.node.id],
            arn_format=ArnFormat.COLON_RESOURCE_NAME)) for a in self.alarms]
        dashboard.add_widgets(cw.AlarmStatusWidget(title="Alarms", alarms=by_name, width=24))
        CfnOutput(self, names.output_key("alarm_topic"), value=self.topic.topic_arn)

    @staticmethod
    def _rules_metric(metric_name: str, period: Duration = PERIOD) -> cw.Metric:
        """One of the rules Lambda's own counts (Powertools: its namespace, the `service` dimension)."""
        return cw.Metric(namespace=names.RULES_METRICS_NAMESPACE, metric_name=metric_name,
                         dimensions_map={"service": names.RULES_SERVICE}, statistic="Sum", period=period)

    def _alarm(self, id: str, metric: cw.IMetric, threshold: float, description: str) -> cw.Alarm:
        self._alarm_names[id] = resource_name(self._env, id)
        return cw.Alarm(self, id, alarm_name=self._alarm_names[id], metric=metric, threshold=threshold, evaluation_periods=1,
                        comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                        treat_missing_data=cw.TreatMissingData.NOT_BREACHING, alarm_description=description)

    def _event_alarm(self, id: str, pattern: events.EventPattern, description: str, env: str) -> cw.Alarm:
        """An EventBridge rule matching the failure event; the alarm fires when the rule matches."""
        rule = events.Rule(self, f"{id}Rule", rule_name=resource_name(env, id.lower()), event_pattern=pattern,
                           description=description)
        metric = cw.Metric(namespace="AWS/Events", metric_name="TriggeredRules",
                           dimensions_map={"RuleName": rule.rule_name}, statistic="Sum", period=PERIOD)
        return self._alarm(id, metric, 1, description)
