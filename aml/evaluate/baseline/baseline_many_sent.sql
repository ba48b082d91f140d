-- name: baseline_many_sent
-- description: Naive baseline (not a scenario): our accounts that sent more than 3 booked payments
--   in the window.
-- parameters: start_date, end_date
-- serves: aml evaluate: the naive baseline the scenarios are scored beside (issue 21)
-- columns: subject_account_pid, sent_count
SELECT originator_account_pid AS subject_account_pid, COUNT(*) AS sent_count
FROM transactions
WHERE dt BETWEEN ? AND ?
  AND status = 'booked'
  AND originator_customer_pid IS NOT NULL
GROUP BY originator_account_pid
HAVING COUNT(*) > 3
ORDER BY sent_count DESC, subject_account_pid
