-- name: smurfing
-- description: Accounts receiving cash deposits below {{smurfing.max_amount}} USD from at least
--   {{smurfing.min_depositors}} distinct depositor accounts within {{smurfing.window_days}} days of
--   booked_at: many people paying in small cash amounts for one beneficiary. "Below" needs a known
--   amount: a deposit without amount_base (no FX rate) takes no part. A window is anchored on each
--   deposit and covers the deposits booked from then to less than window_days later. One row per
--   account: first_window_start and last_window_start are the starts of its first and last
--   qualifying window (the same when one qualified), max_depositors and max_window_amount the
--   largest of any, qualifying_windows counts them. transaction_ids: the deposits of every qualifying
--   window, the first {{evidence.max_transactions}} by booked_at (then id); transaction_count: how many in all.
-- parameters: start_date, end_date
-- serves: FinCEN / FFIEC red flag "multiple individuals making cash deposits into one account"
--   (smurfing, a form of structuring, 31 CFR 1010.314); funnel-account advisory FIN-2014-A005
-- columns: subject_account_pid, subject_customer_pid, first_window_start, last_window_start,
--   max_depositors, max_window_amount, qualifying_windows, transaction_ids, transaction_count
-- evidence: window first_window_start..last_window_start; transactions transaction_ids; count transaction_count
WITH deposits AS (
    SELECT beneficiary_account_pid AS account_pid, beneficiary_customer_pid AS customer_pid,
           originator_account_pid AS depositor_pid, transaction_id, booked_at, amount_base
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND transaction_type = 'cash_deposit'
      AND beneficiary_customer_pid IS NOT NULL
      AND amount_base < {{smurfing.max_amount}}
),
windows AS (
    SELECT a.account_pid, a.customer_pid, a.booked_at AS window_start,
           COUNT(DISTINCT b.depositor_pid) AS depositors, SUM(b.amount_base) AS window_amount
    FROM deposits a
    JOIN deposits b
      ON b.account_pid = a.account_pid
     AND b.booked_at >= a.booked_at
     AND b.booked_at < date_add('day', {{smurfing.window_days}}, a.booked_at)
    GROUP BY a.account_pid, a.customer_pid, a.transaction_id, a.booked_at
    HAVING COUNT(DISTINCT b.depositor_pid) >= {{smurfing.min_depositors}}
),
hits AS (
    SELECT account_pid, customer_pid, MIN(window_start) AS first_window_start, MAX(window_start) AS last_window_start,
           MAX(depositors) AS max_depositors, MAX(window_amount) AS max_window_amount, COUNT(*) AS qualifying_windows
    FROM windows
    GROUP BY account_pid, customer_pid
),
members AS (
    -- the evidence: every deposit inside a qualifying window, once
    SELECT DISTINCT w.account_pid, d.transaction_id, d.booked_at
    FROM windows w
    JOIN deposits d
      ON d.account_pid = w.account_pid
     AND d.booked_at >= w.window_start
     AND d.booked_at < date_add('day', {{smurfing.window_days}}, w.window_start)
),
evidence AS (
    SELECT account_pid,
           {{evidence.list}}
    FROM members
    GROUP BY account_pid
)
SELECT h.account_pid AS subject_account_pid, h.customer_pid AS subject_customer_pid, h.first_window_start,
       h.last_window_start, h.max_depositors, h.max_window_amount, h.qualifying_windows, e.transaction_ids,
       e.transaction_count
FROM hits h
JOIN evidence e ON e.account_pid = h.account_pid
ORDER BY max_depositors DESC, subject_account_pid
