"""Ground truth, kept apart from the transactions (never a column of theirs).

One row per injected instance: `typology` is a rule id of rule_parameters.json, `kind` is
'laundering' (the rule must flag it) or 'near_miss' (a look-alike the rule must NOT flag); or
`kind` is 'benign' and `typology` a kind of legitimate look-alike of the background
(`aml.generate.lookalikes.rates.RATES`, e.g. 'merchant_many_payers'): honest activity any rule
may flag, never laundering; its subject is the account that does it. Only 'laundering' rows are
positives for scoring; the others name what a false positive was.
Subjects are always our own accounts, the ones the scenario's query names as its subject: the
receiving account for structuring, smurfing, fan-in and layered fan-in (the collecting account);
the sending account for fan-out, layered fan-out (the paying account), non-cash structuring and
round amounts; the pass-through account for rapid movement; the hub of a gather-scatter; the
source and the sink of a scatter-gather; every originator and beneficiary of a bipartite flow that
is ours; every account of a cycle; our customer's account otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from aml.generate.ledger import utc

KINDS = ("laundering", "near_miss", "benign")
# The recall every scenario must reach on the generator's bank (its injected laundering instances
# are built to satisfy their rule with a margin; the look-alikes only lower precision, which is
# reported, never asserted). Tests on the generator and the demo's checks use this one figure.
MIN_RECALL = 0.9
LABEL_COLUMNS = ("label_id", "typology", "kind", "subject_account_ids", "transaction_ids",
                 "window_start", "window_end")
ARROW_SCHEMA = pa.schema([
    ("label_id", pa.string()), ("typology", pa.string()), ("kind", pa.string()),
    ("subject_account_ids", pa.list_(pa.string())), ("transaction_ids", pa.list_(pa.string())),
    ("window_start", pa.timestamp("us", tz="UTC")), ("window_end", pa.timestamp("us", tz="UTC")),
])


@dataclass
class LabelBook:
    rows: list[tuple] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # typology -> why it was not injected

    def add(self, typology: str, kind: str, subjects, keys, window_start: int, window_end: int) -> None:
        assert kind in KINDS
        self.rows.append((typology, kind, np.atleast_1d(subjects).astype(np.int64),
                          np.atleast_1d(keys).astype(np.int64), int(window_start), int(window_end)))

    def build(self, account_ids: np.ndarray, id_of_key: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({
            "label_id": [f"L{i:06d}" for i in range(1, len(self.rows) + 1)],
            "typology": [r[0] for r in self.rows],
            "kind": [r[1] for r in self.rows],
            "subject_account_ids": [account_ids[r[2]].tolist() for r in self.rows],
            "transaction_ids": [sorted(id_of_key[r[3]].tolist()) for r in self.rows],
            "window_start": utc(np.array([r[4] for r in self.rows], dtype=np.int64)),
            "window_end": utc(np.array([r[5] for r in self.rows], dtype=np.int64)),
        }, columns=list(LABEL_COLUMNS))
