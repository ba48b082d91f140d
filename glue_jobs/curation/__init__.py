"""Curation of the DMS raw zone into the curated zone, as pure DataFrame transforms.

Steps (one module each): `raw_input` (new DMS files only) -> `validate` (cast per the contract,
quarantine with a reason) -> `cdc` (collapse duplicates, latest change per key, merge with the
current state) -> `pii` (drop, generalise, pseudonymise per the contract's PII classes) ->
`publish` (stage, then swap only the touched partitions) -> `run_manifest` (counts that must
reconcile). `job.run_curation` wires them. Imports only pyspark, the standard library and
`aml_contract`, so it ships to Glue as an extra-py-files zip.
"""
