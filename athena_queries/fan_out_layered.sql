-- name: fan_out_layered
-- description: Fan-out over two hops: an account of the bank (the payer) pays, within
--   {{fan_out_layered.window_days}} days, at least {{fan_out_layered.min_intermediaries}} distinct
--   intermediary accounts, each of which then pays at least {{fan_out_layered.min_destinations}}
--   distinct destinations (the payer excluded) after the payer's payment to it. A window is anchored on
--   each payment from the payer to an intermediary and covers the payments booked from then to less
--   than window_days later; an intermediary's payment counts when it follows one from the payer to it
--   within the window. Every payment counted is from {{fan_out_layered.min_amount}} USD, or the segment's
--   p{{fan_out_layered.min_amount_percentile}} where lower, of a type in
--   {{fan_out_layered.counterparty_types}}. A payment's segment is the country of the account paying it
--   (originator_country; none: the whole bank "*"): the payer's for its payments, as fan_out's, the
--   intermediary's for the onward ones; its percentile read from the `segment_amounts` statistics
--   (aml_contract.segments); nothing published: the USD floor. One row per payer, summarising every
--   qualifying window: max_intermediaries (the most counted in one), max_destinations_per_intermediary
--   (the most distinct destinations after one counted intermediary), last_window_end (the latest counted
--   onward payment), amount_floor (the lowest floor a counted payment met). An amount rule: a payment
--   without amount_base (no FX rate) takes no part. transaction_ids: the payments counted in every
--   qualifying window (the payer's to the counted intermediaries, theirs onward), the first
--   {{evidence.max_transactions}} by booked_at (then id); transaction_count: how many in all.
-- parameters: start_date, end_date
-- serves: the fan-out pattern of Altman et al. 2023, "Realistic Synthetic Financial Transactions for
--   Anti-Money Laundering Models" (NeurIPS Datasets and Benchmarks) and of IBM AMLSim, two layers deep
--   (a fan-out whose payees are fan-outs themselves); FATF layering red flags (funds dispersed through
--   several accounts with no apparent purpose); FFIEC BSA-AML manual, layering
-- columns: subject_account_pid, subject_customer_pid, first_window_start, last_window_end,
--   max_intermediaries, max_destinations_per_intermediary, qualifying_windows, amount_floor, transaction_ids,
--   transaction_count
-- evidence: window first_window_start..last_window_end; transactions transaction_ids; count transaction_count
WITH transfers AS (
    SELECT transaction_id, originator_account_pid AS src, originator_customer_pid AS src_customer,
           beneficiary_account_pid AS dst, originator_country, booked_at, amount_base
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND originator_account_pid <> beneficiary_account_pid
      AND transaction_type IN {{fan_out_layered.counterparty_types}}  -- transfers between parties: no card, no cash
      AND amount_base IS NOT NULL
),
floors AS (
    SELECT segment, amount_base
    FROM segment_amounts
    WHERE percentile = {{fan_out_layered.min_amount_percentile}}
),
floored AS (
    SELECT t.*, LEAST({{fan_out_layered.min_amount}},
                      COALESCE(s.amount_base, bank.amount_base, {{fan_out_layered.min_amount}})) AS amount_floor
    FROM transfers t
    LEFT JOIN floors s ON s.segment = t.originator_country
    LEFT JOIN floors bank ON bank.segment = '*'
),
edges AS (
    SELECT * FROM floored WHERE amount_base >= amount_floor
),
spreads AS (
    -- the payer's payment to an intermediary, then the intermediary's onward one, within the window
    SELECT paid.src AS payer, paid.src_customer AS payer_customer, paid.dst AS intermediary,
           onward.dst AS destination, paid.booked_at AS paid_at, onward.booked_at AS onward_at,
           paid.transaction_id AS paid_tx, onward.transaction_id AS onward_tx,
           LEAST(paid.amount_floor, onward.amount_floor) AS amount_floor
    FROM edges paid
    JOIN edges onward
      ON onward.src = paid.dst
     AND onward.dst <> paid.src
     AND onward.booked_at > paid.booked_at
     AND onward.booked_at < date_add('day', {{fan_out_layered.window_days}}, paid.booked_at)
    WHERE paid.src_customer IS NOT NULL
),
anchors AS (
    SELECT DISTINCT payer, paid_at AS window_start FROM spreads
),
intermediaries AS (
    -- per window, each intermediary that paid enough destinations after the payer paid it
    SELECT a.payer, a.window_start, s.intermediary, MAX(s.payer_customer) AS payer_customer,
           COUNT(DISTINCT s.destination) AS destinations, MAX(s.onward_at) AS last_onward_at,
           MIN(s.amount_floor) AS amount_floor
    FROM anchors a
    JOIN spreads s
      ON s.payer = a.payer
     AND s.paid_at >= a.window_start
     AND s.onward_at < date_add('day', {{fan_out_layered.window_days}}, a.window_start)
    GROUP BY a.payer, a.window_start, s.intermediary
    HAVING COUNT(DISTINCT s.destination) >= {{fan_out_layered.min_destinations}}
),
windows AS (
    SELECT payer, MAX(payer_customer) AS payer_customer, window_start, MAX(last_onward_at) AS window_end,
           COUNT(*) AS intermediary_count, MAX(destinations) AS most_destinations, MIN(amount_floor) AS lowest_floor
    FROM intermediaries
    GROUP BY payer, window_start
    HAVING COUNT(*) >= {{fan_out_layered.min_intermediaries}}
),
hits AS (
    SELECT payer, MAX(payer_customer) AS payer_customer,
           MIN(window_start) AS first_window_start, MAX(window_end) AS last_window_end,
           MAX(intermediary_count) AS max_intermediaries, MAX(most_destinations) AS max_destinations_per_intermediary,
           COUNT(*) AS qualifying_windows, MIN(lowest_floor) AS amount_floor
    FROM windows
    GROUP BY payer
),
counted AS (
    -- the spreads of each counted intermediary of a qualifying window
    SELECT s.payer, s.paid_tx, s.paid_at, s.onward_tx, s.onward_at
    FROM windows w
    JOIN intermediaries i ON i.payer = w.payer AND i.window_start = w.window_start
    JOIN spreads s
      ON s.payer = i.payer AND s.intermediary = i.intermediary
     AND s.paid_at >= i.window_start
     AND s.onward_at < date_add('day', {{fan_out_layered.window_days}}, i.window_start)
),
members AS (
    -- the evidence: both payments of every counted spread, once
    SELECT payer AS account_pid, paid_tx AS transaction_id, paid_at AS booked_at FROM counted
    UNION
    SELECT payer, onward_tx, onward_at FROM counted
),
evidence AS (
    SELECT account_pid,
           {{evidence.list}}
    FROM members
    GROUP BY account_pid
)
SELECT h.payer AS subject_account_pid, h.payer_customer AS subject_customer_pid, h.first_window_start,
       h.last_window_end, h.max_intermediaries, h.max_destinations_per_intermediary, h.qualifying_windows,
       h.amount_floor, e.transaction_ids, e.transaction_count
FROM hits h
JOIN evidence e ON e.account_pid = h.payer
ORDER BY max_intermediaries DESC, subject_account_pid
