"""Kinesis record data -> a typed, validated transaction.

A record is a DMS envelope ({"data": row, "metadata": {...}}), a DMS control record
({"metadata": {"record-type": "control", ...}}, no data, schema and table names possibly empty),
or a plain transactions row from a producer. Only inserts, updates and full-load rows of
core.transactions are evaluated; deletes and other tables are acknowledged as `Ignored`, control
records as `Control`. Anything that cannot be a valid transaction raises `PoisonRecord` with a
reason, so the engine can dead-letter it without failing the batch.

The reference data (aml_contract.reference) decides two things here: a currency must be a code of
the currencies dataset (an unknown one is poison, as the contract's `unknown_value:currency`), and
the transaction's USD amount is `ReferenceData.amount_base`: the source's own amount_base, else
derived at the booking day's rate, else unknown (None; the record is still evaluated and counted).
A reference dataset that cannot be read raises ReferenceDataError: an error of the function, never
of the record (see reference_cache.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import cached_property
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser import BaseModel
from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from aml_contract import dms, reference, schema
from aml_contract.reference import ReferenceData

# A transactions row is well under 2 KiB; anything far larger is not one (and would bloat the DLQ).
MAX_RECORD_BYTES = 32 * 1024
EVALUATED_OPERATIONS = ("load", "insert", "update")
LOB_COLUMNS = tuple(dms.lob_columns(schema.TRANSACTIONS))  # free text DMS may have truncated


class PoisonRecord(Exception):
    """The record can never be processed: it goes to the dead-letter queue with this reason."""


@dataclass(frozen=True)
class Ignored:
    """A valid record the rules do not evaluate (a delete, another table, a reversal)."""

    reason: str


@dataclass(frozen=True)
class Control:
    """A DMS control record (task start, table or column change): valid output, never evaluated."""

    operation: str
    table: str  # schema.table as DMS names it; "." when both are empty

    @property
    def schema_change(self) -> bool:
        """The source's tables or columns changed under the contract."""
        return self.operation in dms.SCHEMA_CHANGE_OPERATIONS


class TransactionRow(BaseModel):
    """The columns of core.transactions the rules read; other columns are allowed and ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    transaction_id: str = Field(min_length=1)
    booked_at: datetime
    originator_account_id: str = Field(min_length=1)
    beneficiary_account_id: str = Field(min_length=1)
    originator_country: str | None = None
    beneficiary_country: str | None = None
    amount: Decimal = Field(gt=0, allow_inf_nan=False)
    currency: str
    amount_base: Decimal | None = Field(None, gt=0, allow_inf_nan=False)  # nullable (the contract)
    transaction_type: str
    channel: str | None = None
    status: str = "booked"
    originator_name: str | None = None
    device_id: str | None = None

    @field_validator("transaction_id", "originator_account_id", "beneficiary_account_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("booked_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # DMS writes timestamptz with an offset; a naive value is taken as UTC, the platform's clock.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("originator_country", "beneficiary_country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if len(value) != 2 or not value.isalpha():
            raise ValueError("must be an ISO 3166-1 alpha-2 code")
        return value.upper()

    @field_validator("amount", "amount_base")
    @classmethod
    def _decimal_18_2(cls, value: Decimal | None) -> Decimal | None:
        """As curation types it: decimal(18,2), rounded half up to cents (Spark's cast); too large
        a value is refused there (invalid_decimal), and one that rounds to 0 is not positive."""
        if value is None:
            return None
        with localcontext() as exact:
            exact.prec = 2 * schema.DECIMAL_PRECISION
            cents = value.quantize(reference.CENTS, rounding=ROUND_HALF_UP)
        if cents >= reference.AMOUNT_LIMIT:
            raise ValueError(f"does not fit decimal({schema.DECIMAL_PRECISION},{schema.DECIMAL_SCALE})")
        if cents <= 0:
            raise ValueError("must be greater than 0 once rounded to cents")
        return cents

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str, info: ValidationInfo) -> str:
        # Exactly as sent, as the Glue job compares it: "eur" is not a code (README).
        code, known = value, info.context["currencies"]
        if code not in known:
            raise ValueError(f"{code!r} is not a code of the currencies reference dataset "
                             "(ISO 4217 and crypto assets)")
        return code

    @field_validator("transaction_type")
    @classmethod
    def _type(cls, value: str) -> str:
        return _member(value, schema.TRANSACTION_TYPES)

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return None if value is None else _member(value, schema.CHANNELS)

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        return _member(value, schema.TRANSACTION_STATUSES)


def _member(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


class DmsMetadata(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    record_type: Literal["data", "control"] = Field(dms.RECORD_TYPE_DATA, alias="record-type")
    operation: str
    schema_name: str = Field("", alias="schema-name")
    table_name: str = Field("", alias="table-name")


@dataclass(frozen=True)
class Transaction:
    """A validated transaction. `ts` is booked_at in epoch seconds: every window runs on it.
    `amount_base` is the USD amount the rules use (ReferenceData.amount_base; None: unknown) and
    `reference` the reference data it was parsed with (the FATF lists of its booking day)."""

    row: TransactionRow
    operation: Literal["load", "insert", "update", "plain"]
    amount_base: Decimal | None
    reference: ReferenceData = field(repr=False, compare=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)

    @cached_property  # read by every rule, many times per record
    def ts(self) -> int:
        return int(self.row.booked_at.timestamp())

    @property
    def is_cash(self) -> bool:
        return self.row.transaction_type in schema.CASH_TYPES

    @property
    def booked_on(self) -> date:
        """The UTC date of booked_at: the day whose FX rate and FATF lists apply."""
        return self.row.booked_at.date()

    @property
    def amount_base_derived(self) -> bool:
        """The source gave no amount_base and the reference rate supplied it."""
        return self.row.amount_base is None and self.amount_base is not None


def parse(data: bytes, reference: ReferenceData, now: datetime | None = None) -> Transaction | Ignored | Control:
    """Decode one record's data; raise PoisonRecord with a reason when it is unusable (and
    ReferenceDataError, not PoisonRecord, when the reference data cannot be read)."""
    if len(data) > MAX_RECORD_BYTES:
        raise PoisonRecord(f"oversize payload: {len(data)} bytes > {MAX_RECORD_BYTES}")
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, ValueError) as err:
        raise PoisonRecord(f"not JSON: {err}") from None
    if not isinstance(body, dict):
        raise PoisonRecord(f"not a JSON object: {type(body).__name__}")

    operation = "plain"
    if "metadata" in body:
        try:
            meta = DmsMetadata.model_validate(body["metadata"])
        except ValidationError as err:
            raise PoisonRecord(f"invalid DMS metadata: {_explain(err)}") from None
        table = f"{meta.schema_name}.{meta.table_name}"
        if meta.record_type == dms.RECORD_TYPE_CONTROL:
            return Control(meta.operation, table)
        if "data" not in body:
            raise PoisonRecord("DMS data record without data")
        if not meta.schema_name or not meta.table_name:  # only control records may leave them empty
            raise PoisonRecord("invalid DMS metadata: a data record needs schema-name and table-name")
        if table != f"{schema.SOURCE_SCHEMA}.{schema.TRANSACTIONS.name}":
            return Ignored(f"table {table}")
        if meta.operation not in EVALUATED_OPERATIONS:
            return Ignored(f"operation {meta.operation}")
        before = body.get(dms.BEFORE_IMAGE_FIELD)
        operation, body = meta.operation, body["data"]
        if not isinstance(body, dict):
            raise PoisonRecord("DMS envelope data is not a JSON object")
        _refuse_key_change(meta.operation, before, body)

    for column in LOB_COLUMNS:
        if dms.suspect_lob_value(body.get(column)):
            raise PoisonRecord(f"{column}: {len(body[column])} characters, at DMS's LOB limit "
                               f"({dms.LOB_MAX_SIZE_KB} KB): the value may have been truncated")
    try:
        row = TransactionRow.model_validate(body, context={"currencies": reference.currencies})
    except ValidationError as err:
        raise PoisonRecord(f"invalid transaction: {_explain(err)}") from None
    now = now or datetime.now(UTC)
    if row.booked_at > now + timedelta(seconds=schema.FUTURE_TOLERANCE_SECONDS):
        raise PoisonRecord(f"booked_at {row.booked_at.isoformat()} is in the future")
    if row.status != "booked":
        return Ignored(f"status {row.status}")
    amount_base = reference.amount_base(row.amount, row.currency, row.booked_at.date(), row.amount_base)
    return Transaction(row, operation, amount_base, reference)


def _refuse_key_change(operation: str, before: Any, data: dict) -> None:
    """Keys are immutable (the contract): an update whose before image (DMS BeforeImageSettings)
    names another key would count the same source row twice, under two ids. It is refused, as
    the Glue job refuses the same update in the raw zone. The stream task always sends before
    images, so a DMS update without one cannot be checked and is refused too."""
    if operation != "update":
        return
    if not isinstance(before, dict):
        raise PoisonRecord(f"update without a {dms.BEFORE_IMAGE_FIELD} (DMS BeforeImageSettings): "
                           "its primary key cannot be checked against the old one")
    key = schema.TRANSACTIONS.primary_key
    old, new = before.get(key), data.get(key)
    if old is not None and new is not None and str(old) != str(new):
        raise PoisonRecord(f"primary key changed from {old!r} to {new!r}: keys are immutable, "
                           "the change is not applied (see aml_contract.dms)")


def _explain(err: ValidationError) -> str:
    """pydantic's errors as one line: 'amount: Input should be greater than 0; currency: ...'."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in err.errors())
