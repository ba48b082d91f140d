"""Alerts by the path that found them: the curated `alerts` table holds one row per alert and
source (aml_contract.schema), so an alert both paths found (one alert by
aml_contract.alert_identity) is `merged`."""
from __future__ import annotations

import json

import pandas as pd

from aml_contract import names

REALTIME, BATCH = names.ALERT_SOURCES


def by_source(alerts: pd.DataFrame) -> dict:
    """{"totals": {alerts, realtime, batch, merged, realtime_only, batch_only}, "per_rule": {rule:
    the same counts}}; alerts = realtime_only + batch_only + merged. A row without a source (landed
    before sources were recorded) is the rules Lambda's."""
    frame = alerts[["alert_id", "rule_id"]].assign(source=alerts.get("source", pd.Series(dtype=str)).fillna(REALTIME))
    frame = frame.drop_duplicates()
    sources = frame.groupby(["alert_id", "rule_id"], observed=True)["source"].agg(frozenset).reset_index()

    def counts(part: pd.DataFrame) -> dict[str, int]:
        kinds = part["source"]
        merged = int(kinds.map(lambda s: s == {REALTIME, BATCH}).sum())
        realtime = int(kinds.map(lambda s: REALTIME in s).sum())
        batch = int(kinds.map(lambda s: BATCH in s).sum())
        return {"alerts": len(part), "realtime": realtime, "batch": batch, "merged": merged,
                "realtime_only": realtime - merged, "batch_only": batch - merged}

    return {"totals": counts(sources),
            "per_rule": {rule: counts(part) for rule, part in sorted(sources.groupby("rule_id", observed=True))}}


def made_possible_by_profiles(alerts: pd.DataFrame) -> dict[str, int]:
    """Real-time alerts per rule that an account profile decided (aml_contract.profiles): the
    rules name the profile they read in the alert's details (`profile_as_of`) only when it did."""
    if alerts.empty or "details" not in alerts:
        return {}
    realtime = alerts[alerts.get("source", pd.Series(REALTIME, index=alerts.index)).fillna(REALTIME) == REALTIME]
    used = realtime[realtime["details"].map(lambda d: bool(d) and "profile_as_of" in json.loads(d))]
    return {str(rule): int(n) for rule, n in used.drop_duplicates("alert_id")["rule_id"].value_counts().sort_index().items()}
