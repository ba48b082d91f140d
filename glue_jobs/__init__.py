"""Glue PySpark jobs. Each entry script is thin; its transforms live in an importable package
(`glue_jobs.curation`) shipped to Glue as an extra-py-files zip together with `aml_contract`."""
