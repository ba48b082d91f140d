"""Segment statistics for the query tests: written as the Glue job publishes them, and a curated
zone built twice, without them and with them, so a test compares the absolute and segment floors."""
from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

from aml_contract import reference, rules, segments
from aml_contract.reference import ReferenceData

# KE books 1..250 USD (p95 238, p99 248), US 100,001..100,250: above every absolute floor.
SIDES = [("KE", Decimal(v)) for v in range(1, 251)] + [("US", Decimal(100_000 + v)) for v in range(1, 251)]


def publish_statistics(root, sides=SIDES) -> segments.SegmentFloors:
    """Write segment_amounts under root as the Glue job publishes it in the curated bucket."""
    rows = segments.statistics_rows(sides, rules.load(), window_start=date(2025, 1, 1), window_end=date(2025, 3, 1))
    objects = reference.encode(segments.DATASET, rows, version="2025-03-01", source="test",
                               coverage_start=date(2025, 1, 1), coverage_end=date(2025, 3, 1),
                               review_by=date(2025, 3, 3))
    for key, body in objects.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(body)
    return ReferenceData.from_directory(root).segment_floors


def bare_and_published(make_zone, bank, tmp_path_factory, name: str):
    """(bare, published, floors): the bank's curated zone without statistics, and a copy with them."""
    bare = tmp_path_factory.mktemp(f"{name}_bare")
    make_zone(bank, bare)
    published = tmp_path_factory.mktemp(f"{name}_published")
    shutil.copytree(bare, published, dirs_exist_ok=True)
    return bare, published, publish_statistics(published)
