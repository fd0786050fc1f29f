-- Daily and rolling-30-day clean claim rate and initial denial rate, one row per UTC day from the
-- first day with a claim built or remitted to the last (days without activity are present, with
-- zero counts and NULL daily rates), so a 30-day window is always the 30 calendar days ending on
-- the row's day. A claim counts for clean claim rate on the day it was built, and for denial rate
-- on the day of its first remittance (its first ledger entry referencing the claim id, or its
-- first denial, whichever is earlier), denied when it has at least one denial, as in
-- kpi_denial_rate.
CREATE VIEW kpi_daily_claim_rates AS
WITH built AS (
    SELECT (built_at AT TIME ZONE 'UTC')::date AS day, count(*) AS claims_built,
           count(*) FILTER (WHERE status = 'CLEAN') AS clean
      FROM claims GROUP BY 1
), first_remit AS (
    SELECT c.claim_id, c.total_charge_cents,
           least((SELECT min((l.posted_at AT TIME ZONE 'UTC')::date) FROM ledger_entries l
                   WHERE l.reference = c.claim_id),
                 (SELECT min(d.denied_on) FROM denials d WHERE d.claim_id = c.claim_id)) AS day,
           (SELECT sum(d.amount_cents) FROM denials d WHERE d.claim_id = c.claim_id) AS denied_cents
      FROM claims c
), remitted AS (
    SELECT day, count(*) AS remitted_claims,
           count(*) FILTER (WHERE denied_cents IS NOT NULL) AS denied_claims,
           sum(total_charge_cents)::bigint AS remitted_charge_cents,
           coalesce(sum(denied_cents), 0)::bigint AS denied_cents
      FROM first_remit WHERE day IS NOT NULL GROUP BY day
), days AS (
    SELECT generate_series(min(day), max(day), interval '1 day')::date AS day
      FROM (SELECT day FROM built UNION ALL SELECT day FROM remitted) d
), daily AS (
    SELECT days.day,
           coalesce(b.claims_built, 0) AS claims_built, coalesce(b.clean, 0) AS clean,
           coalesce(r.remitted_claims, 0) AS remitted_claims,
           coalesce(r.denied_claims, 0) AS denied_claims,
           coalesce(r.remitted_charge_cents, 0) AS remitted_charge_cents,
           coalesce(r.denied_cents, 0) AS denied_cents
      FROM days LEFT JOIN built b USING (day) LEFT JOIN remitted r USING (day)
), rolling AS (
    SELECT daily.*,
           sum(claims_built) OVER w AS claims_built_30d, sum(clean) OVER w AS clean_30d,
           sum(remitted_claims) OVER w AS remitted_claims_30d,
           sum(denied_claims) OVER w AS denied_claims_30d,
           sum(remitted_charge_cents) OVER w AS remitted_charge_cents_30d,
           sum(denied_cents) OVER w AS denied_cents_30d
      FROM daily
    WINDOW w AS (ORDER BY day ROWS BETWEEN 29 PRECEDING AND CURRENT ROW)
)
SELECT day, claims_built, clean,
       round(clean::numeric / nullif(claims_built, 0), 4) AS clean_claim_rate,
       claims_built_30d::bigint AS claims_built_30d, clean_30d::bigint AS clean_30d,
       round(clean_30d::numeric / nullif(claims_built_30d, 0), 4) AS clean_claim_rate_30d,
       remitted_claims, denied_claims,
       round(denied_claims::numeric / nullif(remitted_claims, 0), 4) AS denial_rate,
       remitted_claims_30d::bigint AS remitted_claims_30d,
       denied_claims_30d::bigint AS denied_claims_30d,
       round(denied_claims_30d::numeric / nullif(remitted_claims_30d, 0), 4) AS denial_rate_30d,
       remitted_charge_cents_30d::bigint AS remitted_charge_cents_30d,
       denied_cents_30d::bigint AS denied_cents_30d,
       round(denied_cents_30d::numeric / nullif(remitted_charge_cents_30d, 0), 4)
           AS denial_rate_by_dollars_30d
  FROM rolling;
COMMENT ON VIEW kpi_daily_claim_rates IS 'Clean claim rate and initial denial rate per UTC day and over the 30 days ending on each day (every day from the first to the last with a claim built or remitted). Claims count on the day built (clean rate) and on the day of their first remittance (denial rate).';
COMMENT ON COLUMN kpi_daily_claim_rates.day IS 'UTC day.';
COMMENT ON COLUMN kpi_daily_claim_rates.claims_built IS 'Claims built that day.';
COMMENT ON COLUMN kpi_daily_claim_rates.clean IS 'Claims built that day with status CLEAN.';
COMMENT ON COLUMN kpi_daily_claim_rates.clean_claim_rate IS 'clean / claims_built (NULL when none was built).';
COMMENT ON COLUMN kpi_daily_claim_rates.claims_built_30d IS 'Claims built in the 30 days ending that day.';
COMMENT ON COLUMN kpi_daily_claim_rates.clean_30d IS 'CLEAN claims built in the 30 days ending that day.';
COMMENT ON COLUMN kpi_daily_claim_rates.clean_claim_rate_30d IS 'clean_30d / claims_built_30d.';
COMMENT ON COLUMN kpi_daily_claim_rates.remitted_claims IS 'Claims whose first remittance was that day.';
COMMENT ON COLUMN kpi_daily_claim_rates.denied_claims IS 'Of those, claims with at least one denial.';
COMMENT ON COLUMN kpi_daily_claim_rates.denial_rate IS 'denied_claims / remitted_claims (NULL when none was remitted).';
COMMENT ON COLUMN kpi_daily_claim_rates.remitted_claims_30d IS 'Claims first remitted in the 30 days ending that day.';
COMMENT ON COLUMN kpi_daily_claim_rates.denied_claims_30d IS 'Of those, claims with at least one denial.';
COMMENT ON COLUMN kpi_daily_claim_rates.denial_rate_30d IS 'denied_claims_30d / remitted_claims_30d.';
COMMENT ON COLUMN kpi_daily_claim_rates.remitted_charge_cents_30d IS 'Total charges of the claims first remitted in the 30 days, in cents.';
COMMENT ON COLUMN kpi_daily_claim_rates.denied_cents_30d IS 'Denied cents of those claims.';
COMMENT ON COLUMN kpi_daily_claim_rates.denial_rate_by_dollars_30d IS 'denied_cents_30d / remitted_charge_cents_30d.';
