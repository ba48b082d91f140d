"""One Kinesis batch through parse -> state -> rules -> alerts, with per-record outcomes.

Work is grouped by account so the batch costs one BatchGetItem and one TransactWriteItems per 100
accounts (see state_store.py), never calls per record. A record is acknowledged only when every
account it touches has its state stored and every alert it raised is delivered; otherwise its
sequence number is reported failed and Lambda redelivers it (re-applying it is a no-op).

A record behind its account's watermark is applied and its windows evaluated again when within
the late-record horizon (window.py; counted `out_of_order`); beyond it, only the stateless rules
see it, and it is counted (`late_beyond_horizon`, published as names.LATE_BEYOND_HORIZON_METRIC
and alarmed) and listed in the outcome for the handler to log: never dropped without a trace.

Each batch is parsed against the reference data of `reference()` (reference_cache.py): a record
whose USD amount stays unknown is evaluated and counted (`amount_base_unknown`), one whose amount
was derived from the reference rate is counted too (`amount_base_derived`).
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from aml_contract import schema
from aml_contract.pseudonym import pseudonymise
from aml_contract.reference import ReferenceData
from aml_contract.rules import RuleParameters
from lambdas.realtime_rules import rules
from lambdas.realtime_rules.alerts import AlertSink, alert_id
from lambdas.realtime_rules.dead_letters import DeadLetters, Poison
from lambdas.realtime_rules.profile_store import ProfileStore, TransientProfileError
from lambdas.realtime_rules.records import Control, Ignored, PoisonRecord, Transaction, parse
from lambdas.realtime_rules.rules.base import CASH_DEPOSITOR_PREFIX, AlertDraft
from lambdas.realtime_rules.state_store import StateStore, TransientStateError
from lambdas.realtime_rules.window import AccountState, event_for

MAX_CONFLICT_ATTEMPTS = 5


LATE_BEYOND_HORIZON = "late_beyond_horizon"  # the count; metric_name gives names.LATE_BEYOND_HORIZON_METRIC


@dataclass(frozen=True)
class LateRecord:
    """A record too far behind an account's watermark for the windowed rules (no account id: it
    is logged, and the transaction id is enough to find it)."""

    sequence_number: str
    transaction_id: str
    booked_at: str
    behind_seconds: int  # behind the account's watermark


@dataclass
class BatchOutcome:
    sequence_numbers: list[str] = field(default_factory=list)  # the batch's records, in order
    failed: dict[str, str] = field(default_factory=dict)  # sequence number -> why
    counts: Counter = field(default_factory=Counter)
    new_alerts: list[dict] = field(default_factory=list)
    unrecorded: dict[str, str] = field(default_factory=dict)  # alert id -> why its delivery flag is stale
    schema_changes: list[str] = field(default_factory=list)  # control records: "<operation> <schema.table>"
    beyond_horizon: list[LateRecord] = field(default_factory=list)  # records too late for the windows

    def response(self) -> dict:
        """Lambda's partial batch response (ReportBatchItemFailures): the records that must be
        redelivered, in batch order (Lambda resumes from the lowest failed sequence number)."""
        return {"batchItemFailures": [{"itemIdentifier": seq} for seq in self.sequence_numbers if seq in self.failed]}


def metric_name(count: str) -> str:
    """A count's metric name: "schema_changes" -> "SchemaChanges", "control add-column" ->
    "ControlAddColumn"."""
    return "".join(w.capitalize() for w in count.replace("_", " ").replace("-", " ").split())


@dataclass(frozen=True)
class Side:
    """A transaction seen from one account it touches: the money goes `direction` ("in" | "out")
    between `account` and `counterparty`."""

    account: str
    sequence_number: str
    tx: Transaction
    direction: str
    counterparty: str


class Engine:
    def __init__(self, store: StateStore, profiles: ProfileStore, sink: AlertSink, dead_letters: DeadLetters,
                 params: RuleParameters, pseudonym_key: Callable[[], bytes], reference: Callable[[], ReferenceData],
                 clock: Callable[[], float] = time.time):
        self._store, self._profiles, self._sink, self._dead_letters = store, profiles, sink, dead_letters
        self._reference = reference
        self._params, self._key, self._clock = params, pseudonym_key, clock
        self._round_modulus = params.rule("round_amounts")["modulus"]
        # A batch's profiles are read beside its states (two independent sets of BatchGetItem calls;
        # the handler's client pool fits both fans).
        self._beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="profile-read")

    def process(self, records: list[KinesisStreamRecord]) -> BatchOutcome:
        outcome = BatchOutcome([r.kinesis.sequence_number for r in records])
        outcome.counts["records"] = len(records)
        transactions = self._parse(records, outcome, self._reference())
        outcome.counts.update(amount_base_unknown=sum(tx.amount_base is None for _, tx in transactions),
                              amount_base_derived=sum(tx.amount_base_derived for _, tx in transactions))
        by_account: dict[str, list[Side]] = defaultdict(list)
        for sequence_number, tx in transactions:
            for side in self._sides(sequence_number, tx):
                by_account[side.account].append(side)
        drafts, failed_accounts = self._apply_and_store(by_account, outcome)

        for account, reason in failed_accounts.items():
            for side in by_account[account]:
                outcome.failed.setdefault(side.sequence_number, f"state of {account}: {reason}")
        deliverable = [(seq, d) for account, found in drafts.items() if account not in failed_accounts
                       for seq, d in found]
        delivery = self._sink.deliver([d for _, d in deliverable])
        for seq, draft in deliverable:
            reason = delivery.failed.get(alert_id(draft))
            if reason:
                outcome.failed.setdefault(seq, f"alert {draft.rule_id}: {reason}")
        outcome.new_alerts, outcome.unrecorded = delivery.new, delivery.unrecorded
        outcome.counts.update(transactions=len(transactions), out_of_order=0, late_beyond_horizon=0,
                              alerts_new=len(delivery.new), alerts_merged=len(delivery.merged),
                              alerts_duplicate=delivery.duplicates, alert_flags_unrecorded=len(delivery.unrecorded),
                              failed=len(outcome.failed))
        return outcome

    def _parse(self, records: list[KinesisStreamRecord], outcome: BatchOutcome,
               reference: ReferenceData) -> list[tuple[str, Transaction]]:
        now = datetime.fromtimestamp(self._clock(), UTC)
        transactions, poison = [], []
        for record in records:
            data = record.kinesis.data_as_bytes()
            try:
                parsed = parse(data, reference, now)
            except PoisonRecord as err:
                poison.append(Poison(record.kinesis.sequence_number, record.event_id, record.kinesis.partition_key,
                                     record.event_source_arn, data, str(err)))
                continue
            if isinstance(parsed, Control):
                outcome.counts["control"] += 1
                outcome.counts[f"control {parsed.operation}"] += 1
                if parsed.schema_change:
                    outcome.counts["schema_changes"] += 1
                    outcome.schema_changes.append(f"{parsed.operation} {parsed.table}")
            elif isinstance(parsed, Ignored):
                outcome.counts["ignored"] += 1
                outcome.counts[f"ignored {parsed.reason.split()[0]}"] += 1
            else:
                transactions.append((record.kinesis.sequence_number, parsed))
        outcome.counts["poison"] = len(poison)
        for sequence_number, reason in self._dead_letters.send(poison).items():
            outcome.failed[sequence_number] = f"dead-letter: {reason}"
        return transactions

    def _sides(self, sequence_number: str, tx: Transaction) -> Iterator[Side]:
        """The transaction's side for each non-cash account it touches."""
        if tx.originator_account_id != schema.CASH_ACCOUNT_ID:
            yield Side(tx.originator_account_id, sequence_number, tx, "out", tx.beneficiary_account_id)
        if tx.beneficiary_account_id not in (schema.CASH_ACCOUNT_ID, tx.originator_account_id):
            yield Side(tx.beneficiary_account_id, sequence_number, tx, "in", self._payer(tx))

    def _payer(self, tx: Transaction) -> str:
        if tx.originator_account_id != schema.CASH_ACCOUNT_ID:
            return tx.originator_account_id
        # Cash has no payer account: tell depositors apart by name (else device), pseudonymised
        # because this lands in the state table.
        depositor = tx.originator_name or tx.device_id
        return CASH_DEPOSITOR_PREFIX + (pseudonymise(depositor, self._key())[:16] if depositor else "unknown")

    def _apply_and_store(self, by_account: dict[str, list[Side]], outcome: BatchOutcome):
        drafts: dict[str, list[tuple[str, AlertDraft]]] = {}
        late: dict[str, tuple[int, list[LateRecord]]] = {}  # account -> (out of order, beyond the horizon)
        failed: dict[str, str] = {}
        states: dict[str, AccountState] = {}
        pending, to_load = set(by_account), set(by_account)
        profiles_read = self._beside.submit(self._profiles.load, by_account)
        try:
            states.update(self._store.load(to_load))
        except TransientStateError as err:
            state_error: TransientStateError | None = err
        else:
            state_error = None
        try:
            profiles = profiles_read.result()
        except TransientProfileError as err:
            return drafts, {a: str(err) for a in by_account}
        outcome.counts["profiles_unreadable"] += self._profiles.take_unreadable()
        if state_error is not None:
            return drafts, {a: str(state_error) for a in by_account}
        for attempt in range(MAX_CONFLICT_ATTEMPTS):
            if attempt:  # reload the accounts another invocation wrote meanwhile
                try:
                    states.update(self._store.load(to_load))
                except TransientStateError as err:
                    failed.update({a: str(err) for a in pending})
                    break
            result = self._store.save(self._evaluated(to_load, states, profiles, by_account, drafts, late))
            failed.update(result.failed)
            outcome.counts["state_conflicts"] += len(result.conflicts)
            pending = to_load = result.conflicts
            if not pending:
                break
        else:
            failed.update({a: "write conflicts persisted after retries" for a in pending})
        # Counted once per account side, as evaluated last (a conflict re-evaluates from the reload).
        for out_of_order, beyond in late.values():
            outcome.counts["out_of_order"] += out_of_order
            outcome.counts[LATE_BEYOND_HORIZON] += len(beyond)
            outcome.beyond_horizon += beyond
        return drafts, failed

    def _evaluated(self, accounts: set[str], states: dict[str, AccountState], profiles: dict,
                   by_account: dict[str, list[Side]], drafts: dict, late: dict) -> Iterator[AccountState]:
        """Each account's state once its sides are evaluated (its drafts and late records noted),
        one at a time, so that the store writes the first states while later ones are evaluated."""
        for account in accounts:
            states[account].profile = profiles[account]
            drafts[account], late[account] = self._evaluate(states[account], by_account[account])
            yield states[account]

    def _evaluate(self, state: AccountState, sides: list[Side]) -> tuple[list[tuple[str, AlertDraft]],
                                                                         tuple[int, list[LateRecord]]]:
        found, out_of_order, beyond = [], 0, []
        horizons = self._store.horizons
        for side in sides:
            too_late = state.beyond_horizon(side.tx.ts, horizons)
            if too_late:
                beyond.append(LateRecord(side.sequence_number, side.tx.transaction_id,
                                         side.tx.booked_at.isoformat(), state.watermark - side.tx.ts))
            else:
                behind = state.watermark is not None and side.tx.ts < state.watermark
                added = state.add(event_for(side.tx, side.direction, side.counterparty, self._round_modulus), horizons)
                out_of_order += behind and added  # a redelivered record is not counted again
            found += [(side.sequence_number, d)
                      for d in rules.evaluate(side.tx, state, self._params, beyond_horizon=too_late)]
        return found, (out_of_order, beyond)

