-- name: gather_scatter
-- description: Gather-scatter: a hub account of the bank is paid by at least {{gather_scatter.min_sources}}
--   distinct sources, then pays at least {{gather_scatter.min_destinations}} distinct destinations that are
--   not among those sources, within {{gather_scatter.window_days}} days of the first payment it gathers (the
--   window opens at each payment into the hub in turn), passing on at least
--   {{gather_scatter.min_outflow_ratio}} of what it gathered. Counted: the payments out booked after the
--   window's opening payment in, to destinations that did not pay the hub in the window (outflow_amount),
--   and the payments in booked before the window's last payment out (inflow_amount). Every payment from
--   {{gather_scatter.min_amount}} USD, or the hub's segment's p{{gather_scatter.min_amount_percentile}}
--   where lower: the segment is the country on the hub's side (beneficiary_country of a payment in,
--   originator_country of a payment out, as aml_contract.segments defines the account's side; none: the
--   whole bank "*"; nothing published: the USD floor). One row per hub, describing its window with the
--   most destinations (then sources, then outflow); qualifying_windows counts its windows. amount_floor:
--   the lowest floor a counted payment met. An amount rule: a payment without amount_base takes no part.
--   transaction_ids: the payments of the window the row describes (those inflow_amount and
--   outflow_amount sum), the first {{evidence.max_transactions}} by booked_at (then id);
--   transaction_count: how many in all.
-- parameters: start_date, end_date
-- serves: IBM AMLSim GatherScatterTypology (src/amlsim/model/aml/GatherScatterTypology.java: several
--   accounts -> fan-in -> main account -> fan-out -> several accounts, the fan-out after the fan-in);
--   Altman et al. 2023, "Realistic Synthetic Financial Transactions for Anti-Money Laundering Models"
--   (AMLworld, NeurIPS Datasets & Benchmarks), gather-scatter pattern; FinCEN funnel-account advisory
--   (FIN-2014-A005); FATF red flag "funds received from several parties and sent on to others"
-- columns: subject_account_pid, subject_customer_pid, sources, destinations, inflow_amount, outflow_amount,
--   first_at, last_at, amount_floor, qualifying_windows, transaction_ids, transaction_count
-- evidence: window first_at..last_at; transactions transaction_ids; count transaction_count
WITH payments AS (
    SELECT originator_account_pid AS payer, originator_customer_pid AS payer_customer, originator_country,
           beneficiary_account_pid AS payee, beneficiary_customer_pid AS payee_customer, beneficiary_country,
           transaction_id, booked_at, amount_base AS amount
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND transaction_type IN {{gather_scatter.counterparty_types}}  -- transfers between parties: no card, no cash
      AND originator_account_pid <> beneficiary_account_pid
      AND amount_base IS NOT NULL
      AND (originator_customer_pid IS NOT NULL OR beneficiary_customer_pid IS NOT NULL)
),
floors AS (
    SELECT segment, amount_base
    FROM segment_amounts
    WHERE percentile = {{gather_scatter.min_amount_percentile}}
),
inflows AS (
    SELECT p.payee AS hub, p.payee_customer AS hub_customer, p.payer AS source, p.transaction_id, p.booked_at,
           p.amount,
           LEAST({{gather_scatter.min_amount}},
                 COALESCE(s.amount_base, bank.amount_base, {{gather_scatter.min_amount}})) AS amount_floor
    FROM payments p
    LEFT JOIN floors s ON s.segment = p.beneficiary_country
    LEFT JOIN floors bank ON bank.segment = '*'
    WHERE p.payee_customer IS NOT NULL
),
outflows AS (
    SELECT p.payer AS hub, p.payee AS destination, p.transaction_id, p.booked_at, p.amount,
           LEAST({{gather_scatter.min_amount}},
                 COALESCE(s.amount_base, bank.amount_base, {{gather_scatter.min_amount}})) AS amount_floor
    FROM payments p
    LEFT JOIN floors s ON s.segment = p.originator_country
    LEFT JOIN floors bank ON bank.segment = '*'
    WHERE p.payer_customer IS NOT NULL
),
gathered AS (
    SELECT * FROM inflows WHERE amount >= amount_floor
),
scattered AS (
    SELECT * FROM outflows WHERE amount >= amount_floor
),
windows AS (
    SELECT DISTINCT hub, hub_customer, booked_at AS opened_at
    FROM gathered
),
window_in AS (
    SELECT w.hub, w.hub_customer, w.opened_at, g.source, g.transaction_id, g.booked_at, g.amount, g.amount_floor
    FROM windows w
    JOIN gathered g
      ON g.hub = w.hub AND g.booked_at >= w.opened_at
     AND g.booked_at <= date_add('day', {{gather_scatter.window_days}}, w.opened_at)
),
window_sources AS (
    SELECT DISTINCT hub, opened_at, source FROM window_in
),
window_out AS (
    SELECT w.hub, w.opened_at, s.destination, s.transaction_id, s.booked_at, s.amount, s.amount_floor
    FROM windows w
    JOIN scattered s
      ON s.hub = w.hub AND s.booked_at > w.opened_at
     AND s.booked_at <= date_add('day', {{gather_scatter.window_days}}, w.opened_at)
    LEFT JOIN window_sources ws
      ON ws.hub = w.hub AND ws.opened_at = w.opened_at AND ws.source = s.destination
    WHERE ws.source IS NULL  -- a destination that also paid the hub is a counterparty, not a scatter
),
out_sums AS (
    SELECT hub, opened_at, COUNT(DISTINCT destination) AS destinations, SUM(amount) AS outflow_amount,
           MAX(booked_at) AS last_at, MIN(amount_floor) AS amount_floor
    FROM window_out
    GROUP BY hub, opened_at
    HAVING COUNT(DISTINCT destination) >= {{gather_scatter.min_destinations}}
),
in_sums AS (
    SELECT i.hub, i.hub_customer, i.opened_at, COUNT(DISTINCT i.source) AS sources, SUM(i.amount) AS inflow_amount,
           MIN(i.amount_floor) AS amount_floor
    FROM window_in i
    JOIN out_sums o ON o.hub = i.hub AND o.opened_at = i.opened_at AND i.booked_at < o.last_at
    GROUP BY i.hub, i.hub_customer, i.opened_at
    HAVING COUNT(DISTINCT i.source) >= {{gather_scatter.min_sources}}
),
patterns AS (
    SELECT i.hub, i.hub_customer, i.opened_at, i.sources, o.destinations, i.inflow_amount, o.outflow_amount,
           o.last_at, LEAST(i.amount_floor, o.amount_floor) AS amount_floor
    FROM in_sums i
    JOIN out_sums o ON o.hub = i.hub AND o.opened_at = i.opened_at
    WHERE o.outflow_amount >= {{gather_scatter.min_outflow_ratio}} * i.inflow_amount
),
ranked AS (
    SELECT p.*,
           ROW_NUMBER() OVER (PARTITION BY hub
                              ORDER BY destinations DESC, sources DESC, outflow_amount DESC, opened_at) AS rank_in_hub,
           COUNT(*) OVER (PARTITION BY hub) AS qualifying_windows
    FROM patterns p
),
reported AS (
    SELECT * FROM ranked WHERE rank_in_hub = 1
),
members AS (
    -- the evidence: the payments in that in_sums counts and those out that out_sums counts, once
    SELECT r.hub, i.transaction_id, i.booked_at
    FROM reported r
    JOIN window_in i ON i.hub = r.hub AND i.opened_at = r.opened_at AND i.booked_at < r.last_at
    UNION
    SELECT r.hub, o.transaction_id, o.booked_at
    FROM reported r
    JOIN window_out o ON o.hub = r.hub AND o.opened_at = r.opened_at
),
evidence AS (
    SELECT hub,
           {{evidence.list}}
    FROM members
    GROUP BY hub
)
SELECT r.hub AS subject_account_pid, r.hub_customer AS subject_customer_pid, r.sources, r.destinations,
       r.inflow_amount, r.outflow_amount, r.opened_at AS first_at, r.last_at, r.amount_floor, r.qualifying_windows,
       e.transaction_ids, e.transaction_count
FROM reported r
JOIN evidence e ON e.hub = r.hub
ORDER BY outflow_amount DESC, subject_account_pid
