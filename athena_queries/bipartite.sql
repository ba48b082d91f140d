-- name: bipartite
-- description: Bipartite flow: within {{bipartite.window_days}} days, a group of at least
--   {{bipartite.min_originators}} originators and {{bipartite.min_beneficiaries}} beneficiaries in which every
--   originator paid at least {{bipartite.min_links_per_account}} of the group's beneficiaries and every
--   beneficiary was paid by at least {{bipartite.min_links_per_account}} of the group's originators (a link:
--   one or more payments from the originator to the beneficiary in the window). Which groups are found (an
--   approximation of every such group, stated exactly): each window opens at a payment into a seed
--   beneficiary and lasts window_days; its candidate originators are the seed's payers in the window
--   (co-payers of the seed); candidate beneficiaries are those paid by at least min_links_per_account of
--   them; originators with fewer links to the candidates are dropped, then beneficiaries with fewer links to
--   the remaining originators, then originators again, and the group is reported only when that settles:
--   every beneficiary left still has its links to the originators left. So the reported group meets the
--   definition exactly; a group none of whose beneficiaries is paid by all of its originators, or that needs
--   more rounds to settle, is not found (AMLSim's bipartite, every originator paying every beneficiary,
--   always is; with 2 links per account a group of 2 or more originators always settles, as only the seed
--   can lose links in the last round and every originator left pays it). Every payment from {{bipartite.min_amount}} USD, or its segment's
--   p{{bipartite.min_amount_percentile}} where lower; a payment's segment is the country of the account
--   paying it (originator_country; none: the whole bank "*"; nothing published: the USD floor): both ends
--   are subjects, and as in cycles the payer's side is the one the payment leaves. One row per subject:
--   every originator (role 'originator') and beneficiary (role 'beneficiary') of a group that is one of the
--   bank's accounts, describing its largest group (most links, then amount); links: the subject's own links
--   in it; seed_account_pid: the seed beneficiary naming the group; qualifying_windows counts the windows it
--   was in a group. amount_floor: the lowest floor a payment of the group met. An amount rule: a payment
--   without amount_base takes no part. transaction_ids: the payments of the group the row describes
--   (every link's, those group_amount sums), the first {{evidence.max_transactions}} by booked_at (then
--   id); transaction_count: how many in all.
-- parameters: start_date, end_date
-- serves: IBM AMLSim BipartiteTypology (src/amlsim/model/aml/BipartiteTypology.java: a set of originators
--   each paying each of a set of beneficiaries); Altman et al. 2023, "Realistic Synthetic Financial
--   Transactions for Anti-Money Laundering Models" (AMLworld, NeurIPS Datasets & Benchmarks), bipartite
--   pattern; FATF red flag "transactions between a group of accounts with no apparent business purpose"
--   (layering through networks of money-mule accounts, FATF/Egmont "Money Laundering through Money Mules" 2022)
-- columns: subject_account_pid, subject_customer_pid, role, seed_account_pid, originators, beneficiaries,
--   group_links, links, group_amount, first_at, last_at, amount_floor, qualifying_windows, transaction_ids,
--   transaction_count
-- evidence: window first_at..last_at; transactions transaction_ids; count transaction_count
WITH payments AS (
    SELECT originator_account_pid AS originator, originator_customer_pid AS originator_customer, originator_country,
           beneficiary_account_pid AS beneficiary, beneficiary_customer_pid AS beneficiary_customer,
           transaction_id, booked_at, amount_base AS amount
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND transaction_type IN {{bipartite.counterparty_types}}  -- transfers between parties: no card, no cash
      AND originator_account_pid <> beneficiary_account_pid
      AND amount_base IS NOT NULL
),
floors AS (
    SELECT segment, amount_base
    FROM segment_amounts
    WHERE percentile = {{bipartite.min_amount_percentile}}
),
floored AS (
    SELECT p.*,
           LEAST({{bipartite.min_amount}}, COALESCE(s.amount_base, bank.amount_base, {{bipartite.min_amount}}))
               AS amount_floor
    FROM payments p
    LEFT JOIN floors s ON s.segment = p.originator_country
    LEFT JOIN floors bank ON bank.segment = '*'
),
paid AS (
    SELECT * FROM floored WHERE amount >= amount_floor
),
windows AS (
    SELECT DISTINCT beneficiary AS seed, booked_at AS opened_at
    FROM paid
),
candidates AS (
    -- the seed's payers in the window
    SELECT DISTINCT w.seed, w.opened_at, p.originator
    FROM windows w
    JOIN paid p
      ON p.beneficiary = w.seed AND p.booked_at >= w.opened_at
     AND p.booked_at <= date_add('day', {{bipartite.window_days}}, w.opened_at)
),
window_links AS (
    -- every link of a candidate originator in the window
    SELECT DISTINCT c.seed, c.opened_at, c.originator, p.beneficiary
    FROM candidates c
    JOIN paid p
      ON p.originator = c.originator AND p.booked_at >= c.opened_at
     AND p.booked_at <= date_add('day', {{bipartite.window_days}}, c.opened_at)
),
beneficiaries_1 AS (
    SELECT seed, opened_at, beneficiary
    FROM window_links
    GROUP BY seed, opened_at, beneficiary
    HAVING COUNT(*) >= {{bipartite.min_links_per_account}}
),
originators_1 AS (
    SELECT l.seed, l.opened_at, l.originator
    FROM window_links l
    JOIN beneficiaries_1 b ON b.seed = l.seed AND b.opened_at = l.opened_at AND b.beneficiary = l.beneficiary
    GROUP BY l.seed, l.opened_at, l.originator
    HAVING COUNT(*) >= {{bipartite.min_links_per_account}}
),
links_1 AS (
    SELECT l.*
    FROM window_links l
    JOIN beneficiaries_1 b ON b.seed = l.seed AND b.opened_at = l.opened_at AND b.beneficiary = l.beneficiary
    JOIN originators_1 o ON o.seed = l.seed AND o.opened_at = l.opened_at AND o.originator = l.originator
),
beneficiaries_2 AS (
    SELECT seed, opened_at, beneficiary
    FROM links_1
    GROUP BY seed, opened_at, beneficiary
    HAVING COUNT(*) >= {{bipartite.min_links_per_account}}
),
originators_2 AS (
    SELECT l.seed, l.opened_at, l.originator
    FROM links_1 l
    JOIN beneficiaries_2 b ON b.seed = l.seed AND b.opened_at = l.opened_at AND b.beneficiary = l.beneficiary
    GROUP BY l.seed, l.opened_at, l.originator
    HAVING COUNT(*) >= {{bipartite.min_links_per_account}}
),
group_links AS (
    SELECT l.*
    FROM links_1 l
    JOIN beneficiaries_2 b ON b.seed = l.seed AND b.opened_at = l.opened_at AND b.beneficiary = l.beneficiary
    JOIN originators_2 o ON o.seed = l.seed AND o.opened_at = l.opened_at AND o.originator = l.originator
),
beneficiaries_3 AS (
    -- a third round: the beneficiaries that keep their links to the originators left
    SELECT seed, opened_at, beneficiary
    FROM group_links
    GROUP BY seed, opened_at, beneficiary
    HAVING COUNT(*) >= {{bipartite.min_links_per_account}}
),
settled AS (
    -- windows where the third round drops no beneficiary: every member meets its condition in the group
    SELECT b2.seed, b2.opened_at
    FROM beneficiaries_2 b2
    LEFT JOIN beneficiaries_3 b3 ON b3.seed = b2.seed AND b3.opened_at = b2.opened_at AND b3.beneficiary = b2.beneficiary
    GROUP BY b2.seed, b2.opened_at
    HAVING COUNT(*) = COUNT(b3.beneficiary)
),
groups AS (
    SELECT g.seed, g.opened_at, COUNT(DISTINCT g.originator) AS originators,
           COUNT(DISTINCT g.beneficiary) AS beneficiaries, COUNT(*) AS group_links
    FROM group_links g
    JOIN settled s ON s.seed = g.seed AND s.opened_at = g.opened_at
    GROUP BY g.seed, g.opened_at
    HAVING COUNT(DISTINCT g.originator) >= {{bipartite.min_originators}}
       AND COUNT(DISTINCT g.beneficiary) >= {{bipartite.min_beneficiaries}}
),
group_payments AS (
    SELECT g.seed, g.opened_at, p.originator, p.originator_customer, p.beneficiary, p.beneficiary_customer,
           p.transaction_id, p.booked_at, p.amount, p.amount_floor
    FROM groups g
    JOIN group_links l ON l.seed = g.seed AND l.opened_at = g.opened_at
    JOIN paid p
      ON p.originator = l.originator AND p.beneficiary = l.beneficiary AND p.booked_at >= g.opened_at
     AND p.booked_at <= date_add('day', {{bipartite.window_days}}, g.opened_at)
),
group_totals AS (
    SELECT g.seed, g.opened_at, g.originators, g.beneficiaries, g.group_links, SUM(p.amount) AS group_amount,
           MIN(p.booked_at) AS first_at, MAX(p.booked_at) AS last_at, MIN(p.amount_floor) AS amount_floor
    FROM groups g
    JOIN group_payments p ON p.seed = g.seed AND p.opened_at = g.opened_at
    GROUP BY g.seed, g.opened_at, g.originators, g.beneficiaries, g.group_links
),
members AS (
    SELECT seed, opened_at, originator AS account_pid, originator_customer AS customer_pid, 'originator' AS role,
           COUNT(DISTINCT beneficiary) AS links
    FROM group_payments
    WHERE originator_customer IS NOT NULL
    GROUP BY seed, opened_at, originator, originator_customer
    UNION ALL
    SELECT seed, opened_at, beneficiary, beneficiary_customer, 'beneficiary', COUNT(DISTINCT originator)
    FROM group_payments
    WHERE beneficiary_customer IS NOT NULL
    GROUP BY seed, opened_at, beneficiary, beneficiary_customer
),
ranked AS (
    SELECT m.account_pid, m.customer_pid, m.role, m.links, t.*,
           ROW_NUMBER() OVER (PARTITION BY m.account_pid, m.role
                              ORDER BY t.group_links DESC, t.group_amount DESC, t.first_at, t.seed) AS rank_in_subject,
           COUNT(*) OVER (PARTITION BY m.account_pid, m.role) AS qualifying_windows
    FROM members m
    JOIN group_totals t ON t.seed = m.seed AND t.opened_at = m.opened_at
),
reported AS (
    SELECT * FROM ranked WHERE rank_in_subject = 1
),
group_evidence AS (
    -- the evidence: every payment of each group a row describes, once
    SELECT DISTINCT g.seed, g.opened_at, g.transaction_id, g.booked_at
    FROM (SELECT DISTINCT seed, opened_at FROM reported) r
    JOIN group_payments g ON g.seed = r.seed AND g.opened_at = r.opened_at
),
evidence AS (
    SELECT seed, opened_at,
           {{evidence.list}}
    FROM group_evidence
    GROUP BY seed, opened_at
)
SELECT r.account_pid AS subject_account_pid, r.customer_pid AS subject_customer_pid, r.role,
       r.seed AS seed_account_pid, r.originators, r.beneficiaries, r.group_links, r.links, r.group_amount, r.first_at,
       r.last_at, r.amount_floor, r.qualifying_windows, e.transaction_ids, e.transaction_count
FROM reported r
JOIN evidence e ON e.seed = r.seed AND e.opened_at = r.opened_at
ORDER BY group_amount DESC, subject_account_pid, role
