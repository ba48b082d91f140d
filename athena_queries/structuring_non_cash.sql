-- name: structuring_non_cash
-- description: Accounts sending at least {{structuring_non_cash.min_count}} non-cash payments (types
--   {{structuring_non_cash.transaction_types}}), each in [{{structuring_non_cash.min_amount}},
--   {{structuring_non_cash.max_amount}}) USD, within {{structuring_non_cash.window_days}} days of
--   booked_at, together above {{structuring_non_cash.min_total}} USD: transfers kept just under the
--   3,000 USD at which a bank must record and pass on the originator's details, so that none is
--   recorded. Windows as structuring's: every such payment anchors one, the payments that follow it
--   within window_days fall inside. One row per account, summarising every qualifying window
--   (max_beneficiaries: the most distinct beneficiary accounts in one). An amount rule: a payment
--   without amount_base (no FX rate) is not compared and takes no part. transaction_ids: the payments of
--   every qualifying window, the first {{evidence.max_transactions}} by booked_at (then id);
--   transaction_count: how many in all.
-- parameters: start_date, end_date
-- serves: 31 CFR 1010.410(e)-(f) (funds transfers of 3,000 USD or more: the transmittor's records kept,
--   the travel rule passes them on; banks: 31 CFR 1020.410(a)); 31 U.S.C. 5324(a)(3) (structuring to evade the
--   funds-transfer recordkeeping of section 21 of the FDI Act and section 123 of Pub. L. 91-508, which
--   1010.410 implements); 31 CFR 1010.100(xx) (structuring: one or more transactions, in any amount,
--   on one or more days, in any manner, to evade)
-- columns: subject_account_pid, subject_customer_pid, first_window_start, last_window_end,
--   max_payment_count, max_beneficiaries, max_total_amount, qualifying_windows, transaction_ids, transaction_count
-- evidence: window first_window_start..last_window_end; transactions transaction_ids; count transaction_count
WITH payments AS (
    SELECT originator_account_pid AS account_pid, originator_customer_pid AS customer_pid,
           beneficiary_account_pid AS beneficiary_pid, transaction_id, booked_at, amount_base
    FROM transactions
    WHERE dt BETWEEN ? AND ?
      AND status = 'booked'
      AND transaction_type IN {{structuring_non_cash.transaction_types}}
      AND originator_customer_pid IS NOT NULL
      AND originator_account_pid <> beneficiary_account_pid
      AND amount_base >= {{structuring_non_cash.min_amount}}
      AND amount_base < {{structuring_non_cash.max_amount}}
),
windows AS (
    -- every payment anchors a window; the payments that follow it within window_days fall inside
    SELECT a.account_pid, a.customer_pid, a.booked_at AS window_start, MAX(b.booked_at) AS window_end,
           COUNT(*) AS payment_count, COUNT(DISTINCT b.beneficiary_pid) AS beneficiaries,
           SUM(b.amount_base) AS total_amount
    FROM payments a
    JOIN payments b
      ON b.account_pid = a.account_pid
     AND b.booked_at >= a.booked_at
     AND b.booked_at < date_add('day', {{structuring_non_cash.window_days}}, a.booked_at)
    GROUP BY a.account_pid, a.customer_pid, a.transaction_id, a.booked_at
    HAVING COUNT(*) >= {{structuring_non_cash.min_count}} AND SUM(b.amount_base) > {{structuring_non_cash.min_total}}
),
hits AS (
    SELECT account_pid, customer_pid, MIN(window_start) AS first_window_start, MAX(window_end) AS last_window_end,
           MAX(payment_count) AS max_payment_count, MAX(beneficiaries) AS max_beneficiaries,
           MAX(total_amount) AS max_total_amount, COUNT(*) AS qualifying_windows
    FROM windows
    GROUP BY account_pid, customer_pid
),
members AS (
    -- the evidence: every payment inside a qualifying window, once
    SELECT DISTINCT w.account_pid, p.transaction_id, p.booked_at
    FROM windows w
    JOIN payments p
      ON p.account_pid = w.account_pid
     AND p.booked_at >= w.window_start
     AND p.booked_at < date_add('day', {{structuring_non_cash.window_days}}, w.window_start)
),
evidence AS (
    SELECT account_pid,
           {{evidence.list}}
    FROM members
    GROUP BY account_pid
)
SELECT h.account_pid AS subject_account_pid, h.customer_pid AS subject_customer_pid, h.first_window_start,
       h.last_window_end, h.max_payment_count, h.max_beneficiaries, h.max_total_amount, h.qualifying_windows,
       e.transaction_ids, e.transaction_count
FROM hits h
JOIN evidence e ON e.account_pid = h.account_pid
ORDER BY max_total_amount DESC, subject_account_pid
