"""The daily pipeline's Lambda handlers (aml_contract.daily_pipeline)."""
