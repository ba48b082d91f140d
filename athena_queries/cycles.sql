-- name: cycles
-- description: Round trips: funds leave one of the bank's accounts and come back to it through
--   {{cycles.min_hops}} to {{cycles.max_hops}} transfers between distinct accounts, each later than
--   the one before, all within {{cycles.window_days}} days of the first, every hop from
--   {{cycles.min_amount}} USD, or the segment's p{{cycles.min_amount_percentile}} where lower. Amounts:
--   with redrawn_amounts ({{cycles.redrawn_amounts}}) a cycle qualifies whatever its hops' amounts
--   (a laundering cycle may re-draw the amount at each hop, fees and splits aside); without it every hop (the return
--   included) must stay within {{cycles.amount_tolerance}} of the amount sent. amount_pattern says which:
--   'kept' (every hop within the tolerance of the first) or 'redrawn'. A hop's segment is the country
--   of the account paying it (originator_country; none: the whole bank "*"): every account of a cycle
--   is both paid and paying, and the payer's side is the one the hop leaves; its percentile is read
--   from the `segment_amounts` statistics (aml_contract.segments); nothing published: the USD floor.
--   amount_floor: the floor the first transfer met (each hop meets its own). transaction_ids: every hop
--   of the cycle in order, from first_transaction_id to return_transaction_id (transaction_count = hops,
--   at most {{cycles.max_hops}}: under the {{evidence.max_transactions}} every scenario caps its list at).
--   Written as explicit self-joins (one per hop), portable to Trino and DuckDB alike; the join stays bounded without the
--   amount condition by what defines a cycle: distinct accounts, each hop later than the one before
--   and inside the window of the first; a fourth hop is kept only when it closes the cycle or reaches an
--   account that pays the origin, and the fifth only when it returns to the origin.
--   An amount rule: a transfer without amount_base (no FX rate) cannot be floored and takes no part.
-- parameters: start_date, end_date
-- serves: FATF red flag "circular transactions / round-tripping" (layering, trade-based laundering,
--   loan-back); Wolfsberg transaction monitoring guidance; the cycle pattern of IBM AMLSim
--   (CycleTypology) and of Altman et al. 2023, "Realistic Synthetic Financial Transactions for
--   Anti-Money Laundering Models" (AMLworld, NeurIPS Datasets & Benchmarks)
-- columns: subject_account_pid, subject_customer_pid, hops, first_transaction_id, return_transaction_id,
--   sent_at, returned_at, sent_amount, returned_amount, via_account_pids, amount_floor, amount_pattern,
--   transaction_ids, transaction_count
-- evidence: window sent_at..returned_at; transactions transaction_ids; count transaction_count
WITH transfers AS (
    SELECT transaction_id, originator_account_pid, originator_customer_pid, originator_country,
           beneficiary_account_pid, booked_at, amount_base
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND transaction_type NOT IN ('cash_deposit', 'cash_withdrawal', 'card')
      AND originator_account_pid <> beneficiary_account_pid
      AND amount_base IS NOT NULL
),
floors AS (
    SELECT segment, amount_base
    FROM segment_amounts
    WHERE percentile = {{cycles.min_amount_percentile}}
),
floored AS (
    SELECT t.*, LEAST({{cycles.min_amount}}, COALESCE(s.amount_base, bank.amount_base, {{cycles.min_amount}}))
                    AS amount_floor
    FROM transfers t
    LEFT JOIN floors s ON s.segment = t.originator_country
    LEFT JOIN floors bank ON bank.segment = '*'
),
edges AS (
    SELECT transaction_id, originator_account_pid AS src, originator_customer_pid AS src_customer,
           beneficiary_account_pid AS dst, booked_at, amount_base AS amount, amount_floor
    FROM floored
    WHERE amount_base >= amount_floor
),
returns AS (
    -- (account, origin): the account pays the origin directly. A path still open after its fourth hop
    -- closes only through such an account: the rest are cut there (the join's largest step)
    SELECT DISTINCT src AS node, dst AS origin
    FROM edges
),
hop1 AS (
    SELECT src AS origin, src_customer AS origin_customer, transaction_id AS first_tx, booked_at AS sent_at,
           amount AS sent_amount, amount_floor AS sent_floor, dst AS n1, dst AS last_node, booked_at AS last_at,
           transaction_id AS last_tx, amount AS last_amount, TRUE AS kept
    FROM edges
    WHERE src_customer IS NOT NULL
),
hop2 AS (
    SELECT p.origin, p.origin_customer, p.first_tx, p.sent_at, p.sent_amount, p.sent_floor, p.n1, e.dst AS n2,
           e.transaction_id AS tx2, e.dst AS last_node, e.booked_at AS last_at, e.transaction_id AS last_tx, e.amount AS last_amount,
           p.kept AND e.amount BETWEEN (1 - {{cycles.amount_tolerance}}) * p.sent_amount
                               AND (1 + {{cycles.amount_tolerance}}) * p.sent_amount AS kept
    FROM hop1 p
    JOIN edges e
      ON e.src = p.last_node AND e.booked_at > p.last_at
     AND e.booked_at <= date_add('day', {{cycles.window_days}}, p.sent_at)
     AND ({{cycles.redrawn_amounts}} OR e.amount BETWEEN (1 - {{cycles.amount_tolerance}}) * p.sent_amount
                                                  AND (1 + {{cycles.amount_tolerance}}) * p.sent_amount)
),
hop3 AS (
    SELECT p.origin, p.origin_customer, p.first_tx, p.sent_at, p.sent_amount, p.sent_floor, p.n1, p.n2, e.dst AS n3,
           p.tx2, e.transaction_id AS tx3, e.dst AS last_node, e.booked_at AS last_at, e.transaction_id AS last_tx, e.amount AS last_amount,
           p.kept AND e.amount BETWEEN (1 - {{cycles.amount_tolerance}}) * p.sent_amount
                               AND (1 + {{cycles.amount_tolerance}}) * p.sent_amount AS kept
    FROM hop2 p
    JOIN edges e
      ON e.src = p.last_node AND e.booked_at > p.last_at
     AND e.booked_at <= date_add('day', {{cycles.window_days}}, p.sent_at)
     AND ({{cycles.redrawn_amounts}} OR e.amount BETWEEN (1 - {{cycles.amount_tolerance}}) * p.sent_amount
                                                  AND (1 + {{cycles.amount_tolerance}}) * p.sent_amount)
    WHERE p.last_node <> p.origin AND e.dst <> p.n1
),
hop4 AS (
    SELECT p.origin, p.origin_customer, p.first_tx, p.sent_at, p.sent_amount, p.sent_floor, p.n1, p.n2, p.n3, e.dst AS n4,
           p.tx2, p.tx3, e.transaction_id AS tx4, e.dst AS last_node, e.booked_at AS last_at, e.transaction_id AS last_tx, e.amount AS last_amount,
           p.kept AND e.amount BETWEEN (1 - {{cycles.amount_tolerance}}) * p.sent_amount
                               AND (1 + {{cycles.amount_tolerance}}) * p.sent_amount AS kept
    FROM hop3 p
    JOIN edges e
      ON e.src = p.last_node AND e.booked_at > p.last_at
     AND e.booked_at <= date_add('day', {{cycles.window_days}}, p.sent_at)
     AND ({{cycles.redrawn_amounts}} OR e.amount BETWEEN (1 - {{cycles.amount_tolerance}}) * p.sent_amount
                                                  AND (1 + {{cycles.amount_tolerance}}) * p.sent_amount)
    LEFT JOIN returns r ON r.node = e.dst AND r.origin = p.origin
    WHERE p.last_node <> p.origin AND e.dst NOT IN (p.n1, p.n2)
      AND (e.dst = p.origin OR r.node IS NOT NULL)  -- closed here, or one hop from closing
),
hop5 AS (
    SELECT p.origin, p.origin_customer, p.first_tx, p.sent_at, p.sent_amount, p.sent_floor, p.n1, p.n2, p.n3, p.n4,
           p.tx2, p.tx3, p.tx4, e.dst AS last_node, e.booked_at AS last_at, e.transaction_id AS last_tx, e.amount AS last_amount,
           p.kept AND e.amount BETWEEN (1 - {{cycles.amount_tolerance}}) * p.sent_amount
                               AND (1 + {{cycles.amount_tolerance}}) * p.sent_amount AS kept
    FROM hop4 p
    JOIN edges e
      ON e.src = p.last_node AND e.dst = p.origin AND e.booked_at > p.last_at  -- the last hop can only close
     AND e.booked_at <= date_add('day', {{cycles.window_days}}, p.sent_at)
     AND ({{cycles.redrawn_amounts}} OR e.amount BETWEEN (1 - {{cycles.amount_tolerance}}) * p.sent_amount
                                                  AND (1 + {{cycles.amount_tolerance}}) * p.sent_amount)
    WHERE p.last_node <> p.origin AND e.dst NOT IN (p.n1, p.n2, p.n3)
),
closed AS (
    SELECT origin, origin_customer, 2 AS hops, first_tx, last_tx, sent_at, last_at, sent_amount, sent_floor, last_amount, kept,
           n1 AS via, ARRAY[first_tx, last_tx] AS path
    FROM hop2 WHERE last_node = origin
    UNION ALL
    SELECT origin, origin_customer, 3, first_tx, last_tx, sent_at, last_at, sent_amount, sent_floor, last_amount, kept,
           concat_ws(',', n1, n2), ARRAY[first_tx, tx2, last_tx]
    FROM hop3 WHERE last_node = origin
    UNION ALL
    SELECT origin, origin_customer, 4, first_tx, last_tx, sent_at, last_at, sent_amount, sent_floor, last_amount, kept,
           concat_ws(',', n1, n2, n3), ARRAY[first_tx, tx2, tx3, last_tx]
    FROM hop4 WHERE last_node = origin
    UNION ALL
    SELECT origin, origin_customer, 5, first_tx, last_tx, sent_at, last_at, sent_amount, sent_floor, last_amount, kept,
           concat_ws(',', n1, n2, n3, n4), ARRAY[first_tx, tx2, tx3, tx4, last_tx]
    FROM hop5 WHERE last_node = origin
)
SELECT origin AS subject_account_pid, origin_customer AS subject_customer_pid, hops,
       first_tx AS first_transaction_id, last_tx AS return_transaction_id, sent_at, last_at AS returned_at,
       sent_amount, last_amount AS returned_amount, via AS via_account_pids, sent_floor AS amount_floor,
       CASE WHEN kept THEN 'kept' ELSE 'redrawn' END AS amount_pattern, path AS transaction_ids,
       CAST(hops AS BIGINT) AS transaction_count  -- a count, BIGINT as COUNT(*) is elsewhere
FROM closed
WHERE hops BETWEEN {{cycles.min_hops}} AND {{cycles.max_hops}}
ORDER BY sent_at, subject_account_pid, hops
