-- name: large_cash
-- description: Cash deposits or withdrawals of one customer on one day (UTC) that together exceed
--   the CTR threshold ({{large_cash.threshold}} USD), aggregated across the customer's accounts;
--   one row per account that took part, with the customer's day total. An amount rule: cash without
--   amount_base (no FX rate) adds nothing to the totals (an unknown amount counts as 0) but is
--   counted in account_count and customer_count. transaction_ids: the account's cash transactions of
--   the row (its day and direction: those account_amount sums), the first {{evidence.max_transactions}}
--   by booked_at (then id); transaction_count: how many in all (account_count).
-- parameters: start_date, end_date
-- serves: Currency Transaction Report, 31 CFR 1010.311 and the aggregation rule of 31 CFR 1010.313
-- columns: subject_account_pid, subject_customer_pid, dt, direction, account_amount, account_count,
--   customer_total, customer_count, transaction_ids, transaction_count
-- evidence: window dt; transactions transaction_ids; count transaction_count
WITH cash AS (
    SELECT CASE WHEN transaction_type = 'cash_deposit' THEN beneficiary_account_pid
                ELSE originator_account_pid END AS account_pid,
           CASE WHEN transaction_type = 'cash_deposit' THEN beneficiary_customer_pid
                ELSE originator_customer_pid END AS customer_pid,
           CASE WHEN transaction_type = 'cash_deposit' THEN 'in' ELSE 'out' END AS direction,
           transaction_id, booked_at, amount_base, dt
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND transaction_type IN ('cash_deposit', 'cash_withdrawal')
),
per_account AS (
    SELECT customer_pid, account_pid, dt, direction, COALESCE(SUM(amount_base), 0) AS account_amount,
           COUNT(*) AS account_count
    FROM cash
    WHERE customer_pid IS NOT NULL
    GROUP BY customer_pid, account_pid, dt, direction
),
per_customer AS (
    SELECT customer_pid, dt, direction, SUM(account_amount) AS customer_total, SUM(account_count) AS customer_count
    FROM per_account
    GROUP BY customer_pid, dt, direction
    HAVING SUM(account_amount) > {{large_cash.threshold}}
),
members AS (
    -- the evidence: the account's cash of the customer's day and direction over the threshold
    SELECT DISTINCT x.account_pid, x.dt, x.direction, x.transaction_id, x.booked_at
    FROM per_customer c
    JOIN cash x ON x.customer_pid = c.customer_pid AND x.dt = c.dt AND x.direction = c.direction
),
evidence AS (
    SELECT account_pid, dt, direction,
           {{evidence.list}}
    FROM members
    GROUP BY account_pid, dt, direction
)
SELECT a.account_pid AS subject_account_pid, a.customer_pid AS subject_customer_pid, a.dt, a.direction,
       a.account_amount, a.account_count, c.customer_total, c.customer_count, e.transaction_ids, e.transaction_count
FROM per_account a
JOIN per_customer c ON c.customer_pid = a.customer_pid AND c.dt = a.dt AND c.direction = a.direction
JOIN evidence e ON e.account_pid = a.account_pid AND e.dt = a.dt AND e.direction = a.direction
ORDER BY a.dt, c.customer_total DESC, subject_account_pid
