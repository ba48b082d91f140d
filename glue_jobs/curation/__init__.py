"""Curation of the DMS raw zone into the curated zone, as pure DataFrame transforms.

`job.run_curation` wires the steps, in this order, one module each: `raw_input` (new DMS files
only, footers checked) -> `validate` (cast per the contract, a quarantine reason per bad row) ->
`cdc.collapse_duplicates` (exact DMS copies become one change, latest change per key marked) ->
`enrich` (PII protected per the contract's classes through `pii`, `dt`, customer pseudonyms) ->
`cdc.merge` (each change decided against the state index, looked up through `state.Index`) ->
`stage` (quarantine, touched partitions' rows and index entries, written to staging) ->
`run_manifest` (counts that must reconcile) -> `publish` (swap in only the touched partitions) ->
`segment_statistics` (the amount percentiles of the curated transactions, published under
`statistics/`).
`columns` names the job's internal columns; `storage` is every file access; `runtime` the step
timing and kept frames. Imports only pyspark, the standard library and `aml_contract`, so it
ships to Glue as an extra-py-files zip.
"""
