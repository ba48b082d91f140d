"""Who a scenario's alerts fall on: the flagged accounts of each scenario counted by the kind of
their label in the generator's truth file (laundering, near miss, each benign look-alike kind,
or unlabelled). Labels are read here only, after detection ran, through the pseudonyms the
curated zone carries."""
from __future__ import annotations

from collections import Counter

import pandas as pd

from aml_contract.pseudonym import pseudonymise

LAUNDERING, NEAR_MISS, UNLABELLED = "laundering", "near_miss", "unlabelled"


def account_kinds(labels: pd.DataFrame, key: bytes) -> dict[str, str]:
    """Pseudonym -> kind of each labelled subject account: 'laundering' over 'near_miss' over the
    benign look-alike's typology (an account is a positive if any of its labels is laundering)."""
    rank = {LAUNDERING: 0, NEAR_MISS: 1}
    best: dict[str, tuple[int, str]] = {}
    for row in labels.itertuples():
        name = row.kind if row.kind in rank else row.typology
        order = (rank.get(row.kind, 2), name)
        for account in row.subject_account_ids:
            pid = pseudonymise(account, key)
            if pid not in best or order < best[pid]:
                best[pid] = order
    return {pid: name for pid, (_, name) in best.items()}


def flagged_by_kind(flagged: dict[str, set[str]], kinds: dict[str, str]) -> dict[str, dict[str, int]]:
    """Scenario -> {kind: flagged accounts}, kinds in a stable order (laundering, near_miss, the
    benign kinds by name, unlabelled); scenarios that flagged nothing are kept, empty."""
    out = {}
    for scenario, accounts in sorted(flagged.items()):
        counts = Counter(kinds.get(a, UNLABELLED) for a in accounts)
        order = sorted(counts, key=lambda k: ({LAUNDERING: 0, NEAR_MISS: 1, UNLABELLED: 3}.get(k, 2), k))
        out[scenario] = {k: counts[k] for k in order}
    return out
