"""Key reconciliation finds what DMS loses silently: a primary-key UPDATE it ignored leaves the
old key live in the curated zone and the new key nowhere (../shared/cases/primary-key-change)."""
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from replication_helpers import sql

from aml import cli
from aml.reconcile import reconcile
from aml_contract.pseudonym import key_from_env, pseudonymise

pytestmark = pytest.mark.integration


def _curated(root, transactions, accounts, customers, key):
    """The curated zone as the Glue job lays it out (only the key columns matter here)."""
    for name, column, values in (("transactions/dt=2025-03-01", "transaction_id", transactions),
                                 ("accounts", "account_pid", [pseudonymise(a, key) for a in accounts]),
                                 ("customers", "customer_pid", [pseudonymise(c, key) for c in customers])):
        (root / name).mkdir(parents=True)
        pq.write_table(pa.table({column: pa.array(values, pa.string())}), root / name / "part-0.parquet")


@pytest.fixture
def bank(source_db):
    sql(source_db,
        "INSERT INTO core.customers (customer_id, full_name) VALUES ('C1', 'Ann'), ('C2', 'Bob')",
        "INSERT INTO core.accounts (account_id, customer_id) VALUES ('A1', 'C1'), ('A2', 'C2')",
        "INSERT INTO core.transactions (transaction_id, amount) VALUES ('T1', 9500), ('T2', 10), ('BAD', -1)")
    return source_db


def test_in_step_zones_reconcile_clean_and_quarantined_rows_count_as_accounted_for(bank, tmp_path):
    key = key_from_env()
    _curated(tmp_path / "curated", ["T1", "T2"], ["A1", "A2"], ["C1", "C2"], key)
    (tmp_path / "quarantine" / "transactions").mkdir(parents=True)
    pq.write_table(pa.table({"transaction_id": ["BAD"], "quarantine_reason": ["non_positive:amount"]}),
                   tmp_path / "quarantine" / "transactions" / "part-0.parquet")
    report = reconcile(bank, tmp_path / "curated", tmp_path / "quarantine", key)
    assert report.clean, report.as_dict()
    assert report.tables["transactions"].accounted_for == 1


@pytest.mark.parametrize("table,key_column,old,new", [
    ("transactions", "transaction_id", "T1", "T1-FIXED"),
    ("accounts", "account_id", "A1", "A1-NEW"),
    ("customers", "customer_id", "C1", "C1-NEW"),
])
def test_an_ignored_key_update_is_found(bank, tmp_path, capsys, table, key_column, old, new):
    key = key_from_env()
    _curated(tmp_path / "curated", ["T1", "T2", "BAD"], ["A1", "A2"], ["C1", "C2"], key)
    sql(bank, f"UPDATE core.{table} SET {key_column} = '{new}' WHERE {key_column} = '{old}'")  # DMS ignored it
    report = reconcile(bank, tmp_path / "curated", None, key).tables[table]
    shown = (lambda k: k) if table == "transactions" else (lambda k: pseudonymise(k, key))
    assert report.extra == [shown(old)] and report.missing == [shown(new)]
    # The command reports it and fails, naming only curated-zone identifiers.
    assert cli.main(["reconcile", "--data-dir", str(tmp_path / "curated"), "--db-url", bank]) == 1
    out = capsys.readouterr().out
    assert '"clean": false' in out and (old in out) is (table == "transactions")


def test_without_the_key_variable_the_environments_own_key_is_used(bank, tmp_path, capsys, monkeypatch, resources):
    """As after `make demo`: the key is the environment's secret in the emulator, not a variable."""
    from aml.local.resources import pseudonymization_key

    _curated(tmp_path / "curated", ["T1", "T2", "BAD"], ["A1", "A2"], ["C1", "C2"], pseudonymization_key(resources))
    monkeypatch.delenv("AML_PSEUDONYMIZATION_KEY")
    assert cli.main(["reconcile", "--data-dir", str(tmp_path / "curated"), "--db-url", bank,
                     "--env", resources.env_name]) == 0
    assert '"clean": true' in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--env", "nosuchenv"], ["--env", "Not_A_Name"]])
def test_no_key_to_be_found_is_one_error_line(bank, tmp_path, capsys, monkeypatch, argv):
    _curated(tmp_path / "curated", ["T1"], ["A1"], ["C1"], b"k" * 32)
    monkeypatch.delenv("AML_PSEUDONYMIZATION_KEY")
    assert cli.main(["reconcile", "--data-dir", str(tmp_path / "curated"), "--db-url", bank, *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aml: error:") and "Traceback" not in err, err
