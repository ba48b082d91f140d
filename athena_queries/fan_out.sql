-- name: fan_out
-- description: Accounts paying at least {{fan_out.min_counterparties}} distinct counterparty accounts
--   within {{fan_out.window_hours}} hours of booked_at (dispersal of funds, layering). A count rule:
--   a payment without amount_base (no FX rate) counts its counterparty; the window amount sums the
--   known amount_base only (0 when none is known).
-- parameters: start_date, end_date
-- serves: FATF red flag "funds sent to many unrelated beneficiaries shortly after receipt";
--   FFIEC BSA-AML manual, layering
-- columns: subject_account_pid, subject_customer_pid, first_window_start, max_counterparties,
--   max_window_amount, qualifying_windows
WITH debits AS (
    SELECT originator_account_pid AS account_pid, originator_customer_pid AS customer_pid,
           beneficiary_account_pid AS counterparty_pid, transaction_id, booked_at, amount_base
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND originator_customer_pid IS NOT NULL
      AND originator_account_pid <> beneficiary_account_pid
      AND transaction_type IN {{fan_out.counterparty_types}}  -- transfers between parties: no card, no cash
),
windows AS (
    SELECT a.account_pid, a.customer_pid, a.booked_at AS window_start,
           COUNT(DISTINCT b.counterparty_pid) AS counterparties, COALESCE(SUM(b.amount_base), 0) AS window_amount
    FROM debits a
    JOIN debits b
      ON b.account_pid = a.account_pid
     AND b.booked_at >= a.booked_at
     AND b.booked_at < date_add('hour', {{fan_out.window_hours}}, a.booked_at)
    GROUP BY a.account_pid, a.customer_pid, a.transaction_id, a.booked_at
    HAVING COUNT(DISTINCT b.counterparty_pid) >= {{fan_out.min_counterparties}}
)
SELECT account_pid AS subject_account_pid, customer_pid AS subject_customer_pid,
       MIN(window_start) AS first_window_start, MAX(counterparties) AS max_counterparties,
       MAX(window_amount) AS max_window_amount, COUNT(*) AS qualifying_windows
FROM windows
GROUP BY account_pid, customer_pid
ORDER BY max_counterparties DESC, subject_account_pid
