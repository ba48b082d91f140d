"""Glue entry script: DMS raw zone -> validated, CDC-merged, PII-free, partitioned curated zone.

Runs unchanged on AWS Glue 5.1 and locally:
    python glue_jobs/curate_transactions.py --JOB_NAME local --raw_path DIR \
        --curated_path DIR --quarantine_path DIR [--pseudonymization_secret_id ID] \
        [--shuffle_partitions N]

The key is AML_PSEUDONYMIZATION_KEY (locally) or the secret named by --pseudonymization_secret_id:
at least 16 bytes (aml_contract.pseudonym.MIN_KEY_BYTES).

The work is done by `glue_jobs.curation` (pure transforms, shipped as extra-py-files together
with `aml_contract`); this script only parses arguments, obtains the pseudonymisation key and a
SparkSession, and commits the Glue job. `awsglue` and boto3 are imported only when used.

On Glue: incrementality comes from the processed-files manifest under the curated path (see
`glue_jobs.curation.state`), not from job bookmarks, which the job leaves at Glue's default
(disabled). The argument names live in `aml_contract.glue_job`, from which the stack builds them.
The catalog tables `transactions` (and `alerts`) declare partition projection on `dt`, so new
partitions need no registration: a partition written here is queryable at once.

Shuffle partitions: locally 4 per core (not Spark's 200: every shuffle of a local run would be
200 tiny tasks); on Glue Glue's default unless `--shuffle_partitions` is given. Adaptive query
execution with partition coalescing is on in both (see `glue_jobs.curation.spark_conf`).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from aml_contract import glue_job as interface


def parse_args(argv: list[str]) -> dict[str, str | None]:
    """Glue passes `--name value` pairs plus its own options; unknown ones are ignored."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in interface.REQUIRED_ARGS:
        parser.add_argument(f"--{name}", required=True)
    for name in interface.OPTIONAL_ARGS:
        parser.add_argument(f"--{name}")
    known, _ = parser.parse_known_args(argv)
    args = vars(known)
    partitions = args[interface.SHUFFLE_PARTITIONS]
    if partitions is not None and not (partitions.isdigit() and int(partitions) > 0):
        parser.error(f"--{interface.SHUFFLE_PARTITIONS} must be a positive integer, got {partitions!r}")
    return args


def pseudonymization_key(secret_id: str | None) -> bytes:
    from aml_contract.pseudonym import key_from_env, key_from_secret_string

    if not secret_id:
        return key_from_env()
    import boto3

    secret = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)
    return key_from_secret_string(secret["SecretString"])


def check_inputs(args: dict[str, str | None]) -> bytes:
    """The pseudonymisation key, and a raw path that exists when it is a local folder: checked
    before Spark starts, so a bad input is one error line, never a run that "reconciles" nothing.
    (An S3 raw prefix with no objects is a normal run with no new data.)"""
    raw = args[interface.RAW_PATH]
    if "://" not in raw and not os.path.isdir(raw):
        raise ValueError(f"--{interface.RAW_PATH} {raw} is not a folder (the DMS raw zone to curate)")
    return pseudonymization_key(args[interface.PSEUDONYMIZATION_SECRET_ID])


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        key = check_inputs(args)
    except (ValueError, RuntimeError) as err:  # a short or missing key, a missing folder
        print(f"curate_transactions: error: {err}", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    from glue_jobs.curation.job import run_curation
    from glue_jobs.curation.run_manifest import run_summary
    from glue_jobs.curation.spark_conf import apply_runtime_conf, local_conf

    shuffle_partitions = int(args[interface.SHUFFLE_PARTITIONS]) if args[interface.SHUFFLE_PARTITIONS] else None

    try:
        from awsglue.context import GlueContext
        from awsglue.job import Job
    except ImportError:  # local run: plain Spark, Python workers on this interpreter (pandas UDFs)
        glue_job = None
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.appName(f"curate-transactions-{args[interface.JOB_NAME]}")
        for name, value in local_conf(shuffle_partitions).items():
            builder = builder.config(name, value)
        spark = builder.getOrCreate()
    else:
        from pyspark.context import SparkContext

        glue_context = GlueContext(SparkContext.getOrCreate())
        spark = glue_context.spark_session
        glue_job = Job(glue_context)
        glue_job.init(args[interface.JOB_NAME], {k: v for k, v in args.items() if v is not None})
    apply_runtime_conf(spark, shuffle_partitions)

    manifest = run_curation(spark, args[interface.RAW_PATH], args[interface.CURATED_PATH],
                            args[interface.QUARANTINE_PATH], key)
    print(json.dumps(run_summary(manifest)))
    if glue_job is not None:
        glue_job.commit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
