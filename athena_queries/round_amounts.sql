-- name: round_amounts
-- description: Accounts moving at least {{round_amounts.min_count}} round amounts (a multiple of
--   {{round_amounts.modulus}}, at least {{round_amounts.min_amount}}, in the transaction currency)
--   within {{round_amounts.window_days}} days of booked_at, in or out. Roundness is judged on
--   `amount`, so a payment without amount_base (no FX rate) still counts; the window amount sums the
--   known amount_base only (0 when none is known). A window is anchored on each round amount and
--   covers those booked from then to less than window_days later. One row per account:
--   first_window_start and last_window_start are the starts of its first and last qualifying window
--   (the same when one qualified), max_round_count and max_window_amount the largest of any,
--   qualifying_windows counts them. transaction_ids: the round amounts of every qualifying window, the
--   first {{evidence.max_transactions}} by booked_at (then id); transaction_count: how many in all.
-- parameters: start_date, end_date
-- serves: FFIEC / FATF red flag "transactions in round or whole-dollar amounts" (invoice fraud,
--   trade-based laundering, loan-back schemes)
-- columns: subject_account_pid, subject_customer_pid, first_window_start, last_window_start,
--   max_round_count, max_window_amount, qualifying_windows, transaction_ids, transaction_count
-- evidence: window first_window_start..last_window_start; transactions transaction_ids; count transaction_count
WITH booked AS (
    SELECT transaction_id, booked_at, amount, amount_base, originator_account_pid, originator_customer_pid,
           beneficiary_account_pid, beneficiary_customer_pid
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND amount >= {{round_amounts.min_amount}}
      AND amount % {{round_amounts.modulus}} = 0
),
rounds AS (
    SELECT originator_account_pid AS account_pid, originator_customer_pid AS customer_pid,
           transaction_id, booked_at, amount_base
    FROM booked
    WHERE originator_customer_pid IS NOT NULL
    UNION ALL
    SELECT beneficiary_account_pid, beneficiary_customer_pid, transaction_id, booked_at, amount_base
    FROM booked
    WHERE beneficiary_customer_pid IS NOT NULL
),
windows AS (
    SELECT a.account_pid, a.customer_pid, a.booked_at AS window_start, COUNT(*) AS round_count,
           COALESCE(SUM(b.amount_base), 0) AS window_amount
    FROM rounds a
    JOIN rounds b
      ON b.account_pid = a.account_pid
     AND b.booked_at >= a.booked_at
     AND b.booked_at < date_add('day', {{round_amounts.window_days}}, a.booked_at)
    GROUP BY a.account_pid, a.customer_pid, a.transaction_id, a.booked_at
    HAVING COUNT(*) >= {{round_amounts.min_count}}
),
hits AS (
    SELECT account_pid, customer_pid, MIN(window_start) AS first_window_start, MAX(window_start) AS last_window_start,
           MAX(round_count) AS max_round_count, MAX(window_amount) AS max_window_amount,
           COUNT(*) AS qualifying_windows
    FROM windows
    GROUP BY account_pid, customer_pid
),
members AS (
    -- the evidence: every round amount inside a qualifying window, once
    SELECT DISTINCT w.account_pid, r.transaction_id, r.booked_at
    FROM windows w
    JOIN rounds r
      ON r.account_pid = w.account_pid
     AND r.booked_at >= w.window_start
     AND r.booked_at < date_add('day', {{round_amounts.window_days}}, w.window_start)
),
evidence AS (
    SELECT account_pid,
           {{evidence.list}}
    FROM members
    GROUP BY account_pid
)
SELECT h.account_pid AS subject_account_pid, h.customer_pid AS subject_customer_pid, h.first_window_start,
       h.last_window_start, h.max_round_count, h.max_window_amount, h.qualifying_windows, e.transaction_ids,
       e.transaction_count
FROM hits h
JOIN evidence e ON e.account_pid = h.account_pid
ORDER BY max_round_count DESC, subject_account_pid
