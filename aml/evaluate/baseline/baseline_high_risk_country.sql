-- name: baseline_high_risk_country
-- description: Naive baseline (not a scenario): every booked payment, of any amount, whose
--   counterparty is in a listed country: the FATF call-for-action and grey lists in force
--   (rule_parameters.json), with no amount threshold and no list dates.
-- parameters: start_date, end_date
-- serves: aml evaluate: the naive baseline the scenarios are scored beside (issue 21)
-- columns: subject_account_pid, direction, transaction_id, booked_at, counterparty_country
WITH booked AS (
    SELECT *
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
)
SELECT originator_account_pid AS subject_account_pid, 'out' AS direction, transaction_id, booked_at,
       beneficiary_country AS counterparty_country
FROM booked
WHERE originator_customer_pid IS NOT NULL
  AND (beneficiary_country IN {{fatf.call_for_action}} OR beneficiary_country IN {{fatf.grey_list}})
UNION ALL
SELECT beneficiary_account_pid, 'in', transaction_id, booked_at, originator_country
FROM booked
WHERE beneficiary_customer_pid IS NOT NULL
  AND (originator_country IN {{fatf.call_for_action}} OR originator_country IN {{fatf.grey_list}})
ORDER BY booked_at, transaction_id, direction
