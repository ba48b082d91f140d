"""The analyst side of the Athena scenario library: run a named query on Athena (awswrangler)
or locally on DuckDB over the curated Parquet, from the same rendered Trino text."""
