-- name: report_alerts_per_day
-- description: Alerts per day, rule and sources over the window, for the report generator
--   (aml_report: `aml report` and the daily pipeline's Report step; not registered as a named
--   query): one alert counts once, with the sorted sources that found it (one row per alert and
--   source in the curated `alerts` table; a row without a source is the rules Lambda's).
-- parameters: start_date, end_date
-- serves: the report's alerts section (aml_report/sections.py)
-- columns: dt, rule_id, sources, alerts
WITH raised AS (
    SELECT alert_id, rule_id, MIN(dt) AS dt,
           array_join(array_sort(array_agg(DISTINCT COALESCE(source, 'realtime'))), ',') AS sources
    FROM alerts
    WHERE dt BETWEEN ? AND ?
    GROUP BY alert_id, rule_id
)
SELECT dt, rule_id, sources, COUNT(*) AS alerts
FROM raised
GROUP BY dt, rule_id, sources
ORDER BY dt, rule_id, sources
