-- name: customer_risk_summary
-- description: Ranks accounts by their risk score over the window (aml_contract.risk): the sum of the
--   weights (score x severity multiplier) of the distinct scenarios (rule ids, listed sorted) that
--   raised alerts on them, a rule id without a weight adding 0; then by alert count, then by account.
--   risk_rank is RANK over (risk_score, alert_count), both descending: accounts tied on both share a
--   rank and are listed by account. in_queue: the first FLOOR({{risk_score.alert_budget}} x active
--   accounts) rows in that order (ties at the cut broken by account, never by chance), active
--   accounts being the bank's own (a customer behind them) with a booked transaction in the window.
--   With the owning customer's risk rating and PEP flag: a work queue for investigators. Reads the
--   curated `alerts` table, where the rules engine and the daily pipeline's batch alerts land
--   (one row per alert and source; an alert counts once).
-- parameters: start_date, end_date, start_date, end_date
-- serves: risk-based prioritisation of alerts (FATF Recommendation 1; FFIEC BSA-AML manual,
--   suspicious activity monitoring and SAR decisioning, 31 CFR 1020.320)
-- columns: risk_rank, subject_account_pid, subject_customer_pid, risk_score, in_queue, scenarios_hit,
--   scenarios, alert_count, total_score, max_score, first_event_at, last_event_at, risk_rating, is_pep
WITH raised AS (
    -- one row per alert: an alert both paths found has a row per source under one alert_id
    SELECT alert_id, subject_account_pid, rule_id, MAX(score) AS score, MIN(event_time) AS event_time
    FROM alerts
    WHERE dt BETWEEN ? AND ?
    GROUP BY alert_id, subject_account_pid, rule_id
),
hits AS (
    SELECT subject_account_pid, COUNT(DISTINCT rule_id) AS scenarios_hit,
           array_join(array_sort(array_agg(DISTINCT rule_id)), ',') AS scenarios, COUNT(*) AS alert_count,
           SUM(score) AS total_score, MAX(score) AS max_score,
           MIN(event_time) AS first_event_at, MAX(event_time) AS last_event_at
    FROM raised
    GROUP BY subject_account_pid
),
scored AS (
    -- each distinct scenario counts once, however many alerts it raised
    SELECT r.subject_account_pid, COALESCE(SUM(w.weight), 0) AS risk_score
    FROM (SELECT DISTINCT subject_account_pid, rule_id FROM raised) r
    LEFT JOIN (VALUES {{risk_score.weights}}) AS w(rule_id, weight) ON w.rule_id = r.rule_id
    GROUP BY r.subject_account_pid
),
booked AS (
    SELECT originator_account_pid, originator_customer_pid, beneficiary_account_pid, beneficiary_customer_pid
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
),
active AS (
    SELECT COUNT(DISTINCT account_pid) AS accounts
    FROM (SELECT originator_account_pid AS account_pid FROM booked WHERE originator_customer_pid IS NOT NULL
          UNION ALL
          SELECT beneficiary_account_pid FROM booked WHERE beneficiary_customer_pid IS NOT NULL) AS sides
),
ranked AS (
    SELECT h.*, s.risk_score,
           RANK() OVER (ORDER BY s.risk_score DESC, h.alert_count DESC) AS risk_rank,
           ROW_NUMBER() OVER (ORDER BY s.risk_score DESC, h.alert_count DESC, h.subject_account_pid) AS queue_position
    FROM hits h
    JOIN scored s ON s.subject_account_pid = h.subject_account_pid
)
SELECT r.risk_rank, r.subject_account_pid, a.customer_pid AS subject_customer_pid, r.risk_score,
       -- the budget times a count, exact in DECIMAL on both engines (0.01 is 1/100, as risk.queue_size reads it)
       r.queue_position <= FLOOR({{risk_score.alert_budget}} * n.accounts) AS in_queue,
       r.scenarios_hit, r.scenarios, r.alert_count, r.total_score, r.max_score, r.first_event_at, r.last_event_at,
       c.risk_rating, c.is_pep
FROM ranked r
CROSS JOIN active n
LEFT JOIN accounts a ON a.account_pid = r.subject_account_pid
LEFT JOIN customers c ON c.customer_pid = a.customer_pid
ORDER BY r.queue_position
