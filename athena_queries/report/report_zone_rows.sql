-- name: report_zone_rows
-- description: Rows per curated table, for the report generator (aml_report: `aml report` and
--   the daily pipeline's Report step; not registered as a named query): the partitioned tables'
--   rows in the window (transactions by booking day, alerts by event day, one row per alert and
--   source), the customers and accounts tables whole.
-- parameters: start_date, end_date, start_date, end_date
-- serves: the report's pipeline health section (aml_report/sections.py)
-- columns: table_name, row_count
SELECT 'curated.transactions' AS table_name, COUNT(*) AS row_count FROM transactions WHERE dt BETWEEN ? AND ?
UNION ALL
SELECT 'curated.alerts', COUNT(*) FROM alerts WHERE dt BETWEEN ? AND ?
UNION ALL
SELECT 'curated.accounts', COUNT(*) FROM accounts
UNION ALL
SELECT 'curated.customers', COUNT(*) FROM customers
