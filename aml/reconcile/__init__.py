"""Key reconciliation between the source and the curated zone on local disk (`aml reconcile`): the
check that catches what DMS loses without a trace (an ignored primary-key UPDATE leaves the old key
live with stale values, and the new key never arrives). The logic is the daily pipeline step's
(aml_contract.key_reconciliation).

    from aml.reconcile import reconcile
    report = reconcile(db_url, curated_dir, quarantine_dir, pseudonym_key)
    report.clean  # True when every live source key is curated or quarantined, and no curated key is gone
"""
from aml.reconcile.keys import reconcile

__all__ = ["reconcile"]
