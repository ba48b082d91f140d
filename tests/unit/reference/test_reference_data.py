"""The dated reference data both paths read (aml_contract.reference, built by aml.reference)."""
from __future__ import annotations

import gzip
import json
from datetime import date
from decimal import Decimal

import pytest

from aml.reference import build
from aml_contract import reference
from aml_contract.reference import ReferenceData, ReferenceDataError


@pytest.fixture(scope="module")
def objects() -> dict[str, bytes]:
    return build.build()


@pytest.fixture(scope="module")
def data(objects) -> ReferenceData:
    return ReferenceData(objects.__getitem__)


def rows(objects, dataset):
    return [json.loads(line) for line in gzip.decompress(objects[reference.data_key(dataset)]).splitlines()]


def test_every_iso_4217_currency_and_the_crypto_codes_payment_data_uses(data):
    assert {"USD", "EUR", "NGN", "PKR", "TRY", "XOF", "KWD", "BTC", "USDT", "ETH"} <= data.currencies
    assert "XYZ" not in data.currencies and "usd" not in data.currencies
    assert {"XTS", "XXX"}.isdisjoint(data.currencies)  # ISO 4217's testing and "no currency" codes


def test_layout_is_deterministic_and_keyed_as_documented(objects):
    assert build.build() == objects  # same sources, same bytes: a redeploy changes nothing
    for dataset in reference.DATASETS:
        assert reference.data_key(dataset) == f"reference/{dataset}/{dataset}.jsonl.gz"
        manifest = reference.Manifest.from_json(objects[reference.manifest_key(dataset)])
        assert manifest.dataset == dataset and manifest.rows == len(rows(objects, dataset))
        assert [tuple(c) for c in manifest.columns] == list(reference.COLUMNS[dataset])


def test_amount_base_from_the_source_wins_then_the_dated_rate_then_null(data):
    day = date(2025, 3, 3)  # a Monday
    assert data.amount_base(Decimal("100.00"), "EUR", day, Decimal("104.00")) == Decimal("104.00")
    assert data.amount_base(Decimal("100.00"), "USD", day, None) == Decimal("100.00")
    rate = data.usd_per_unit("EUR", day)
    assert data.amount_base(Decimal("100.00"), "EUR", day, None) == (Decimal(100) * rate).quantize(Decimal("0.01"))
    # no rate anywhere: naira (the ECB does not publish it), bitcoin, a day before coverage
    assert data.amount_base(Decimal("100.00"), "NGN", day, None) is None
    assert data.amount_base(Decimal("1.5"), "BTC", day, None) is None
    assert data.amount_base(Decimal("100.00"), "EUR", date(2019, 6, 3), None) is None


def test_rates_rounding_is_half_up_to_cents(objects):
    fetch = dict(objects)
    fx = [{"rate_date": "2025-03-03", "currency": "EUR", "usd_per_unit": "1.005000000000", "published_date": "2025-03-03"}]
    fetch.update(reference.encode("fx_rates", fx, version="t", source="t", coverage_start=date(2025, 3, 3),
                                  coverage_end=date(2025, 3, 3), review_by=date(2025, 3, 4)))
    data = ReferenceData(fetch.__getitem__)
    assert data.amount_base(Decimal("1.00"), "EUR", date(2025, 3, 3), None) == Decimal("1.01")  # 1.005 -> 1.01


def test_a_published_rate_serves_the_weekend_and_the_row_says_which_day_it_came_from(objects, data):
    saturday, sunday, friday = date(2025, 3, 8), date(2025, 3, 9), date(2025, 3, 7)
    assert data.usd_per_unit("GBP", saturday) == data.usd_per_unit("GBP", sunday) == data.usd_per_unit("GBP", friday)
    fx = [r for r in rows(objects, "fx_rates") if r["currency"] == "GBP" and r["rate_date"] == saturday.isoformat()]
    assert [r["published_date"] for r in fx] == [friday.isoformat()]
    dates = [r["rate_date"] for r in rows(objects, "fx_rates") if r["currency"] == "GBP"]
    assert len(dates) == len(set(dates))  # one rate per currency and day: consumers join on equality


def test_a_rate_is_not_carried_across_a_gap_longer_than_the_carry(tmp_path):
    import zipfile

    csv = "Date,USD,GBP,\n2025-03-20,1.10,0.85,\n2025-03-03,1.04,0.83,\n"
    path = tmp_path / "eurofxref-hist.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("eurofxref-hist.csv", csv)
    objects = build.fx_rates(path, start=date(2025, 3, 1))
    data = ReferenceData({**build.currencies(), **build.fatf_lists(), **objects}.__getitem__)
    assert data.usd_per_unit("EUR", date(2025, 3, 3 + reference.FX_CARRY_DAYS)) == Decimal("1.040000000000")
    assert data.usd_per_unit("EUR", date(2025, 3, 4 + reference.FX_CARRY_DAYS)) is None
    assert data.usd_per_unit("GBP", date(2025, 3, 20)) == (Decimal("1.10") / Decimal("0.85")).quantize(build.RATE_QUANTUM)


def test_fatf_lists_in_force_on_each_side_of_a_change_and_before_the_oldest(data):
    june, october = date(2025, 6, 13), date(2025, 10, 24)
    assert data.fatf_lists(date(2025, 10, 23)).list_of("NG") == "grey_list"
    assert data.fatf_lists(october).list_of("NG") is None  # removed at the October 2025 plenary
    assert data.fatf_lists(october).list_of("IR") == "call_for_action"
    before = data.fatf_lists(date(2024, 1, 5))
    assert before.effective == june and before.back_extended and before.list_of("NG") == "grey_list"
    assert not data.fatf_lists(june).back_extended


def test_a_manifest_that_does_not_match_its_data_is_refused(objects):
    tampered = dict(objects)
    key = reference.data_key("currencies")
    tampered[key] = gzip.compress(gzip.decompress(objects[key]) + b'{"code":"ZZZ"}\n')
    with pytest.raises(ReferenceDataError, match="SHA-256"):
        ReferenceData(tampered.__getitem__)
    missing = {k: v for k, v in objects.items() if not k.startswith("reference/fatf_lists/")}
    with pytest.raises(ReferenceDataError, match="not published"):
        ReferenceData(missing.__getitem__)


def test_freshness_names_the_datasets_past_their_review_date(data):
    review = {name: date.fromisoformat(m.review_by) for name, m in data.manifests.items()}
    assert set(review) == set(reference.DATASETS)
    assert all(name not in " ".join(data.stale(day)) for name, day in review.items())
    assert {s.split(" ")[0] for s in data.stale(max(review.values()).replace(year=9000))} == set(reference.DATASETS)


def test_a_publication_that_puts_a_country_on_both_lists_is_refused(tmp_path):
    source = tmp_path / "fatf_lists.json"
    source.write_text(json.dumps({"publications": [
        {"effective": "2025-06-13", "source": "s", "call_for_action": ["KP", "IR"], "grey_list": ["IR", "NG"]}]}))
    with pytest.raises(ReferenceDataError, match=r"\['IR'\] on both lists"):
        build.fatf_lists(source)


def test_amount_base_too_large_for_decimal_18_2_is_unknown_not_an_error(data):
    day = date(2025, 3, 3)
    assert data.amount_base(Decimal("1e26"), "USD", day, None) is None
    assert data.amount_base(Decimal("9999999999999999.99"), "EUR", day, None) is None  # x 1.04 overflows
    assert data.amount_base(Decimal("9999999999999999.99"), "USD", day, None) == Decimal("9999999999999999.99")


@pytest.mark.parametrize("damage", ["other_dataset", "other_columns", "bad_row", "not_json", "bad_rate"])
def test_a_manifest_or_row_that_breaks_the_layout_is_refused(objects, damage):
    rows = [{"rate_date": "2025-03-03", "currency": "EUR", "usd_per_unit": "1.04", "published_date": "2025-03-03"}]
    body = gzip.compress((json.dumps(rows[0]) + "\n").encode(), mtime=0)
    manifest = json.loads(objects[reference.manifest_key("fx_rates")])
    if damage == "other_dataset":
        manifest["dataset"] = "currencies"
    elif damage == "other_columns":
        manifest["columns"] = []
    elif damage == "bad_row":
        body = gzip.compress(b'{"currency": "EUR"}\n', mtime=0)
    elif damage == "not_json":
        body = gzip.compress(b"not json\n", mtime=0)
    else:
        body = gzip.compress((json.dumps({**rows[0], "usd_per_unit": "abc"}) + "\n").encode(), mtime=0)
    import hashlib

    manifest.update(sha256=hashlib.sha256(body).hexdigest(), rows=1)
    broken = {**objects, reference.data_key("fx_rates"): body,
              reference.manifest_key("fx_rates"): json.dumps(manifest).encode()}
    with pytest.raises(ReferenceDataError):
        ReferenceData(broken.__getitem__).usd_per_unit("EUR", date(2025, 3, 3))
