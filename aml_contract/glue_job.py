"""The curation Glue job's interface, in one place: its argument names and the storage prefixes it
keeps under its paths. The ETL stack builds the job's default arguments and its role's S3 access
from these; the entry script parses the same names; the access proof checks both against what the
job's storage layer touches."""
from __future__ import annotations

from aml_contract.schema import QUARANTINE_PREFIX, SOURCE_TABLES

# Argument names (`--name value` on the command line and in Glue's DefaultArguments).
JOB_NAME = "JOB_NAME"  # Glue passes it itself; required locally
RAW_PATH = "raw_path"  # the raw zone's root: the job reads <raw_path>/dms/core/<table>/ (schema.raw_table_prefix)
CURATED_PATH = "curated_path"
QUARANTINE_PATH = "quarantine_path"
PSEUDONYMIZATION_SECRET_ID = "pseudonymization_secret_id"  # noqa: S105 (an argument name)
SHUFFLE_PARTITIONS = "shuffle_partitions"
REQUIRED_ARGS = (JOB_NAME, RAW_PATH, CURATED_PATH, QUARANTINE_PATH)
OPTIONAL_ARGS = (PSEUDONYMIZATION_SECRET_ID, SHUFFLE_PARTITIONS)

# Storage prefixes. Under the curated path: one folder per table the job owns (`alerts` is
# Firehose's) and the job's state (processed-files manifest, state index, run manifests, staging),
# whose leading underscore keeps it out of Spark's and Athena's view of the tables.
TABLES_WRITTEN = tuple(SOURCE_TABLES)  # customers, accounts, transactions
STATE_PREFIX = "_job_state"
# The processed-files manifest, below the curated path: {"state_format", "tables": {table: [file
# path below the table's raw folder]}} (glue_jobs/curation/state.py writes it; the daily pipeline's
# plan step reads it to find raw files not yet curated).
PROCESSED_FILES = f"{STATE_PREFIX}/processed_files.json"
# The run manifests, one JSON per job run (<run id>.json: rows read, written, quarantined by reason,
# partitions touched, reconciled; glue_jobs/curation/state.py), which the reports read (aml_report).
RUNS_PREFIX = f"{STATE_PREFIX}/runs"
# In the raw bucket: refused rows still hold PII, so they never go under the curated path. (No
# Glue temporary directory: neither the job nor Glue's runtime writes one for this job, as the
# access proof shows, so the job has neither the argument nor the grant.)
QUARANTINE = QUARANTINE_PREFIX


def s3_uri(bucket: str, prefix: str = "") -> str:
    """s3://bucket/prefix/ (a folder URI, as the job's path arguments are given)."""
    return f"s3://{bucket}/{prefix.strip('/')}/" if prefix else f"s3://{bucket}/"


def default_arguments(raw_bucket: str, curated_bucket: str, secret_id: str) -> dict[str, str]:
    """The job's DefaultArguments on Glue. No `--job-bookmark-option`: incrementality comes from the
    processed-files manifest under STATE_PREFIX, and Glue's default is bookmarks disabled."""
    return {
        f"--{RAW_PATH}": s3_uri(raw_bucket),
        f"--{CURATED_PATH}": s3_uri(curated_bucket),
        f"--{QUARANTINE_PATH}": s3_uri(raw_bucket, QUARANTINE),
        f"--{PSEUDONYMIZATION_SECRET_ID}": secret_id,
    }
