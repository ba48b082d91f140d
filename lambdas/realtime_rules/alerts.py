"""Alert identity and delivery: DynamoDB (idempotent), SNS (once per alert), S3 via Firehose.

The alert id is a hash of rule, subject account and episode anchor, so a redelivered record or a
retried batch produces the same id. The alerts table item is written with a conditional put; an
item records which deliveries have succeeded (`sns_published`, `s3_landed`), so a retry after a
partial failure finishes the missing deliveries without repeating those already done. Alerts
already stored are read first (one BatchGetItem per 100), so a replay writes nothing.

S3 delivery goes through Firehose (DirectPut): it batches many small alerts into few objects,
converts JSON to Parquet against the Glue `alerts` table and partitions by `dt`, with no
object-naming or compaction code here.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from aml_contract import names, schema
from aml_contract.alert_identity import join_target
from aml_contract.pseudonym import pseudonymise
from aml_contract.rules import RuleParameters
from lambdas.realtime_rules import dynamo
from lambdas.realtime_rules.rules.base import AlertDraft, iso
from lambdas.realtime_rules.window import DAY

ALERT_COLUMNS = [name for name, _ in schema.CURATED_TABLES["alerts"]]
ROW_COLUMNS = [*ALERT_COLUMNS, schema.PARTITION_COLUMN]  # what alert_row builds and row_from_item reads
SNS_BATCH, FIREHOSE_BATCH = 10, 500
MARK_ATTEMPTS = 3
DELIVERY_FLAGS = ("sns_published", "s3_landed")
_KEY = names.ALERTS_TABLE_KEYS["partition"]
REALTIME, BATCH = names.ALERT_SOURCES
SOURCES = "sources"  # the item's string set of the paths that found the alert
# On an alert the batch path raised first and the Lambda joined: the Lambda's own id for its
# finding (a redelivery finds the join by it) and the Lambda's curated row.
REALTIME_ALERT_ID, REALTIME_ROW = "realtime_alert_id", "realtime_row"
_serialise, _deserialise = TypeSerializer().serialize, TypeDeserializer().deserialize


def alert_id(draft: AlertDraft) -> str:
    return hashlib.sha256(f"{draft.rule_id}|{draft.subject_account_id}|{draft.anchor}".encode()).hexdigest()[:32]


def alert_row(draft: AlertDraft, params: RuleParameters, subject_pid: str, detected_at: float) -> dict:
    """The curated `alerts` columns (plus `dt`, the partition) of one alert, JSON-ready: what SNS
    and Firehose receive, and what the stored item holds beside its delivery flags."""
    rule = params.rule(draft.rule_id)
    return {
        "alert_id": alert_id(draft), "rule_id": draft.rule_id, "rule_version": rule.rule_version,
        "severity": rule.severity, "score": rule.score, "subject_account_pid": subject_pid,
        "transaction_ids": list(draft.transaction_ids), "event_time": iso(draft.event_time),
        "window_start": iso(draft.window_start), "window_end": iso(draft.window_end),
        "details": json.dumps({"description": rule.description, **draft.details}, sort_keys=True),
        "detected_at": datetime.fromtimestamp(detected_at, UTC).isoformat(), "source": REALTIME,
        schema.PARTITION_COLUMN: iso(draft.event_time)[:10],
    }


@dataclass
class DeliveryResult:
    new: list[dict] = field(default_factory=list)  # rows of alerts raised for the first time
    merged: list[dict] = field(default_factory=list)  # rows that joined an alert the batch path raised
    duplicates: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # alert id -> transient error
    unrecorded: dict[str, str] = field(default_factory=dict)  # delivered, flag not stored -> why


@dataclass
class _Stored:
    sns_published: bool
    s3_landed: bool
    row: dict  # the curated row; left empty when both deliveries are done


def row_from_item(item: dict) -> dict:
    """The curated row (alert_row's result) of a stored alert item, in DynamoDB's typed JSON."""
    values = {k: _deserialise(v) for k, v in item.items()}
    row = {c: values.get(c, REALTIME) if c == "source" else values[c] for c in ROW_COLUMNS}
    row["transaction_ids"] = list(row["transaction_ids"])
    for col in ("rule_version", "score"):
        row[col] = int(row[col])
    return row


INDEX_LOOKUP_CONCURRENCY = 8  # a batch's new alerts looked up in the subject index side by side


class AlertSink:
    """Stores and delivers alerts. An item is kept `ttl_days` (the stack's ALERT_TTL_DAYS), longer
    than Kinesis' maximum retention, so a redelivered record still finds its alert and dedupes."""

    def __init__(self, dynamodb, sns, firehose, *, table: str, topic_arn: str, delivery_stream: str,
                 ttl_days: int, params: RuleParameters, pseudonym_key: Callable[[], bytes], clock=time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self._ddb, self._sns, self._firehose = dynamodb, sns, firehose
        self._table, self._topic, self._stream = table, topic_arn, delivery_stream
        self._ttl_seconds = ttl_days * DAY
        self._params, self._key, self._clock, self._sleep = params, pseudonym_key, clock, sleep
        # the index lookups of a batch's new alerts run side by side (boto3 clients are thread-safe)
        self._lookups = ThreadPoolExecutor(max_workers=INDEX_LOOKUP_CONCURRENCY, thread_name_prefix="alert-index")

    def deliver(self, drafts: list[AlertDraft]) -> DeliveryResult:
        """Store each new alert once, then finish whatever delivery each alert still lacks. Calls:
        one BatchGetItem and one TransactWriteItems per 100 alerts, SNS per 10, Firehose per 500."""
        result = DeliveryResult()
        now = self._clock()
        rows, subjects = {}, {}
        for draft in drafts:
            aid = alert_id(draft)
            if aid not in rows:
                rows[aid] = alert_row(draft, self._params, pseudonymise(draft.subject_account_id, self._key()), now)
                subjects[aid] = draft.subject_account_id
        try:
            stored = self._read_stored(list(rows))
        except dynamo.DynamoUnavailable as err:
            result.failed.update({aid: str(err) for aid in rows})
            return result
        result.duplicates = len(stored)
        new_ids = [aid for aid in rows if aid not in stored]
        try:
            aliases = self._join_batch_alerts(new_ids, rows, stored, result)
        except (ClientError, BotoCoreError) as err:
            result.failed.update({aid: f"alerts index: {err}" for aid in new_ids})
            aliases, new_ids = {}, []
        new_ids = [aid for aid in new_ids if aid not in aliases.values() and aid not in result.failed]
        written = dynamo.write_all(self._ddb, [self._put_new(rows[a], subjects[a], now) for a in new_ids])
        for index, aid in enumerate(new_ids):
            if index in written.written:
                result.new.append(rows[aid])
                stored[aid] = _Stored(False, False, rows[aid])
            elif written.rejected.get(index):  # stored meanwhile by a concurrent invocation
                result.duplicates += 1
                stored[aid] = _delivery_state(written.rejected[index])
            else:
                result.failed[aid] = written.failed.get(index, "stored concurrently; read it on the retry")
        published = self._publish([s.row for s in stored.values() if not s.sns_published], result)
        landed = self._land([s.row for s in stored.values() if not s.s3_landed], result)
        self._mark(published, landed, result)
        for target, aid in aliases.items():  # report by the id the engine knows the draft by
            for found in (result.failed, result.unrecorded):
                if target in found:
                    found[aid] = found.pop(target)
        return result

    def _join_batch_alerts(self, new_ids: list[str], rows: dict[str, dict], stored: dict[str, _Stored],
                           result: DeliveryResult) -> dict[str, str]:
        """New findings that are an alert the batch path raised first (aml_contract.alert_identity):
        each joins it (its `sources` gains `realtime`, the Lambda's row lands under that alert_id,
        no second notification), or is found joined already (a redelivery). One index Query per
        new finding, the findings' queries run concurrently. Returns {joined alert id: the finding's own id}."""
        def lookup(aid: str) -> list[dict]:
            return [{k: _deserialise(v) for k, v in item.items()} for item in dynamo.query_all(
                self._ddb, self._table, names.ALERTS_SUBJECT_INDEX, rows[aid]["subject_account_pid"],
                rows[aid]["rule_id"])]

        aliases = {}
        for aid, items in zip(new_ids, self._lookups.map(lookup, new_ids), strict=True):
            row = rows[aid]
            mine = [i for i in items if i.get(REALTIME_ALERT_ID) == aid]
            if mine:  # joined by an earlier delivery
                result.duplicates += 1
                aliases[mine[0][_KEY]] = aid
                stored[mine[0][_KEY]] = _Stored(True, bool(mine[0].get("s3_landed")), json.loads(mine[0][REALTIME_ROW]))
                continue
            batch_only = [(i[_KEY], datetime.fromisoformat(i["window_start"]), datetime.fromisoformat(i["window_end"])) for i in items
                          if set(i.get(SOURCES) or {REALTIME}) == {BATCH}]
            target = join_target(batch_only, datetime.fromisoformat(row["window_start"]), datetime.fromisoformat(row["window_end"]))
            if target is None:
                continue
            joined = {**row, "alert_id": target}
            try:
                self._ddb.update_item(
                    TableName=self._table, Key={_KEY: {"S": target}},
                    UpdateExpression="ADD #src :rt SET #own = :own, #row = :row, s3_landed = :false",
                    ConditionExpression="attribute_exists(#id) AND NOT contains(#src, :r)",
                    ExpressionAttributeNames={"#src": SOURCES, "#own": REALTIME_ALERT_ID, "#row": REALTIME_ROW,
                                              "#id": _KEY},
                    ExpressionAttributeValues={":rt": {"SS": [REALTIME]}, ":r": {"S": REALTIME}, ":own": {"S": aid},
                                               ":row": {"S": json.dumps(joined)}, ":false": {"BOOL": False}})
            except ClientError as err:
                if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                result.failed[aid] = "joined concurrently; read it on the retry"
                continue
            aliases[target] = aid
            result.merged.append(joined)
            stored[target] = _Stored(True, False, joined)
        return aliases

    def _read_stored(self, ids: list[str]) -> dict[str, _Stored]:
        """The alerts among `ids` already stored: their flags first, the whole item only for those
        with a delivery still to finish (a redelivered alert is usually fully delivered)."""
        flags = dynamo.get_all(self._ddb, self._table, [{_KEY: {"S": aid}} for aid in ids],
                               attributes=[_KEY, *DELIVERY_FLAGS])
        done = {item[_KEY]["S"] for item in flags
                if all(item.get(flag, {}).get("BOOL") for flag in DELIVERY_FLAGS)}
        unfinished = [item[_KEY]["S"] for item in flags if item[_KEY]["S"] not in done]
        items = dynamo.get_all(self._ddb, self._table, [{_KEY: {"S": aid}} for aid in unfinished])
        return {aid: _Stored(True, True, {}) for aid in done} | {item[_KEY]["S"]: _delivery_state(item) for item in items}

    def _put_new(self, row: dict, subject_account_id: str, now: float) -> dict:
        item = {**row, "subject_account_id": subject_account_id, **dict.fromkeys(DELIVERY_FLAGS, False),
                SOURCES: {REALTIME},
                names.ALERTS_TABLE_KEYS["ttl"]: int(now) + self._ttl_seconds}
        return {"Put": {"TableName": self._table, "Item": {k: _serialise(v) for k, v in item.items()},
                        "ConditionExpression": "attribute_not_exists(#id)", "ExpressionAttributeNames": {"#id": _KEY},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}

    def _publish(self, rows: list[dict], result: DeliveryResult) -> set[str]:
        return publish(self._sns, self._topic, rows, result.failed)

    def _land(self, rows: list[dict], result: DeliveryResult) -> set[str]:
        return land(self._firehose, self._stream, rows, result.failed)

    def _mark(self, published: set[str], landed: set[str], result: DeliveryResult) -> None:
        """Record the deliveries just made. A delivered alert is never failed over its flag: a retry
        would deliver it again. A flag write that still fails after MARK_ATTEMPTS is reported in
        `unrecorded` (logged and counted); only a later redelivery of its record could repeat it."""
        pending = sorted(published | landed)
        for attempt in range(MARK_ATTEMPTS):
            operations = [{"Update": {
                "TableName": self._table, "Key": {_KEY: {"S": aid}},
                "UpdateExpression": "SET " + ", ".join(
                    f"{flag} = :t" for flag, done in zip(DELIVERY_FLAGS, (published, landed), strict=True)
                    if aid in done),
                "ExpressionAttributeValues": {":t": {"BOOL": True}}}} for aid in pending]
            outcome = dynamo.write_all(self._ddb, operations)
            not_written = [i for i in range(len(pending)) if i not in outcome.written]
            reasons = {pending[i]: outcome.failed.get(i, "conflicting write") for i in not_written}
            pending = [pending[i] for i in not_written]
            if not pending:
                return
            if attempt + 1 < MARK_ATTEMPTS:
                self._sleep(0.1 * 2 ** attempt)
        result.unrecorded.update(reasons)


def _delivery_state(item: dict) -> _Stored:
    """What a stored alert item says is delivered, and its curated row."""
    return _Stored(bool(item.get("sns_published", {}).get("BOOL")), bool(item.get("s3_landed", {}).get("BOOL")),
                   row_from_item(item))


def publish(sns, topic_arn: str, rows: list[dict], failed: dict[str, str]) -> set[str]:
    """Publish alert rows to the topic, SNS_BATCH per call: the ids published; the others go in
    `failed` (alert id -> error)."""
    done = set()
    for start in range(0, len(rows), SNS_BATCH):
        chunk = rows[start:start + SNS_BATCH]
        entries = [{"Id": str(i), "Message": json.dumps(r), "Subject": f"AML alert {r['rule_id']}",
                    "MessageAttributes": {
                        "rule_id": {"DataType": "String", "StringValue": r["rule_id"]},
                        "severity": {"DataType": "String", "StringValue": r["severity"]},
                        "source": {"DataType": "String", "StringValue": r["source"]}}}
                   for i, r in enumerate(chunk)]
        try:
            response = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
        except (ClientError, BotoCoreError) as err:
            failed.update({r["alert_id"]: f"SNS: {err}" for r in chunk})
            continue
        for ok in response.get("Successful", []):
            done.add(chunk[int(ok["Id"])]["alert_id"])
        for bad in response.get("Failed", []):
            failed[chunk[int(bad["Id"])]["alert_id"]] = f"SNS: {bad.get('Code')} {bad.get('Message', '')}"
    return done


def land(firehose, delivery_stream: str, rows: list[dict], failed: dict[str, str]) -> set[str]:
    """Send alert rows to the delivery stream (the curated `alerts` table), FIREHOSE_BATCH per
    call: the ids landed; the others go in `failed`."""
    done = set()
    for start in range(0, len(rows), FIREHOSE_BATCH):
        chunk = rows[start:start + FIREHOSE_BATCH]
        records = [{"Data": (json.dumps(r) + "\n").encode()} for r in chunk]
        try:
            response = firehose.put_record_batch(DeliveryStreamName=delivery_stream, Records=records)
        except (ClientError, BotoCoreError) as err:
            failed.update({r["alert_id"]: f"Firehose: {err}" for r in chunk})
            continue
        for row, answer in zip(chunk, response["RequestResponses"], strict=True):
            if answer.get("ErrorCode"):
                failed[row["alert_id"]] = f"Firehose: {answer['ErrorCode']}"
            else:
                done.add(row["alert_id"])
    return done
