-- name: account_profiles
-- description: One profile per account (aml_contract.profiles) as of end_date: every account with a
--   booked transaction on its side (originator_account_pid when it pays, beneficiary_account_pid when
--   it receives; external accounts and cash have no customer and no profile) in the scan, the
--   2 x {{dormant_reactivation.dormant_days}} days ending on end_date (what dormant_reactivation
--   reads). history_from is the account's first booked day in the scan, last_activity_at its latest
--   booking. The baseline covers the {{profiles.baseline_days}} days ending on end_date, from
--   history_from when later (covered_days, days without activity included): counts and known USD
--   amounts (amount_base; a transaction without one counts and adds 0), the population standard
--   deviations of the daily count and amount over the covered days (from exact sums and sums of
--   squares, so a day without activity counts as a 0), and the per-transaction amount statistics
--   over the transactions of known amount. counterparties: the {{profiles.max_counterparties}}
--   counterparty accounts seen most often over the covered days (cash has none), most frequent first,
--   ties by the smaller pid, joined with ','; counterparty_countries: likewise the
--   {{profiles.max_countries}} most frequent countries of the other side (beneficiary_country when the
--   account pays, originator_country when it receives; cash skipped). The customer's residence and
--   risk tier come from the curated customers table. Not a scenario: the daily pipeline loads its
--   rows into the profiles table (lambdas/daily_pipeline/profiles.py).
-- parameters: end_date, end_date, end_date
-- serves: FFIEC / FATF red flag "activity inconsistent with the customer's profile or history": the
--   per-account history the real-time rules compare an event with (velocity_spike,
--   dormant_reactivation, amount_outlier, new_high_risk_country)
-- columns: account_pid, as_of, customer_pid, history_from, covered_days, active_days, baseline_count,
--   baseline_amount, daily_count_stddev, daily_amount_stddev, amount_count, amount_mean, amount_stddev,
--   amount_max, last_activity_at, counterparties, counterparty_countries, residence_country, risk_rating,
--   customer_type, is_pep
WITH scan AS (
    SELECT booked_at, amount_base, transaction_type, originator_account_pid, originator_customer_pid,
           originator_country, beneficiary_account_pid, beneficiary_customer_pid, beneficiary_country, dt
    FROM transactions
    WHERE dt BETWEEN CAST(CAST(date_add('day', 1 - 2 * {{dormant_reactivation.dormant_days}}, CAST(? AS DATE)) AS DATE)
                          AS VARCHAR)
                 AND ?
      AND status = 'booked'
),
bounds AS (
    SELECT as_of, CAST(date_add('day', 1 - {{profiles.baseline_days}}, as_of) AS DATE) AS baseline_from
    FROM (SELECT CAST(? AS DATE) AS as_of) AS given
),
sides AS (
    -- one row per transaction and account side; the counterparty is the other side (none for cash).
    -- Amounts widen to DECIMAL(38, 2) so their squares cannot overflow (DuckDB keeps DECIMAL(18, _)).
    SELECT originator_account_pid AS account_pid, originator_customer_pid AS customer_pid, booked_at,
           CAST(amount_base AS DECIMAL(38, 2)) AS amount, CAST(dt AS DATE) AS day,
           CASE WHEN transaction_type NOT IN ('cash_deposit', 'cash_withdrawal') THEN beneficiary_account_pid END
               AS counterparty,
           CASE WHEN transaction_type NOT IN ('cash_deposit', 'cash_withdrawal') THEN beneficiary_country END
               AS counterparty_country
    FROM scan
    WHERE originator_customer_pid IS NOT NULL
    UNION ALL
    SELECT beneficiary_account_pid, beneficiary_customer_pid, booked_at, CAST(amount_base AS DECIMAL(38, 2)),
           CAST(dt AS DATE),
           CASE WHEN transaction_type NOT IN ('cash_deposit', 'cash_withdrawal') THEN originator_account_pid END,
           CASE WHEN transaction_type NOT IN ('cash_deposit', 'cash_withdrawal') THEN originator_country END
    FROM scan
    WHERE beneficiary_customer_pid IS NOT NULL
),
daily AS (
    SELECT account_pid, day, MAX(customer_pid) AS customer_pid, MAX(booked_at) AS last_at, COUNT(*) AS n,
           COALESCE(SUM(amount), 0) AS amount, COUNT(amount) AS known, SUM(amount * amount) AS amount_squares,
           MAX(amount) AS amount_max
    FROM sides
    GROUP BY account_pid, day
),
accounts_seen AS (
    -- every sum over the covered days: a transaction's day is never before its account's history_from
    SELECT d.account_pid, MAX(d.customer_pid) AS customer_pid, MIN(d.day) AS history_from,
           MAX(d.last_at) AS last_activity_at, b.as_of,
           date_diff('day', greatest(MIN(d.day), b.baseline_from), b.as_of) + 1 AS covered_days,
           COUNT(CASE WHEN d.day >= b.baseline_from THEN 1 END) AS active_days,
           COALESCE(SUM(CASE WHEN d.day >= b.baseline_from THEN d.n END), 0) AS baseline_count,
           COALESCE(SUM(CASE WHEN d.day >= b.baseline_from THEN d.n * d.n END), 0) AS count_squares,
           COALESCE(SUM(CASE WHEN d.day >= b.baseline_from THEN d.amount END), 0) AS baseline_amount,
           COALESCE(SUM(CASE WHEN d.day >= b.baseline_from THEN d.amount * d.amount END), 0) AS daily_amount_squares,
           COALESCE(SUM(CASE WHEN d.day >= b.baseline_from THEN d.known END), 0) AS amount_count,
           SUM(CASE WHEN d.day >= b.baseline_from THEN d.amount_squares END) AS amount_squares,
           MAX(CASE WHEN d.day >= b.baseline_from THEN d.amount_max END) AS amount_max
    FROM daily d
    CROSS JOIN bounds b
    GROUP BY d.account_pid, b.as_of, b.baseline_from
),
ranks AS (
    -- the counterparties and counterparty countries of the covered days, each ranked by how often
    -- the account dealt with it (ties: the smaller value)
    SELECT account_pid, kind, value,
           ROW_NUMBER() OVER (PARTITION BY account_pid, kind ORDER BY COUNT(*) DESC, value) AS seq
    FROM (
        SELECT account_pid, 'account' AS kind, counterparty AS value, day FROM sides
        UNION ALL
        SELECT account_pid, 'country', counterparty_country, day FROM sides
    ) AS dealt
    CROSS JOIN bounds b
    WHERE value IS NOT NULL
      AND day >= b.baseline_from
    GROUP BY account_pid, kind, value
),
lists AS (
    SELECT account_pid,
           array_join(array_agg(value ORDER BY seq)
                      FILTER (WHERE kind = 'account' AND seq <= {{profiles.max_counterparties}}), ',')
               AS counterparties,
           array_join(array_agg(value ORDER BY seq)
                      FILTER (WHERE kind = 'country' AND seq <= {{profiles.max_countries}}), ',')
               AS counterparty_countries
    FROM ranks
    GROUP BY account_pid
)
-- Standard deviations: sqrt(N x sum of squares - sum^2) / N, the difference exact (BIGINT, DECIMAL)
-- before it turns DOUBLE, so both engines divide the same value and nothing cancels in floating point.
SELECT a.account_pid, a.as_of, a.customer_pid, a.history_from, a.covered_days, a.active_days, a.baseline_count,
       a.baseline_amount,
       sqrt(CAST(a.covered_days * a.count_squares - a.baseline_count * a.baseline_count AS DOUBLE))
           / CAST(a.covered_days AS DOUBLE) AS daily_count_stddev,
       sqrt(CAST(a.covered_days * a.daily_amount_squares - a.baseline_amount * a.baseline_amount AS DOUBLE))
           / CAST(a.covered_days AS DOUBLE) AS daily_amount_stddev,
       a.amount_count,
       CASE WHEN a.amount_count > 0
            THEN CAST(a.baseline_amount AS DOUBLE) / CAST(a.amount_count AS DOUBLE) END AS amount_mean,
       CASE WHEN a.amount_count > 0
            THEN sqrt(CAST(a.amount_count * a.amount_squares - a.baseline_amount * a.baseline_amount AS DOUBLE))
                 / CAST(a.amount_count AS DOUBLE) END AS amount_stddev,
       a.amount_max, a.last_activity_at, l.counterparties, l.counterparty_countries,
       c.country AS residence_country, c.risk_rating, c.customer_type, c.is_pep
FROM accounts_seen a
LEFT JOIN lists l ON l.account_pid = a.account_pid
LEFT JOIN customers c ON c.customer_pid = a.customer_pid
ORDER BY a.account_pid
