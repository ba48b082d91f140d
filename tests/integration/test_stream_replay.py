"""`aml stream replay` against the moto server: alerts on stdout, poison in the DLQ, no duplicates."""
import json

import pytest

from aml import cli
from aml.local import aws, resources

pytestmark = pytest.mark.integration


def _row(tid, day, amount):
    return {"transaction_id": tid, "booked_at": f"2025-03-0{day}T10:00:00Z", "originator_account_id": "CASH",
            "beneficiary_account_id": "ACC-9", "amount": amount, "currency": "USD", "amount_base": amount,
            "transaction_type": "cash_deposit", "channel": "branch", "status": "booked"}


def test_replay_prints_alerts_dead_letters_poison_and_is_idempotent(local_services, unique_name, tmp_path, capsys):
    env = unique_name("t")
    jsonl = tmp_path / "structuring.jsonl"
    envelope = {"data": _row("st-2", 2, "9500.00"),
                "metadata": {"operation": "insert", "schema-name": "core", "table-name": "transactions"}}
    jsonl.write_text("\n".join([json.dumps(_row("st-1", 1, 9000)), json.dumps(envelope), "{not json"]) + "\n")
    resources.ensure(env)  # the environment exists (as after a deploy)

    assert cli.main(["stream", "replay", str(jsonl), "--env", env]) == 0
    alerts = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["rule_id"], a["transaction_ids"]) for a in alerts] == [("structuring", ["st-1", "st-2"])]
    assert alerts[0]["subject_account_pid"] != "ACC-9" and len(alerts[0]["subject_account_pid"]) == 64

    res = resources.ensure(env)
    messages = aws.client("sqs").receive_message(QueueUrl=res.dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["reason"].split(":")[0] for m in messages] == ["not JSON"]

    assert cli.main(["stream", "replay", str(jsonl), "--env", env]) == 0
    assert capsys.readouterr().out == ""


def test_replay_reports_the_dead_lettered_count_and_fails_when_every_record_was(local_services, unique_name,
                                                                                tmp_path, capsys, caplog):
    env = unique_name("t")
    resources.ensure(env)
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join([json.dumps(_row("dl-1", 1, 100)), "{not json", json.dumps({"amount": 5})]) + "\n")
    assert cli.main(["stream", "replay", str(mixed), "--env", env]) == 0
    assert "2 of 3 records were dead-lettered" in caplog.text and "aws sqs receive-message" in caplog.text
    # The command to read the reasons works as printed in any shell: nothing left to the shell's variables.
    command = caplog.text.split("holds the reason and the record: ", 1)[1].splitlines()[0]
    assert "$" not in command and f"--endpoint-url {aws.endpoint_url()}" in command and "--region " in command
    assert command.startswith("AWS_ACCESS_KEY_ID=") and "AWS_SECRET_ACCESS_KEY=" in command
    caplog.clear()
    poison = tmp_path / "poison.jsonl"
    poison.write_text(json.dumps({"amount": 5}) + "\n" + json.dumps({"transaction_id": "x"}) + "\n")
    assert cli.main(["stream", "replay", str(poison), "--env", env]) == 1
    assert "2 of 2 records were dead-lettered" in caplog.text


@pytest.mark.parametrize("argv", [["stream", "replay", "{file}"], ["replicate", "cdc", "--until-idle"],
                                  ["replicate", "full-load"]])
def test_an_environment_never_deployed_is_refused_and_not_created(local_services, unique_name, tmp_path, capsys, argv):
    env = unique_name("n")
    records = tmp_path / "r.jsonl"
    records.write_text(json.dumps(_row("n-1", 1, 10)) + "\n")
    assert cli.main([a.format(file=records) for a in argv] + ["--env", env]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"environment {env!r} has no resources" in err[0] and "aml deploy-local" in err[0]
    assert not resources.created_by_name(env)
    buckets = [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]
    assert not [b for b in buckets if env in b]


def test_replay_of_a_missing_file_is_a_clear_error(local_services, tmp_path, capsys):
    assert cli.main(["stream", "replay", str(tmp_path / "absent.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_field_case_dms_control_record_is_acknowledged_not_dead_lettered(local_services, unique_name):
    """../shared/cases/dms-control-record, as its README runs it: `aml stream replay` of a DMS
    control record (empty schema name, task-id partition key) and an insert; the queue stays empty."""
    from pathlib import Path

    case = Path(__file__).parents[1] / "unit" / "rules" / "data" / "dms_control_record.jsonl"
    env = unique_name("t")
    resources.ensure(env)
    assert cli.main(["stream", "replay", str(case), "--env", env]) == 0
    res = resources.ensure(env)
    sqs = aws.client("sqs")
    assert sqs.receive_message(QueueUrl=res.dlq_url, MaxNumberOfMessages=10).get("Messages", []) == []
    state = aws.client("dynamodb").query(TableName=res.rule_state_table, KeyConditionExpression="pk = :a",
                                         ExpressionAttributeValues={":a": {"S": "ACC-A1"}})
    assert state["Count"] > 0  # the insert beside it went through the rules
