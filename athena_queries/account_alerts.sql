-- name: account_alerts
-- description: Why an account was flagged: every alert on one account (its pseudonym) raised in the
--   window, one row per alert with the sources that found it (real time, batch, or both: one alert
--   by the identity rule, docs/daily-pipeline.md), the rule's description in its details, its window,
--   the number of transactions it names, and the rule's weight in the risk score (the account's
--   score is the sum of the weights of its distinct rules, customer_risk_summary). alert_evidence
--   lists one alert's transactions.
-- parameters: start_date, end_date, account_pid
-- serves: alert investigation and case review (FFIEC BSA/AML examination manual, suspicious activity
--   monitoring: alert disposition); risk-based prioritisation (FATF Recommendation 1)
-- columns: subject_account_pid, alert_id, rule_id, sources, severity, score, weight, window_start, window_end, first_event_at,
--   last_event_at, named_transactions, details
WITH raised AS (
    SELECT *
    FROM alerts
    WHERE dt BETWEEN ? AND ?
      AND subject_account_pid = ?
)
SELECT a.subject_account_pid, a.alert_id, a.rule_id,
       array_join(array_sort(array_agg(DISTINCT COALESCE(a.source, 'realtime'))), ',') AS sources,
       MAX(a.severity) AS severity, MAX(a.score) AS score, COALESCE(MAX(w.weight), 0) AS weight,
       MIN(a.window_start) AS window_start, MAX(a.window_end) AS window_end,
       MIN(a.event_time) AS first_event_at, MAX(a.event_time) AS last_event_at,
       MAX(cardinality(a.transaction_ids)) AS named_transactions, MIN(a.details) AS details
FROM raised a
LEFT JOIN (VALUES {{risk_score.weights}}) AS w (rule_id, weight) ON w.rule_id = a.rule_id
GROUP BY a.subject_account_pid, a.alert_id, a.rule_id
ORDER BY weight DESC, window_start, alert_id
