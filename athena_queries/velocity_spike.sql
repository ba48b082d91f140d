-- name: velocity_spike
-- description: Account-days whose activity (in plus out) over the last {{velocity_spike.window_days}}
--   day(s) reaches {{velocity_spike.min_amount}} USD, or the segment's p{{velocity_spike.min_amount_percentile}}
--   where lower, and {{velocity_spike.multiplier}} times the account's own average for that many days
--   over the {{velocity_spike.baseline_days}} days before. The floor of a sum is the lowest among the
--   transactions of known amount it sums (amount_floor), each one's being its segment's (the
--   account's side: originator_country when it pays, beneficiary_country when it receives; none:
--   the whole bank "*") from the `segment_amounts` statistics (aml_contract.segments); nothing
--   published: the USD floor.
--   The query reads the baseline days before start_date too; an account needs activity at least
--   {{velocity_spike.min_baseline_days}} days before the day, so the baseline is proven by data.
--   Amounts sum the known amount_base: a transaction without one (no FX rate) adds 0 to its day
--   (and is counted in recent_count); a day of unknown amounts is activity worth 0, not a gap.
--   transaction_ids: the account's transactions of the recent window (those recent_amount sums), the
--   first {{evidence.max_transactions}} by booked_at (then id); transaction_count: how many in all.
-- parameters: start_date, end_date, start_date
-- serves: FFIEC red flag "activity inconsistent with the customer's profile or history"; FATF
--   guidance on unusual changes in transaction velocity (mule accounts, account takeover)
-- columns: subject_account_pid, subject_customer_pid, day, recent_amount, recent_count,
--   baseline_amount_per_window, spike_ratio, amount_floor, transaction_ids, transaction_count
-- evidence: window day; transactions transaction_ids; count transaction_count
WITH scan AS (
    SELECT transaction_id, booked_at, amount_base, originator_account_pid, originator_customer_pid, originator_country,
           beneficiary_account_pid, beneficiary_customer_pid, beneficiary_country, dt
    FROM transactions
    WHERE dt BETWEEN CAST(CAST(date_add('day',
                                        -({{velocity_spike.baseline_days}} + {{velocity_spike.window_days}}),
                                        CAST(? AS DATE)) AS DATE) AS VARCHAR)
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
    WHERE percentile = {{velocity_spike.min_amount_percentile}}
),
daily AS (
    -- amount_floor: the lowest floor of the day's transactions of known amount (null: none known)
    SELECT d.account_pid, d.customer_pid, CAST(d.dt AS DATE) AS day, COALESCE(SUM(d.amount_base), 0) AS amount,
           COUNT(*) AS n,
           MIN(CASE WHEN d.amount_base IS NOT NULL
                    THEN LEAST({{velocity_spike.min_amount}},
                               COALESCE(s.amount_base, bank.amount_base, {{velocity_spike.min_amount}})) END)
               AS amount_floor
    FROM sides d
    LEFT JOIN floors s ON s.segment = d.country
    LEFT JOIN floors bank ON bank.segment = '*'
    GROUP BY d.account_pid, d.customer_pid, CAST(d.dt AS DATE)
),
data_bounds AS (
    SELECT MIN(day) AS data_from FROM daily
),
profile AS (
    -- recent: the window ending on d.day; baseline: the baseline_days before that window
    SELECT d.account_pid, d.customer_pid, d.day, MIN(h.day) AS history_from,
           SUM(CASE WHEN h.day > date_add('day', -{{velocity_spike.window_days}}, d.day) THEN h.amount ELSE 0 END)
               AS recent_amount,
           SUM(CASE WHEN h.day > date_add('day', -{{velocity_spike.window_days}}, d.day) THEN h.n ELSE 0 END)
               AS recent_count,
           COALESCE(MIN(CASE WHEN h.day > date_add('day', -{{velocity_spike.window_days}}, d.day)
                             THEN h.amount_floor END), {{velocity_spike.min_amount}}) AS amount_floor,
           SUM(CASE WHEN h.day <= date_add('day', -{{velocity_spike.window_days}}, d.day) THEN h.amount ELSE 0 END)
               AS baseline_amount
    FROM daily d
    JOIN daily h
      ON h.account_pid = d.account_pid
     AND h.day <= d.day
     AND h.day > date_add('day', -({{velocity_spike.baseline_days}} + {{velocity_spike.window_days}}), d.day)
    WHERE d.day >= CAST(? AS DATE)
    GROUP BY d.account_pid, d.customer_pid, d.day
),
rated AS (
    -- covered_days: baseline days actually covered by data (the scan may start later than the
    -- full baseline). The threshold is compared cross-multiplied, in exact DECIMAL and integer
    -- maths (recent x covered_days >= multiplier x window_days x baseline): a divided value
    -- rounds differently on Athena (DECIMAL at scale 2) and DuckDB (DOUBLE).
    SELECT p.*,
           date_diff('day',
                     greatest(b.data_from, date_add('day',
                         1 - ({{velocity_spike.baseline_days}} + {{velocity_spike.window_days}}), p.day)),
                     date_add('day', 1 - {{velocity_spike.window_days}}, p.day)) AS covered_days
    FROM profile p
    CROSS JOIN data_bounds b
    WHERE p.history_from <= date_add('day', -{{velocity_spike.min_baseline_days}}, p.day)
      AND p.baseline_amount > 0
),
hits AS (
    SELECT account_pid, customer_pid, day, recent_amount, recent_count,
           -- reported only, in DOUBLE on both engines
           CAST(baseline_amount * {{velocity_spike.window_days}} AS DOUBLE) / covered_days
               AS baseline_amount_per_window,
           CAST(recent_amount * covered_days AS DOUBLE) / (baseline_amount * {{velocity_spike.window_days}})
               AS spike_ratio,
           amount_floor
    FROM rated
    WHERE recent_amount >= amount_floor
      AND recent_amount * covered_days
          >= {{velocity_spike.multiplier}} * {{velocity_spike.window_days}} * baseline_amount
),
members AS (
    -- the evidence: the account's transactions of the recent window ending on the day, once
    SELECT DISTINCT h.account_pid, h.day, s.transaction_id, s.booked_at
    FROM hits h
    JOIN sides s
      ON s.account_pid = h.account_pid
     AND CAST(s.dt AS DATE) > date_add('day', -{{velocity_spike.window_days}}, h.day)
     AND CAST(s.dt AS DATE) <= h.day
),
evidence AS (
    SELECT account_pid, day,
           {{evidence.list}}
    FROM members
    GROUP BY account_pid, day
)
SELECT h.account_pid AS subject_account_pid, h.customer_pid AS subject_customer_pid, h.day, h.recent_amount,
       h.recent_count, h.baseline_amount_per_window, h.spike_ratio, h.amount_floor, e.transaction_ids,
       e.transaction_count
FROM hits h
JOIN evidence e ON e.account_pid = h.account_pid AND e.day = h.day
ORDER BY spike_ratio DESC, subject_account_pid, day
