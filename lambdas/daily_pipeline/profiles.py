"""The LoadProfiles step: the account_profiles query's rows into the profiles table, changed ones only.

The rows (Athena's result CSV of aml_contract.profiles.QUERY_NAME, as of the run date) are parsed
with Profile.from_row; a row that does not parse, or names another day or an account already
seen, is counted under `unusable` with its reason and never written (nor silently dropped, nor
failing the load). The stored copies' `as_of` and `content_hash` are read with BatchGetItem
(lambdas/realtime_rules/dynamo.get_all: 100 keys a call, a projection of those two attributes, the
unprocessed keys retried with back-off), and the profiles `needs_write` accepts are written with
BatchWriteItem, 25 puts a call, the unprocessed items retried with back-off. So a rerun of the same
day reads every item and writes none; a later day writes the profiles whose content changed and
refreshes the unchanged ones once their stored copy is refresh_days old (aml_contract.profiles).

Limits (Amazon DynamoDB API Reference): BatchGetItem reads at most 100 items or 16 MB a call
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html); BatchWriteItem
writes at most 25 put or delete requests or 16 MB a call, two requests for the same key in one call
being an error (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).
A profile item is about 2 KB (25 pids of 64 hex characters dominate), far below both byte limits.

Writes are plain puts, not conditional: the rules Lambda only reads this table, and the pipeline
runs one execution at a time (each function's reserved concurrency is 1). A write left unprocessed
after the retries fails the step (ProfilesIncomplete); the state machine's retry reads again and
writes only what is still missing.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from botocore.exceptions import BotoCoreError, ClientError

from aml_contract import names
from aml_contract.profiles import Profile, ProfileParameters, needs_write
from lambdas.realtime_rules import dynamo

log = logging.getLogger(__name__)
WRITE_LIMIT = 25  # put requests per BatchWriteItem (API reference above)
_KEY = names.PROFILES_TABLE_KEYS["partition"]
STORED_ATTRIBUTES = [_KEY, "as_of", "content_hash"]  # what needs_write compares (ProjectionExpression)


class ProfilesIncomplete(Exception):
    """Some profiles were not written after the retries: the step fails and its retry finishes."""


@dataclass
class LoadOutcome:
    as_of: str
    profiles: int = 0  # rows parsed into a profile
    written: int = 0
    unchanged: int = 0  # same content as stored, stored copy younger than refresh_days
    older_than_stored: int = 0  # a newer day's profile is stored: never replaced by an older one
    unusable: dict[str, int] = field(default_factory=Counter)  # reason -> rows

    def as_dict(self) -> dict:
        return {"profiles": self.profiles, "written": self.written, "unchanged": self.unchanged,
                "older_than_stored": self.older_than_stored, "unusable": dict(self.unusable), "as_of": self.as_of}


def parse_rows(rows: Iterable[dict[str, str | None]], as_of: date, outcome: LoadOutcome) -> list[Profile]:
    """The usable profiles of the query's rows; each other row counted in outcome.unusable by reason
    (the reason names the column, not the account: the counts stay per kind of defect)."""
    found: dict[str, Profile] = {}
    for row in rows:
        try:
            profile = Profile.from_row(row)
        except ValueError as err:
            reason = str(err).split(": ", 1)[-1]  # from_row prefixes the row's account
            outcome.unusable[reason] += 1
            if outcome.unusable[reason] == 1:  # one line per kind of defect, not per row
                log.warning("unusable profile row: %s", err)
            continue
        if profile.as_of != as_of:
            outcome.unusable[f"as_of {profile.as_of} is not the run date"] += 1
        elif profile.account_pid in found:
            outcome.unusable["account_pid repeated"] += 1
        else:
            found[profile.account_pid] = profile
    outcome.profiles = len(found)
    return list(found.values())


def load(ddb, table: str, rows: Iterable[dict[str, str | None]], as_of: date, params: ProfileParameters,
         map_: Callable = map) -> LoadOutcome:
    """Load the rows of one run (as of `as_of`) into `table`; see the module's docstring. `map_`
    runs the chunks' calls (a thread pool's map: they are independent)."""
    outcome = LoadOutcome(as_of.isoformat())
    parsed = parse_rows(rows, as_of, outcome)
    stored = {item[_KEY]["S"]: item for item in dynamo.get_all(
        ddb, table, [{_KEY: {"S": p.account_pid}} for p in parsed], map_=map_, attributes=STORED_ATTRIBUTES)}
    writes = []
    for profile in parsed:
        current = stored.get(profile.account_pid)
        if needs_write(profile, current, params):
            writes.append(profile.to_item(params))
        elif date.fromisoformat(current["as_of"]["S"]) > profile.as_of:
            outcome.older_than_stored += 1
        else:
            outcome.unchanged += 1
    unwritten = write_items(ddb, table, writes, map_)
    outcome.written = len(writes) - unwritten
    if unwritten:
        raise ProfilesIncomplete(f"{unwritten} of {len(writes)} profiles not written after retries "
                                 f"({outcome.written} written)")
    return outcome


def write_items(ddb, table: str, items: list[dict], map_: Callable = map) -> int:
    """Put `items` in BatchWriteItem calls of 25 (run by `map_`); the number left unwritten after
    the retries. Raises dynamo.DynamoUnavailable when DynamoDB refuses a call itself."""
    chunks = [items[start:start + WRITE_LIMIT] for start in range(0, len(items), WRITE_LIMIT)]
    return sum(map_(lambda chunk: _write_chunk(ddb, table, chunk), chunks))


def _write_chunk(ddb, table: str, items: list[dict]) -> int:
    """Put up to 25 items, retrying the unprocessed ones with back-off; the number left unwritten.
    Raises dynamo.DynamoUnavailable when DynamoDB refuses the call itself."""
    request = {table: [{"PutRequest": {"Item": item}} for item in items]}
    for attempt in range(dynamo.UNPROCESSED_RETRIES + 1):
        try:
            response = ddb.batch_write_item(RequestItems=request)
        except (ClientError, BotoCoreError) as err:
            raise dynamo.DynamoUnavailable(f"BatchWriteItem: {err}") from err
        request = response.get("UnprocessedItems") or {}
        if not request:
            return 0
        time.sleep(0.05 * 2 ** attempt)  # unprocessed items mean throttling: back off
    return len(request.get(table, []))
