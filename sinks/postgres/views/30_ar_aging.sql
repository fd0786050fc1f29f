-- A/R aging: open balances by age bucket, from the date of service or from the last activity.

-- Money stays integer cents. Aging is "as of" a date: the functions take it (the KPIs and the
-- ar-aging-snapshots topic pass an event-time day); the views call them with current_date for
-- people looking at today.
CREATE OR REPLACE FUNCTION ar_bucket(age_days integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN age_days <= 30 THEN '0-30' WHEN age_days <= 60 THEN '31-60'
                WHEN age_days <= 90 THEN '61-90' WHEN age_days <= 120 THEN '91-120'
                ELSE '>120' END
$$;
COMMENT ON FUNCTION ar_bucket(integer) IS 'Aging bucket of an age in days: 0-30, 31-60, 61-90, 91-120 or >120.';

-- One row per account x payer x responsibility with money still open on the as-of date (entries
-- posted after it are ignored). Insurance rows are keyed by the payer on each entry; the patient
-- part of an account is keyed by the account's primary payer (the payer of its earliest charge),
-- so a patient balance shows under the payer whose claim left it to the patient.
-- Aged from: the service date of the oldest open debit, first in first out: credits (payments,
-- adjustments) pay off the oldest debits (charges, transfers to the patient) first, and the first
-- debit the credits do not cover in full is the oldest money still open.
-- The date of service of a debit is its encounter's service_start (encounters_coded, else claims,
-- by the encounter id a CHARGE references), the claim's service_start (by claim id), else the UTC
-- date the entry was posted; one hash join per source (not a lookup per ledger row).
CREATE OR REPLACE FUNCTION ar_aging_as_of(as_of date)
RETURNS TABLE (account_id text, payer_id text, responsibility text, open_cents bigint,
               aged_from date, age_days integer, bucket text)
LANGUAGE sql STABLE AS $$
    WITH entries AS (
        SELECT * FROM ledger_entries WHERE (posted_at AT TIME ZONE 'UTC')::date <= as_of
    ), primary_payer AS (
        SELECT DISTINCT ON (account_id) account_id, payer_id
          FROM entries WHERE kind = 'CHARGE'
         ORDER BY account_id, posted_at, entry_id
    ), split AS (
        SELECT e.account_id, e.payer_id, 'insurance' AS responsibility,
               e.insurance_delta_cents AS delta, e.reference, e.posted_at, e.entry_id
          FROM entries e WHERE e.insurance_delta_cents <> 0
        UNION ALL
        SELECT e.account_id, coalesce(p.payer_id, e.payer_id), 'patient',
               e.patient_delta_cents, e.reference, e.posted_at, e.entry_id
          FROM entries e LEFT JOIN primary_payer p USING (account_id)
         WHERE e.patient_delta_cents <> 0
    ), keyed AS (
        SELECT s.*,
               sum(s.delta) OVER k AS open_cents,
               -sum(least(s.delta, 0)) OVER k AS credits
          FROM split s
        WINDOW k AS (PARTITION BY s.account_id, s.payer_id, s.responsibility)
    ), coded AS (
        SELECT encounter_id, min(service_start) AS d FROM encounters_coded GROUP BY encounter_id
    ), claimed AS (
        SELECT encounter_id, min(service_start) AS d FROM claims GROUP BY encounter_id
    ), dated AS (
        SELECT k.*, coalesce(co.d, ce.d, cc.service_start,
                             (k.posted_at AT TIME ZONE 'UTC')::date) AS service_date
          FROM keyed k
          LEFT JOIN coded co ON co.encounter_id = k.reference
          LEFT JOIN claimed ce ON ce.encounter_id = k.reference
          LEFT JOIN claims cc ON cc.claim_id = k.reference
         WHERE k.delta > 0 AND k.open_cents > 0
    ), debits AS (
        SELECT d.*, sum(d.delta) OVER (PARTITION BY d.account_id, d.payer_id, d.responsibility
                                       ORDER BY d.service_date, d.posted_at, d.entry_id) AS running
          FROM dated d
    ), oldest AS (
        SELECT DISTINCT ON (account_id, payer_id, responsibility)
               account_id, payer_id, responsibility, open_cents, service_date
          FROM debits WHERE running > credits
         ORDER BY account_id, payer_id, responsibility, service_date, posted_at, entry_id
    )
    SELECT account_id, payer_id, responsibility, open_cents, service_date,
           (as_of - service_date)::integer, ar_bucket((as_of - service_date)::integer)
      FROM oldest
$$;
COMMENT ON FUNCTION ar_aging_as_of(date) IS 'A/R aging on a given date: open cents per account, payer and responsibility, aged from the service date of the oldest open debit (FIFO).';

CREATE OR REPLACE VIEW ar_aging AS SELECT * FROM ar_aging_as_of(current_date);
COMMENT ON VIEW ar_aging IS 'Open A/R today, one row per account x payer x responsibility (insurance / patient), aged from the date of service of the oldest open charge (FIFO: payments and adjustments pay off the oldest charges first). Credit balances are left out. Use ar_aging_as_of(date) for another day.';
COMMENT ON COLUMN ar_aging.account_id IS 'Patient account.';
COMMENT ON COLUMN ar_aging.payer_id IS 'Payer owing the insurance part; for the patient part, the account''s primary payer (payer of its earliest charge).';
COMMENT ON COLUMN ar_aging.responsibility IS 'insurance or patient.';
COMMENT ON COLUMN ar_aging.open_cents IS 'Money still open, in cents (always > 0).';
COMMENT ON COLUMN ar_aging.aged_from IS 'Date of service of the oldest open charge (encounter or claim service_start, else the posting date).';
COMMENT ON COLUMN ar_aging.age_days IS 'current_date - aged_from, in days.';
COMMENT ON COLUMN ar_aging.bucket IS '0-30, 31-60, 61-90, 91-120 or >120 days.';

-- Aging from last activity: the same open amounts, aged from the account's last ledger entry
-- (any kind, either responsibility) on or before the as-of date.
CREATE OR REPLACE FUNCTION ar_aging_by_activity_as_of(as_of date)
RETURNS TABLE (account_id text, payer_id text, responsibility text, open_cents bigint,
               last_activity date, age_days integer, bucket text)
LANGUAGE sql STABLE AS $$
    WITH last AS (
        SELECT account_id, max((posted_at AT TIME ZONE 'UTC')::date) AS last_activity
          FROM ledger_entries WHERE (posted_at AT TIME ZONE 'UTC')::date <= as_of
         GROUP BY account_id
    )
    SELECT a.account_id, a.payer_id, a.responsibility, a.open_cents, l.last_activity,
           (as_of - l.last_activity)::integer, ar_bucket((as_of - l.last_activity)::integer)
      FROM ar_aging_as_of(as_of) a JOIN last l USING (account_id)
$$;
COMMENT ON FUNCTION ar_aging_by_activity_as_of(date) IS 'A/R aging on a given date, aged from the account''s last ledger entry instead of the date of service.';

CREATE OR REPLACE VIEW ar_aging_by_activity AS SELECT * FROM ar_aging_by_activity_as_of(current_date);
COMMENT ON VIEW ar_aging_by_activity IS 'Open A/R today aged from the account''s last activity (its latest ledger entry of any kind), one row per account x payer x responsibility. Use ar_aging_by_activity_as_of(date) for another day.';
COMMENT ON COLUMN ar_aging_by_activity.account_id IS 'Patient account.';
COMMENT ON COLUMN ar_aging_by_activity.payer_id IS 'As in ar_aging.';
COMMENT ON COLUMN ar_aging_by_activity.responsibility IS 'insurance or patient.';
COMMENT ON COLUMN ar_aging_by_activity.open_cents IS 'Money still open, in cents.';
COMMENT ON COLUMN ar_aging_by_activity.last_activity IS 'UTC date of the account''s latest ledger entry.';
COMMENT ON COLUMN ar_aging_by_activity.age_days IS 'current_date - last_activity, in days.';
COMMENT ON COLUMN ar_aging_by_activity.bucket IS '0-30, 31-60, 61-90, 91-120 or >120 days.';

-- Totals per bucket, by payer and by responsibility (two grouping sets: a row has either payer_id
-- or responsibility set, never both).
CREATE OR REPLACE FUNCTION ar_aging_summary_as_of(as_of date)
RETURNS TABLE (payer_id text, responsibility text, bucket text, accounts bigint, open_cents bigint)
LANGUAGE sql STABLE AS $$
    SELECT payer_id, responsibility, bucket, count(DISTINCT account_id), sum(open_cents)::bigint
      FROM ar_aging_as_of(as_of)
     GROUP BY GROUPING SETS ((payer_id, bucket), (responsibility, bucket))
$$;
COMMENT ON FUNCTION ar_aging_summary_as_of(date) IS 'Totals of ar_aging_as_of(date) per bucket, by payer and by responsibility.';

CREATE OR REPLACE VIEW ar_aging_summary AS SELECT * FROM ar_aging_summary_as_of(current_date);
COMMENT ON VIEW ar_aging_summary IS 'Open A/R today per aging bucket (from date of service): rows by payer (responsibility NULL, insurance and patient parts together) and rows by responsibility (payer_id NULL, all payers).';
COMMENT ON COLUMN ar_aging_summary.payer_id IS 'Payer, on the by-payer rows; NULL on the by-responsibility rows.';
COMMENT ON COLUMN ar_aging_summary.responsibility IS 'insurance or patient, on the by-responsibility rows; NULL on the by-payer rows.';
COMMENT ON COLUMN ar_aging_summary.bucket IS '0-30, 31-60, 61-90, 91-120 or >120 days from service.';
COMMENT ON COLUMN ar_aging_summary.accounts IS 'Accounts with money open in the row.';
COMMENT ON COLUMN ar_aging_summary.open_cents IS 'Money open, in cents.';
