"""The reference data in the stacks: published into the curated bucket's reference/ by `cdk
deploy`, declared as Athena tables, and readable by the rules Lambda (that prefix only)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from aml_contract import names, reference
from stacks import local_mode
from stacks.reference_data import KEY_ACTIONS

CURATED_NAME = {"Fn::Join": ["", ["aml-dev-curated-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]]}


def _objects_arn(prefix: str) -> dict:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::aml-dev-curated-", {"Ref": "AWS::AccountId"},
                              "-", {"Ref": "AWS::Region"}, f"/{prefix}"]]}


def _statements(template: dict, role_prefix: str) -> list[dict]:
    return [s for lid, r in template["Resources"].items()
            if r["Type"] == "AWS::IAM::Policy" and lid.startswith(role_prefix)
            for s in r["Properties"]["PolicyDocument"]["Statement"]]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_the_rules_lambda_reads_the_reference_data_and_nothing_else_of_the_curated_bucket(synth):
    streaming = synth.templates["streaming"]
    function = next(r for r in streaming["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
                    and r["Properties"].get("Handler", "").startswith("lambdas.realtime_rules"))
    env = function["Properties"]["Environment"]["Variables"]
    assert env[names.RULES_LAMBDA_ENV["curated_bucket"]] == CURATED_NAME
    s3 = [s for s in _statements(streaming, "RulesRole") if any(a.startswith("s3:") for a in _as_list(s["Action"]))]
    curated = [s for s in s3 if "aml-dev-curated-" in json.dumps(s["Resource"])]
    assert curated == [{"Sid": "ReadReferenceData", "Effect": "Allow", "Action": "s3:GetObject",
                        "Resource": _objects_arn(f"{reference.PREFIX}/*")},
                       {"Sid": "ReadDerivedDatasets", "Effect": "Allow", "Action": "s3:GetObject",
                        "Resource": _objects_arn("statistics/segment_amounts/*")},
                       {"Sid": "ListDerivedDatasetManifests", "Effect": "Allow", "Action": "s3:ListBucket",
                        "Condition": {"StringEquals": {"s3:prefix": ["statistics/segment_amounts/_manifest.json"]}},
                        "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::aml-dev-curated-",
                                                       {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]]}}]
    key = next(s for s in _statements(streaming, "RulesRole") if s.get("Sid") == "ReferenceDataKeyViaS3")
    assert key["Action"] == "kms:Decrypt" and "kms:ViaService" in key["Condition"]["StringEquals"]


def test_one_athena_table_per_reference_dataset(synth):
    tables = {r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
              for r in synth.template("data-lake").find_resources("AWS::Glue::Table").values()}
    types = {"decimal_rate": f"decimal({reference.RATE_PRECISION},{reference.RATE_SCALE})", "decimal": "decimal(18,2)"}
    for dataset in (*reference.DATASETS, *reference.DERIVED_DATASETS):
        storage = tables[dataset]["StorageDescriptor"]
        assert storage["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
        assert storage["Location"] == {"Fn::Join": ["", ["s3://aml-dev-curated-", {"Ref": "AWS::AccountId"}, "-",
                                                         {"Ref": "AWS::Region"}, f"/{reference.table_prefix(dataset)}"]]}
        assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == [
            (name, types.get(logical, logical)) for name, logical in reference.COLUMNS[dataset]]
        assert "PartitionKeys" not in tables[dataset]
    assert ("usd_per_unit", "decimal(16,12)") in [(c["Name"], c["Type"]) for c in tables["fx_rates"]["StorageDescriptor"]["Columns"]]
    assert tables["segment_amounts"]["StorageDescriptor"]["Location"]["Fn::Join"][1][-1] == "/statistics/segment_amounts/"
    assert [(c["Name"], c["Type"]) for c in tables["segment_amounts"]["StorageDescriptor"]["Columns"]][1:3] == [
        ("percentile", "int"), ("amount_base", "decimal(18,2)")]


def test_the_analysts_read_the_reference_tables_and_objects(synth):
    policy = next(iter(synth.template("analytics").find_resources("AWS::IAM::ManagedPolicy").values()))
    statements = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    catalog = json.dumps(statements["ReadCuratedCatalog"]["Resource"])
    assert all(f"/{dataset}\"" in catalog for dataset in (*reference.DATASETS, *reference.DERIVED_DATASETS))
    assert _objects_arn(f"{reference.PREFIX}/*") in statements["ReadCurated"]["Resource"]
    assert _objects_arn("statistics/segment_amounts/*") in statements["ReadCurated"]["Resource"]


def test_cdk_deploy_publishes_the_build_into_reference_only_and_retains_it(synth):
    lake = synth.templates["data-lake"]
    deployment = next(r for r in lake["Resources"].values() if r["Type"] == "Custom::CDKBucketDeployment")
    props = deployment["Properties"]
    assert props["DestinationBucketName"] == CURATED_NAME
    assert props["DestinationBucketKeyPrefix"] == f"{reference.PREFIX}/"
    # Prune deletes what the build lacks under that prefix only: never the statistics the Glue job derives.
    assert [d for d in reference.DERIVED_DATASETS
            if reference.table_prefix(d).startswith(props["DestinationBucketKeyPrefix"])] == []
    assert props["Prune"] is True and props["RetainOnDelete"] is True
    # Uploads ask for SSE-KMS under the data key, as the bucket policy requires of every PUT.
    key_ref = next(lid for lid, r in lake["Resources"].items() if r["Type"] == "AWS::KMS::Key")
    assert props["SystemMetadata"] == {"sse": "aws:kms", "sse-kms-key-id": {"Fn::GetAtt": [key_ref, "Arn"]}}
    # The asset is the synth-time build: <dataset>/<dataset>.jsonl.gz and _manifest.json, as built.
    asset = synth.outdir / f"asset.{props['SourceObjectKeys'][0].removesuffix('.zip')}"
    files = sorted(str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file())
    prefix = f"{reference.PREFIX}/"
    assert files == sorted([*(reference.data_key(d).removeprefix(prefix) for d in reference.DATASETS),
                            *(reference.manifest_key(d).removeprefix(prefix) for d in reference.DATASETS)])
    statements = _statements(lake, "CustomCDKBucketDeployment")
    key = [s for s in statements if any(a.startswith("kms:") for a in _as_list(s["Action"]))]
    assert [sorted(_as_list(s["Action"])) for s in key] == [sorted(KEY_ACTIONS)]
    assert "kms:ViaService" in key[0]["Condition"]["StringEquals"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["NotResource"] == _objects_arn(f"{reference.PREFIX}/*")
    assert {"s3:PutObject*", "s3:DeleteObject*"} <= set(deny["Action"])


def test_the_build_folder_is_ignored_by_git():
    from infra.conftest import load_app_module

    build_dir = load_app_module().REFERENCE_BUILD
    ignored = (Path(__file__).resolve().parents[3] / ".gitignore").read_text().splitlines()
    assert f"/{build_dir.name}/" in ignored


def test_the_data_lake_refuses_to_deploy_without_the_built_reference_data(tmp_path):
    import aws_cdk as cdk

    from infra.conftest import cdk_context
    from stacks.data_lake import DataLakeStack
    from stacks.settings import Settings

    with pytest.raises(ValueError, match="reference"):
        DataLakeStack(cdk.App(context=cdk_context()), "aml-dev-data-lake", settings=Settings())
    with pytest.raises(ValueError, match="no built reference layout"):
        DataLakeStack(cdk.App(context=cdk_context()), "aml-dev-data-lake", settings=Settings(),
                      reference_folder=tmp_path)


def test_local_deployments_leave_the_bucket_deployment_to_the_local_runtime():
    assert local_mode.omitted(True, "reference-deployment") and not local_mode.omitted(False, "reference-deployment")
