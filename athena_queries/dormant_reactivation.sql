-- name: dormant_reactivation
-- description: Accounts that, at their first transaction in the window, had been silent for at least
--   {{dormant_reactivation.dormant_days}} days and then, within {{dormant_reactivation.window_days}} days,
--   move a total of at least {{dormant_reactivation.min_amount}} USD, or the segment's
--   p{{dormant_reactivation.min_amount_percentile}} where lower, or make at least
--   {{dormant_reactivation.min_count}} transactions. The floor of the total (amount_floor) is the lowest
--   among the transactions of known amount it sums, each one's from its segment (the country on the
--   account's side: originator_country when it pays, beneficiary_country when it receives; none: the
--   whole bank "*") in the `segment_amounts` statistics (aml_contract.segments); nothing published:
--   the USD floor. Dormancy is proven from the data, not from a status
--   flag: the query also reads twice dormant_days before start_date and needs the account's previous
--   transaction there, at least dormant_days before the reactivation (absence of data proves nothing).
--   Accounts silent for more than twice dormant_days are out of its reach. A transaction without
--   amount_base (no FX rate) proves activity and counts towards min_count; the total sums the known
--   amount_base only (an unknown amount counts as 0; max_amount is null when none is known).
--   transaction_ids: the transactions of the reactivation window (those counted and summed), the first
--   {{evidence.max_transactions}} by booked_at (then id); transaction_count: how many in all.
-- parameters: start_date, end_date, start_date
-- serves: FFIEC / FATF red flag "sudden activity in a previously dormant account" (account takeover,
--   mule recruitment, sleeper accounts)
-- columns: subject_account_pid, subject_customer_pid, last_seen_at, reactivated_at, reactivation_count,
--   reactivation_amount, max_amount, amount_floor, transaction_ids, transaction_count
-- evidence: window reactivated_at; transactions transaction_ids; count transaction_count
WITH scan AS (
    SELECT transaction_id, booked_at, amount_base, originator_account_pid, originator_customer_pid,
           originator_country, beneficiary_account_pid, beneficiary_customer_pid, beneficiary_country, dt
    FROM transactions
    WHERE dt BETWEEN CAST(CAST(date_add('day', -2 * {{dormant_reactivation.dormant_days}}, CAST(? AS DATE)) AS DATE)
                          AS VARCHAR)
                 AND ?
      AND status = 'booked'
),
sides AS (
    SELECT originator_account_pid AS account_pid, originator_customer_pid AS customer_pid, transaction_id, booked_at,
           amount_base, originator_country AS country, dt
    FROM scan
    WHERE originator_customer_pid IS NOT NULL
    UNION ALL
    SELECT beneficiary_account_pid, beneficiary_customer_pid, transaction_id, booked_at, amount_base,
           beneficiary_country, dt
    FROM scan
    WHERE beneficiary_customer_pid IS NOT NULL
),
floors AS (
    SELECT segment, amount_base
    FROM segment_amounts
    WHERE percentile = {{dormant_reactivation.min_amount_percentile}}
),
gaps AS (
    SELECT account_pid, customer_pid, booked_at, dt,
           LAG(booked_at) OVER (PARTITION BY account_pid ORDER BY booked_at) AS previous_at
    FROM sides
),
quiet AS (
    -- a transaction in the window whose account's previous one is in the data and dormant_days older
    SELECT account_pid, customer_pid, booked_at AS reactivated_at, previous_at AS last_seen_at
    FROM gaps
    WHERE dt >= ?
      AND previous_at <= date_add('day', -{{dormant_reactivation.dormant_days}}, booked_at)
),
burst AS (
    SELECT q.account_pid, q.customer_pid, q.last_seen_at, q.reactivated_at, COUNT(*) AS reactivation_count,
           COALESCE(SUM(s.amount_base), 0) AS reactivation_amount, MAX(s.amount_base) AS max_amount,
           COALESCE(MIN(CASE WHEN s.amount_base IS NOT NULL
                             THEN LEAST({{dormant_reactivation.min_amount}},
                                        COALESCE(f.amount_base, bank.amount_base, {{dormant_reactivation.min_amount}}))
                        END), {{dormant_reactivation.min_amount}}) AS amount_floor
    FROM quiet q
    JOIN sides s
      ON s.account_pid = q.account_pid
     AND s.booked_at >= q.reactivated_at
     AND s.booked_at < date_add('day', {{dormant_reactivation.window_days}}, q.reactivated_at)
    LEFT JOIN floors f ON f.segment = s.country
    LEFT JOIN floors bank ON bank.segment = '*'
    GROUP BY q.account_pid, q.customer_pid, q.last_seen_at, q.reactivated_at
),
hits AS (
    SELECT *
    FROM burst
    WHERE reactivation_amount >= amount_floor
       OR reactivation_count >= {{dormant_reactivation.min_count}}
),
members AS (
    -- the evidence: the reactivation window's transactions, once
    SELECT DISTINCT h.account_pid, h.reactivated_at, s.transaction_id, s.booked_at
    FROM hits h
    JOIN sides s
      ON s.account_pid = h.account_pid
     AND s.booked_at >= h.reactivated_at
     AND s.booked_at < date_add('day', {{dormant_reactivation.window_days}}, h.reactivated_at)
),
evidence AS (
    SELECT account_pid, reactivated_at,
           {{evidence.list}}
    FROM members
    GROUP BY account_pid, reactivated_at
)
SELECT h.account_pid AS subject_account_pid, h.customer_pid AS subject_customer_pid, h.last_seen_at,
       h.reactivated_at, h.reactivation_count, h.reactivation_amount, h.max_amount, h.amount_floor,
       e.transaction_ids, e.transaction_count
FROM hits h
JOIN evidence e ON e.account_pid = h.account_pid AND e.reactivated_at = h.reactivated_at
ORDER BY reactivation_amount DESC, subject_account_pid
