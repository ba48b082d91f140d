-- name: alert_evidence
-- description: Why an alert was raised: the alert once per source that found it (real time, batch),
--   with its rule, window and details (a batch alert's details hold its query, parameters, run and
--   the query's row), and the transactions behind it. evidence 'named': a transaction the alert
--   names (transaction_ids: every scenario names those behind its hit, a batch alert at most
--   {{evidence.max_transactions}}, the first by time); transaction_count: how many are behind the alert
--   (a batch alert's details.transaction_count, else the ids named). evidence 'window': when the alert
--   names fewer than that (its list was capped, or it names none: a batch alert raised before scenarios
--   named their transactions), every other booked transaction of the subject account inside the alert's
--   window, a superset of the rest. start_date and end_date bound the days searched (the alert's window;
--   partition pruning).
-- parameters: start_date, end_date, alert_id, start_date, end_date
-- serves: alert investigation and the SAR narrative (FinCEN SAR electronic filing instructions: who,
--   what, when, where and why); FFIEC BSA/AML examination manual, suspicious activity monitoring
-- columns: alert_id, rule_id, source, severity, score, subject_account_pid, window_start, window_end,
--   transaction_count, details, evidence, transaction_id, booked_at, direction, transaction_type, channel, amount_base,
--   counterparty_account_pid, counterparty_country, status
WITH alert AS (
    SELECT alert_id, rule_id, COALESCE(source, 'realtime') AS source, severity, score, subject_account_pid,
           transaction_ids, window_start, window_end, details,
           COALESCE(CAST(json_extract_scalar(details, '$.transaction_count') AS BIGINT), cardinality(transaction_ids))
               AS transaction_count
    FROM alerts
    WHERE dt BETWEEN ? AND ?
      AND alert_id = ?
),
named AS (
    SELECT a.alert_id, a.source, e.transaction_id
    FROM alert a
    CROSS JOIN UNNEST(a.transaction_ids) AS e (transaction_id)
),
days AS (
    SELECT transaction_id, booked_at, transaction_type, channel, amount_base, status,
           originator_account_pid, beneficiary_account_pid, originator_country, beneficiary_country
    FROM transactions
    WHERE dt BETWEEN ? AND ?
),
evidence AS (
    SELECT n.alert_id, n.source, 'named' AS evidence, d.*
    FROM named n
    JOIN days d ON d.transaction_id = n.transaction_id
    UNION ALL
    SELECT a.alert_id, a.source, 'window' AS evidence, d.*
    FROM alert a
    JOIN days d
      ON a.subject_account_pid IN (d.originator_account_pid, d.beneficiary_account_pid)
     AND d.booked_at >= a.window_start AND d.booked_at < a.window_end
     AND d.status = 'booked'
     AND NOT contains(a.transaction_ids, d.transaction_id)
    WHERE cardinality(a.transaction_ids) = 0 OR cardinality(a.transaction_ids) < a.transaction_count
)
SELECT a.alert_id, a.rule_id, a.source, a.severity, a.score, a.subject_account_pid, a.window_start, a.window_end,
       a.transaction_count, a.details, e.evidence, e.transaction_id, e.booked_at,
       CASE WHEN e.originator_account_pid = a.subject_account_pid THEN 'out' ELSE 'in' END AS direction,
       e.transaction_type, e.channel, e.amount_base,
       CASE WHEN e.originator_account_pid = a.subject_account_pid THEN e.beneficiary_account_pid
            ELSE e.originator_account_pid END AS counterparty_account_pid,
       CASE WHEN e.originator_account_pid = a.subject_account_pid THEN e.beneficiary_country
            ELSE e.originator_country END AS counterparty_country,
       e.status
FROM alert a
LEFT JOIN evidence e ON e.alert_id = a.alert_id AND e.source = a.source
ORDER BY a.source, e.evidence, e.booked_at, e.transaction_id
