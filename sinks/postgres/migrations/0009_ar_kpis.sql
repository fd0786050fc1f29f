-- A/R aging and revenue-cycle KPIs, computed from the ledger, claims, denials and acknowledgements.
-- Money stays integer cents; rates are numeric rounded to 4 places, days to 1 place.
-- Aging is "as of" a date: the functions take it, the views call them with current_date.

CREATE FUNCTION ar_bucket(age_days integer) RETURNS text
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
CREATE FUNCTION ar_aging_as_of(as_of date)
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

CREATE VIEW ar_aging AS SELECT * FROM ar_aging_as_of(current_date);
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
CREATE FUNCTION ar_aging_by_activity_as_of(as_of date)
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

CREATE VIEW ar_aging_by_activity AS SELECT * FROM ar_aging_by_activity_as_of(current_date);
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
CREATE FUNCTION ar_aging_summary_as_of(as_of date)
RETURNS TABLE (payer_id text, responsibility text, bucket text, accounts bigint, open_cents bigint)
LANGUAGE sql STABLE AS $$
    SELECT payer_id, responsibility, bucket, count(DISTINCT account_id), sum(open_cents)::bigint
      FROM ar_aging_as_of(as_of)
     GROUP BY GROUPING SETS ((payer_id, bucket), (responsibility, bucket))
$$;
COMMENT ON FUNCTION ar_aging_summary_as_of(date) IS 'Totals of ar_aging_as_of(date) per bucket, by payer and by responsibility.';

CREATE VIEW ar_aging_summary AS SELECT * FROM ar_aging_summary_as_of(current_date);
COMMENT ON VIEW ar_aging_summary IS 'Open A/R today per aging bucket (from date of service): rows by payer (responsibility NULL, insurance and patient parts together) and rows by responsibility (payer_id NULL, all payers).';
COMMENT ON COLUMN ar_aging_summary.payer_id IS 'Payer, on the by-payer rows; NULL on the by-responsibility rows.';
COMMENT ON COLUMN ar_aging_summary.responsibility IS 'insurance or patient, on the by-responsibility rows; NULL on the by-payer rows.';
COMMENT ON COLUMN ar_aging_summary.bucket IS '0-30, 31-60, 61-90, 91-120 or >120 days from service.';
COMMENT ON COLUMN ar_aging_summary.accounts IS 'Accounts with money open in the row.';
COMMENT ON COLUMN ar_aging_summary.open_cents IS 'Money open, in cents.';

-- KPIs -----------------------------------------------------------------------------------------

CREATE VIEW kpi_clean_claim_rate AS
SELECT count(*) AS claims_built,
       count(*) FILTER (WHERE status = 'CLEAN') AS clean,
       round(count(*) FILTER (WHERE status = 'CLEAN')::numeric / nullif(count(*), 0), 4) AS rate
  FROM claims;
COMMENT ON VIEW kpi_clean_claim_rate IS 'Clean claim rate (HFMA MAP Key "Clean Claim Rate"): claims that passed every scrubber edit when built (status CLEAN) / claims built. claims keeps the latest build of each claim, so a rebuilt claim counts as last built.';
COMMENT ON COLUMN kpi_clean_claim_rate.claims_built IS 'Claims built.';
COMMENT ON COLUMN kpi_clean_claim_rate.clean IS 'Claims with status CLEAN.';
COMMENT ON COLUMN kpi_clean_claim_rate.rate IS 'clean / claims_built.';

CREATE VIEW kpi_first_pass_acceptance AS SELECT * FROM first_pass_acceptance;
COMMENT ON VIEW kpi_first_pass_acceptance IS 'First-pass acceptance (from 277CA): acknowledged claims whose first acknowledgement accepted them / acknowledged claims (same as first_pass_acceptance).';
COMMENT ON COLUMN kpi_first_pass_acceptance.claims IS 'Claims with at least one acknowledgement.';
COMMENT ON COLUMN kpi_first_pass_acceptance.accepted_first_pass IS 'Claims whose first acknowledgement accepted them.';
COMMENT ON COLUMN kpi_first_pass_acceptance.rejected_first_pass IS 'Claims whose first acknowledgement rejected them.';
COMMENT ON COLUMN kpi_first_pass_acceptance.rate IS 'accepted_first_pass / claims.';

-- A claim is remitted when a remittance posted to it (a ledger entry referencing the claim id) or
-- denied any of it (a fully denied claim posts no ledger entry, only denials).
CREATE VIEW kpi_denial_rate AS
WITH remitted AS (
    SELECT c.claim_id, c.total_charge_cents FROM claims c
     WHERE EXISTS (SELECT 1 FROM ledger_entries l WHERE l.reference = c.claim_id)
        OR EXISTS (SELECT 1 FROM denials d WHERE d.claim_id = c.claim_id)
), denied AS (
    SELECT d.claim_id, sum(d.amount_cents) AS cents FROM denials d
     WHERE d.claim_id IN (SELECT claim_id FROM remitted) GROUP BY d.claim_id
)
SELECT (SELECT count(*) FROM remitted) AS remitted_claims,
       (SELECT count(*) FROM denied) AS denied_claims,
       round((SELECT count(*) FROM denied)::numeric
             / nullif((SELECT count(*) FROM remitted), 0), 4) AS rate_by_count,
       (SELECT coalesce(sum(cents), 0) FROM denied)::bigint AS denied_cents,
       (SELECT coalesce(sum(total_charge_cents), 0) FROM remitted)::bigint AS remitted_charge_cents,
       round((SELECT coalesce(sum(cents), 0) FROM denied)::numeric
             / nullif((SELECT sum(total_charge_cents) FROM remitted), 0), 4) AS rate_by_dollars;
COMMENT ON VIEW kpi_denial_rate IS 'Initial denial rate (HFMA MAP Key "Initial Denial Rate"): by count, claims with at least one denial / claims with a remittance; by dollars, denied cents / total charge cents of the remitted claims.';
COMMENT ON COLUMN kpi_denial_rate.remitted_claims IS 'Claims with a remittance (a ledger entry referencing the claim, or a denial).';
COMMENT ON COLUMN kpi_denial_rate.denied_claims IS 'Remitted claims with at least one denial.';
COMMENT ON COLUMN kpi_denial_rate.rate_by_count IS 'denied_claims / remitted_claims.';
COMMENT ON COLUMN kpi_denial_rate.denied_cents IS 'Sum of denied amounts on remitted claims, in cents.';
COMMENT ON COLUMN kpi_denial_rate.remitted_charge_cents IS 'Sum of total charges of remitted claims, in cents.';
COMMENT ON COLUMN kpi_denial_rate.rate_by_dollars IS 'denied_cents / remitted_charge_cents.';

CREATE VIEW kpi_net_collection_rate AS
WITH sums AS (
    SELECT coalesce(sum(insurance_delta_cents + patient_delta_cents)
                    FILTER (WHERE kind = 'CHARGE'), 0)::bigint AS charges_cents,
           coalesce(-sum(insurance_delta_cents + patient_delta_cents)
                    FILTER (WHERE kind = 'CONTRACTUAL_ADJUSTMENT'), 0)::bigint AS contractual_cents,
           coalesce(-sum(insurance_delta_cents + patient_delta_cents)
                    FILTER (WHERE kind IN ('PAYER_PAYMENT', 'PATIENT_PAYMENT', 'PATIENT_REFUND')),
                    0)::bigint AS payments_cents
      FROM ledger_entries
)
SELECT charges_cents, contractual_cents, payments_cents,
       round(payments_cents::numeric / nullif(charges_cents - contractual_cents, 0), 4) AS rate
  FROM sums;
COMMENT ON VIEW kpi_net_collection_rate IS 'Net collection rate (not a MAP Key; the MGMA adjusted collection rate): payments net of refunds / (charges - contractual adjustments), all from ledger_entries.';
COMMENT ON COLUMN kpi_net_collection_rate.charges_cents IS 'Sum of CHARGE entries, in cents.';
COMMENT ON COLUMN kpi_net_collection_rate.contractual_cents IS 'Contractual adjustments written down, in cents (positive).';
COMMENT ON COLUMN kpi_net_collection_rate.payments_cents IS 'Payer and patient payments net of patient refunds, in cents (positive = received).';
COMMENT ON COLUMN kpi_net_collection_rate.rate IS 'payments_cents / (charges_cents - contractual_cents).';

-- Net days in A/R on a date: open A/R (sum of every entry posted on or before it, credit balances
-- netted) / average daily net charges (charges - contractual adjustments posted in the 90 days
-- ending on it, / 90).
CREATE FUNCTION kpi_days_in_ar_as_of(as_of date)
RETURNS TABLE (open_ar_cents bigint, net_charges_90d_cents bigint, days_in_ar numeric)
LANGUAGE sql STABLE AS $$
    WITH e AS (
        SELECT *, (posted_at AT TIME ZONE 'UTC')::date AS d FROM ledger_entries
         WHERE (posted_at AT TIME ZONE 'UTC')::date <= as_of
    ), s AS (
        SELECT coalesce(sum(insurance_delta_cents + patient_delta_cents), 0)::bigint AS open_ar,
               coalesce(sum(insurance_delta_cents + patient_delta_cents)
                        FILTER (WHERE kind IN ('CHARGE', 'CONTRACTUAL_ADJUSTMENT')
                                  AND d > as_of - 90), 0)::bigint AS net90
          FROM e
    )
    SELECT open_ar, net90, round(open_ar::numeric / nullif(net90::numeric / 90, 0), 1) FROM s
$$;
COMMENT ON FUNCTION kpi_days_in_ar_as_of(date) IS 'Net days in A/R on a given date: open A/R / (net charges of the 90 days ending that day / 90).';

CREATE VIEW kpi_days_in_ar AS SELECT * FROM kpi_days_in_ar_as_of(current_date);
COMMENT ON VIEW kpi_days_in_ar IS 'Net days in A/R (HFMA MAP Key "Net Days in Accounts Receivable"): open A/R today / average daily net charges (charges - contractual adjustments posted in the last 90 days, / 90).';
COMMENT ON COLUMN kpi_days_in_ar.open_ar_cents IS 'Sum of every ledger entry (insurance + patient), in cents.';
COMMENT ON COLUMN kpi_days_in_ar.net_charges_90d_cents IS 'Charges minus contractual adjustments posted in the 90 days ending today, in cents.';
COMMENT ON COLUMN kpi_days_in_ar.days_in_ar IS 'open_ar_cents / (net_charges_90d_cents / 90), in days.';

CREATE FUNCTION kpi_ar_over_90_as_of(as_of date)
RETURNS TABLE (open_cents bigint, over_90_cents bigint, share numeric)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(open_cents), 0)::bigint,
           coalesce(sum(open_cents) FILTER (WHERE age_days > 90), 0)::bigint,
           round(coalesce(sum(open_cents) FILTER (WHERE age_days > 90), 0)::numeric
                 / nullif(sum(open_cents), 0), 4)
      FROM ar_aging_as_of(as_of)
$$;
COMMENT ON FUNCTION kpi_ar_over_90_as_of(date) IS 'Share of open A/R aged more than 90 days from service on a given date.';

CREATE VIEW kpi_ar_over_90 AS SELECT * FROM kpi_ar_over_90_as_of(current_date);
COMMENT ON VIEW kpi_ar_over_90 IS 'Share of A/R over 90 days (HFMA MAP Key "Aged A/R as a Percentage of Total A/R", by date of service): open cents aged > 90 days / open cents, from ar_aging.';
COMMENT ON COLUMN kpi_ar_over_90.open_cents IS 'Open A/R in ar_aging, in cents.';
COMMENT ON COLUMN kpi_ar_over_90.over_90_cents IS 'Open A/R aged more than 90 days from service, in cents.';
COMMENT ON COLUMN kpi_ar_over_90.share IS 'over_90_cents / open_cents.';

CREATE VIEW kpi_time_to_bill AS
SELECT count(*) AS claims_built,
       round(avg(((c.built_at AT TIME ZONE 'UTC')::date - c.service_end)::numeric), 1)
           AS avg_days_to_build,
       count(x.claim_id) AS claims_sent,
       round(avg(((x.sent_at AT TIME ZONE 'UTC')::date - c.service_end)::numeric), 1)
           AS avg_days_to_send
  FROM claims c LEFT JOIN x12_claims_sent x USING (claim_id);
COMMENT ON VIEW kpi_time_to_bill IS 'Time to bill: average days from the last date of service to the claim being built, and to its 837 being written (x12_claims_sent), UTC dates.';
COMMENT ON COLUMN kpi_time_to_bill.claims_built IS 'Claims built.';
COMMENT ON COLUMN kpi_time_to_bill.avg_days_to_build IS 'Average of built_at date - service_end, in days.';
COMMENT ON COLUMN kpi_time_to_bill.claims_sent IS 'Claims written to an 837 file.';
COMMENT ON COLUMN kpi_time_to_bill.avg_days_to_send IS 'Average of sent_at date - service_end over sent claims, in days.';
