"""The contract: one classification per column, curated tables free of PII, DDL, pseudonyms."""
import pytest

from aml_contract import pseudonym, rules, schema
from aml_contract.schema import Pii


def test_design_pii_classes_are_encoded_exactly():
    drop = {c for t in schema.SOURCE_TABLES.values() for c in t.columns_with(Pii.DROP)}
    assert drop == {"full_name", "email", "phone", "national_id", "address_line", "city", "postal_code",
                    "originator_name", "beneficiary_name", "ip_address", "memo"}
    assert schema.CUSTOMERS.columns_with(Pii.GENERALISE) == ["date_of_birth"]
    pseudo = {c for t in schema.SOURCE_TABLES.values() for c in t.columns_with(Pii.PSEUDONYMISE)}
    assert pseudo == {"customer_id", "account_id", "originator_account_id", "beneficiary_account_id", "device_id"}


def test_currency_is_a_reference_code_and_amount_base_may_be_unknown():
    """Issue 19: every currency a bank sends is taken (the currencies reference dataset), and a row
    without a USD equivalent is kept (amount_base nullable in the source and the curated zone)."""
    for table in (schema.TRANSACTIONS, schema.ACCOUNTS):
        column = table.column("currency")
        assert column.reference == "currencies" and column.enum is None
    assert not schema.TRANSACTIONS.column("amount_base").required
    assert "amount_base" in dict(schema.CURATED_TABLES["transactions"])


def test_curated_tables_hold_no_pii_column():
    forbidden = {c.name for t in schema.SOURCE_TABLES.values() for c in t.columns if c.pii is not Pii.NONE}
    for table, columns in schema.CURATED_TABLES.items():
        names = {n for n, _ in columns}
        assert not names & forbidden, table


def test_curated_transactions_match_design():
    names = [n for n, _ in schema.CURATED_TABLES["transactions"]]
    assert names == ["transaction_id", "booked_at", "originator_account_pid", "originator_customer_pid",
                     "originator_country", "beneficiary_account_pid", "beneficiary_customer_pid",
                     "beneficiary_country", "amount", "currency", "amount_base", "transaction_type", "channel",
                     "device_pid", "status", "dms_commit_ts"]
    assert dict(schema.CURATED_TABLES["customers"])["birth_year"] == schema.INT


def test_ddl_names_every_source_column_once():
    ddl = schema.postgres_ddl()
    for table in schema.SOURCE_TABLES.values():
        assert f"CREATE TABLE IF NOT EXISTS core.{table.name}" in ddl
        for col in table.columns:
            assert f"    {col.name} " in ddl
    assert "amount numeric(18,2)" in ddl


def test_pseudonym_is_keyed_hmac():
    key = pseudonym.normalise_key("k" * 32)
    other = pseudonym.normalise_key("j" * 32)
    a = pseudonym.pseudonymise("ACC1", key)
    assert len(a) == 64 and int(a, 16) >= 0
    assert a == pseudonym.pseudonymise("ACC1", key)
    assert a != pseudonym.pseudonymise("ACC1", other)
    assert pseudonym.pseudonymise(None, key) is None
    with pytest.raises(ValueError):
        pseudonym.normalise_key("short")
    assert pseudonym.key_from_secret_string('{"key": "' + "k" * 32 + '"}') == key


def test_rule_parameters_load_and_hold_no_reference_data():
    params = rules.load()
    assert params.rule("structuring")["max_amount"] == params.rule("large_cash")["threshold"]
    assert "fatf_lists" not in rules.PARAMETERS_FILE.read_text()  # dated reference data (aml_contract.reference)
    for rule in params.rules.values():
        assert rule.severity in rules.SEVERITIES and 0 < rule.score <= 100


def test_the_glue_jobs_default_arguments_are_what_its_entry_script_parses():
    """The stack's DefaultArguments (aml_contract.glue_job) reach the job under the same names."""
    from aml_contract import glue_job
    from glue_jobs.curate_transactions import parse_args

    arguments = glue_job.default_arguments("raw-bucket", "curated-bucket", "the-secret")
    argv = [token for name, value in arguments.items() for token in (name, value)]
    parsed = parse_args([*argv, f"--{glue_job.JOB_NAME}", "job"])
    assert {f"--{name}": value for name, value in parsed.items() if value is not None and name != glue_job.JOB_NAME} \
        == arguments
    assert parsed[glue_job.RAW_PATH] == "s3://raw-bucket/"  # the job appends dms/core/<table>/ itself
