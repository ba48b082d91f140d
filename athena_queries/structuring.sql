-- name: structuring
-- description: Accounts receiving at least {{structuring.min_count}} cash deposits, each in
--   [{{structuring.min_amount}}, {{structuring.max_amount}}) USD, within {{structuring.window_days}}
--   days of booked_at, together above {{structuring.min_total}} USD: amounts kept just under the CTR
--   threshold. One row per account, summarising every qualifying window. An amount rule: a deposit
--   without amount_base (no FX rate) is not compared and takes no part. transaction_ids: the deposits of
--   every qualifying window, the first {{evidence.max_transactions}} by booked_at (then id);
--   transaction_count: how many in all.
-- parameters: start_date, end_date
-- serves: 31 CFR 1010.314 (structuring to evade reporting); FFIEC red flag "cash deposits just below
--   the reporting threshold on consecutive days"
-- columns: subject_account_pid, subject_customer_pid, first_window_start, last_window_end,
--   max_deposit_count, max_total_amount, qualifying_windows, transaction_ids, transaction_count
-- evidence: window first_window_start..last_window_end; transactions transaction_ids; count transaction_count
WITH deposits AS (
    SELECT beneficiary_account_pid AS account_pid, beneficiary_customer_pid AS customer_pid,
           transaction_id, booked_at, amount_base
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND transaction_type = 'cash_deposit'
      AND beneficiary_customer_pid IS NOT NULL
      AND amount_base >= {{structuring.min_amount}}
      AND amount_base < {{structuring.max_amount}}
),
windows AS (
    -- every deposit anchors a window; the deposits that follow it within window_days fall inside
    SELECT a.account_pid, a.customer_pid, a.booked_at AS window_start, MAX(b.booked_at) AS window_end,
           COUNT(*) AS deposit_count, SUM(b.amount_base) AS total_amount
    FROM deposits a
    JOIN deposits b
      ON b.account_pid = a.account_pid
     AND b.booked_at >= a.booked_at
     AND b.booked_at < date_add('day', {{structuring.window_days}}, a.booked_at)
    GROUP BY a.account_pid, a.customer_pid, a.transaction_id, a.booked_at
    HAVING COUNT(*) >= {{structuring.min_count}} AND SUM(b.amount_base) > {{structuring.min_total}}
),
hits AS (
    SELECT account_pid, customer_pid, MIN(window_start) AS first_window_start, MAX(window_end) AS last_window_end,
           MAX(deposit_count) AS max_deposit_count, MAX(total_amount) AS max_total_amount,
           COUNT(*) AS qualifying_windows
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
     AND d.booked_at < date_add('day', {{structuring.window_days}}, w.window_start)
),
evidence AS (
    SELECT account_pid,
           {{evidence.list}}
    FROM members
    GROUP BY account_pid
)
SELECT h.account_pid AS subject_account_pid, h.customer_pid AS subject_customer_pid, h.first_window_start,
       h.last_window_end, h.max_deposit_count, h.max_total_amount, h.qualifying_windows, e.transaction_ids,
       e.transaction_count
FROM hits h
JOIN evidence e ON e.account_pid = h.account_pid
ORDER BY max_total_amount DESC, subject_account_pid
