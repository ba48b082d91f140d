-- name: dormant_reactivation
-- description: Accounts silent for at least {{dormant_reactivation.dormant_days}} days before start_date
--   that come back to life in the window with, within {{dormant_reactivation.window_days}} days of the
--   first new transaction, a total of at least {{dormant_reactivation.min_amount}} USD or at least
--   {{dormant_reactivation.min_count}} transactions. Dormancy is proven from the data: the query also
--   reads the dormant_days before start_date, requires that those days hold data, and that the
--   account was opened before they began; no status flag is trusted.
-- parameters: start_date, end_date, start_date, start_date
-- serves: FFIEC / FATF red flag "sudden activity in a previously dormant account" (account takeover,
--   mule recruitment, sleeper accounts)
-- columns: subject_account_pid, subject_customer_pid, opened_at, reactivated_at, reactivation_count,
--   reactivation_amount, max_amount
WITH scan AS (
    SELECT transaction_id, booked_at, amount_base, originator_account_pid, originator_customer_pid,
           beneficiary_account_pid, beneficiary_customer_pid, dt
    FROM transactions
    WHERE dt BETWEEN CAST(CAST(date_add('day', -{{dormant_reactivation.dormant_days}}, CAST(? AS DATE)) AS DATE)
                          AS VARCHAR)
                 AND ?
      AND status = 'booked'
),
bounds AS (
    SELECT CAST(? AS DATE) AS start_day, MIN(CAST(dt AS DATE)) AS data_from
    FROM scan
),
sides AS (
    SELECT originator_account_pid AS account_pid, originator_customer_pid AS customer_pid, booked_at,
           amount_base, dt
    FROM scan
    WHERE originator_customer_pid IS NOT NULL
    UNION ALL
    SELECT beneficiary_account_pid, beneficiary_customer_pid, booked_at, amount_base, dt
    FROM scan
    WHERE beneficiary_customer_pid IS NOT NULL
),
before_window AS (
    SELECT DISTINCT account_pid
    FROM sides
    WHERE dt < ?
),
reactivated AS (
    SELECT s.account_pid, s.customer_pid, MIN(s.booked_at) AS reactivated_at
    FROM sides s
    CROSS JOIN bounds b
    WHERE CAST(s.dt AS DATE) >= b.start_day
      AND b.data_from <= date_add('day', -{{dormant_reactivation.dormant_days}}, b.start_day)
      AND s.account_pid NOT IN (SELECT account_pid FROM before_window)
    GROUP BY s.account_pid, s.customer_pid
),
burst AS (
    SELECT r.account_pid, r.customer_pid, a.opened_at, r.reactivated_at, COUNT(*) AS reactivation_count,
           SUM(s.amount_base) AS reactivation_amount, MAX(s.amount_base) AS max_amount
    FROM reactivated r
    JOIN accounts a ON a.account_pid = r.account_pid
    CROSS JOIN bounds b
    JOIN sides s
      ON s.account_pid = r.account_pid
     AND s.booked_at >= r.reactivated_at
     AND s.booked_at < date_add('day', {{dormant_reactivation.window_days}}, r.reactivated_at)
    WHERE CAST(a.opened_at AS DATE) <= date_add('day', -{{dormant_reactivation.dormant_days}}, b.start_day)
    GROUP BY r.account_pid, r.customer_pid, a.opened_at, r.reactivated_at
)
SELECT account_pid AS subject_account_pid, customer_pid AS subject_customer_pid, opened_at, reactivated_at,
       reactivation_count, reactivation_amount, max_amount
FROM burst
WHERE reactivation_amount >= {{dormant_reactivation.min_amount}}
   OR reactivation_count >= {{dormant_reactivation.min_count}}
ORDER BY reactivation_amount DESC, subject_account_pid
