"""The pandas curation applies the reference data as the Glue job does: a currency must be a code of
the currencies dataset (else the row is refused and counted), and amount_base is
ReferenceData.amount_base of each row (the source's value, else the dated FX rate, else null)."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest
from handmade_bank import KEY, BankBuilder

from aml.query import curate
from aml.reference import publish
from aml_contract import pseudonym
from aml_contract.reference import ReferenceData

MONDAY = datetime(2025, 3, 3, 15, tzinfo=UTC)
SATURDAY = datetime(2025, 3, 1, 15, tzinfo=UTC)  # no ECB fixing: the Friday rate carried over


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> ReferenceData:
    root = tmp_path_factory.mktemp("reference")
    publish.to_directory(root)
    return ReferenceData.from_directory(root)


@pytest.fixture(scope="module")
def curated(reference):
    b = BankBuilder()
    ours = b.own("CU1")
    ids = {
        "usd": b.tx(ours, "X1", 100.0, MONDAY),
        "eur_source": b.tx(ours, "X2", 100.0, MONDAY, currency="EUR", amount_base=123.45),  # the bank's own figure wins
        "eur_derived": b.tx(ours, "X3", 1_234.56, MONDAY, currency="EUR", amount_base=None),
        "try_weekend": b.tx(ours, "X4", 50_000.0, SATURDAY, currency="TRY", amount_base=None),
        "ngn_no_rate": b.tx(ours, "X5", 2_500_000.0, MONDAY, currency="NGN", amount_base=None),  # ISO 4217, no ECB rate
        "btc": b.tx(ours, "X6", 0.125, MONDAY, "crypto", currency="BTC", amount_base=None),
        "unknown": b.tx(ours, "X7", 10.0, MONDAY, currency="ZZZ", amount_base=10.0),
    }
    b.account("CU2", b.customer("CCU2"))
    b.accounts[-1]["currency"] = "QQQ"  # an account in a currency nobody knows
    frames = curate.curate(*b.frames(), KEY, reference)
    return b, frames, ids


def _amount_base(frames, transaction_id):
    tx = frames["transactions"].set_index("transaction_id")
    value = tx.loc[transaction_id, "amount_base"]
    return None if pd.isna(value) else value


def test_amount_base_is_the_reference_rule_row_by_row(curated, reference):
    b, frames, ids = curated
    source = {t["transaction_id"]: t for t in b.transactions}
    for name in ("usd", "eur_source", "eur_derived", "try_weekend", "ngn_no_rate", "btc"):
        row = source[ids[name]]
        given = None if row["amount_base"] is None else Decimal(str(row["amount_base"])).quantize(Decimal("0.01"))
        expected = reference.amount_base(Decimal(str(row["amount"])).quantize(Decimal("0.01")), row["currency"],
                                         row["booked_at"].astimezone(UTC).date(), given)
        assert _amount_base(frames, ids[name]) == expected, name
    assert _amount_base(frames, ids["eur_source"]) == Decimal("123.45")
    assert _amount_base(frames, ids["eur_derived"]) == Decimal("1291.97")  # 1,234.56 x 1.0465, half up
    assert _amount_base(frames, ids["try_weekend"]) is not None
    assert _amount_base(frames, ids["ngn_no_rate"]) is None and _amount_base(frames, ids["btc"]) is None


def test_every_row_is_curated_or_refused_and_counted(curated):
    b, frames, ids = curated
    written = set(frames["transactions"]["transaction_id"])
    assert ids["unknown"] not in written
    assert len(written) + frames.quarantined["transactions"][curate.UNKNOWN_CURRENCY] == len(b.transactions)
    assert dict(frames.amount_base) == {"source": 2, "derived": 2, "unknown": 2}
    assert sum(frames.amount_base.values()) == len(written)
    assert frames.quarantined["accounts"] == {curate.UNKNOWN_CURRENCY: 1}
    assert pseudonym.pseudonymise("CU2", KEY) not in set(frames["accounts"]["account_pid"])


def test_written_zone_keeps_null_amount_base(curated, tmp_path):
    _, frames, ids = curated
    curate.write(frames, tmp_path)
    back = pd.read_parquet(tmp_path / "transactions").set_index("transaction_id")
    assert pd.isna(back.loc[ids["btc"], "amount_base"])
    assert str(back.loc[ids["eur_derived"], "amount_base"]) == "1291.97"
