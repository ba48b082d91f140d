"""Who may read personal data, listed once: the raw zone (DMS's landing prefix and the quarantine,
both holding PII as it left the core banking system) and the pseudonymisation key (whoever holds it
can link pseudonyms back to identifiers). The access proof (tests/unit/infra/test_access_proof.py)
checks that the synthesized policies let exactly these workloads read them; audit alarms on PII
access can use the same list. A workload is named by the tag WORKLOAD_TAG on its IAM role."""
from __future__ import annotations

WORKLOAD_TAG = "aml:workload"
CURATION_JOB = "curation-job"  # the Glue job: reads the raw zone, writes the quarantine, pseudonymises
REALTIME_RULES = "realtime-rules"  # the rules Lambda: pseudonymises the subjects of its alerts
# the daily pipeline's key reconciliation: pseudonymises the source's account and customer ids to
# compare them with the curated zone's (it reads key columns of the source, never the raw zone)
KEY_RECONCILIATION = "key-reconciliation"

RAW_ZONE = "raw zone"
PSEUDONYMIZATION_KEY = "pseudonymisation key"
PII_READERS: dict[str, frozenset[str]] = {
    RAW_ZONE: frozenset({CURATION_JOB}),
    PSEUDONYMIZATION_KEY: frozenset({CURATION_JOB, REALTIME_RULES, KEY_RECONCILIATION}),
}
