"""The report generator (issue 27): the one renderer behind `aml report`, `make demo`'s report.html
and the daily pipeline's Report step (reports/run_date=<date>/report.html).

page.py: the section interface (Section, Table) and the page, plotly charts with plotly.js inlined;
sections.py: the sections every report shows, built from rows (dicts, as either engine returns
them: typed from DuckDB, text from Athena's result CSV); build.py: what a report is made of
(ZoneData) and the standard sections over it; documents.py: the JSON the pipeline leaves in the
curated zone (curation run manifests, daily run reports), on disk or in S3 through a client the
caller passes; queries.py: the report's queries (athena_queries/report/ and customer_risk_summary).

It imports the contract and plotly only: no pandas, no query engine, no AWS SDK, so it ships in
the daily pipeline functions' bundle (stacks/assets.py). The engines are `aml report`'s
(aml/report/data.py); in the pipeline the state machine's Athena Map runs the queries.
"""
