-- name: high_value_transactions
-- description: Every booked transaction above the CTR amount ({{large_cash.threshold}} USD in base
--   currency), once for each side that is one of the bank's own accounts. A transaction without
--   amount_base (no FX rate) is not compared.
-- parameters: start_date, end_date
-- serves: FinCEN / FFIEC BSA-AML manual: review of high-value wires and transfers; large-value
--   transaction reporting; the threshold is the 31 CFR 1010.311 CTR amount.
-- columns: subject_account_pid, subject_customer_pid, direction, transaction_id, booked_at,
--   transaction_type, channel, amount_base, counterparty_account_pid, counterparty_country, dt
WITH booked AS (
    SELECT *
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND amount_base > {{large_cash.threshold}}
)
SELECT originator_account_pid AS subject_account_pid, originator_customer_pid AS subject_customer_pid,
       'out' AS direction, transaction_id, booked_at, transaction_type, channel, amount_base,
       beneficiary_account_pid AS counterparty_account_pid, beneficiary_country AS counterparty_country, dt
FROM booked
WHERE originator_customer_pid IS NOT NULL
UNION ALL
SELECT beneficiary_account_pid, beneficiary_customer_pid, 'in', transaction_id, booked_at, transaction_type,
       channel, amount_base, originator_account_pid, originator_country, dt
FROM booked
WHERE beneficiary_customer_pid IS NOT NULL
ORDER BY booked_at, transaction_id, direction
