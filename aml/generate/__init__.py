"""Synthetic bank generator (`aml generate`): deterministic background banking with injected
laundering typologies, near-miss look-alikes, and ground-truth labels kept in a separate table.

Python API (stable; used by the demo, the tests and the benchmarks)::

    from datetime import date
    from aml.generate import BankConfig, generate, write_parquet, load_postgres

    bank = generate(BankConfig(customers=1000, days=90, start_date=date(2026, 1, 1), seed=7, rate=5))
    bank.customers, bank.accounts, bank.transactions   # pandas, columns = SOURCE_TABLES[t].column_names
    bank.labels       # label_id, typology, kind, subject_account_ids, transaction_ids, window_start, window_end
    bank.skipped      # typology -> reason, for typologies the bank was too short for
    write_parquet(bank, "out/bank")             # -> {"customers": Path, ..., "labels": Path}
    load_postgres(bank, "postgresql://postgres@127.0.0.1:55432/core_banking")  # -> rows per table

Same config, same bytes. Amounts are decimal(18,2) (pandas ArrowDtype), timestamps UTC,
date_of_birth a date. `start_date` defaults to 2026-01-01 and `rate` (instances of each typology
per 1,000 customers, at least one) to 5.
"""
from aml.generate.bank import Bank, generate
from aml.generate.config import BankConfig
from aml.generate.writers import load_postgres, write_parquet

__all__ = ["Bank", "BankConfig", "generate", "load_postgres", "write_parquet"]
