"""The ETL stack: the curation Glue job and its assets."""
from __future__ import annotations

from aws_cdk.assertions import Match

from aml_contract import glue_job
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
    t.has_resource_properties("AWS::Glue::Trigger", {"Type": "SCHEDULED", "StartOnCreation": True,
                                                     "Schedule": Match.string_like_regexp(r"^cron\(")})


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
