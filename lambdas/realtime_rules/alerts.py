"""Alert identity and delivery: DynamoDB (idempotent), SNS (once per alert), S3 via Firehose.

The alert id is a hash of rule, subject account and episode anchor, so a redelivered record or a
retried batch produces the same id. The alerts table item is written with a conditional put; an
item records which deliveries have succeeded (`sns_published`, `s3_landed`), so a retry after a
partial failure finishes the missing deliveries without repeating those already done.

S3 delivery goes through Firehose (DirectPut): it batches many small alerts into few objects,
converts JSON to Parquet against the Glue `alerts` table and partitions by `dt`, with no
object-naming or compaction code here.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from aml_contract import names, schema
from aml_contract.pseudonym import pseudonymise
from aml_contract.rules import RuleParameters
from lambdas.realtime_rules.rules.base import AlertDraft, iso

ALERT_COLUMNS = [name for name, _ in schema.CURATED_TABLES["alerts"]]
ALERTS_TTL_SECONDS = 400 * 86_400  # longer than Kinesis' maximum retention: redeliveries still dedupe
SNS_BATCH, FIREHOSE_BATCH = 10, 500
_KEY = names.ALERTS_TABLE_KEYS["partition"]
_serialise, _deserialise = TypeSerializer().serialize, TypeDeserializer().deserialize


def alert_id(draft: AlertDraft) -> str:
    return hashlib.sha256(f"{draft.rule_id}|{draft.subject_account_id}|{draft.anchor}".encode()).hexdigest()[:32]


def alert_row(draft: AlertDraft, params: RuleParameters, subject_pid: str, detected_at: float) -> dict:
    """The curated `alerts` columns (plus `dt`, the partition) of one alert, JSON-ready."""
    rule = params.rule(draft.rule_id)
    return {
        "alert_id": alert_id(draft), "rule_id": draft.rule_id, "rule_version": rule.rule_version,
        "severity": rule.severity, "score": rule.score, "subject_account_pid": subject_pid,
        "transaction_ids": list(draft.transaction_ids), "event_time": iso(draft.event_time),
        "window_start": iso(draft.window_start), "window_end": iso(draft.window_end),
        "details": json.dumps({"description": rule.description, **draft.details}, sort_keys=True),
        "detected_at": datetime.fromtimestamp(detected_at, UTC).isoformat(),
        schema.PARTITION_COLUMN: iso(draft.event_time)[:10],
    }


@dataclass
class DeliveryResult:
    new: list[dict] = field(default_factory=list)  # rows of alerts raised for the first time
    duplicates: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # alert id -> transient error


class AlertSink:
    def __init__(self, dynamodb, sns, firehose, *, table: str, topic_arn: str, delivery_stream: str,
                 params: RuleParameters, pseudonym_key: Callable[[], bytes], clock=time.time):
        self._ddb, self._sns, self._firehose = dynamodb, sns, firehose
        self._table, self._topic, self._stream = table, topic_arn, delivery_stream
        self._params, self._key, self._clock = params, pseudonym_key, clock

    def deliver(self, drafts: list[AlertDraft]) -> DeliveryResult:
        result = DeliveryResult()
        unique = {alert_id(d): d for d in drafts}
        to_publish, to_land = [], []
        now = self._clock()
        for aid, draft in unique.items():
            row = alert_row(draft, self._params, pseudonymise(draft.subject_account_id, self._key()), now)
            try:
                stored = self._put_once(row, draft.subject_account_id, now)
            except (ClientError, BotoCoreError) as err:
                result.failed[aid] = f"PutItem: {err}"
                continue
            if stored is None:
                result.new.append(row)
                stored = {"sns_published": False, "s3_landed": False, "row": row}
            else:
                result.duplicates += 1
            if not stored["sns_published"]:
                to_publish.append(stored["row"])
            if not stored["s3_landed"]:
                to_land.append(stored["row"])
        published = self._publish(to_publish, result)
        landed = self._land(to_land, result)
        for aid in published | landed:
            self._mark(aid, aid in published, aid in landed, result)
        return result

    def _put_once(self, row: dict, subject_account_id: str, now: float) -> dict | None:
        """None when the alert is new; else what the stored item says is already delivered."""
        item = {**row, "subject_account_id": subject_account_id, "sns_published": False, "s3_landed": False,
                names.ALERTS_TABLE_KEYS["ttl"]: int(now) + ALERTS_TTL_SECONDS}
        try:
            self._ddb.put_item(TableName=self._table, Item={k: _serialise(v) for k, v in item.items()},
                               ConditionExpression="attribute_not_exists(#id)",
                               ExpressionAttributeNames={"#id": _KEY},
                               ReturnValuesOnConditionCheckFailure="ALL_OLD")
            return None
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old = {k: _deserialise(v) for k, v in (err.response.get("Item") or {}).items()}
            if not old:  # an emulator that does not return the old item: read it
                got = self._ddb.get_item(TableName=self._table, Key={_KEY: {"S": row["alert_id"]}},
                                         ConsistentRead=True)
                old = {k: _deserialise(v) for k, v in got["Item"].items()}
            stored_row = {c: old[c] for c in [*ALERT_COLUMNS, schema.PARTITION_COLUMN]}
            stored_row["transaction_ids"] = list(stored_row["transaction_ids"])
            for col in ("rule_version", "score"):
                stored_row[col] = int(stored_row[col])
            return {"sns_published": bool(old.get("sns_published")), "s3_landed": bool(old.get("s3_landed")),
                    "row": stored_row}

    def _publish(self, rows: list[dict], result: DeliveryResult) -> set[str]:
        done = set()
        for start in range(0, len(rows), SNS_BATCH):
            chunk = rows[start:start + SNS_BATCH]
            entries = [{"Id": str(i), "Message": json.dumps(r), "Subject": f"AML alert {r['rule_id']}",
                        "MessageAttributes": {
                            "rule_id": {"DataType": "String", "StringValue": r["rule_id"]},
                            "severity": {"DataType": "String", "StringValue": r["severity"]}}}
                       for i, r in enumerate(chunk)]
            try:
                response = self._sns.publish_batch(TopicArn=self._topic, PublishBatchRequestEntries=entries)
            except (ClientError, BotoCoreError) as err:
                result.failed.update({r["alert_id"]: f"SNS: {err}" for r in chunk})
                continue
            for ok in response.get("Successful", []):
                done.add(chunk[int(ok["Id"])]["alert_id"])
            for bad in response.get("Failed", []):
                result.failed[chunk[int(bad["Id"])]["alert_id"]] = f"SNS: {bad.get('Code')} {bad.get('Message', '')}"
        return done

    def _land(self, rows: list[dict], result: DeliveryResult) -> set[str]:
        done = set()
        for start in range(0, len(rows), FIREHOSE_BATCH):
            chunk = rows[start:start + FIREHOSE_BATCH]
            records = [{"Data": (json.dumps(r) + "\n").encode()} for r in chunk]
            try:
                response = self._firehose.put_record_batch(DeliveryStreamName=self._stream, Records=records)
            except (ClientError, BotoCoreError) as err:
                result.failed.update({r["alert_id"]: f"Firehose: {err}" for r in chunk})
                continue
            for row, answer in zip(chunk, response["RequestResponses"], strict=True):
                if answer.get("ErrorCode"):
                    result.failed[row["alert_id"]] = f"Firehose: {answer['ErrorCode']}"
                else:
                    done.add(row["alert_id"])
        return done

    def _mark(self, aid: str, published: bool, landed: bool, result: DeliveryResult) -> None:
        sets = [f"{flag} = :t" for flag, ok in (("sns_published", published), ("s3_landed", landed)) if ok]
        try:
            self._ddb.update_item(TableName=self._table, Key={_KEY: {"S": aid}},
                                  UpdateExpression="SET " + ", ".join(sets),
                                  ExpressionAttributeValues={":t": {"BOOL": True}})
        except (ClientError, BotoCoreError) as err:
            # Delivered but not recorded: a retry would deliver again, so the record must retry
            # rather than be acknowledged with a stale flag; at-least-once, never lost.
            result.failed[aid] = f"UpdateItem: {err}"
