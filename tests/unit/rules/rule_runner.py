"""Feed transactions, in a chosen order, through the same state and rule code the rules engine uses
(no AWS). Imported by name (pytest puts this folder on sys.path) by conftest.py and by the tests
that put the same rows through the Lambda's rules and the local query engine."""
from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

from aml.reference import build
from aml_contract import rules as contract_rules
from lambdas.realtime_rules import rules
from lambdas.realtime_rules.records import parse
from lambdas.realtime_rules.window import AccountState, Horizons, event_for

T0 = datetime(2025, 11, 3, 12, 0, tzinfo=UTC)
_ids = itertools.count()


def parse_record(data: bytes, now: datetime | None = None, reference=None):
    """records.parse with the reference data built from the sources (what the harness publishes),
    or with `reference` (aml_contract.reference.ReferenceData)."""
    return parse(data, reference or build.in_memory(), now)


def tx(*, at: timedelta = timedelta(0), amount: float = 100.0, type: str = "wire",  # noqa: A002
       orig: str = "A", benef: str = "B", tid: str | None = None, reference=None, **extra):
    row = {"transaction_id": tid or f"t{next(_ids)}", "booked_at": (T0 + at).isoformat(),
           "originator_account_id": orig, "beneficiary_account_id": benef, "amount": amount,
           "currency": "USD", "amount_base": amount, "transaction_type": type, "channel": "online",
           "status": "booked", **extra}
    return parse_record(json.dumps(row).encode(), now=T0 + timedelta(days=400), reference=reference)


def run(transactions, account: str, params=None, rule_id: str | None = None, profile=None):
    """Apply `transactions` in the given order to `account`'s state, with its `profile`
    (aml_contract.profiles.Profile) if given; return every draft raised (optionally only by
    `rule_id`). Counterparty keys mirror the engine (cash: by depositor)."""
    params = params or contract_rules.load()
    horizons = Horizons.from_params(params)
    state = AccountState(account, profile=profile)
    drafts = []
    for t in transactions:
        side = "out" if t.originator_account_id == account else "in"
        other = t.beneficiary_account_id if side == "out" else t.originator_account_id
        if other == "CASH" and side == "in":
            other = f"CASH:{t.originator_name or 'unknown'}"
        beyond = state.beyond_horizon(t.ts, horizons)
        if not beyond:
            state.add(event_for(t, side, other, params.rule("round_amounts")["modulus"]), horizons)
        drafts += rules.evaluate(t, state, params, beyond_horizon=beyond)
    return [d for d in drafts if rule_id is None or d.rule_id == rule_id]
