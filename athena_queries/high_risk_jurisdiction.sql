-- name: high_risk_jurisdiction
-- description: Transactions with a counterparty in a FATF "call for action" country (any amount, an
--   unknown amount_base included) or on the FATF grey list (from
--   {{high_risk_jurisdiction.grey_list_min_amount}} USD, or the segment's
--   p{{high_risk_jurisdiction.grey_list_min_amount_percentile}} where lower; an unknown amount_base is not
--   compared). The segment is the country on the account's side (originator_country when it pays,
--   beneficiary_country when it receives; none: the whole bank "*"), its percentile read from the
--   `segment_amounts` statistics (aml_contract.segments); nothing published: the USD floor.
--   amount_floor: the floor a grey-list row passed (null for call for action). Each
--   side is judged by the FATF publication in force on its UTC booking date (`dt`), read from the
--   `fatf_lists` reference table (valid_from <= dt < valid_to), the rule the real-time Lambda applies
--   (aml_contract.reference.ReferenceData.fatf_lists). Dates before our oldest publication fall under
--   it and say so: fatf_back_extended (dt before the publication's effective date).
-- parameters: start_date, end_date
-- serves: FATF Recommendation 19 (higher-risk countries); FinCEN advisories on FATF-identified
--   jurisdictions; EU AMLD enhanced due diligence
-- columns: subject_account_pid, subject_customer_pid, direction, transaction_id, booked_at,
--   transaction_type, amount_base, counterparty_account_pid, counterparty_country, fatf_list,
--   fatf_list_effective, fatf_back_extended, dt, amount_floor
-- evidence: window booked_at; transactions transaction_id
WITH booked AS (
    SELECT *
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
),
sides AS (
    SELECT originator_account_pid AS account_pid, originator_customer_pid AS customer_pid, 'out' AS direction,
           transaction_id, booked_at, transaction_type, amount_base,
           beneficiary_account_pid AS counterparty_account_pid, beneficiary_country AS counterparty_country,
           originator_country AS account_country, dt
    FROM booked
    WHERE originator_customer_pid IS NOT NULL
    UNION ALL
    SELECT beneficiary_account_pid, beneficiary_customer_pid, 'in', transaction_id, booked_at, transaction_type,
           amount_base, originator_account_pid, originator_country, beneficiary_country, dt
    FROM booked
    WHERE beneficiary_customer_pid IS NOT NULL
),
listed AS (
    -- dt is the UTC date of booked_at (the partition value), the day the Lambda looks the lists up by
    SELECT s.*, f.list_name AS fatf_list, f.effective_from AS fatf_list_effective,
           CAST(s.dt AS DATE) < f.effective_from AS fatf_back_extended
    FROM sides s
    JOIN fatf_lists f
      ON f.country = s.counterparty_country
     AND f.valid_from <= CAST(s.dt AS DATE)
     AND CAST(s.dt AS DATE) < f.valid_to
),
floors AS (
    SELECT segment, amount_base
    FROM segment_amounts
    WHERE percentile = {{high_risk_jurisdiction.grey_list_min_amount_percentile}}
),
floored AS (
    -- a grey-list side's floor: the USD one, or its segment's percentile (a segment never seen: the
    -- bank's "*"), whichever is lower
    SELECT l.*,
           CASE WHEN l.fatf_list = 'grey_list'
                THEN LEAST({{high_risk_jurisdiction.grey_list_min_amount}},
                           COALESCE(g.amount_base, bank.amount_base, {{high_risk_jurisdiction.grey_list_min_amount}}))
           END AS amount_floor
    FROM listed l
    LEFT JOIN floors g ON g.segment = l.account_country
    LEFT JOIN floors bank ON bank.segment = '*'
)
SELECT account_pid AS subject_account_pid, customer_pid AS subject_customer_pid, direction, transaction_id,
       booked_at, transaction_type, amount_base, counterparty_account_pid, counterparty_country, fatf_list,
       fatf_list_effective, fatf_back_extended, dt, amount_floor
FROM floored
WHERE fatf_list = 'call_for_action'
   OR (fatf_list = 'grey_list' AND amount_base >= amount_floor)
ORDER BY booked_at, transaction_id, direction
