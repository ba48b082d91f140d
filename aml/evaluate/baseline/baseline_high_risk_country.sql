-- name: baseline_high_risk_country
-- description: Naive baseline (not a scenario): every booked payment, of any amount, whose
--   counterparty is in a listed country: on the FATF call-for-action or grey list of the publication
--   in force on the UTC booking date (`dt`), read from the `fatf_lists` reference table as the
--   scenario does, with no amount threshold. Dates before the oldest publication fall under it
--   (fatf_back_extended).
-- parameters: start_date, end_date
-- serves: aml evaluate: the naive baseline the scenarios are scored beside (issue 21)
-- columns: subject_account_pid, direction, transaction_id, booked_at, counterparty_country, fatf_list,
--   fatf_list_effective, fatf_back_extended
WITH booked AS (
    SELECT *
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
),
sides AS (
    SELECT originator_account_pid AS subject_account_pid, 'out' AS direction, transaction_id, booked_at,
           beneficiary_country AS counterparty_country, dt
    FROM booked
    WHERE originator_customer_pid IS NOT NULL
    UNION ALL
    SELECT beneficiary_account_pid, 'in', transaction_id, booked_at, originator_country, dt
    FROM booked
    WHERE beneficiary_customer_pid IS NOT NULL
)
SELECT s.subject_account_pid, s.direction, s.transaction_id, s.booked_at, s.counterparty_country,
       f.list_name AS fatf_list, f.effective_from AS fatf_list_effective,
       CAST(s.dt AS DATE) < f.effective_from AS fatf_back_extended
FROM sides s
JOIN fatf_lists f
  ON f.country = s.counterparty_country
 AND f.valid_from <= CAST(s.dt AS DATE)
 AND CAST(s.dt AS DATE) < f.valid_to
ORDER BY s.booked_at, s.transaction_id, s.direction
