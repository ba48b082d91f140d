"""`aml report`: one self-contained HTML report over a period of the curated zone (issue 27).

cli.py: the command; data.py: the report queries run on either engine (DuckDB or Athena) and the
run manifests beside the tables. The pages are drawn by the shared generator, aml_report (page,
sections, build), which the daily pipeline's Report step calls too.
"""
