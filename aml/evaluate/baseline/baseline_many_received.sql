-- name: baseline_many_received
-- description: Naive baseline (not a scenario): our accounts that received more than 3 booked
--   payments in the window.
-- parameters: start_date, end_date
-- serves: aml evaluate: the naive baseline the scenarios are scored beside (issue 21)
-- columns: subject_account_pid, received_count
SELECT beneficiary_account_pid AS subject_account_pid, COUNT(*) AS received_count
FROM transactions
WHERE dt BETWEEN ? AND ?
  AND status = 'booked'
  AND beneficiary_customer_pid IS NOT NULL
GROUP BY beneficiary_account_pid
HAVING COUNT(*) > 3
ORDER BY received_count DESC, subject_account_pid
