-- name: baseline_large_amount
-- description: Naive baseline (not a scenario): every booked payment above 10,000 in the data's own
--   units (the `amount` column, in the payment's currency, no conversion), once for each side
--   that is one of our accounts.
-- parameters: start_date, end_date
-- serves: aml evaluate: the naive baseline the scenarios are scored beside (issue 21)
-- columns: subject_account_pid, direction, transaction_id, booked_at, amount, currency
WITH booked AS (
    SELECT *
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND amount > 10000
)
SELECT originator_account_pid AS subject_account_pid, 'out' AS direction, transaction_id, booked_at, amount, currency
FROM booked
WHERE originator_customer_pid IS NOT NULL
UNION ALL
SELECT beneficiary_account_pid, 'in', transaction_id, booked_at, amount, currency
FROM booked
WHERE beneficiary_customer_pid IS NOT NULL
ORDER BY booked_at, transaction_id, direction
