"""The local DMS stand-in: full load plus logical-decoding CDC from PostgreSQL into the raw zone
(the DMS S3 target layout) and the transactions stream (the DMS Kinesis envelope).

    from aml.replicate import Replicator
    rep = Replicator(db_url, resources, slot_name="aml_dms_local")
    rep.full_load()              # {"customers": 1000, ...}; creates the slot first
    rep.cdc(until_idle=True)     # {"transactions": {"I": 10, "U": 2, "D": 1}, ...}
    rep.drop_slot()
"""
from aml.replicate.replicator import DEFAULT_SLOT, Replicator

__all__ = ["DEFAULT_SLOT", "Replicator"]
