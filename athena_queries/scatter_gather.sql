-- name: scatter_gather
-- description: Scatter-gather: a source account pays at least {{scatter_gather.min_intermediaries}}
--   distinct intermediaries, each of which later pays one same sink account (not the source), every
--   payment within {{scatter_gather.window_days}} days of the source's first one (the window opens at each
--   payment of the source in turn), and the sink gathers at least {{scatter_gather.min_gathered_ratio}} of
--   what was scattered. Counted: an intermediary's payments from the source booked before its last payment
--   to the sink (scattered_amount), and its payments to the sink booked after its first payment from the
--   source (gathered_amount). Every payment from {{scatter_gather.min_amount}} USD, or its segment's
--   p{{scatter_gather.min_amount_percentile}} where lower; a payment's segment is the country on the side of
--   the pattern's end account it touches: the source's (originator_country) for a scattered payment, the
--   sink's (beneficiary_country) for a gathered one, as aml_contract.segments defines the account's side
--   (none: the whole bank "*"; nothing published: the USD floor). One row per subject: the source
--   (role 'source') and the sink (role 'sink'), each only when it is one of the bank's accounts, describing
--   its pattern with the most intermediaries (then the largest gathered amount); counterpart_account_pid is
--   the other end; qualifying_windows counts the windows and counterparts it qualified in. amount_floor: the
--   lowest floor a counted payment met. An amount rule: a payment without amount_base takes no part.
--   transaction_ids: the payments of the pattern the row describes (those scattered_amount and
--   gathered_amount sum), the first {{evidence.max_transactions}} by booked_at (then id);
--   transaction_count: how many in all.
-- parameters: start_date, end_date
-- serves: IBM AMLSim ScatterGatherTypology (src/amlsim/model/aml/ScatterGatherTypology.java: originator ->
--   fan-out -> intermediaries -> fan-in -> one beneficiary); Altman et al. 2023, "Realistic Synthetic
--   Financial Transactions for Anti-Money Laundering Models" (AMLworld, NeurIPS Datasets & Benchmarks),
--   scatter-gather pattern; FATF red flags "funds transferred to several accounts and then consolidated"
--   (layering through money mules, FATF/Egmont "Money Laundering through Money Mules" 2022)
-- columns: subject_account_pid, subject_customer_pid, role, counterpart_account_pid, intermediaries,
--   scattered_amount, gathered_amount, first_at, last_at, amount_floor, qualifying_windows, transaction_ids,
--   transaction_count
-- evidence: window first_at..last_at; transactions transaction_ids; count transaction_count
WITH payments AS (
    SELECT originator_account_pid AS payer, originator_customer_pid AS payer_customer, originator_country,
           beneficiary_account_pid AS payee, beneficiary_customer_pid AS payee_customer, beneficiary_country,
           transaction_id, booked_at, amount_base AS amount
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND transaction_type IN {{scatter_gather.counterparty_types}}  -- transfers between parties: no card, no cash
      AND originator_account_pid <> beneficiary_account_pid
      AND amount_base IS NOT NULL
),
floors AS (
    SELECT segment, amount_base
    FROM segment_amounts
    WHERE percentile = {{scatter_gather.min_amount_percentile}}
),
floored AS (
    -- each side's floor: the USD one, or the side's segment percentile (never seen: the bank's "*")
    SELECT p.*,
           LEAST({{scatter_gather.min_amount}},
                 COALESCE(o.amount_base, bank.amount_base, {{scatter_gather.min_amount}})) AS payer_floor,
           LEAST({{scatter_gather.min_amount}},
                 COALESCE(b.amount_base, bank.amount_base, {{scatter_gather.min_amount}})) AS payee_floor
    FROM payments p
    LEFT JOIN floors o ON o.segment = p.originator_country
    LEFT JOIN floors b ON b.segment = p.beneficiary_country
    LEFT JOIN floors bank ON bank.segment = '*'
),
scattered AS (
    SELECT payer AS source, payer_customer AS source_customer, payee AS intermediary, transaction_id, booked_at,
           amount, payer_floor AS amount_floor
    FROM floored
    WHERE amount >= payer_floor
),
gathered AS (
    SELECT payer AS intermediary, payee AS sink, payee_customer AS sink_customer, transaction_id, booked_at, amount,
           payee_floor AS amount_floor
    FROM floored
    WHERE amount >= payee_floor
),
windows AS (
    SELECT DISTINCT source, source_customer, booked_at AS opened_at
    FROM scattered
),
legs AS (
    -- (window, intermediary, sink): the intermediary was paid by the source in the window and paid the
    -- sink afterwards, still in the window
    SELECT w.source, w.source_customer, w.opened_at, s.intermediary, g.sink, g.sink_customer,
           MIN(s.booked_at) AS first_in, MAX(g.booked_at) AS last_out
    FROM windows w
    JOIN scattered s
      ON s.source = w.source AND s.booked_at >= w.opened_at
     AND s.booked_at <= date_add('day', {{scatter_gather.window_days}}, w.opened_at)
    JOIN gathered g
      ON g.intermediary = s.intermediary AND g.booked_at > s.booked_at
     AND g.booked_at <= date_add('day', {{scatter_gather.window_days}}, w.opened_at)
    WHERE g.sink <> w.source
    GROUP BY w.source, w.source_customer, w.opened_at, s.intermediary, g.sink, g.sink_customer
),
legs_in AS (
    SELECT l.source, l.opened_at, l.intermediary, l.sink, SUM(s.amount) AS amount, MIN(s.amount_floor) AS amount_floor
    FROM legs l
    JOIN scattered s
      ON s.source = l.source AND s.intermediary = l.intermediary
     AND s.booked_at >= l.opened_at AND s.booked_at < l.last_out
    GROUP BY l.source, l.opened_at, l.intermediary, l.sink
),
legs_out AS (
    SELECT l.source, l.opened_at, l.intermediary, l.sink, SUM(g.amount) AS amount, MIN(g.amount_floor) AS amount_floor
    FROM legs l
    JOIN gathered g
      ON g.intermediary = l.intermediary AND g.sink = l.sink
     AND g.booked_at > l.first_in
     AND g.booked_at <= date_add('day', {{scatter_gather.window_days}}, l.opened_at)
    GROUP BY l.source, l.opened_at, l.intermediary, l.sink
),
patterns AS (
    SELECT l.source, l.source_customer, l.sink, l.sink_customer, l.opened_at,
           COUNT(*) AS intermediaries, SUM(i.amount) AS scattered_amount, SUM(o.amount) AS gathered_amount,
           MIN(l.first_in) AS first_at, MAX(l.last_out) AS last_at,
           LEAST(MIN(i.amount_floor), MIN(o.amount_floor)) AS amount_floor
    FROM legs l
    JOIN legs_in i
      ON i.source = l.source AND i.opened_at = l.opened_at AND i.intermediary = l.intermediary AND i.sink = l.sink
    JOIN legs_out o
      ON o.source = l.source AND o.opened_at = l.opened_at AND o.intermediary = l.intermediary AND o.sink = l.sink
    GROUP BY l.source, l.source_customer, l.sink, l.sink_customer, l.opened_at
    HAVING COUNT(*) >= {{scatter_gather.min_intermediaries}}
       AND SUM(o.amount) >= {{scatter_gather.min_gathered_ratio}} * SUM(i.amount)
),
subjects AS (
    SELECT source AS account_pid, source_customer AS customer_pid, 'source' AS role, sink AS counterpart,
           intermediaries, scattered_amount, gathered_amount, first_at, last_at, amount_floor, source, sink, opened_at
    FROM patterns
    WHERE source_customer IS NOT NULL
    UNION ALL
    SELECT sink, sink_customer, 'sink', source, intermediaries, scattered_amount, gathered_amount, first_at,
           last_at, amount_floor, source, sink, opened_at
    FROM patterns
    WHERE sink_customer IS NOT NULL
),
ranked AS (
    SELECT s.*,
           ROW_NUMBER() OVER (PARTITION BY account_pid, role
                              ORDER BY intermediaries DESC, gathered_amount DESC, first_at, counterpart) AS rank_in_subject,
           COUNT(*) OVER (PARTITION BY account_pid, role) AS qualifying_windows
    FROM subjects s
),
reported AS (
    SELECT * FROM ranked WHERE rank_in_subject = 1
),
reported_legs AS (
    -- the legs of each pattern a row describes
    SELECT l.*
    FROM (SELECT DISTINCT source, sink, opened_at FROM reported) r
    JOIN legs l ON l.source = r.source AND l.sink = r.sink AND l.opened_at = r.opened_at
),
members AS (
    -- the evidence: the payments legs_in and legs_out sum for those legs, once
    SELECT l.source, l.sink, l.opened_at, s.transaction_id, s.booked_at
    FROM reported_legs l
    JOIN scattered s
      ON s.source = l.source AND s.intermediary = l.intermediary
     AND s.booked_at >= l.opened_at AND s.booked_at < l.last_out
    UNION
    SELECT l.source, l.sink, l.opened_at, g.transaction_id, g.booked_at
    FROM reported_legs l
    JOIN gathered g
      ON g.intermediary = l.intermediary AND g.sink = l.sink
     AND g.booked_at > l.first_in
     AND g.booked_at <= date_add('day', {{scatter_gather.window_days}}, l.opened_at)
),
evidence AS (
    SELECT source, sink, opened_at,
           {{evidence.list}}
    FROM members
    GROUP BY source, sink, opened_at
)
SELECT r.account_pid AS subject_account_pid, r.customer_pid AS subject_customer_pid, r.role,
       r.counterpart AS counterpart_account_pid, r.intermediaries, r.scattered_amount, r.gathered_amount, r.first_at,
       r.last_at, r.amount_floor, r.qualifying_windows, e.transaction_ids, e.transaction_count
FROM reported r
JOIN evidence e ON e.source = r.source AND e.sink = r.sink AND e.opened_at = r.opened_at
ORDER BY gathered_amount DESC, subject_account_pid, role
