"""The analytics stack: the analysts' workgroup, named queries and policy."""
from __future__ import annotations

import json

from aws_cdk.assertions import Match

from aml_contract.named_queries import QUERIES_DIR


def test_analytics_workgroup_and_named_queries(synth):
    t = synth.template("analytics")
    t.has_resource_properties("AWS::Athena::WorkGroup", {"WorkGroupConfiguration": Match.object_like({
        "EnforceWorkGroupConfiguration": True, "PublishCloudWatchMetricsEnabled": True,
        "BytesScannedCutoffPerQuery": 10 * 1024**3,
        "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
        "ResultConfiguration": Match.object_like({"EncryptionConfiguration": {
            "EncryptionOption": "SSE_KMS", "KmsKey": Match.any_value()}})})})
    sql_files = sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))
    queries = t.find_resources("AWS::Athena::NamedQuery")
    assert len(queries) == len(sql_files) > 0
    assert sorted(q["Properties"]["Name"] for q in queries.values()) == sql_files
    policy = next(iter(t.find_resources("AWS::IAM::ManagedPolicy").values()))
    text = json.dumps(policy)
    assert "-raw-" not in text and "aml-dev-curated" in text  # curated zone only, never the raw (PII) zone
