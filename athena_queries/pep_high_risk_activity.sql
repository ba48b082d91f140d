-- name: pep_high_risk_activity
-- description: Accounts of politically exposed persons or high-risk-rated customers whose activity
--   in the window (in plus out) reaches the CTR amount ({{large_cash.threshold}} USD): candidates for
--   enhanced due diligence review. A transaction without amount_base (no FX rate) is counted in
--   transaction_count and adds 0 to total_in / total_out (each side row carries a 0 for the other
--   direction, so neither total is null and their sum is never NULL + number); max_amount is null
--   when no amount is known.
-- parameters: start_date, end_date
-- serves: FATF Recommendation 12 (PEPs) and 10 (risk-based CDD); 31 CFR 1010.620 enhanced scrutiny
-- columns: subject_account_pid, subject_customer_pid, is_pep, risk_rating, kyc_status,
--   transaction_count, total_in, total_out, max_amount
WITH booked AS (
    SELECT *
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
),
sides AS (
    SELECT originator_account_pid AS account_pid, amount_base, 0 AS amount_in, amount_base AS amount_out
    FROM booked
    WHERE originator_customer_pid IS NOT NULL
    UNION ALL
    SELECT beneficiary_account_pid, amount_base, amount_base, 0
    FROM booked
    WHERE beneficiary_customer_pid IS NOT NULL
),
activity AS (
    SELECT account_pid, COUNT(*) AS transaction_count, SUM(amount_in) AS total_in, SUM(amount_out) AS total_out,
           MAX(amount_base) AS max_amount
    FROM sides
    GROUP BY account_pid
)
SELECT a.account_pid AS subject_account_pid, c.customer_pid AS subject_customer_pid, c.is_pep, c.risk_rating,
       c.kyc_status, x.transaction_count, x.total_in, x.total_out, x.max_amount
FROM activity x
JOIN accounts a ON a.account_pid = x.account_pid
JOIN customers c ON c.customer_pid = a.customer_pid
WHERE (c.is_pep OR c.risk_rating = 'high')
  AND x.total_in + x.total_out >= {{large_cash.threshold}}
ORDER BY x.total_in + x.total_out DESC, subject_account_pid
