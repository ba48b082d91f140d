"""The local engine's views of the reference data: typed from aml_contract.reference.COLUMNS (as
the Glue tables are), reading the rows and never the manifest, and answering the FATF and FX
look-ups exactly as ReferenceData does."""
from __future__ import annotations

import shutil
from datetime import date

import pytest
from handmade_bank import START

from aml.errors import AmlError
from aml.query import catalog
from aml.query.local import LocalEngine
from aml_contract import reference
from aml_contract.reference import ReferenceData

EXPECTED_TYPES = {"string": "VARCHAR", "date": "DATE", "decimal_rate": "DECIMAL(16,12)"}
DAYS_TO_CHECK = [date(1999, 1, 1), date(2025, 6, 12), date(2025, 6, 13), date(2025, 10, 23), date(2025, 10, 24),
                 date(2031, 1, 1)]


@pytest.fixture(scope="module")
def con(curated_dir):
    connection = LocalEngine(curated_dir)._connect()
    yield connection
    connection.close()


@pytest.mark.parametrize("dataset", reference.DATASETS)
def test_views_have_the_contract_types_and_every_row(con, curated_dir, dataset):
    described = {row[0]: row[1] for row in con.execute(f"DESCRIBE {dataset}").fetchall()}
    assert described == {name: EXPECTED_TYPES[kind] for name, kind in reference.COLUMNS[dataset]}
    manifest, _ = reference.read_dataset(lambda key: (curated_dir / key).read_bytes(), dataset)
    assert con.execute(f"SELECT COUNT(*) FROM {dataset}").fetchone()[0] == manifest.rows


@pytest.mark.parametrize("day", DAYS_TO_CHECK, ids=str)
def test_fatf_lookup_in_sql_equals_reference_data(con, curated_dir, day):
    lists = ReferenceData.from_directory(curated_dir).fatf_lists(day)
    rows = con.execute("SELECT country, list_name, effective_from, ? < effective_from FROM fatf_lists "
                       "WHERE valid_from <= ? AND ? < valid_to", [day, day, day]).fetchall()
    assert {c: n for c, n, _, _ in rows} == {c: lists.list_of(c) for c in lists.call_for_action | lists.grey_list}
    assert {(e, b) for _, _, e, b in rows} == {(lists.effective, lists.back_extended)}


def test_fx_rate_joins_on_equality_as_reference_data_reads_it(con, curated_dir):
    ref = ReferenceData.from_directory(curated_dir)
    for currency, day in (("EUR", date(2025, 3, 3)), ("TRY", date(2025, 3, 1)), ("JPY", date(2024, 12, 25))):
        (rate,) = con.execute("SELECT usd_per_unit FROM fx_rates WHERE currency = ? AND rate_date = ?",
                              [currency, day]).fetchone()
        assert rate == ref.usd_per_unit(currency, day)


def test_a_query_of_unpublished_reference_data_says_how_to_publish_it(curated_dir, tmp_path):
    shutil.copytree(curated_dir / "transactions", tmp_path / "transactions")
    query = catalog.get("high_risk_jurisdiction")
    window = {"start_date": START.date().isoformat(), "end_date": START.date().isoformat()}
    with pytest.raises(AmlError, match="fatf_lists") as err:
        LocalEngine(tmp_path).run(query, catalog.bind(query, window))
    assert "aml reference build --out" in err.value.hint
