"""The ETL stack: the curation Glue job and its assets."""
from __future__ import annotations

import json

from aws_cdk.assertions import Match

from aml_contract import glue_job, reference
from stacks import assets


def test_etl_job(synth):
    t = synth.template("etl")
    t.has_resource_properties("AWS::Glue::Job", {
        "GlueVersion": "5.1", "Command": Match.object_like({"Name": "glueetl", "PythonVersion": "3"}),
        "SecurityConfiguration": Match.any_value(), "WorkerType": "G.1X", "NumberOfWorkers": 2,
        "DefaultArguments": Match.object_like({
            "--enable-metrics": "", "--enable-continuous-cloudwatch-log": "true",
            "--extra-py-files": Match.any_value(),
            **{name: Match.any_value() for name in glue_job.default_arguments("raw", "curated", "secret")}})})
    # One incrementality story: the job's processed-files manifest, never Glue job bookmarks.
    arguments = next(iter(t.find_resources("AWS::Glue::Job").values()))["Properties"]["DefaultArguments"]
    assert "--job-bookmark-option" not in arguments
    t.has_resource_properties("AWS::Glue::SecurityConfiguration", {"EncryptionConfiguration": {
        "S3Encryptions": [Match.object_like({"S3EncryptionMode": "SSE-KMS"})],
        "CloudWatchEncryption": Match.object_like({"CloudWatchEncryptionMode": "SSE-KMS"}),
        "JobBookmarksEncryption": Match.absent()}})
    # The daily pipeline runs the job (glue:startJobRun.sync): no trigger of its own to collide with it.
    t.resource_count_is("AWS::Glue::Trigger", 0)


def test_the_job_writes_the_derived_datasets_by_key_only(synth):
    """PutObject on statistics/segment_amounts/* and nothing else there: no read, list or delete."""
    statements = [s for r in synth.template("etl").find_resources("AWS::IAM::Policy").values()
                  for s in r["Properties"]["PolicyDocument"]["Statement"]]
    derived = [s for s in statements if "statistics/" in json.dumps(s)]
    assert [(s["Sid"], s["Action"]) for s in derived] == [("PublishDerivedDatasets", "s3:PutObject")]
    assert f'/{reference.table_prefix("segment_amounts")}*"' in json.dumps(derived[0]["Resource"])


def test_glue_libraries_zip_is_importable_as_the_entry_script_imports_it():
    import zipfile


    path = assets.glue_extra_python_zip()
    names_ = zipfile.ZipFile(path).namelist()
    assert "glue_jobs/__init__.py" in names_ and "glue_jobs/curation/__init__.py" in names_
    assert "aml_contract/schema.py" in names_ and "glue_jobs/curate_transactions.py" not in names_
    assert not [n for n in names_ if "__pycache__" in n]
    assert path.read_bytes() == assets.glue_extra_python_zip().read_bytes()  # deterministic asset hash
    entry = assets.GLUE_ENTRY_SCRIPT.read_text()
    assert "from glue_jobs.curation" in entry
    # The job reads the rule parameters (segments) as package data, as Glue imports them: from the zip.
    assert "aml_contract/rule_parameters.json" in names_
    probe = f"import sys; sys.path.insert(0, {str(path)!r}); " \
            "from glue_jobs.curation.segment_statistics import parameters; print(parameters().segments.statistics_days)"
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "60"
