-- name: fan_out
-- description: Accounts paying many distinct counterparty accounts (dispersal of funds, layering), in
--   every window of the rule (window_hours, min_counterparties, floored, realtime):
--   {{fan_out.windows}}. A window is anchored on each payment from the account that it counts and
--   covers the payments booked from then to less than window_hours later; it qualifies when they go to
--   at least min_counterparties distinct accounts. An unfloored window counts every payment (a count
--   rule: a payment without amount_base, no FX rate, counts its counterparty); a floored one counts
--   only the payments from {{fan_out.min_payment}} USD, or the segment's
--   p{{fan_out.min_payment_percentile}} where lower (an amount rule: a payment without amount_base
--   takes no part). The segment is the account's side of the payment (originator_country; none: the
--   whole bank "*"), its percentile read from the `segment_amounts` statistics
--   (aml_contract.segments); nothing published: the USD floor. One row per account: window_hours is
--   the shortest window that qualified, first_window_start, max_counterparties and max_window_amount
--   (the known amount_base of its counted payments, 0 when none is known) describe it;
--   last_window_start is the latest start of a qualifying window of any length, not only of the
--   shortest: the evidence runs to the pattern's last qualifying window whatever its length, so the
--   batch alert's days cover those a real-time alert of any window may be raised on (and it is never
--   before first_window_start); qualified_window_hours lists every window length that qualified
--   (ascending), qualifying_windows counts the qualifying anchored windows of every length,
--   amount_floor is the lowest floor a counted payment of a floored qualifying window met (none when
--   only unfloored windows qualified). transaction_ids: the payments counted by every qualifying window
--   of any length, the first {{evidence.max_transactions}} by booked_at (then id); transaction_count: how
--   many in all.
-- parameters: start_date, end_date
-- serves: FATF red flag "funds sent to many unrelated beneficiaries shortly after receipt"; FFIEC
--   BSA-AML manual, layering; the fan-out pattern of IBM AMLSim and of Altman et al. 2023, "Realistic
--   Synthetic Financial Transactions for Anti-Money Laundering Models" (NeurIPS Datasets and Benchmarks)
-- columns: subject_account_pid, subject_customer_pid, window_hours, first_window_start, last_window_start,
--   max_counterparties, max_window_amount, qualified_window_hours, qualifying_windows, amount_floor,
--   transaction_ids, transaction_count
-- evidence: window first_window_start..last_window_start; transactions transaction_ids; count transaction_count
WITH debits AS (
    SELECT originator_account_pid AS account_pid, originator_customer_pid AS customer_pid,
           beneficiary_account_pid AS counterparty_pid, originator_country AS side_country,
           transaction_id, booked_at, amount_base
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND originator_customer_pid IS NOT NULL
      AND originator_account_pid <> beneficiary_account_pid
      AND transaction_type IN {{fan_out.counterparty_types}}  -- transfers between parties: no card, no cash
),
floors AS (
    SELECT segment, amount_base
    FROM segment_amounts
    WHERE percentile = {{fan_out.min_payment_percentile}}
),
payments AS (
    -- the payment's floor: the USD one, or its segment's percentile (a segment never seen: the
    -- bank's "*"), whichever is lower
    SELECT d.*, LEAST({{fan_out.min_payment}}, COALESCE(s.amount_base, bank.amount_base, {{fan_out.min_payment}}))
                    AS amount_floor
    FROM debits d
    LEFT JOIN floors s ON s.segment = d.side_country
    LEFT JOIN floors bank ON bank.segment = '*'
),
counted AS (
    -- each payment once per window that counts it: every window counts it unless floored
    SELECT w.window_hours, w.min_counterparties, w.floored, p.*
    FROM payments p
    CROSS JOIN (VALUES {{fan_out.windows}}) AS w(window_hours, min_counterparties, floored, realtime)
    WHERE NOT w.floored OR p.amount_base >= p.amount_floor
),
windows AS (
    SELECT a.account_pid, a.customer_pid, a.window_hours, a.min_counterparties, a.floored,
           a.booked_at AS window_start,
           COUNT(DISTINCT b.counterparty_pid) AS counterparties, COALESCE(SUM(b.amount_base), 0) AS window_amount,
           CASE WHEN a.floored THEN MIN(b.amount_floor) END AS amount_floor
    FROM counted a
    JOIN counted b
      ON b.account_pid = a.account_pid
     AND b.window_hours = a.window_hours AND b.min_counterparties = a.min_counterparties AND b.floored = a.floored
     AND b.booked_at >= a.booked_at
     AND b.booked_at < date_add('hour', a.window_hours, a.booked_at)
    GROUP BY a.account_pid, a.customer_pid, a.window_hours, a.min_counterparties, a.floored, a.transaction_id,
             a.booked_at
    HAVING COUNT(DISTINCT b.counterparty_pid) >= a.min_counterparties
),
lengths AS (
    -- one row per window length that qualified (a floored and an unfloored window of one length merge)
    SELECT account_pid, customer_pid, window_hours AS hours, MIN(window_start) AS first_start,
           MAX(window_start) AS last_start,
           MAX(counterparties) AS counterparties, MAX(window_amount) AS amount, COUNT(*) AS anchored_windows,
           MIN(amount_floor) AS lowest_floor
    FROM windows
    GROUP BY account_pid, customer_pid, window_hours
),
hits AS (
    SELECT account_pid, customer_pid, MIN(hours) AS window_hours,
           min_by(first_start, hours) AS first_window_start, MAX(last_start) AS last_window_start,
           min_by(counterparties, hours) AS max_counterparties,
           min_by(amount, hours) AS max_window_amount,
           array_join(array_sort(array_agg(hours)), ',') AS qualified_window_hours,
           SUM(anchored_windows) AS qualifying_windows, MIN(lowest_floor) AS amount_floor
    FROM lengths
    GROUP BY account_pid, customer_pid
),
members AS (
    -- the evidence: every payment a qualifying window counts, once
    SELECT DISTINCT w.account_pid, c.transaction_id, c.booked_at
    FROM windows w
    JOIN counted c
      ON c.account_pid = w.account_pid
     AND c.window_hours = w.window_hours AND c.min_counterparties = w.min_counterparties AND c.floored = w.floored
     AND c.booked_at >= w.window_start
     AND c.booked_at < date_add('hour', w.window_hours, w.window_start)
),
evidence AS (
    SELECT account_pid,
           {{evidence.list}}
    FROM members
    GROUP BY account_pid
)
SELECT h.account_pid AS subject_account_pid, h.customer_pid AS subject_customer_pid, h.window_hours,
       h.first_window_start, h.last_window_start, h.max_counterparties, h.max_window_amount,
       h.qualified_window_hours, h.qualifying_windows, h.amount_floor, e.transaction_ids, e.transaction_count
FROM hits h
JOIN evidence e ON e.account_pid = h.account_pid
ORDER BY window_hours, max_counterparties DESC, subject_account_pid
