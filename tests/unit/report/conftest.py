"""The hand-made curated zone (report_zone.py), written once per session."""
from __future__ import annotations

import pytest
import report_zone


@pytest.fixture(scope="session")
def zone_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("report_zone") / "curated"
    report_zone.write_zone(root)
    return root
