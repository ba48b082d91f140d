-- name: high_risk_jurisdiction
-- description: Transactions with a counterparty in a FATF "call for action" country (any amount) or
--   on the FATF grey list (from {{high_risk_jurisdiction.grey_list_min_amount}} USD); lists as
--   published in rule_parameters.json, rendered when the query is registered.
-- parameters: start_date, end_date
-- serves: FATF Recommendation 19 (higher-risk countries); FinCEN advisories on FATF-identified
--   jurisdictions; EU AMLD enhanced due diligence
-- columns: subject_account_pid, subject_customer_pid, direction, transaction_id, booked_at,
--   transaction_type, amount_base, counterparty_account_pid, counterparty_country, fatf_list, dt
WITH booked AS (
    SELECT *
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
),
sides AS (
    SELECT originator_account_pid AS account_pid, originator_customer_pid AS customer_pid, 'out' AS direction,
           transaction_id, booked_at, transaction_type, amount_base,
           beneficiary_account_pid AS counterparty_account_pid, beneficiary_country AS counterparty_country, dt
    FROM booked
    WHERE originator_customer_pid IS NOT NULL
    UNION ALL
    SELECT beneficiary_account_pid, beneficiary_customer_pid, 'in', transaction_id, booked_at, transaction_type,
           amount_base, originator_account_pid, originator_country, dt
    FROM booked
    WHERE beneficiary_customer_pid IS NOT NULL
)
SELECT account_pid AS subject_account_pid, customer_pid AS subject_customer_pid, direction, transaction_id,
       booked_at, transaction_type, amount_base, counterparty_account_pid, counterparty_country,
       CASE WHEN counterparty_country IN {{fatf.call_for_action}} THEN 'call_for_action'
            ELSE 'grey_list' END AS fatf_list,
       dt
FROM sides
WHERE counterparty_country IN {{fatf.call_for_action}}
   OR (counterparty_country IN {{fatf.grey_list}}
       AND amount_base >= {{high_risk_jurisdiction.grey_list_min_amount}})
ORDER BY booked_at, transaction_id, direction
