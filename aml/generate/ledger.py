"""Collects transactions as numpy column chunks and turns them into the contract's table.

Builders add rows by party code (see `parties.Directory`) with USD amounts; every row gets a
provisional key so labels can point at it. `Ledger.build` sorts by event time, assigns the final
deterministic ids (`T` + 10 digits, in booked_at order) and derives currency, amount and
amount_base (via the FX table; null for a share of foreign-currency wires), names, countries and
the device/IP of online channels.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from aml.arrow_types import DECIMAL
from aml.generate import fx
from aml.generate.parties import Directory
from aml.generate.timebase import HOUR
from aml_contract.schema import CHANNELS, TRANSACTION_STATUSES, TRANSACTION_TYPES, TRANSACTIONS

_TYPE_CODE = {t: i for i, t in enumerate(TRANSACTION_TYPES)}
_CHANNEL_CODE = {c: i for i, c in enumerate(CHANNELS)}
_ONLINE = np.array([c in ("online", "mobile") for c in CHANNELS])


def _codes(values, mapping: dict[str, int], n: int) -> np.ndarray:
    if isinstance(values, str):
        return np.full(n, mapping[values], dtype=np.int8)
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return values.astype(np.int8)
    return np.array([mapping[v] for v in values.tolist()], dtype=np.int8)


def decimal_array(cents: np.ndarray, null: np.ndarray | None = None) -> pd.arrays.ArrowExtensionArray:
    """Exact decimal(18,2) from integer cents, without a Python Decimal per row: the decimal128
    buffer is the little-endian 128-bit unscaled value (low word = cents, high word = sign).
    Rows where `null` is true are nulls (Arrow's validity bitmap, least significant bit first)."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    validity = None if null is None or not null.any() else \
        pa.py_buffer(np.packbits(~np.asarray(null, bool), bitorder="little").tobytes())
    array = pa.Array.from_buffers(DECIMAL, len(cents), [validity, pa.py_buffer(words.tobytes())])
    return pd.arrays.ArrowExtensionArray(array)


def utc(seconds: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(seconds, dtype=np.int64), unit="s", utc=True)


class Ledger:
    def __init__(self) -> None:
        self._chunks: list[dict[str, np.ndarray]] = []
        self._next_key = 0

    def __len__(self) -> int:
        return self._next_key

    def add(self, booked_at, originator, beneficiary, amount_usd, transaction_type, channel, memo,
            *, exact: bool = True, reversed_mask=None) -> np.ndarray:
        """Add rows; returns their provisional keys. `exact` amounts are kept to the cent (scenario
        amounts, in USD accounts); otherwise the converted amount is nudged off whole units so
        background money never looks like a round amount."""
        booked_at = np.atleast_1d(np.asarray(booked_at, dtype=np.int64))
        n = len(booked_at)
        keys = np.arange(self._next_key, self._next_key + n, dtype=np.int64)
        self._next_key += n
        self._chunks.append({
            "key": keys, "ts": booked_at,
            "orig": np.broadcast_to(np.asarray(originator, dtype=np.int64), (n,)),
            "bene": np.broadcast_to(np.asarray(beneficiary, dtype=np.int64), (n,)),
            "usd": np.broadcast_to(np.asarray(amount_usd, dtype=np.float64), (n,)),
            "type": _codes(transaction_type, _TYPE_CODE, n),
            "channel": _codes(channel, _CHANNEL_CODE, n),
            "memo": np.broadcast_to(np.asarray(memo, dtype=object), (n,)),
            "exact": np.full(n, exact),
            "reversed": np.zeros(n, bool) if reversed_mask is None else np.asarray(reversed_mask, bool),
        })
        return keys

    def rows(self, keys: np.ndarray) -> dict[str, np.ndarray]:
        """The raw columns of some rows (for scenarios that need background figures)."""
        cols = {k: np.concatenate([c[k] for c in self._chunks]) for k in ("key", "ts", "orig", "bene", "usd")}
        mask = np.isin(cols["key"], keys)
        return {k: v[mask] for k, v in cols.items()}

    def columns(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate([c[k] for c in self._chunks]) for k in self._chunks[0]}

    def build(self, directory: Directory) -> tuple[pd.DataFrame, np.ndarray]:
        """(transactions frame in contract column order, id of each provisional key)."""
        c = self.columns()
        order = np.lexsort((c["key"], c["ts"]))
        c = {k: v[order] for k, v in c.items()}
        n = len(order)
        ids = np.array([f"T{i:010d}" for i in range(1, n + 1)], dtype=object)
        id_of_key = np.empty(n, dtype=object)
        id_of_key[c["key"]] = ids

        internal_orig = c["orig"] < directory.n_internal
        party_currency = directory.party_currency()
        ccy = np.where(internal_orig, party_currency[c["orig"]], party_currency[c["bene"]])
        ccy = np.where(ccy < 0, fx.currency_code("USD"), ccy)
        names, countries, party_ids = directory.party_names(), directory.party_countries(), directory.party_ids()
        counterparty = np.where(internal_orig, c["bene"], c["orig"])
        foreign = fx.country_currency_codes(countries[counterparty])
        foreign_wire = ((c["type"] == _TYPE_CODE["wire"]) & ~c["exact"] & (counterparty >= directory.n_internal)
                        & (foreign >= 0) & (fx.spread(c["key"], 1) < fx.FOREIGN_WIRE_PERCENT))
        ccy = np.where(foreign_wire, foreign, ccy)
        no_base = foreign_wire & (fx.spread(c["key"], 2) < fx.NO_BASE_PERCENT)
        rate = fx.RATE_BY_CODE[ccy]
        cents = np.maximum(np.rint(c["usd"] / rate * 100).astype(np.int64), 1)
        nudge = ~c["exact"] & (cents % 100 == 0)
        cents = np.where(nudge, cents + 17, cents)
        base_cents = np.rint(cents * rate).astype(np.int64)
        base_cents = np.maximum(base_cents, 1)

        initiator = np.where(internal_orig, c["orig"], c["bene"])
        online = _ONLINE[c["channel"]]
        devices, ips = directory.party_device(), directory.party_ip()
        booked = utc(c["ts"])
        updated = utc(c["ts"] + np.where(c["reversed"], 6 * HOUR, 0))
        frame = pd.DataFrame({
            "transaction_id": ids,
            "booked_at": booked,
            "originator_account_id": party_ids[c["orig"]],
            "originator_name": names[c["orig"]],
            "originator_country": countries[c["orig"]],
            "beneficiary_account_id": party_ids[c["bene"]],
            "beneficiary_name": names[c["bene"]],
            "beneficiary_country": countries[c["bene"]],
            "amount": decimal_array(cents),
            "currency": fx.CURRENCY_CODES[ccy],
            "amount_base": decimal_array(base_cents, null=no_base),
            "transaction_type": np.array(TRANSACTION_TYPES, dtype=object)[c["type"]],
            "channel": np.array(CHANNELS, dtype=object)[c["channel"]],
            "ip_address": np.where(online, ips[initiator], None),
            "device_id": np.where(online, devices[initiator], None),
            "memo": c["memo"],
            "status": np.array(TRANSACTION_STATUSES, dtype=object)[c["reversed"].astype(np.int8)],
            "updated_at": updated,
        })
        assert list(frame.columns) == TRANSACTIONS.column_names
        return frame, id_of_key
