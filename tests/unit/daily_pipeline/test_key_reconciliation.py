"""The key reconciliation's shared logic (aml_contract.key_reconciliation), pure Python (it runs on
the Lambda runtime's Python too): bucket digests that find exactly the differing buckets, and the
classes: extra (alarmed), missing, pending (lag). The queries on DuckDB: tests/unit/query/test_key_reconciliation_queries.py."""
from __future__ import annotations

from datetime import UTC, datetime

from aml_contract import key_reconciliation as kr
from aml_contract.pseudonym import pseudonymise

KEY = b"k" * 32
MARK = datetime(2025, 3, 2, tzinfo=UTC)


def test_digests_differ_exactly_in_the_buckets_of_the_changed_keys():
    keys = [f"T{i}" for i in range(1000)]
    source = kr.Digest.of([*keys[1:], "T0-FIXED"])  # T0 re-keyed in the source
    curated = kr.Digest.of(keys)
    assert source.mismatched(curated) == sorted({kr.bucket_of("T0"), kr.bucket_of("T0-FIXED")})
    assert kr.Digest.of(reversed(keys)).mismatched(curated) == []  # order-independent
    assert (source.keys, curated.keys) == (1000, 1000)  # equal counts: the digest still tells


def test_curated_form_pseudonymises_exactly_the_pseudonymised_keys():
    assert kr.curated_form("transactions", "T1", KEY) == "T1"
    assert kr.curated_form("accounts", "A1", KEY) == pseudonymise("A1", KEY)
    assert kr.curated_form("customers", "C1", KEY) == pseudonymise("C1", KEY)


def test_classes_and_metrics():
    before, after = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 3, tzinfo=UTC)
    source = {"T2": before, "T1-FIXED": before, "T9": after, "BAD": before}
    result = kr.classify("transactions", source, {"T1", "T2"}, MARK, source_total=4, curated_total=2,
                         accounted_for={"BAD"})
    assert (result.extra, result.missing, result.pending, result.accounted_for) == (["T1"], ["T1-FIXED"], ["T9"], 1)
    report = kr.Report({"transactions": result}, MARK)
    assert not report.clean and report.key_mismatches == 1
    data = {(d["MetricName"], d["Dimensions"][0]["Value"]): d["Value"] for d in report.metric_data()}
    assert data == {(kr.MISMATCH_METRIC, "transactions"): 1.0, (kr.MISSING_METRIC, "transactions"): 1.0,
                    (kr.PENDING_METRIC, "transactions"): 1.0}
    assert report.as_dict()["tables"]["transactions"]["extra_examples"] == ["T1"]
    assert "KEY MISMATCHES" in report.summary()


def test_lag_alone_is_pending_and_clean():
    result = kr.classify("transactions", {"T1": MARK, "T2": datetime(2025, 3, 5, tzinfo=UTC)}, {"T1"}, MARK,
                         source_total=2, curated_total=1)
    assert (result.extra, result.missing, result.pending) == ([], [], ["T2"]) and result.clean
    nothing_curated = kr.classify("accounts", {"a": MARK}, set(), None, source_total=1, curated_total=0)
    assert nothing_curated.pending == ["a"] and nothing_curated.clean


def test_the_reader_login_reads_key_and_change_time_columns_only():
    deployed, local = kr.reader_role_sql(True), kr.reader_role_sql(False)
    assert f"GRANT rds_iam TO {kr.READER_ROLE}" in deployed and not any("rds_iam" in s for s in local)
    grants = [s for s in deployed if s.startswith("GRANT SELECT")]
    assert grants == [f"GRANT SELECT ({kr.table(t).primary_key}, updated_at) ON core.{t} TO {kr.READER_ROLE}"
                      for t in kr.TABLES]
