"""Field case ../shared/cases/decimal-division (input copied to data/decimal-division/curated): one
account's 21 baseline days total 42,100.00, then 10,023.80 on 2025-03-22, just below the
velocity_spike cut-off 5 x 42,100.00 / 21 = 10,023.8095... Athena would have flagged it (its DECIMAL
quotient rounds to 2,004.76), DuckDB and the Lambda not. Now every engine cross-multiplies: not
flagged at 10,023.80, flagged at 10,023.81, on the rules Lambda and the local engine alike (and
the query text the local engine runs is the one Athena runs, with no division in a comparison:
see test_query_lint.py)."""
from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rule_runner import parse_record, run

from aml.query.local import LocalEngine
from aml_contract import named_queries

CASE = Path(__file__).parent / "data" / "decimal-division" / "curated"
SPIKE_DAY = "2025-03-22"


def _case_with_spike(amount: str, tmp_path: Path) -> Path:
    """A copy of the case's curated zone whose spike day holds `amount`."""
    data_dir = tmp_path / "curated"
    shutil.copytree(CASE, data_dir)
    day_file = data_dir / "transactions" / f"dt={SPIKE_DAY}" / "part-0.parquet"
    table = pq.read_table(day_file)
    value = pa.array([Decimal(amount)] * table.num_rows, type=table.schema.field("amount_base").type)
    for name in ("amount", "amount_base"):
        table = table.set_column(table.schema.get_field_index(name), name, value)
    pq.write_table(table, day_file)
    return data_dir


def _lambda_flags(data_dir: Path) -> bool:
    rows = pq.read_table(data_dir / "transactions").to_pandas().sort_values("booked_at")
    subject = rows["beneficiary_account_pid"].iloc[-1]
    txs = [parse_record(json.dumps({
        "transaction_id": r.transaction_id, "booked_at": r.booked_at.isoformat(),
        "originator_account_id": r.originator_account_pid, "beneficiary_account_id": r.beneficiary_account_pid,
        "amount": str(r.amount), "currency": r.currency, "amount_base": str(r.amount_base),
        "transaction_type": r.transaction_type, "channel": r.channel, "status": r.status,
    }).encode(), now=datetime(2026, 1, 1, tzinfo=UTC)) for r in rows.itertuples()]
    return bool(run(txs, subject, rule_id="velocity_spike"))


def _local_flags(data_dir: Path) -> bool:
    [query] = [q for q in named_queries.load_all() if q.name == "velocity_spike"]
    result = LocalEngine(data_dir).run(query, {"start_date": SPIKE_DAY, "end_date": SPIKE_DAY})
    return not result.frame.empty


@pytest.mark.parametrize(("amount", "flagged"), [("10023.80", False), ("10023.81", True)])
def test_decimal_division_case_same_answer_on_lambda_and_local_engine(amount, flagged, tmp_path):
    data_dir = _case_with_spike(amount, tmp_path)
    assert (_lambda_flags(data_dir), _local_flags(data_dir)) == (flagged, flagged)


def test_case_input_is_the_field_case():
    day = pq.read_table(CASE / "transactions" / f"dt={SPIKE_DAY}").to_pandas()
    assert list(day["amount_base"]) == [Decimal("10023.80")]
