"""The real-time rules engine: a Kinesis-triggered Lambda evaluating AML rules per transaction.

handler.py (Powertools wiring) -> engine.py (one batch) -> records.py (parse), state.py (DynamoDB
window summaries), rules/ (pure functions), alerts.py (idempotent alert delivery), dead_letters.py.
"""
