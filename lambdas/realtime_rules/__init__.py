"""The real-time rules engine: a Kinesis-triggered Lambda evaluating AML rules per transaction.

handler.py (Powertools wiring, settings from the environment) -> engine.py (one batch) ->
records.py (parse), state_store.py (DynamoDB window summaries: the store and its item format),
rules/ (pure functions over window.py's model), alerts.py (idempotent alert delivery, the stored
alert's curated row), dead_letters.py.
"""
