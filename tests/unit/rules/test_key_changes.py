"""Primary keys are immutable; a key change DMS lets through is refused, never counted twice.
Field case: ../shared/cases/primary-key-change (a 9,500 deposit re-keyed counted as 19,000)."""
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lambda_harness import Context, _alerts, _drain, _envelope, _event, _row
from rule_runner import parse_record

from aml_contract import dms
from lambdas.realtime_rules.records import PoisonRecord
from lambdas.realtime_rules.records import Transaction as RuleTransaction

CASE = Path(__file__).parent / "data" / "pk_change_stream.jsonl"


def _case(with_before_image: bool):
    insert, update = (json.loads(line) for line in CASE.read_text().splitlines())
    if with_before_image:  # as the deployed stream task sends it (BeforeImageSettings, pk-only)
        update[dms.BEFORE_IMAGE_FIELD] = {"transaction_id": insert["data"]["transaction_id"]}
    return [insert, update]


@pytest.mark.parametrize("with_before_image", [True, False], ids=["before-image", "as-in-the-case"])
def test_field_case_one_deposit_no_alert_and_the_rekeyed_update_dead_lettered(lambda_env, with_before_image):
    h = lambda_env["handler"]
    assert h.lambda_handler(_event(_case(with_before_image)), Context()) == {"batchItemFailures": []}
    assert _alerts(lambda_env["ddb"]) == []  # 9,500 once: no large_cash, no structuring
    [dead] = _drain(lambda_env["sqs"], lambda_env["dlq"])
    expected = "primary key changed from 'PK-T1' to 'PK-T1-FIXED'" if with_before_image else "before-image"
    assert expected in dead["reason"]


def test_an_update_under_its_own_key_is_evaluated():
    row = {**_row("t-same", 1), "status": "booked"}
    parsed = parse_record(json.dumps(_envelope(row, "update")).encode(), now=datetime(2026, 1, 1, tzinfo=UTC))
    assert isinstance(parsed, RuleTransaction) and parsed.operation == "update"


@pytest.mark.parametrize("before", [{"transaction_id": "OLD"}, {"transaction_id": 7}])
def test_an_update_naming_another_key_is_poison(before):
    envelope = {**_envelope(_row("NEW", 1), "update"), dms.BEFORE_IMAGE_FIELD: before}
    with pytest.raises(PoisonRecord, match="primary key changed"):
        parse_record(json.dumps(envelope).encode())
