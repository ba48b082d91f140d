"""The replicator keeps the old key test_decoding prints for a key-changing UPDATE and sends it
as the stream's before image, as DMS does with BeforeImageSettings (../shared/cases/primary-key-change)."""
import json
from datetime import UTC, datetime
from decimal import Decimal

from aml.replicate.decoding import Change, Transaction, parse_columns, split_old_key
from aml.replicate.dms_kinesis import envelopes
from aml_contract import dms, schema


def test_the_replicator_keeps_the_old_key_test_decoding_gives_and_sends_it_as_the_before_image():
    text = ("old-key: transaction_id[character varying]:'T1' new-tuple: transaction_id[character varying]:'T1-FIXED' "
            "amount[numeric]:9500.00")
    old, new = split_old_key(text)
    assert parse_columns(old) == {"transaction_id": ("character varying", "T1")}
    assert parse_columns(new)["transaction_id"] == ("character varying", "T1-FIXED")
    row = tuple({"transaction_id": "T1-FIXED", "amount": Decimal("9500.00"), "originator_account_id": "CASH"}
                .get(c) for c in schema.TRANSACTIONS.column_names)
    txn = Transaction(xid=9, commit_lsn=1, commit_ts=datetime(2025, 3, 2, tzinfo=UTC),
                      changes=[Change("transactions", "U", row, old_key="T1"),
                               Change("transactions", "U", row)])
    (_, rekeyed), (_, same) = envelopes([txn])
    assert json.loads(rekeyed)[dms.BEFORE_IMAGE_FIELD] == {"transaction_id": "T1"}
    assert json.loads(same)[dms.BEFORE_IMAGE_FIELD] == {"transaction_id": "T1-FIXED"}
