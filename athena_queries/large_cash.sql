-- name: large_cash
-- description: Cash deposits or withdrawals of one customer on one day (UTC) that together exceed
--   the CTR threshold ({{large_cash.threshold}} USD), aggregated across the customer's accounts;
--   one row per account that took part, with the customer's day total.
-- parameters: start_date, end_date
-- serves: Currency Transaction Report, 31 CFR 1010.311 and the aggregation rule of 31 CFR 1010.313
-- columns: subject_account_pid, subject_customer_pid, dt, direction, account_amount, account_count,
--   customer_total, customer_count
WITH cash AS (
    SELECT CASE WHEN transaction_type = 'cash_deposit' THEN beneficiary_account_pid
                ELSE originator_account_pid END AS account_pid,
           CASE WHEN transaction_type = 'cash_deposit' THEN beneficiary_customer_pid
                ELSE originator_customer_pid END AS customer_pid,
           CASE WHEN transaction_type = 'cash_deposit' THEN 'in' ELSE 'out' END AS direction,
           amount_base, dt
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND transaction_type IN ('cash_deposit', 'cash_withdrawal')
),
per_account AS (
    SELECT customer_pid, account_pid, dt, direction, SUM(amount_base) AS account_amount, COUNT(*) AS account_count
    FROM cash
    WHERE customer_pid IS NOT NULL
    GROUP BY customer_pid, account_pid, dt, direction
),
per_customer AS (
    SELECT per_account.*,
           SUM(account_amount) OVER (PARTITION BY customer_pid, dt, direction) AS customer_total,
           SUM(account_count) OVER (PARTITION BY customer_pid, dt, direction) AS customer_count
    FROM per_account
)
SELECT account_pid AS subject_account_pid, customer_pid AS subject_customer_pid, dt, direction,
       account_amount, account_count, customer_total, customer_count
FROM per_customer
WHERE customer_total > {{large_cash.threshold}}
ORDER BY dt, customer_total DESC, subject_account_pid
