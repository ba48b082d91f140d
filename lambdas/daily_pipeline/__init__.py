"""The daily pipeline's Lambda steps (aml_contract.daily_pipeline): plan, batch alerts, report."""
