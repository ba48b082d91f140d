"""The Glue entry script refuses a missing raw folder or a short or missing key with one error
line and exit 2, before Spark starts (never a run that reconciles nothing)."""
from __future__ import annotations

import pytest

from aml_contract import pseudonym
from glue_jobs import curate_transactions


def _argv(tmp_path, raw):
    return ["--JOB_NAME", "t", "--raw_path", str(raw), "--curated_path", str(tmp_path / "c"),
            "--quarantine_path", str(tmp_path / "q")]


@pytest.mark.parametrize(("raw", "key", "message"), [
    ("absent", "k" * 32, "--raw_path"),
    ("raw", None, f"set {pseudonym.KEY_ENV}"),
    ("raw", "short", "at least 16 bytes, got 5"),
    ("raw", "k" * 15, "at least 16 bytes, got 15"),
])
def test_bad_input_is_one_error_line_before_spark(tmp_path, monkeypatch, capsys, raw, key, message):
    (tmp_path / "raw").mkdir()
    if key is None:
        monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(pseudonym.KEY_ENV, key)
    monkeypatch.setattr("pyspark.sql.SparkSession", None)  # starting Spark would fail the test
    assert curate_transactions.main(_argv(tmp_path, tmp_path / raw)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("curate_transactions: error:") and message in err[0]
