"""The Glue job on local Spark: the entry script, unchanged, as a child process (the demo's glue
stage and the daily pipeline's local Glue binding both run it through here)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aml import REPO_ROOT
from aml.errors import AmlError
from aml.local import aws

GLUE_SCRIPT = REPO_ROOT / "glue_jobs" / "curate_transactions.py"
STDERR_TAIL_LINES = 15


class GlueJobFailed(AmlError):
    """The job exited non-zero; `tail` holds the last lines of its stderr."""

    def __init__(self, returncode: int, tail: str):
        super().__init__(f"the Glue job failed (exit {returncode}):\n{tail}")
        self.returncode = returncode
        self.tail = tail


def run_glue_job(work: Path, pseudonymization_secret_id: str, run_name: str) -> dict:
    """Curate work/raw into work/curated (quarantine in work/quarantine) with the Glue entry
    script on local Spark; the key comes from the emulator's Secrets Manager exactly as on Glue.
    Returns the job's summary (its last stdout line, JSON); raises GlueJobFailed. The job's stderr
    is kept in work/logs/glue/<run_name>.log."""
    cmd = [sys.executable, str(GLUE_SCRIPT), "--JOB_NAME", run_name,
           "--raw_path", str(work / "raw"), "--curated_path", str(work / "curated"),
           "--quarantine_path", str(work / "quarantine"),
           "--pseudonymization_secret_id", pseudonymization_secret_id]
    env = {**os.environ, **aws.local_env(), "PYSPARK_PYTHON": sys.executable}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    # The job's log, as Glue keeps it in CloudWatch Logs: its per-step timings are in it.
    log_file = work / "logs" / "glue" / f"{run_name}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text(result.stderr)
    if result.returncode != 0:
        raise GlueJobFailed(result.returncode, "\n".join(result.stderr.splitlines()[-STDERR_TAIL_LINES:]))
    return json.loads(result.stdout.strip().splitlines()[-1])
