"""Batch alerts: the scenario queries' hits become alerts in the real-time alerts' store and shape.

A hit is one row of a scenario query: a subject account, the rule (the query's name) and the days
of its evidence (the query's `evidence` header, aml_contract.named_queries.Evidence). Each hit is
matched against the subject's alerts of that rule already stored (the alerts table's by-subject
index) with the one identity rule (aml_contract.alert_identity):

- it overlaps an alert the batch path has already raised (an earlier day's run, or this run's
  earlier execution: a rerun): nothing is written (`already_raised`);
- it overlaps an alert only the rules Lambda raised: the batch path joins that alert (`merged`);
  the item's `sources` gains `batch`, and a `batch` row lands in the curated `alerts` table under
  the same alert_id; no second notification;
- it overlaps an alert created earlier in this run (two rows of one episode): it joins it (`joined`);
- otherwise a new alert (`new`), its id a hash of rule, subject and first day, stored with a
  conditional put, published once on the alerts topic and landed once.

Writes are idempotent, as Athena's INSERT INTO is not: every write is conditional on the item's
state, and what an item still lacks (its batch row landed, its notification) is recorded in
flags and finished by the next run that finds it. Counts reconcile:
hits = new + merged + joined + already_raised + unusable (a row without a subject or evidence
time: counted, with its reason, never dropped silently).
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from aml_contract import names, schema
from aml_contract.alert_identity import batch_window, join_target
from aml_contract.named_queries import NamedQuery
from aml_contract.rules import RuleParameters
from lambdas.realtime_rules.alerts import BATCH, SOURCES, land, publish

DAY_SECONDS = 86_400
_KEY = names.ALERTS_TABLE_KEYS["partition"]
_INDEX = names.ALERTS_SUBJECT_INDEX
_serialise, _deserialise = TypeSerializer().serialize, TypeDeserializer().deserialize
# Item attributes of the batch side: the run that first found it, its curated row, whether that
# row has landed (the item's sns_published is the notification flag of a batch-only alert).
BATCH_RUN, BATCH_ROW, BATCH_LANDED = "batch_run_date", "batch_row", "batch_landed"


@dataclass(frozen=True)
class Run:
    run_id: str  # the execution name
    run_date: date
    parameters: dict[str, str]  # the queries' window: start_date, end_date


@dataclass(frozen=True)
class Hit:
    query: str
    rule_id: str
    subject_account_pid: str
    window_start: datetime
    window_end: datetime
    event_time: datetime  # the latest instant of the evidence (partitions the curated row)
    transaction_ids: tuple[str, ...]
    row: dict  # the query's row, as Athena returned it


@dataclass
class Outcome:
    hits: int = 0
    new: int = 0
    merged: int = 0
    joined: int = 0
    already_raised: int = 0
    unusable: dict[str, int] = field(default_factory=Counter)  # reason -> rows
    per_rule: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    delivery_failed: dict[str, str] = field(default_factory=dict)  # alert id -> why (finished next run)

    def count(self, rule_id: str, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.per_rule[rule_id][outcome] += 1

    def as_dict(self) -> dict:
        return {"hits": self.hits, "new": self.new, "merged": self.merged, "joined": self.joined,
                "already_raised": self.already_raised, "unusable": dict(self.unusable),
                "per_rule": {rule: dict(c) for rule, c in sorted(self.per_rule.items())},
                "delivery_failed": len(self.delivery_failed)}


def parse_instant(value: str) -> datetime:
    """An Athena CSV date or timestamp, in UTC: `2025-03-01`, `2025-03-01 10:00:00.000` (timestamp:
    the curated zone's are UTC without zone), `2025-03-01 10:00:00.000 UTC` (timestamp with time
    zone), or ISO 8601."""
    text = value.strip()
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def hits_of(query: NamedQuery, rows: list[dict], outcome: Outcome) -> list[Hit]:
    """The hits of a scenario query's result rows; rows unusable as alerts are counted by reason."""
    evidence = query.evidence
    if evidence is None:
        raise ValueError(f"{query.name} declares no evidence: it is not a scenario query")
    hits = []
    for row in rows:
        outcome.hits += 1
        outcome.per_rule[query.name]["hits"] += 1
        subject = row.get("subject_account_pid")
        start, end = row.get(evidence.window_start), row.get(evidence.window_end)
        if not subject or not start or not end:
            reason = "no subject account" if not subject else "no evidence time"
            outcome.unusable[f"{query.name}: {reason}"] += 1
            outcome.per_rule[query.name]["unusable"] += 1
            continue
        first, last = sorted((parse_instant(start), parse_instant(end)))
        window_start, window_end = batch_window(first.date(), last.date())
        hits.append(Hit(query.name, query.name, subject, window_start, window_end, last,
                        tuple(row[c] for c in evidence.transactions if row.get(c)), row))
    return hits


def alert_id(hit: Hit) -> str:
    """A new batch alert's id: rule, subject and first day (a rerun finds the same id)."""
    key = f"{BATCH}|{hit.rule_id}|{hit.subject_account_pid}|{hit.window_start.date().isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def batch_row(hit: Hit, aid: str, params: RuleParameters, run: Run, detected_at: datetime) -> dict:
    """The curated `alerts` row (plus `dt`) of a hit under alert `aid`, JSON-ready, as
    lambdas.realtime_rules.alerts.alert_row builds it for the Lambda's alerts; the details carry
    the provenance (query, parameters, window, run)."""
    rule = params.rule(hit.rule_id)
    details = {"description": rule.description, "source": BATCH, "query": hit.query, "run_id": run.run_id,
               "run_date": run.run_date.isoformat(), "parameters": run.parameters, "evidence": hit.row}
    return {
        "alert_id": aid, "rule_id": hit.rule_id, "rule_version": rule.rule_version, "severity": rule.severity,
        "score": rule.score, "subject_account_pid": hit.subject_account_pid,
        "transaction_ids": list(hit.transaction_ids), "event_time": hit.event_time.isoformat(),
        "window_start": hit.window_start.isoformat(), "window_end": hit.window_end.isoformat(),
        "details": json.dumps(details, sort_keys=True), "detected_at": detected_at.isoformat(), "source": BATCH,
        schema.PARTITION_COLUMN: hit.event_time.date().isoformat(),
    }


@dataclass
class _Known:
    """A stored alert of one subject and rule, as far as identity and delivery need it."""

    alert_id: str
    window_start: datetime
    window_end: datetime
    sources: set[str]
    batch_run: str | None = None
    batch_row: dict | None = None
    batch_landed: bool = True
    sns_published: bool = True
    created_now: bool = False


class BatchAlertWriter:
    """Writes one run's hits into the alerts table and delivers them (SNS, Firehose) as the rules
    Lambda's AlertSink does. Calls: one Query per subject and rule with hits, one conditional
    PutItem or UpdateItem per alert written, SNS per 10 and Firehose per 500 rows, one UpdateItem
    per delivery recorded."""

    def __init__(self, dynamodb, sns, firehose, *, table: str, topic_arn: str, delivery_stream: str,
                 ttl_days: int, params: RuleParameters, clock=time.time):
        self._ddb, self._sns, self._firehose = dynamodb, sns, firehose
        self._table, self._topic, self._stream = table, topic_arn, delivery_stream
        self._ttl_seconds, self._params, self._clock = ttl_days * DAY_SECONDS, params, clock

    def write(self, hits: list[Hit], run: Run, outcome: Outcome) -> Outcome:
        now = datetime.fromtimestamp(self._clock(), UTC)
        groups: dict[tuple[str, str], list[Hit]] = defaultdict(list)
        for hit in hits:
            groups[(hit.subject_account_pid, hit.rule_id)].append(hit)
        pending: list[_Known] = []
        for (subject, rule_id), group in sorted(groups.items()):
            known = {k.alert_id: k for k in self._stored(subject, rule_id)}
            for hit in sorted(group, key=lambda h: (h.window_start, h.window_end)):
                target = join_target(((k.alert_id, k.window_start, k.window_end) for k in known.values()),
                                     hit.window_start, hit.window_end)
                if target is None:
                    created = self._create(hit, run, now)
                    known[created.alert_id] = created
                    outcome.count(rule_id, "new" if created.created_now else "already_raised")
                elif known[target].created_now:
                    outcome.count(rule_id, "joined")
                elif BATCH in known[target].sources:
                    outcome.count(rule_id, "already_raised")
                elif self._merge(known[target], hit, run, now):
                    outcome.count(rule_id, "merged")
                else:  # a concurrent execution merged it first
                    outcome.count(rule_id, "already_raised")
            pending += [k for k in known.values() if BATCH in k.sources and not (k.batch_landed and k.sns_published)]
        self._deliver(pending, outcome)
        return outcome

    def _stored(self, subject: str, rule_id: str) -> list[_Known]:
        found, start = [], {}
        while True:
            page = self._ddb.query(
                TableName=self._table, IndexName=_INDEX["name"],
                KeyConditionExpression="#s = :s AND #r = :r",
                ExpressionAttributeNames={"#s": _INDEX["partition"], "#r": _INDEX["sort"]},
                ExpressionAttributeValues={":s": {"S": subject}, ":r": {"S": rule_id}}, **start)
            found += [_known(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return found
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    def _create(self, hit: Hit, run: Run, now: datetime) -> _Known:
        aid = alert_id(hit)
        row = batch_row(hit, aid, self._params, run, now)
        item = {**row, SOURCES: {BATCH}, BATCH_RUN: run.run_date.isoformat(), BATCH_ROW: json.dumps(row),
                BATCH_LANDED: False, "sns_published": False,
                names.ALERTS_TABLE_KEYS["ttl"]: int(now.timestamp()) + self._ttl_seconds}
        try:
            self._ddb.put_item(TableName=self._table, Item={k: _serialise(v) for k, v in item.items()},
                               ConditionExpression="attribute_not_exists(#id)", ExpressionAttributeNames={"#id": _KEY})
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            stored = self._ddb.get_item(TableName=self._table, Key={_KEY: {"S": aid}}, ConsistentRead=True)["Item"]
            return _known(stored)
        return _Known(aid, hit.window_start, hit.window_end, {BATCH}, run.run_date.isoformat(), row,
                      batch_landed=False, sns_published=False, created_now=True)

    def _merge(self, known: _Known, hit: Hit, run: Run, now: datetime) -> bool:
        """Add the batch side to an alert the rules Lambda raised; False when already added."""
        row = batch_row(hit, known.alert_id, self._params, run, now)
        try:
            self._ddb.update_item(
                TableName=self._table, Key={_KEY: {"S": known.alert_id}},
                UpdateExpression="ADD #src :batch SET #run = :run, #row = :row, #landed = :false",
                ConditionExpression="attribute_exists(#id) AND NOT contains(#src, :b)",
                ExpressionAttributeNames={"#src": SOURCES, "#run": BATCH_RUN, "#row": BATCH_ROW,
                                          "#landed": BATCH_LANDED, "#id": _KEY},
                ExpressionAttributeValues={":batch": {"SS": [BATCH]}, ":b": {"S": BATCH},
                                           ":run": {"S": run.run_date.isoformat()}, ":row": {"S": json.dumps(row)},
                                           ":false": {"BOOL": False}})
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        known.sources.add(BATCH)
        known.batch_run, known.batch_row, known.batch_landed = run.run_date.isoformat(), row, False
        return True

    def _deliver(self, pending: list[_Known], outcome: Outcome) -> None:
        """Land every batch row not yet landed; notify the alerts only the batch path raised (an
        alert the Lambda raised was notified then). Each success is recorded on its item."""
        landed = land(self._firehose, self._stream, [k.batch_row for k in pending if not k.batch_landed],
                      outcome.delivery_failed)
        notify = [k.batch_row for k in pending if not k.sns_published and k.sources == {BATCH}]
        published = publish(self._sns, self._topic, notify, outcome.delivery_failed)
        for k in pending:
            flags = [f for f, done in ((BATCH_LANDED, k.alert_id in landed), ("sns_published", k.alert_id in published))
                     if done]
            if flags:
                self._ddb.update_item(TableName=self._table, Key={_KEY: {"S": k.alert_id}},
                                      UpdateExpression="SET " + ", ".join(f"{f} = :t" for f in flags),
                                      ExpressionAttributeValues={":t": {"BOOL": True}})


def _known(item: dict) -> _Known:
    values = {k: _deserialise(v) for k, v in item.items()}
    sources = set(values.get(SOURCES) or {names.ALERT_SOURCES[0]})  # items before `sources`: the Lambda's
    return _Known(values[_KEY], parse_instant(values["window_start"]), parse_instant(values["window_end"]), sources,
                  values.get(BATCH_RUN), json.loads(values[BATCH_ROW]) if values.get(BATCH_ROW) else None,
                  bool(values.get(BATCH_LANDED, True)), bool(values.get("sns_published", True)))
