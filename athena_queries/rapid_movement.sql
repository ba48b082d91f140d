-- name: rapid_movement
-- description: Pass-through accounts: an inflow of at least {{rapid_movement.min_inflow}} USD, or the
--   segment's p{{rapid_movement.min_inflow_percentile}} where lower, followed, within
--   {{rapid_movement.window_hours}} hours of booked_at, by outflows of at least
--   {{rapid_movement.min_outflow_ratio}} of it. One row per account, summarising every such inflow:
--   first_inflow_at and last_inflow_at are the booked_at of the first and of the last (the same when
--   one passed through).
--   The segment is the account's side of the inflow (beneficiary_country; none: the whole bank "*"),
--   its percentile read from the `segment_amounts` statistics (aml_contract.segments); nothing
--   published: the USD floor. amount_floor: the lowest floor an inflow of the row passed.
--   An amount rule: an inflow without amount_base (no FX rate) is not compared; an outflow without
--   one adds nothing to the outflows. transaction_ids: every inflow that passed through and the outflows
--   of known amount within window_hours after it, the first {{evidence.max_transactions}} by booked_at
--   (then id); transaction_count: how many in all.
-- parameters: start_date, end_date
-- serves: FATF red flag "funds received and sent on almost immediately" (pass-through, layering);
--   FinCEN funnel-account advisory
-- columns: subject_account_pid, subject_customer_pid, first_inflow_at, last_inflow_at, inflow_count,
--   max_inflow, max_outflow, max_outflow_ratio, amount_floor, transaction_ids, transaction_count
-- evidence: window first_inflow_at..last_inflow_at; transactions transaction_ids; count transaction_count
WITH booked AS (
    SELECT transaction_id, booked_at, amount_base, originator_account_pid, originator_customer_pid,
           beneficiary_account_pid, beneficiary_customer_pid, beneficiary_country
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND originator_account_pid <> beneficiary_account_pid
),
floors AS (
    SELECT segment, amount_base
    FROM segment_amounts
    WHERE percentile = {{rapid_movement.min_inflow_percentile}}
),
received AS (
    -- the inflow's floor: the USD one, or its segment's percentile (a segment never seen: the
    -- bank's "*"), whichever is lower
    SELECT b.beneficiary_account_pid AS account_pid, b.beneficiary_customer_pid AS customer_pid,
           b.transaction_id, b.booked_at, b.amount_base,
           LEAST({{rapid_movement.min_inflow}},
                 COALESCE(s.amount_base, bank.amount_base, {{rapid_movement.min_inflow}})) AS amount_floor
    FROM booked b
    LEFT JOIN floors s ON s.segment = b.beneficiary_country
    LEFT JOIN floors bank ON bank.segment = '*'
    WHERE b.beneficiary_customer_pid IS NOT NULL
),
inflows AS (
    SELECT * FROM received WHERE amount_base >= amount_floor
),
outflows AS (
    SELECT originator_account_pid AS account_pid, transaction_id, booked_at, amount_base
    FROM booked
    WHERE originator_customer_pid IS NOT NULL
),
passed AS (
    SELECT i.account_pid, i.customer_pid, i.transaction_id, i.booked_at, i.amount_base AS inflow,
           i.amount_floor, SUM(o.amount_base) AS outflow
    FROM inflows i
    JOIN outflows o
      ON o.account_pid = i.account_pid
     AND o.booked_at > i.booked_at
     AND o.booked_at <= date_add('hour', {{rapid_movement.window_hours}}, i.booked_at)
    GROUP BY i.account_pid, i.customer_pid, i.transaction_id, i.booked_at, i.amount_base, i.amount_floor
    HAVING SUM(o.amount_base) >= {{rapid_movement.min_outflow_ratio}} * i.amount_base
),
hits AS (
    SELECT account_pid, customer_pid, MIN(booked_at) AS first_inflow_at, MAX(booked_at) AS last_inflow_at,
           COUNT(*) AS inflow_count, MAX(inflow) AS max_inflow, MAX(outflow) AS max_outflow,
           MAX(CAST(outflow AS DOUBLE) / inflow) AS max_outflow_ratio, MIN(amount_floor) AS amount_floor
    FROM passed
    GROUP BY account_pid, customer_pid
),
members AS (
    -- the evidence: each inflow that passed through, and the outflows that summed to pass it on
    SELECT account_pid, transaction_id, booked_at
    FROM passed
    UNION
    SELECT p.account_pid, o.transaction_id, o.booked_at
    FROM passed p
    JOIN outflows o
      ON o.account_pid = p.account_pid
     AND o.booked_at > p.booked_at
     AND o.booked_at <= date_add('hour', {{rapid_movement.window_hours}}, p.booked_at)
    WHERE o.amount_base IS NOT NULL
),
evidence AS (
    SELECT account_pid,
           {{evidence.list}}
    FROM members
    GROUP BY account_pid
)
SELECT h.account_pid AS subject_account_pid, h.customer_pid AS subject_customer_pid, h.first_inflow_at,
       h.last_inflow_at, h.inflow_count, h.max_inflow, h.max_outflow, h.max_outflow_ratio, h.amount_floor,
       e.transaction_ids, e.transaction_count
FROM hits h
JOIN evidence e ON e.account_pid = h.account_pid
ORDER BY max_inflow DESC, subject_account_pid
