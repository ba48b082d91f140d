"""Dated reference data: one layout in S3, read the same way by the Glue job, the rules Lambda and
the named queries (Athena and local DuckDB).

Layout, in the curated bucket beside the curated tables (reference data holds no personal data)::

    reference/<dataset>/<dataset>.jsonl.gz   the rows: JSON Lines, gzip (Athena, Spark, DuckDB read it as is)
    reference/<dataset>/_manifest.json       version, source, coverage, review date, row count, SHA-256

Athena and Hive skip objects whose names start with ``_`` or ``.``, so a table located at
``reference/<dataset>/`` reads the rows and never the manifest.

Datasets (``aml reference build`` writes them; ``aml.reference`` holds the builder):

- ``currencies``: every ISO 4217 code (pycountry's copy of the standard) and the crypto-asset codes
  payment files use. Rows ``{code, name, kind: fiat|crypto, numeric}``.
- ``fx_rates``: USD per unit of each currency, one row per currency and calendar day. Rows
  ``{rate_date, currency, usd_per_unit, published_date}``. The builder carries each published
  rate forward over at most ``FX_CARRY_DAYS`` calendar days (weekends and TARGET holidays), so a
  consumer joins on equality and never decides "the latest rate before" itself.
- ``fatf_lists``: every FATF publication, one row per list and country. Rows ``{list_name,
  country, effective_from, valid_from, valid_to, source}``; a transaction dated ``d`` falls under
  the publication with ``valid_from <= d < valid_to`` (``d`` is the UTC date of ``booked_at``).
  ``valid_from`` equals ``effective_from`` except for the oldest publication, which also covers
  every earlier date (``EARLIEST_DATE``): before our oldest snapshot both paths apply the oldest
  list we hold and say so (``back_extended``), rather than apply none.

Standard library only: this ships in the Glue job and the Lambda.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from functools import cached_property

from aml_contract.schema import BASE_CURRENCY, DECIMAL_PRECISION, DECIMAL_SCALE

PREFIX = "reference"
DATASETS = ("currencies", "fx_rates", "fatf_lists")  # built from public sources, published by deployment
# Derived from the curated zone by the Glue job, in the same layout under their own prefix (a
# deployment's BucketDeployment prunes `reference/`, and must never delete them): name -> prefix.
DERIVED_DATASETS = {"segment_amounts": "statistics"}
FATF_LIST_NAMES = ("call_for_action", "grey_list")
CURRENCY_KINDS = ("fiat", "crypto")
EARLIEST_DATE = date(1, 1, 1)  # the oldest FATF publication's valid_from
LATEST_DATE = date(9999, 12, 31)  # valid_to of the publication in force
FX_CARRY_DAYS = 5  # a published rate also serves the next 5 calendar days (Easter: Thursday -> Tuesday)
CENTS = Decimal("0.01")
# What decimal(18,2) (the curated amount_base) holds: a larger product has no USD amount, as
# Spark's try_cast gives null, never an error.
AMOUNT_LIMIT = Decimal(10) ** (DECIMAL_PRECISION - DECIMAL_SCALE)

# Column name -> logical type (aml_contract.schema types) of each dataset's rows: the Athena
# tables, the DuckDB views and the Spark readers take their schema from here.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "currencies": (("code", "string"), ("name", "string"), ("kind", "string"), ("numeric", "string")),
    "fx_rates": (("rate_date", "date"), ("currency", "string"), ("usd_per_unit", "decimal_rate"),
                 ("published_date", "date")),
    "fatf_lists": (("list_name", "string"), ("country", "string"), ("effective_from", "date"),
                   ("valid_from", "date"), ("valid_to", "date"), ("source", "string")),
    # aml_contract.segments: one row per segment and percentile; amount_base decimal(18,2)
    "segment_amounts": (("segment", "string"), ("percentile", "int"), ("amount_base", "decimal"),
                        ("amounts", "int"), ("basis", "string"), ("window_start", "date"),
                        ("window_end", "date")),
}
# decimal(16,12): USD per unit below 10,000 (IDR is about 0.000055). amount decimal(18,2) times a
# rate then fits decimal(35,14), so Spark multiplies exactly, as Python's Decimal does.
RATE_PRECISION, RATE_SCALE = 16, 12

Fetch = Callable[[str], bytes]  # S3 key -> object bytes (an S3 GetObject, or a local file read)


class ReferenceDataError(ValueError):
    """Reference data that is missing, does not match its manifest, or breaks the layout."""


def data_key(dataset: str) -> str:
    return f"{table_prefix(dataset)}{dataset}.jsonl.gz"


def manifest_key(dataset: str) -> str:
    return f"{table_prefix(dataset)}_manifest.json"


def table_prefix(dataset: str) -> str:
    """The folder an Athena table or a DuckDB view of the dataset reads."""
    if dataset in DATASETS:
        return f"{PREFIX}/{dataset}/"
    if dataset in DERIVED_DATASETS:
        return f"{DERIVED_DATASETS[dataset]}/{dataset}/"
    raise ReferenceDataError(f"unknown reference dataset {dataset!r} "
                             f"({', '.join((*DATASETS, *DERIVED_DATASETS))})")


def _known(dataset: str) -> str:
    table_prefix(dataset)
    return dataset


@dataclass(frozen=True)
class Manifest:
    dataset: str
    version: str  # the source's own version or date, so a rebuild of the same source is byte-identical
    source: str  # where the rows come from, citable
    coverage_start: str  # YYYY-MM-DD: the first date the rows describe
    coverage_end: str  # YYYY-MM-DD: the last date the rows describe
    review_by: str  # YYYY-MM-DD: a newer version is due by then; later, the data is stale
    rows: int
    sha256: str  # of the gzip object
    columns: list[list[str]] = field(default_factory=list)

    def stale(self, today: date) -> bool:
        return today > date.fromisoformat(self.review_by)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            return cls(**json.loads(raw))
        except (TypeError, ValueError) as err:
            raise ReferenceDataError(f"malformed reference manifest: {err}") from None


def versions(manifests: dict[str, Manifest]) -> dict[str, str]:
    """dataset -> version: what a run used, for its manifest or summary."""
    return {name: m.version for name, m in sorted(manifests.items())}


def encode(dataset: str, rows: Iterable[dict], *, version: str, source: str, coverage_start: date,
           coverage_end: date, review_by: date) -> dict[str, bytes]:
    """The objects (key -> bytes) of one dataset version. Deterministic: the same rows give the
    same bytes (gzip without a timestamp), so a deployment only changes when the data does."""
    names = [c for c, _ in COLUMNS[_known(dataset)]]
    lines = []
    for row in rows:
        if sorted(row) != sorted(names):
            raise ReferenceDataError(f"{dataset}: a row has columns {sorted(row)}, expected {sorted(names)}")
        lines.append(json.dumps({c: row[c] for c in names}, separators=(",", ":")))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as out:
        out.write(("\n".join(lines) + "\n").encode())
    body = buffer.getvalue()
    manifest = Manifest(dataset, version, source, coverage_start.isoformat(), coverage_end.isoformat(),
                        review_by.isoformat(), len(lines), hashlib.sha256(body).hexdigest(),
                        [list(c) for c in COLUMNS[dataset]])
    return {data_key(dataset): body, manifest_key(dataset): manifest.to_json()}


def read_dataset(fetch: Fetch, dataset: str) -> tuple[Manifest, list[dict]]:
    """A dataset's manifest and rows, checked against each other (SHA-256 and row count)."""
    try:
        manifest = Manifest.from_json(fetch(manifest_key(dataset)))
        body = fetch(data_key(dataset))
    except (FileNotFoundError, KeyError) as err:
        raise ReferenceDataError(f"reference dataset {dataset!r} is not published: {err}") from None
    names = [c for c, _ in COLUMNS[dataset]]
    if manifest.dataset != dataset or [tuple(c) for c in manifest.columns] != list(COLUMNS[dataset]):
        raise ReferenceDataError(f"{manifest_key(dataset)} describes {manifest.dataset!r} with columns "
                                 f"{manifest.columns}, not {dataset!r} with {list(COLUMNS[dataset])}")
    if hashlib.sha256(body).hexdigest() != manifest.sha256:
        raise ReferenceDataError(f"{data_key(dataset)} does not match its manifest (SHA-256)")
    try:
        rows = [json.loads(line) for line in gzip.decompress(body).decode().splitlines() if line]
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ReferenceDataError(f"{data_key(dataset)} is not gzip JSON Lines: {err}") from None
    if len(rows) != manifest.rows:
        raise ReferenceDataError(f"{data_key(dataset)} holds {len(rows)} rows, its manifest says {manifest.rows}")
    if any(not isinstance(r, dict) or sorted(r) != sorted(names) for r in rows):
        raise ReferenceDataError(f"{data_key(dataset)}: a row lacks or adds columns (expected {names})")
    return manifest, rows


@dataclass(frozen=True)
class FatfLists:
    """The FATF lists of one publication, as they apply to one date."""

    effective: date  # the plenary's publication date
    source: str
    call_for_action: frozenset[str]
    grey_list: frozenset[str]
    back_extended: bool = False  # the date lies before our oldest publication (see module docstring)

    def list_of(self, country: str | None) -> str | None:
        """'call_for_action', 'grey_list' or None."""
        if country in self.call_for_action:
            return "call_for_action"
        return "grey_list" if country in self.grey_list else None


@dataclass(frozen=True)
class _Publication:
    effective: date
    valid_from: date
    valid_to: date
    source: str
    lists: dict[str, frozenset[str]]


def fatf_publications(rows: Iterable[dict]) -> tuple[_Publication, ...]:
    """The rows of the fatf_lists dataset grouped by publication, oldest first."""
    grouped: dict[str, dict] = {}
    for r in rows:
        if r["list_name"] not in FATF_LIST_NAMES:
            raise ReferenceDataError(f"unknown FATF list {r['list_name']!r}")
        p = grouped.setdefault(r["effective_from"], {"valid": (r["valid_from"], r["valid_to"]),
                                                     "source": r["source"], "lists": {n: set() for n in FATF_LIST_NAMES}})
        p["lists"][r["list_name"]].add(r["country"])
    if not grouped:
        raise ReferenceDataError("the fatf_lists dataset holds no publication")
    return tuple(
        _Publication(date.fromisoformat(k), date.fromisoformat(p["valid"][0]), date.fromisoformat(p["valid"][1]),
                     p["source"], {n: frozenset(v) for n, v in p["lists"].items()})
        for k, p in sorted(grouped.items()))


class ReferenceData:
    """The reference datasets as both real-time and batch paths apply them.

    ``fetch`` reads an object by key (``ReferenceData.from_s3`` / ``from_directory``). The FX
    table is read on first use only: most rows carry the source's own ``amount_base``.
    """

    def __init__(self, fetch: Fetch, exists: Callable[[str], bool] | None = None):
        self._fetch = fetch
        self._exists = exists  # for a dataset that may not be published yet (segment statistics)
        self.manifests: dict[str, Manifest] = {}
        self.currencies: frozenset[str] = frozenset(r["code"] for r in self._read("currencies"))
        self._fatf = fatf_publications(self._read("fatf_lists"))
        try:  # the FX rows wait for first use; their manifest (freshness) is known now
            self.manifests["fx_rates"] = Manifest.from_json(fetch(manifest_key("fx_rates")))
        except (FileNotFoundError, KeyError) as err:
            raise ReferenceDataError(f"reference dataset 'fx_rates' is not published: {err}") from None

    @classmethod
    def from_directory(cls, root) -> ReferenceData:
        from pathlib import Path

        base = Path(root)
        return cls(lambda key: (base / key).read_bytes(), lambda key: (base / key).is_file())

    @classmethod
    def from_s3(cls, s3_client, bucket: str) -> ReferenceData:
        """Reads with GetObject; whether an optional dataset is published yet is asked with
        ListObjectsV2 on its manifest's exact key. Without s3:ListBucket, S3 answers GetObject on a
        missing key with 403 AccessDenied, not 404 NoSuchKey
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html), and an access error
        must never read as "not published"; so the reader holds ListBucket only for the
        `s3:prefix` of those keys."""
        def fetch(key: str) -> bytes:
            try:
                return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
            except s3_client.exceptions.NoSuchKey:
                raise KeyError(f"s3://{bucket}/{key}") from None

        def exists(key: str) -> bool:
            listed = s3_client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
            return any(o["Key"] == key for o in listed.get("Contents", []))
        return cls(fetch, exists)

    def _read(self, dataset: str) -> list[dict]:
        manifest, rows = read_dataset(self._fetch, dataset)
        self.manifests[dataset] = manifest
        return rows

    @cached_property
    def _usd_per_unit(self) -> dict[tuple[str, str], Decimal]:
        try:
            rates = {(r["currency"], r["rate_date"]): Decimal(str(r["usd_per_unit"])) for r in self._read("fx_rates")}
        except InvalidOperation:
            rates = {}
        if not rates or any(not (rate.is_finite() and 0 < rate < AMOUNT_LIMIT) for rate in rates.values()):
            raise ReferenceDataError(f"{data_key('fx_rates')}: a rate is not a positive decimal, or there is none")
        return rates

    def usd_per_unit(self, currency: str, day: date) -> Decimal | None:
        """USD per unit of `currency` on `day` (1 for USD), or None when no rate covers the day."""
        if currency == BASE_CURRENCY:
            return Decimal(1)
        return self._usd_per_unit.get((currency, day.isoformat()))

    def amount_base(self, amount: Decimal, currency: str, day: date,
                    source_amount_base: Decimal | None) -> Decimal | None:
        """The amount in USD that every rule uses. The source's own ``amount_base`` (the
        equivalent the bank booked) wins; without it, ``amount`` times the reference rate of the
        booking day, rounded half up to cents; None when neither exists (the row still counts)."""
        if source_amount_base is not None:
            return source_amount_base
        rate = self.usd_per_unit(currency, day)
        if rate is None:
            return None
        with localcontext() as exact:  # decimal(18,2) x decimal(16,12) needs 35 digits, not the default 28
            exact.prec = 2 * DECIMAL_PRECISION + RATE_PRECISION
            value = (amount * rate).quantize(CENTS, rounding=ROUND_HALF_UP)
        return value if abs(value) < AMOUNT_LIMIT else None

    def fatf_lists(self, day: date) -> FatfLists:
        """The FATF lists in force on `day` (the UTC date of booked_at)."""
        for p in self._fatf:
            if p.valid_from <= day < p.valid_to:
                return FatfLists(p.effective, p.source, p.lists["call_for_action"], p.lists["grey_list"],
                                 back_extended=day < p.effective)
        raise ReferenceDataError(f"no FATF publication covers {day}: the fatf_lists dataset has a gap")

    def latest_fatf_lists(self) -> FatfLists:
        """The publication in force today and until replaced."""
        return self.fatf_lists(self._fatf[-1].effective)

    @property
    def fatf_ever_listed(self) -> frozenset[str]:
        """Every country on any list of any publication we hold."""
        return frozenset().union(*(c for p in self._fatf for c in p.lists.values()))

    @cached_property
    def segment_floors(self):
        """The segment statistics (aml_contract.segments.SegmentFloors), read on first use; empty
        until the Glue job has published them."""
        from aml_contract.segments import SegmentFloors  # segments builds on this module

        floors = SegmentFloors.read(self._fetch, self._exists)
        if floors.manifest is not None:
            self.manifests[floors.manifest.dataset] = floors.manifest
        return floors

    def stale(self, today: date) -> list[str]:
        """The datasets whose review date has passed (oldest problem first)."""
        return [f"{m.dataset} (version {m.version}, review by {m.review_by})"
                for m in sorted(self.manifests.values(), key=lambda m: m.review_by) if m.stale(today)]
