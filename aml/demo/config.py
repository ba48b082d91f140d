"""The demo's knobs (kept apart from the pipeline so `aml --help` stays fast)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from aml import REPO_ROOT


@dataclass(frozen=True)
class DemoConfig:
    customers: int = 6700  # about 200,000 transactions over 30 days
    days: int = 30
    live_days: int = 2
    seed: int = 7
    start_date: date = date(2026, 1, 1)
    out_dir: Path = REPO_ROOT / "out" / "demo"
    env_name: str = "local"
    database: str = "core_banking"
    deploy: bool = True  # deploy the CDK app into the emulator first (once; later runs reuse it)

    @property
    def slot_name(self) -> str:
        """One replication slot per environment (slot names allow [a-z0-9_] only)."""
        return "aml_dms_" + "".join(c if c.isalnum() else "_" for c in self.env_name.lower())
