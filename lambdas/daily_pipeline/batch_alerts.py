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

A hit names the transactions behind it (the query's `evidence` header): the ids of one list column
(Athena writes an array into its result CSV as `[a, b, c]`), at most
aml_contract.named_queries.MAX_EVIDENCE_TRANSACTIONS, with the count of them all beside it, or
one id per declared column. The alert's transaction_ids are those ids; its details hold
`transaction_count`, the total, so a list cut short says so. A list that does not read back as
its count says (an id holding ", ", which the CSV form cannot tell from a separator) names no
transaction, is counted in its rule's `ids_unreadable` (per_rule) and still raises its alert:
alert_evidence then lists the window's transactions.

Writes are idempotent, as Athena's INSERT INTO is not: every write is conditional on the item's
state, and what an item still lacks (its batch row landed, its notification) is recorded in
flags. A write or delivery that fails (a transient error) fails the step after everything else is
done (BatchAlertsIncomplete); the state machine's retry runs it again, finds what was written and
finishes the rest. Counts reconcile:
hits = new + merged + joined + already_raised + unusable (a row without a subject or evidence
time: counted, with its reason, never dropped silently).
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from aml_contract import names, schema
from aml_contract.alert_identity import batch_window, join_target
from aml_contract.named_queries import MAX_EVIDENCE_TRANSACTIONS, Evidence, NamedQuery
from aml_contract.rules import RuleParameters
from lambdas.realtime_rules import dynamo
from lambdas.realtime_rules.alerts import BATCH, SOURCES, land, publish

DAY_SECONDS = 86_400
_KEY = names.ALERTS_TABLE_KEYS["partition"]
_INDEX = names.ALERTS_SUBJECT_INDEX
_serialise, _deserialise = TypeSerializer().serialize, TypeDeserializer().deserialize
# Item attributes of the batch side: the run that first found it, its curated row, whether that
# row has landed (the item's sns_published is the notification flag of a batch-only alert).
BATCH_RUN, BATCH_ROW, BATCH_LANDED = "batch_run_date", "batch_row", "batch_landed"


class BatchAlertsIncomplete(Exception):
    """Some alerts were not stored, or not delivered (transient errors): the step fails, and the
    state machine's retry runs it again, which finds what was written and finishes the rest."""

    def __init__(self, unwritten: dict[str, str], undelivered: dict[str, str]):
        first = next(iter({**unwritten, **undelivered}.items()))
        super().__init__(f"{len(unwritten)} alerts not stored, {len(undelivered)} not delivered; first: {first[0]}: "
                         f"{first[1]}")
        self.unwritten, self.undelivered = unwritten, undelivered


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
    transaction_count: int = 0  # the transactions behind the hit; more than transaction_ids when the list was capped


@dataclass
class Outcome:
    hits: int = 0
    new: int = 0
    merged: int = 0
    joined: int = 0
    already_raised: int = 0
    unusable: dict[str, int] = field(default_factory=Counter)  # reason -> rows
    per_rule: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    delivery_failed: dict[str, str] = field(default_factory=dict)  # alert id -> why (the step's retry finishes it)

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


def athena_array(text: str) -> list[str]:
    """The elements of an array value in an Athena result CSV: `[a, b, c]`, elements unquoted and
    separated by ", " (as the Athena console shows arrays,
    https://docs.aws.amazon.com/athena/latest/ug/creating-arrays.html; in the result file, e.g. an
    array<double> read back as "[0.1234, 0.98765]", https://github.com/pyathena-dev/PyAthena/issues/285),
    `[]` when empty. aml.pipeline.athena_binding writes the same form from DuckDB."""
    value = text.strip()
    if not (value.startswith("[") and value.endswith("]")):
        raise ValueError(f"not an Athena array: {text[:40]!r}")
    inner = value[1:-1]
    return inner.split(", ") if inner else []


def transactions_of(evidence: Evidence, row: dict) -> tuple[tuple[str, ...], int] | None:
    """(ids, total) of a row's transactions as its evidence declares them; None when a list does not
    read back as its count says (at most MAX_EVIDENCE_TRANSACTIONS of them)."""
    if not evidence.is_list:
        ids = tuple(row[c] for c in evidence.transactions if row.get(c))
        return ids, len(ids)
    text, count = row.get(evidence.transactions[0]), row.get(evidence.count)
    try:
        ids = tuple(athena_array(text)) if text else ()
        total = int(count) if count else len(ids)
    except ValueError:
        return None
    if len(ids) != min(total, MAX_EVIDENCE_TRANSACTIONS) or not all(ids):
        return None
    return ids, total


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
        found = transactions_of(evidence, row)
        if found is None:
            outcome.per_rule[query.name]["ids_unreadable"] += 1
            count = row.get(evidence.count) or "0"
            found = (), int(count) if count.isdigit() else 0
        ids, total = found
        hits.append(Hit(query.name, query.name, subject, window_start, window_end, last, ids, row, total))
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
               "run_date": run.run_date.isoformat(), "parameters": run.parameters, "evidence": hit.row,
               "transaction_count": hit.transaction_count}
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
    subject: str
    rule_id: str
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
    Lambda's AlertSink does. The hits' own ids are read first (BatchGetItem of 100: a rerun, or a
    later run of the same episode, finds them there), then each other subject's stored alerts of
    the rule (one index Query per subject and rule, QUERY_THREADS at a time); every hit is decided in
    memory, and the writes go in bulk: conditional puts and updates in TransactWriteItems of 100
    (lambdas/realtime_rules/dynamo.py: each operation stands or falls on its own condition), SNS
    per 10 and Firehose per 500 rows, the delivery flags again in TransactWriteItems of 100."""

    QUERY_THREADS = 8

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
        keys = sorted(groups)
        # A hit found before (a rerun, or the next day's run of the same episode) has its own id
        # stored: read by id in bulk, and only the groups with a hit not stored are queried.
        own_ids = {key: {alert_id(h) for h in group} for key, group in groups.items()}
        stored: dict[tuple[str, str], list[_Known]] = {key: [] for key in keys}
        for item in dynamo.get_all(self._ddb, self._table,
                                   [{_KEY: {"S": aid}} for aid in sorted(set().union(*own_ids.values()))]):
            found = _known(item)
            stored[(found.subject, found.rule_id)].append(found)
        unseen = [key for key in keys if own_ids[key] - {k.alert_id for k in stored[key]}]
        with ThreadPoolExecutor(self.QUERY_THREADS) as pool:
            stored |= dict(zip(unseen, pool.map(lambda key: self._stored(*key), unseen), strict=True))
        writes: list[tuple[dict, _Known, str]] = []  # (operation, the alert it writes, outcome if written)
        every: list[_Known] = []
        for key in keys:
            known = {k.alert_id: k for k in stored[key]}
            for hit in sorted(groups[key], key=lambda h: (h.window_start, h.window_end)):
                target = join_target(((k.alert_id, k.window_start, k.window_end) for k in known.values()),
                                     hit.window_start, hit.window_end)
                if target is None:
                    created = self._new(hit, run, now)
                    known[created.alert_id] = created
                    writes.append((self._put(created, now), created, "new"))
                elif known[target].created_now:
                    outcome.count(hit.rule_id, "joined")
                elif BATCH in known[target].sources:
                    outcome.count(hit.rule_id, "already_raised")
                else:  # an alert only the rules Lambda raised: the batch side joins it
                    merged = known[target]
                    merged.batch_row = batch_row(hit, merged.alert_id, self._params, run, now)
                    merged.sources.add(BATCH)
                    merged.batch_run, merged.batch_landed, merged.created_now = run.run_date.isoformat(), False, True
                    writes.append((self._merge(merged), merged, "merged"))
            every += known.values()
        done = dynamo.write_all(self._ddb, [operation for operation, _, _ in writes])
        unwritten = {}
        for index, (_, alert, result) in enumerate(writes):
            if index in done.written:
                outcome.count(alert.batch_row["rule_id"], result)
                continue
            if result == "merged":
                alert.sources.discard(BATCH)
            alert.batch_landed = alert.sns_published = True  # not this run's to deliver
            if index in done.rejected:  # a concurrent execution wrote it first
                outcome.count(alert.batch_row["rule_id"], "already_raised")
            else:
                unwritten[alert.alert_id] = done.failed[index]
        self._deliver([k for k in every if BATCH in k.sources and not (k.batch_landed and k.sns_published)], outcome)
        if unwritten or outcome.delivery_failed:
            raise BatchAlertsIncomplete(unwritten, outcome.delivery_failed)
        return outcome

    def _stored(self, subject: str, rule_id: str) -> list[_Known]:
        return [_known(item) for item in dynamo.query_all(self._ddb, self._table, _INDEX, subject, rule_id)]

    def _new(self, hit: Hit, run: Run, now: datetime) -> _Known:
        aid = alert_id(hit)
        return _Known(aid, hit.subject_account_pid, hit.rule_id, hit.window_start, hit.window_end, {BATCH},
                      run.run_date.isoformat(),
                      batch_row(hit, aid, self._params, run, now), batch_landed=False, sns_published=False,
                      created_now=True)

    def _put(self, alert: _Known, now: datetime) -> dict:
        """A new batch alert, stored only if no item has its id (a rerun finds it instead)."""
        row = alert.batch_row
        item = {**row, SOURCES: {BATCH}, BATCH_RUN: alert.batch_run, BATCH_ROW: json.dumps(row),
                BATCH_LANDED: False, "sns_published": False,
                names.ALERTS_TABLE_KEYS["ttl"]: int(now.timestamp()) + self._ttl_seconds}
        return {"Put": {"TableName": self._table, "Item": {k: _serialise(v) for k, v in item.items()},
                        "ConditionExpression": "attribute_not_exists(#id)", "ExpressionAttributeNames": {"#id": _KEY}}}

    def _merge(self, alert: _Known) -> dict:
        """Add the batch side to an alert the rules Lambda raised, unless already added."""
        return {"Update": {
            "TableName": self._table, "Key": {_KEY: {"S": alert.alert_id}},
            "UpdateExpression": "ADD #src :batch SET #run = :run, #row = :row, #landed = :false",
            "ConditionExpression": "attribute_exists(#id) AND NOT contains(#src, :b)",
            "ExpressionAttributeNames": {"#src": SOURCES, "#run": BATCH_RUN, "#row": BATCH_ROW,
                                         "#landed": BATCH_LANDED, "#id": _KEY},
            "ExpressionAttributeValues": {":batch": {"SS": [BATCH]}, ":b": {"S": BATCH},
                                          ":run": {"S": alert.batch_run}, ":row": {"S": json.dumps(alert.batch_row)},
                                          ":false": {"BOOL": False}}}}

    def _deliver(self, pending: list[_Known], outcome: Outcome) -> None:
        """Land every batch row not yet landed; notify the alerts only the batch path raised (an
        alert the Lambda raised was notified then). Each success is recorded on its item."""
        landed = land(self._firehose, self._stream, [k.batch_row for k in pending if not k.batch_landed],
                      outcome.delivery_failed)
        notify = [k.batch_row for k in pending if not k.sns_published and k.sources == {BATCH}]
        published = publish(self._sns, self._topic, notify, outcome.delivery_failed)
        flags = []
        for k in pending:
            done = [f for f, ok in ((BATCH_LANDED, k.alert_id in landed), ("sns_published", k.alert_id in published))
                    if ok]
            if done:
                flags.append({"Update": {"TableName": self._table, "Key": {_KEY: {"S": k.alert_id}},
                                         "UpdateExpression": "SET " + ", ".join(f"{f} = :t" for f in done),
                                         "ExpressionAttributeValues": {":t": {"BOOL": True}}}})
        recorded = dynamo.write_all(self._ddb, flags)
        for index in set(range(len(flags))) - recorded.written:  # delivered; the next run delivers again
            outcome.delivery_failed[flags[index]["Update"]["Key"][_KEY]["S"]] = "delivery flag not recorded"


def _known(item: dict) -> _Known:
    values = {k: _deserialise(v) for k, v in item.items()}
    sources = set(values.get(SOURCES) or {names.ALERT_SOURCES[0]})  # items before `sources`: the Lambda's
    return _Known(values[_KEY], values[_INDEX["partition"]], values[_INDEX["sort"]], parse_instant(values["window_start"]),
                  parse_instant(values["window_end"]), sources,
                  values.get(BATCH_RUN), json.loads(values[BATCH_ROW]) if values.get(BATCH_ROW) else None,
                  bool(values.get(BATCH_LANDED, True)), bool(values.get("sns_published", True)))
