-- name: fan_in_layered
-- description: Fan-in over two hops: an account of the bank (the collector) is paid, within
--   {{fan_in_layered.window_days}} days, by at least {{fan_in_layered.min_intermediaries}} distinct
--   intermediary accounts, each of which had itself collected from at least
--   {{fan_in_layered.min_sources}} distinct sources (the collector excluded) before its payment to the
--   collector. A window is anchored on each payment from a source to an intermediary and covers the
--   payments booked from then to less than window_days later; a source's payment counts for an
--   intermediary that pays the collector after it within the window. Every payment counted is from
--   {{fan_in_layered.min_amount}} USD, or the segment's p{{fan_in_layered.min_amount_percentile}} where
--   lower, of a type in {{fan_in_layered.counterparty_types}}. A payment's segment is the country of the
--   account receiving it (beneficiary_country; none: the whole bank "*"): the collector's for the
--   intermediaries' payments, as fan_in's, the intermediary's for the sources'; its percentile read from
--   the `segment_amounts` statistics (aml_contract.segments); nothing published: the USD floor.
--   One row per collector, summarising every qualifying window: max_intermediaries (the most counted in
--   one), max_sources_per_intermediary (the most distinct sources behind one counted intermediary),
--   last_window_end (the latest counted payment to the collector), amount_floor (the lowest floor a
--   counted payment met). An amount rule: a payment without amount_base (no FX rate) takes no part.
--   transaction_ids: the payments counted in every qualifying window (the sources' to the counted
--   intermediaries, theirs to the collector), the first {{evidence.max_transactions}} by booked_at (then
--   id); transaction_count: how many in all.
-- parameters: start_date, end_date
-- serves: the fan-in pattern of Altman et al. 2023, "Realistic Synthetic Financial Transactions for
--   Anti-Money Laundering Models" (NeurIPS Datasets and Benchmarks) and of IBM AMLSim, two layers deep
--   (a fan-in whose payers are fan-ins themselves); FinCEN funnel-account advisory (FIN-2014-A005);
--   FATF layering red flags (funds collected through several accounts with no apparent purpose)
-- columns: subject_account_pid, subject_customer_pid, first_window_start, last_window_end,
--   max_intermediaries, max_sources_per_intermediary, qualifying_windows, amount_floor, transaction_ids,
--   transaction_count
-- evidence: window first_window_start..last_window_end; transactions transaction_ids; count transaction_count
WITH transfers AS (
    SELECT transaction_id, originator_account_pid AS src, beneficiary_account_pid AS dst,
           beneficiary_customer_pid AS dst_customer, beneficiary_country, booked_at, amount_base
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND originator_account_pid <> beneficiary_account_pid
      AND transaction_type IN {{fan_in_layered.counterparty_types}}  -- transfers between parties: no card, no cash
      AND amount_base IS NOT NULL
),
floors AS (
    SELECT segment, amount_base
    FROM segment_amounts
    WHERE percentile = {{fan_in_layered.min_amount_percentile}}
),
floored AS (
    SELECT t.*, LEAST({{fan_in_layered.min_amount}},
                      COALESCE(s.amount_base, bank.amount_base, {{fan_in_layered.min_amount}})) AS amount_floor
    FROM transfers t
    LEFT JOIN floors s ON s.segment = t.beneficiary_country
    LEFT JOIN floors bank ON bank.segment = '*'
),
edges AS (
    SELECT * FROM floored WHERE amount_base >= amount_floor
),
feeds AS (
    -- a source's payment to an intermediary, then the intermediary's to the collector, within the window
    SELECT paid.dst AS collector, paid.dst_customer AS collector_customer, paid.src AS intermediary,
           fed.src AS source, fed.booked_at AS fed_at, paid.booked_at AS paid_at, fed.transaction_id AS fed_tx,
           paid.transaction_id AS paid_tx,
           LEAST(fed.amount_floor, paid.amount_floor) AS amount_floor
    FROM edges paid
    JOIN edges fed
      ON fed.dst = paid.src
     AND fed.src <> paid.dst
     AND fed.booked_at < paid.booked_at
     AND paid.booked_at < date_add('day', {{fan_in_layered.window_days}}, fed.booked_at)
    WHERE paid.dst_customer IS NOT NULL
),
anchors AS (
    SELECT DISTINCT collector, fed_at AS window_start FROM feeds
),
intermediaries AS (
    -- per window, each intermediary that collected from enough sources before paying the collector
    SELECT a.collector, a.window_start, f.intermediary, MAX(f.collector_customer) AS collector_customer,
           COUNT(DISTINCT f.source) AS sources, MAX(f.paid_at) AS last_paid_at, MIN(f.amount_floor) AS amount_floor
    FROM anchors a
    JOIN feeds f
      ON f.collector = a.collector
     AND f.fed_at >= a.window_start
     AND f.paid_at < date_add('day', {{fan_in_layered.window_days}}, a.window_start)
    GROUP BY a.collector, a.window_start, f.intermediary
    HAVING COUNT(DISTINCT f.source) >= {{fan_in_layered.min_sources}}
),
windows AS (
    SELECT collector, MAX(collector_customer) AS collector_customer, window_start, MAX(last_paid_at) AS window_end,
           COUNT(*) AS intermediary_count, MAX(sources) AS most_sources, MIN(amount_floor) AS lowest_floor
    FROM intermediaries
    GROUP BY collector, window_start
    HAVING COUNT(*) >= {{fan_in_layered.min_intermediaries}}
),
hits AS (
    SELECT collector, MAX(collector_customer) AS collector_customer,
           MIN(window_start) AS first_window_start, MAX(window_end) AS last_window_end,
           MAX(intermediary_count) AS max_intermediaries, MAX(most_sources) AS max_sources_per_intermediary,
           COUNT(*) AS qualifying_windows, MIN(lowest_floor) AS amount_floor
    FROM windows
    GROUP BY collector
),
counted AS (
    -- the feeds of each counted intermediary of a qualifying window
    SELECT f.collector, f.fed_tx, f.fed_at, f.paid_tx, f.paid_at
    FROM windows w
    JOIN intermediaries i ON i.collector = w.collector AND i.window_start = w.window_start
    JOIN feeds f
      ON f.collector = i.collector AND f.intermediary = i.intermediary
     AND f.fed_at >= i.window_start
     AND f.paid_at < date_add('day', {{fan_in_layered.window_days}}, i.window_start)
),
members AS (
    -- the evidence: both payments of every counted feed, once
    SELECT collector AS account_pid, fed_tx AS transaction_id, fed_at AS booked_at FROM counted
    UNION
    SELECT collector, paid_tx, paid_at FROM counted
),
evidence AS (
    SELECT account_pid,
           {{evidence.list}}
    FROM members
    GROUP BY account_pid
)
SELECT h.collector AS subject_account_pid, h.collector_customer AS subject_customer_pid, h.first_window_start,
       h.last_window_end, h.max_intermediaries, h.max_sources_per_intermediary, h.qualifying_windows,
       h.amount_floor, e.transaction_ids, e.transaction_count
FROM hits h
JOIN evidence e ON e.account_pid = h.collector
ORDER BY max_intermediaries DESC, subject_account_pid
