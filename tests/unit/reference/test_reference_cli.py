"""`aml reference build | publish | check`: one error line for each bad input, SSE-KMS on upload."""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from aml.cli import main
from aml.reference import publish
from aml_contract import reference


def test_build_then_check_a_folder_names_what_is_stale(tmp_path, capsys):
    assert main(["reference", "build", "--out", str(tmp_path)]) == 0
    built = json.loads(capsys.readouterr().out)
    assert set(built) == set(reference.DATASETS)
    code = main(["reference", "check", "--dir", str(tmp_path)])
    out = capsys.readouterr().out
    stale = [line for line in out.splitlines() if line.startswith("stale: ")]
    assert code == (1 if stale else 0)  # the pinned ECB history ages: today it is past its review date


@pytest.mark.parametrize(("argv", "message"), [
    (["reference", "publish", "--bucket", "b"], "needs --kms-key-id"),
    (["reference", "publish", "--bucket", "b", "--local", "--source", "/nonexistent"], "not a built reference layout"),
    (["reference", "check", "--dir", "/nonexistent"], "not published"),
])
def test_bad_inputs_end_in_one_error_line(argv, message, capsys):
    assert main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("aml: error:") and message in err[0]


@mock_aws
def test_publish_names_sse_kms_and_the_key_and_writes_data_before_manifests(tmp_path):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="curated")
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    publish.to_directory(tmp_path)
    manifests = publish.to_s3(s3, "curated", publish.read_directory(tmp_path), kms_key_id=key)
    assert set(manifests) == set(reference.DATASETS)
    for dataset in reference.DATASETS:
        head = s3.head_object(Bucket="curated", Key=reference.data_key(dataset))
        assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key


@pytest.mark.parametrize("argv", [
    ["reference", "build", "--out", "/proc/not-writable"],
    ["reference", "build", "--out", "FILE"],
    ["reference", "build", "--out", "DIR", "--ecb-zip", "FILE"],
    ["reference", "build", "--out", "DIR", "--ecb-zip", "/nonexistent.zip"],
    ["reference", "check", "--dir", "FILE"],
])
def test_bad_paths_end_in_one_error_line(argv, tmp_path, capsys):
    plain = tmp_path / "plain.txt"
    plain.write_text("not a zip, not a folder")
    argv = [str(plain) if a == "FILE" else str(tmp_path / "out") if a == "DIR" else a for a in argv]
    assert main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("aml: error:")
