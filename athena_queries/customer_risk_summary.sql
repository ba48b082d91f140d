-- name: customer_risk_summary
-- description: Ranks accounts by how many scenarios (rule ids, listed sorted) raised alerts on them in the window,
--   then by total alert score, with the owning customer's risk rating and PEP flag: a work queue
--   for investigators. Reads the curated `alerts` table the rules engine writes.
-- parameters: start_date, end_date
-- serves: risk-based prioritisation of alerts (FATF Recommendation 1; FFIEC BSA-AML manual,
--   suspicious activity monitoring and SAR decisioning, 31 CFR 1020.320)
-- columns: risk_rank, subject_account_pid, subject_customer_pid, scenarios_hit, scenarios, alert_count,
--   total_score, max_score, first_event_at, last_event_at, risk_rating, is_pep
WITH hits AS (
    SELECT subject_account_pid, COUNT(DISTINCT rule_id) AS scenarios_hit,
           array_join(array_sort(array_agg(DISTINCT rule_id)), ',') AS scenarios, COUNT(*) AS alert_count,
           SUM(score) AS total_score, MAX(score) AS max_score,
           MIN(event_time) AS first_event_at, MAX(event_time) AS last_event_at
    FROM alerts
    WHERE dt BETWEEN ? AND ?
    GROUP BY subject_account_pid
)
SELECT RANK() OVER (ORDER BY h.scenarios_hit DESC, h.total_score DESC) AS risk_rank,
       h.subject_account_pid, a.customer_pid AS subject_customer_pid, h.scenarios_hit, h.scenarios,
       h.alert_count, h.total_score, h.max_score, h.first_event_at, h.last_event_at, c.risk_rating, c.is_pep
FROM hits h
LEFT JOIN accounts a ON a.account_pid = h.subject_account_pid
LEFT JOIN customers c ON c.customer_pid = a.customer_pid
ORDER BY risk_rank, h.subject_account_pid
