"""The monitoring stack: alarms, event rules and the dashboard."""
from __future__ import annotations

from aws_cdk.assertions import Match

from aml_contract import names, reference


def test_monitoring_alarms_notify(synth):
    t = synth.template("monitoring")
    alarms = t.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 11
    for lid, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"], lid
    metrics = {a["Properties"].get("MetricName") for a in alarms.values()}
    assert {"GetRecords.IteratorAgeMilliseconds", "IteratorAge", "Errors", "Throttles",
            "ApproximateNumberOfMessagesVisible", "TriggeredRules", names.SCHEMA_CHANGES_METRIC,
            names.LATE_BEYOND_HORIZON_METRIC} <= metrics
    # A DMS control record that changes a column fires it at one (the Lambda's metric, its namespace).
    t.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": names.SCHEMA_CHANGES_METRIC, "Namespace": names.RULES_METRICS_NAMESPACE,
        "Dimensions": [{"Name": "service", "Value": names.RULES_SERVICE}], "Threshold": 1})
    # One record beyond the rules' late-record horizon fires it (the Lambda's metric, its namespace).
    t.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": names.LATE_BEYOND_HORIZON_METRIC, "Namespace": names.RULES_METRICS_NAMESPACE,
        "Dimensions": [{"Name": "service", "Value": names.RULES_SERVICE}], "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold"})
    # Reference data: one failed reload fires it; any dataset past its review date fires the other.
    t.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": names.REFERENCE_REFRESH_FAILED_METRIC, "Namespace": names.RULES_METRICS_NAMESPACE,
        "Threshold": 1})
    stale = next(a["Properties"] for a in alarms.values() if "Metrics" in a["Properties"])
    watched = {m["MetricStat"]["Metric"]["MetricName"] for m in stale["Metrics"] if "MetricStat" in m}
    # the segment statistics too: stale when the Glue job that derives them stops
    assert watched == {names.reference_stale_metric(d) for d in (*reference.DATASETS, *reference.DERIVED_DATASETS)}
    assert stale["Threshold"] == 1
    t.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_like({"source": ["aws.glue"]})})
    t.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_like({"source": ["aws.dms"]})})
    t.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    t.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
