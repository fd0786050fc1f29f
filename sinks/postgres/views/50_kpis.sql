-- Revenue-cycle KPIs, on event time.

CREATE OR REPLACE VIEW kpi_clean_claim_rate AS
SELECT count(*) AS claims_built,
       count(*) FILTER (WHERE status = 'CLEAN') AS clean,
       round(count(*) FILTER (WHERE status = 'CLEAN')::numeric / nullif(count(*), 0), 4) AS rate
  FROM claim_first_builds;
COMMENT ON VIEW kpi_clean_claim_rate IS 'Clean claim rate (HFMA MAP Key "Clean Claim Rate"): claims that passed every scrubber edit at their FIRST build (no manual intervention) / claims built; a claim held and then fixed is not clean.';
COMMENT ON COLUMN kpi_clean_claim_rate.claims_built IS 'Claims built (each counted once, at its first build).';
COMMENT ON COLUMN kpi_clean_claim_rate.clean IS 'Claims CLEAN at their first build.';
COMMENT ON COLUMN kpi_clean_claim_rate.rate IS 'clean / claims_built.';

CREATE OR REPLACE VIEW kpi_first_pass_acceptance AS SELECT * FROM first_pass_acceptance;
COMMENT ON VIEW kpi_first_pass_acceptance IS 'First-pass acceptance (277CA, and 999 set rejections): acknowledged claims whose first front-end acknowledgement accepted them / acknowledged claims (same as first_pass_acceptance).';
COMMENT ON COLUMN kpi_first_pass_acceptance.claims IS 'Claims with at least one acknowledgement.';
COMMENT ON COLUMN kpi_first_pass_acceptance.accepted_first_pass IS 'Claims whose first acknowledgement accepted them.';
COMMENT ON COLUMN kpi_first_pass_acceptance.rejected_first_pass IS 'Claims whose first acknowledgement rejected them.';
COMMENT ON COLUMN kpi_first_pass_acceptance.rate IS 'accepted_first_pass / claims.';

-- A claim is remitted when a remittance posted to it (a ledger entry referencing the claim id) or
-- denied any of it (a fully denied claim posts no ledger entry, only denials).
CREATE OR REPLACE VIEW kpi_denial_rate AS
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
COMMENT ON VIEW kpi_denial_rate IS 'Denial rate, all time (HFMA MAP Key "Remittance Denial Rate"; the issue''s "initial denial rate"): by count, claims with at least one denial / claims with a remittance; by dollars, denied cents / total charge cents of the remitted claims. HFMA counts remittances; here each claim counts once.';
COMMENT ON COLUMN kpi_denial_rate.remitted_claims IS 'Claims with a remittance (a ledger entry referencing the claim, or a denial).';
COMMENT ON COLUMN kpi_denial_rate.denied_claims IS 'Remitted claims with at least one denial.';
COMMENT ON COLUMN kpi_denial_rate.rate_by_count IS 'denied_claims / remitted_claims.';
COMMENT ON COLUMN kpi_denial_rate.denied_cents IS 'Sum of denied amounts on remitted claims, in cents.';
COMMENT ON COLUMN kpi_denial_rate.remitted_charge_cents IS 'Sum of total charges of remitted claims, in cents.';
COMMENT ON COLUMN kpi_denial_rate.rate_by_dollars IS 'denied_cents / remitted_charge_cents.';

CREATE OR REPLACE VIEW kpi_net_collection_rate AS
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
CREATE OR REPLACE FUNCTION kpi_days_in_ar_as_of(as_of date)
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

CREATE OR REPLACE VIEW kpi_days_in_ar AS SELECT * FROM kpi_days_in_ar_as_of(current_date);
COMMENT ON VIEW kpi_days_in_ar IS 'Net days in A/R (HFMA MAP Key "Net Days in Accounts Receivable"): open A/R today / average daily net charges (charges - contractual adjustments posted in the last 90 days, / 90).';
COMMENT ON COLUMN kpi_days_in_ar.open_ar_cents IS 'Sum of every ledger entry (insurance + patient), in cents.';
COMMENT ON COLUMN kpi_days_in_ar.net_charges_90d_cents IS 'Charges minus contractual adjustments posted in the 90 days ending today, in cents.';
COMMENT ON COLUMN kpi_days_in_ar.days_in_ar IS 'open_ar_cents / (net_charges_90d_cents / 90), in days.';

CREATE OR REPLACE FUNCTION kpi_ar_over_90_as_of(as_of date)
RETURNS TABLE (open_cents bigint, over_90_cents bigint, share numeric)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(open_cents), 0)::bigint,
           coalesce(sum(open_cents) FILTER (WHERE age_days > 90), 0)::bigint,
           round(coalesce(sum(open_cents) FILTER (WHERE age_days > 90), 0)::numeric
                 / nullif(sum(open_cents), 0), 4)
      FROM ar_aging_as_of(as_of)
$$;
COMMENT ON FUNCTION kpi_ar_over_90_as_of(date) IS 'Share of open A/R aged more than 90 days from service on a given date.';

CREATE OR REPLACE VIEW kpi_ar_over_90 AS SELECT * FROM kpi_ar_over_90_as_of(current_date);
COMMENT ON VIEW kpi_ar_over_90 IS 'Share of A/R over 90 days (HFMA MAP Key "Aged A/R as a Percentage of Total A/R", by date of service): open cents aged > 90 days / open cents, from ar_aging.';
COMMENT ON COLUMN kpi_ar_over_90.open_cents IS 'Open A/R in ar_aging, in cents.';
COMMENT ON COLUMN kpi_ar_over_90.over_90_cents IS 'Open A/R aged more than 90 days from service, in cents.';
COMMENT ON COLUMN kpi_ar_over_90.share IS 'over_90_cents / open_cents.';

CREATE OR REPLACE VIEW kpi_time_to_bill AS
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

-- Same columns as 0010; only `built` changes: a claim counts on the day of its first build, with
-- the status of that build.
CREATE OR REPLACE VIEW kpi_daily_claim_rates AS
WITH built AS (
    SELECT (built_at AT TIME ZONE 'UTC')::date AS day, count(*) AS claims_built,
           count(*) FILTER (WHERE status = 'CLEAN') AS clean
      FROM claim_first_builds GROUP BY 1
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
COMMENT ON VIEW kpi_daily_claim_rates IS 'Clean claim rate and initial denial rate per UTC day and over the 30 days ending on each day (every day from the first to the last with a claim built or remitted). Claims count on the day of their first build, with its status (clean rate), and on the day of their first remittance (denial rate).';
COMMENT ON COLUMN kpi_daily_claim_rates.day IS 'UTC day.';
COMMENT ON COLUMN kpi_daily_claim_rates.claims_built IS 'Claims first built that day.';
COMMENT ON COLUMN kpi_daily_claim_rates.clean IS 'Claims first built that day that were CLEAN at that first build.';
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

-- First-pass resolution: of the claims with a remittance, those the first remittance settled.
-- A remittance is one source event: the ledger entries referencing the claim id and the denials
-- of the claim carry the remittance event id as source_event_id.
CREATE OR REPLACE VIEW kpi_first_pass_resolution AS
WITH remitted AS (
    SELECT c.claim_id,
           (SELECT count(DISTINCT s.source_event_id)
              FROM (SELECT l.source_event_id FROM ledger_entries l WHERE l.reference = c.claim_id
                    UNION ALL
                    SELECT d.source_event_id FROM denials d WHERE d.claim_id = c.claim_id) s)
               AS remittances,
           EXISTS (SELECT 1 FROM denials d WHERE d.claim_id = c.claim_id) AS denied,
           (SELECT coalesce(sum(l.insurance_delta_cents), 0) FROM ledger_entries l
             WHERE l.reference IN (c.claim_id, c.encounter_id)) AS insurance_open_cents
      FROM claims c
     WHERE EXISTS (SELECT 1 FROM ledger_entries l WHERE l.reference = c.claim_id)
        OR EXISTS (SELECT 1 FROM denials d WHERE d.claim_id = c.claim_id)
)
SELECT count(*) AS remitted_claims,
       count(*) FILTER (WHERE remittances = 1 AND NOT denied AND insurance_open_cents = 0)
           AS resolved_first_pass,
       round(count(*) FILTER (WHERE remittances = 1 AND NOT denied AND insurance_open_cents = 0)
             ::numeric / nullif(count(*), 0), 4) AS rate
  FROM remitted;
COMMENT ON VIEW kpi_first_pass_resolution IS 'First-pass resolution: claims settled by their first remittance (exactly one remittance, no denial, nothing left for insurance on the claim: its encounter''s charges plus the entries referencing the claim sum to 0) / claims with a remittance.';
COMMENT ON COLUMN kpi_first_pass_resolution.remitted_claims IS 'Claims with a remittance (a ledger entry referencing the claim, or a denial).';
COMMENT ON COLUMN kpi_first_pass_resolution.resolved_first_pass IS 'Remitted claims with one remittance, no denial and no insurance balance left.';
COMMENT ON COLUMN kpi_first_pass_resolution.rate IS 'resolved_first_pass / remitted_claims.';

-- Encounters that reached coding (a review request or a coded encounter) and have no claim yet.
CREATE OR REPLACE FUNCTION unbilled_encounters_as_of(as_of date)
RETURNS TABLE (encounter_id text, account_id text, payer_id text, total_charge_cents bigint,
               discharged_on date, stage text)
LANGUAGE sql STABLE AS $$
    WITH coded AS (
        SELECT DISTINCT ON (encounter_id) encounter_id, account_id, payer_id, total_charge_cents,
               service_end
          FROM encounters_coded WHERE (coded_at AT TIME ZONE 'UTC')::date <= as_of
         ORDER BY encounter_id, coded_at, event_id
    ), review AS (
        SELECT DISTINCT ON (r.encounter_id) r.encounter_id, r.account_id, r.payer_id,
               r.total_charge_cents, (r.requested_at AT TIME ZONE 'UTC')::date AS requested_on
          FROM coding_review r
         WHERE (r.requested_at AT TIME ZONE 'UTC')::date <= as_of AND r.status = 'open'
           AND NOT EXISTS (SELECT 1 FROM coded c WHERE c.encounter_id = r.encounter_id)
         ORDER BY r.encounter_id, r.requested_at, r.review_id
    ), entered AS (
        SELECT encounter_id, account_id, payer_id, total_charge_cents, service_end AS fallback,
               'CODED' AS stage FROM coded
        UNION ALL
        SELECT encounter_id, account_id, payer_id, total_charge_cents, requested_on,
               'IN_CODING' FROM review
    ), discharge AS (
        SELECT encounter_id,
               min(coalesce((discharged_at AT TIME ZONE 'UTC')::date, service_end)) AS day
          FROM encounter_discharges GROUP BY encounter_id
    )
    SELECT e.encounter_id, e.account_id, e.payer_id, e.total_charge_cents,
           coalesce(d.day, e.fallback), e.stage
      FROM entered e LEFT JOIN discharge d ON d.encounter_id = e.encounter_id
     WHERE coalesce(d.day, e.fallback) <= as_of
       AND NOT EXISTS (SELECT 1 FROM claim_build_history b
                        WHERE b.encounter_id = e.encounter_id
                          AND (b.built_at AT TIME ZONE 'UTC')::date <= as_of)
$$;
COMMENT ON FUNCTION unbilled_encounters_as_of(date) IS 'Encounters discharged on or before the date that reached coding but have no claim built by then: IN_CODING (open coding review) or CODED (coded, claim not built). discharged_on is the discharge date (discharged_at, else the last date of service; for a review with no encounter row, the review date).';

CREATE OR REPLACE FUNCTION kpi_dnfb_as_of(as_of date)
RETURNS TABLE (dnfb_encounters bigint, dnfb_cents bigint, fbns_claims bigint, fbns_cents bigint,
               dnsp_cents bigint, gross_charges_90d_cents bigint, dnfb_days numeric,
               fbns_days numeric, dnsp_days numeric)
LANGUAGE sql STABLE AS $$
    WITH u AS (
        SELECT count(*) AS n, coalesce(sum(total_charge_cents), 0)::bigint AS c
          FROM unbilled_encounters_as_of(as_of)
    ), f AS (
        SELECT count(*) AS n, coalesce(sum(total_charge_cents), 0)::bigint AS c
          FROM claim_stage_as_of(as_of) WHERE stage IN ('HELD', 'BUILT')
    ), g AS (
        SELECT coalesce(sum(insurance_delta_cents + patient_delta_cents), 0)::bigint AS c
          FROM ledger_entries
         WHERE kind = 'CHARGE'
           AND (posted_at AT TIME ZONE 'UTC')::date BETWEEN as_of - 89 AND as_of
    )
    SELECT u.n, u.c, f.n, f.c, u.c + f.c, g.c,
           round(u.c::numeric / nullif(g.c::numeric / 90, 0), 1),
           round(f.c::numeric / nullif(g.c::numeric / 90, 0), 1),
           round((u.c + f.c)::numeric / nullif(g.c::numeric / 90, 0), 1)
      FROM u, f, g
$$;
COMMENT ON FUNCTION kpi_dnfb_as_of(date) IS 'Days in discharged not final billed (HFMA MAP Keys DNFB, FBNS, DNSP) at the end of a date: gross cents waiting / average daily gross revenue (gross charges posted in the 90 days ending that day / 90).';

CREATE OR REPLACE VIEW kpi_dnfb AS SELECT * FROM kpi_dnfb_as_of(current_date);
COMMENT ON VIEW kpi_dnfb IS 'HFMA MAP Key "Days in Total Discharged Not Final Billed (DNFB)": gross charges of encounters discharged with no claim built (in coding review, or coded and not claimed) / average daily gross revenue; also "Days in Final Billed Not Submitted to Payer (FBNS)" (claims built, CLEAN or HELD by the scrubber, not yet in an 837, acknowledged or remitted) and "Days in Total Discharged Not Submitted to Payer (DNSP)" = DNFB + FBNS. Average daily gross revenue: CHARGE entries of the 90 days ending today / 90. Use kpi_dnfb_as_of(date) for another day.';
COMMENT ON COLUMN kpi_dnfb.dnfb_encounters IS 'Discharged encounters with no claim built.';
COMMENT ON COLUMN kpi_dnfb.dnfb_cents IS 'Their gross charges, in cents.';
COMMENT ON COLUMN kpi_dnfb.fbns_claims IS 'Claims built (CLEAN or HELD) but not submitted to the payer.';
COMMENT ON COLUMN kpi_dnfb.fbns_cents IS 'Their gross charges, in cents.';
COMMENT ON COLUMN kpi_dnfb.dnsp_cents IS 'dnfb_cents + fbns_cents.';
COMMENT ON COLUMN kpi_dnfb.gross_charges_90d_cents IS 'Gross charges (CHARGE entries) posted in the 90 days ending today, in cents.';
COMMENT ON COLUMN kpi_dnfb.dnfb_days IS 'dnfb_cents / (gross_charges_90d_cents / 90), in days.';
COMMENT ON COLUMN kpi_dnfb.fbns_days IS 'fbns_cents / (gross_charges_90d_cents / 90), in days.';
COMMENT ON COLUMN kpi_dnfb.dnsp_days IS 'dnsp_cents / (gross_charges_90d_cents / 90), in days.';

CREATE OR REPLACE FUNCTION kpi_stage_dollars_as_of(as_of date)
RETURNS TABLE (stage text, step integer, items bigint, cents bigint)
LANGUAGE sql STABLE AS $$
    WITH stages (stage, step) AS (VALUES
        ('in_coding_review', 1), ('coded_not_claimed', 2), ('claim_held', 3),
        ('built_not_submitted', 4), ('rejected_by_payer', 5), ('awaiting_adjudication', 6),
        ('denied_open', 7), ('patient_responsibility', 8)
    ), encounters AS (
        SELECT CASE stage WHEN 'IN_CODING' THEN 'in_coding_review' ELSE 'coded_not_claimed' END
                   AS stage, count(*) AS items, sum(total_charge_cents) AS cents
          FROM unbilled_encounters_as_of(as_of) GROUP BY 1
    ), claims_waiting AS (
        SELECT CASE stage WHEN 'HELD' THEN 'claim_held' WHEN 'BUILT' THEN 'built_not_submitted'
                          WHEN 'REJECTED' THEN 'rejected_by_payer'
                          ELSE 'awaiting_adjudication' END AS stage,
               count(*) AS items, sum(total_charge_cents) AS cents
          FROM claim_stage_as_of(as_of) WHERE stage <> 'REMITTED' GROUP BY 1
    ), denied AS (
        SELECT 'denied_open' AS stage, count(DISTINCT claim_id) AS items, sum(amount_cents) AS cents
          FROM denials WHERE status = 'open' AND denied_on <= as_of
    ), patient AS (
        SELECT 'patient_responsibility' AS stage, count(*) AS items, sum(owed) AS cents
          FROM (SELECT account_id, sum(patient_delta_cents) AS owed FROM ledger_entries
                 WHERE (posted_at AT TIME ZONE 'UTC')::date <= as_of
                 GROUP BY account_id HAVING sum(patient_delta_cents) > 0) p
    ), counted AS (
        SELECT * FROM encounters UNION ALL SELECT * FROM claims_waiting
        UNION ALL SELECT * FROM denied UNION ALL SELECT * FROM patient
    )
    SELECT s.stage, s.step, coalesce(c.items, 0)::bigint, coalesce(c.cents, 0)::bigint
      FROM stages s LEFT JOIN counted c ON c.stage = s.stage
     ORDER BY s.step
$$;
COMMENT ON FUNCTION kpi_stage_dollars_as_of(date) IS 'Dollars waiting in each stage of the revenue cycle at the end of a date (gross charges for encounters and claims, amounts for denials and patient balances).';

CREATE OR REPLACE VIEW kpi_stage_dollars AS SELECT * FROM kpi_stage_dollars_as_of(current_date);
COMMENT ON VIEW kpi_stage_dollars IS 'Dollars waiting in each stage today, one row per stage in cycle order: in_coding_review (open coding reviews), coded_not_claimed (coded, no claim built), claim_held (latest build HELD by the scrubber), built_not_submitted (CLEAN, not yet in an 837 or acknowledged), rejected_by_payer (latest 277CA rejected it), awaiting_adjudication (submitted, no remittance yet), denied_open (open denials, amount at risk), patient_responsibility (accounts whose patient part is positive). Use kpi_stage_dollars_as_of(date) for another day.';
COMMENT ON COLUMN kpi_stage_dollars.stage IS 'Stage name (see the view comment).';
COMMENT ON COLUMN kpi_stage_dollars.step IS 'Order of the stage in the cycle (1 = earliest).';
COMMENT ON COLUMN kpi_stage_dollars.items IS 'Encounters, claims (denied_open: denied claims) or accounts (patient_responsibility) in the stage.';
COMMENT ON COLUMN kpi_stage_dollars.cents IS 'Money waiting in the stage, in cents.';

-- first_pass_acceptance_rate reads claim_first_acknowledgements (the rest is 0017's definition).
CREATE OR REPLACE FUNCTION kpi_flow_window(from_day date, to_day date)
RETURNS TABLE (kpi text, numerator bigint, denominator bigint, value numeric, unit text)
LANGUAGE sql STABLE AS $$
    WITH fb AS (
        SELECT * FROM claim_first_builds
         WHERE (built_at AT TIME ZONE 'UTC')::date BETWEEN from_day AND to_day
    ), acks AS (
        SELECT * FROM (SELECT claim_id, accepted, (reported_at AT TIME ZONE 'UTC')::date AS d
                         FROM claim_first_acknowledgements) f
         WHERE d BETWEEN from_day AND to_day
    ), remits AS (
        SELECT l.reference AS claim_id, (l.posted_at AT TIME ZONE 'UTC')::date AS d,
               l.source_event_id, 0 AS denials, 0::bigint AS denied_cents,
               l.insurance_delta_cents AS insurance
          FROM ledger_entries l JOIN claims c ON c.claim_id = l.reference
         WHERE (l.posted_at AT TIME ZONE 'UTC')::date <= to_day
        UNION ALL
        SELECT claim_id, denied_on, source_event_id, 1, amount_cents, 0 FROM denials
         WHERE denied_on <= to_day
    ), remitted AS (
        SELECT r.claim_id, c.encounter_id, c.total_charge_cents,
               count(DISTINCT r.source_event_id) AS remittances, sum(r.denials) AS denials,
               sum(r.denied_cents)::bigint AS denied_cents, sum(r.insurance) AS insurance
          FROM remits r JOIN claims c ON c.claim_id = r.claim_id
         GROUP BY r.claim_id, c.encounter_id, c.total_charge_cents
        HAVING min(r.d) BETWEEN from_day AND to_day
    ), charged AS (  -- one pass over the ledger (hash joins), not one scan per remitted claim
        SELECT l.reference AS encounter_id, sum(l.insurance_delta_cents) AS insurance
          FROM ledger_entries l
         WHERE l.reference IN (SELECT encounter_id FROM remitted)
           AND (l.posted_at AT TIME ZONE 'UTC')::date <= to_day
         GROUP BY l.reference
    ), resolved AS (
        SELECT count(*) AS n FROM remitted r LEFT JOIN charged e ON e.encounter_id = r.encounter_id
         WHERE r.remittances = 1 AND r.denials = 0
           AND r.insurance + coalesce(e.insurance, 0) = 0
    ), money AS (
        SELECT coalesce(sum(insurance_delta_cents + patient_delta_cents)
                        FILTER (WHERE kind = 'CHARGE'), 0)::bigint AS charges,
               coalesce(-sum(insurance_delta_cents + patient_delta_cents)
                        FILTER (WHERE kind = 'CONTRACTUAL_ADJUSTMENT'), 0)::bigint AS contractual,
               coalesce(-sum(insurance_delta_cents + patient_delta_cents)
                        FILTER (WHERE kind IN ('PAYER_PAYMENT', 'PATIENT_PAYMENT',
                                               'PATIENT_REFUND')), 0)::bigint AS payments
          FROM ledger_entries
         WHERE (posted_at AT TIME ZONE 'UTC')::date BETWEEN from_day AND to_day
    ), k (kpi, numerator, denominator, unit, places) AS (
        SELECT 'clean_claim_rate', count(*) FILTER (WHERE status = 'CLEAN'), count(*), 'RATIO', 4
          FROM fb
        UNION ALL
        SELECT 'first_pass_acceptance_rate', count(*) FILTER (WHERE accepted), count(*), 'RATIO', 4
          FROM acks
        UNION ALL
        SELECT 'remittance_denial_rate', count(*) FILTER (WHERE denials > 0), count(*), 'RATIO', 4
          FROM remitted
        UNION ALL
        SELECT 'remittance_denial_rate_dollars', coalesce(sum(denied_cents), 0),
               coalesce(sum(total_charge_cents), 0), 'RATIO', 4
          FROM remitted
        UNION ALL
        SELECT 'first_pass_resolution_rate', (SELECT n FROM resolved), count(*), 'RATIO', 4
          FROM remitted
        UNION ALL
        SELECT 'net_collection_rate', payments, charges - contractual, 'RATIO', 4 FROM money
        UNION ALL
        SELECT 'time_to_bill_days',
               coalesce(sum((built_at AT TIME ZONE 'UTC')::date - service_end), 0), count(*),
               'DAYS', 1
          FROM fb
    )
    SELECT kpi, numerator::bigint, denominator::bigint,
           round(numerator::numeric / nullif(denominator, 0), places), unit
      FROM k
$$;
COMMENT ON FUNCTION kpi_flow_window(date, date) IS 'Flow KPIs over the UTC days from_day..to_day: clean_claim_rate, first_pass_acceptance_rate (from claim_first_acknowledgements), remittance_denial_rate (count and _dollars), first_pass_resolution_rate, net_collection_rate, time_to_bill_days; value = numerator / denominator (NULL when 0). Definitions: README, A/R and KPIs.';

-- Every KPI of one event-time day: flow KPIs for the day (DAILY) and the 30 days ending on it
-- (ROLLING_30D); balance KPIs at the end of the day (DAILY only: a balance has no 30-day sum).
CREATE OR REPLACE FUNCTION kpi_values(day date)
RETURNS TABLE (kpi text, time_window text, numerator bigint, denominator bigint, value numeric,
               unit text)
LANGUAGE sql STABLE AS $$
    SELECT kpi, 'DAILY', numerator, denominator, value, unit FROM kpi_flow_window(day, day)
    UNION ALL
    SELECT kpi, 'ROLLING_30D', numerator, denominator, value, unit
      FROM kpi_flow_window(day - 29, day)
    UNION ALL
    SELECT 'net_days_in_ar', 'DAILY', open_ar_cents, net_charges_90d_cents, days_in_ar, 'DAYS'
      FROM kpi_days_in_ar_as_of(day)
    UNION ALL
    SELECT 'aged_ar_over_90_rate', 'DAILY', over_90_cents, open_cents, share, 'RATIO'
      FROM kpi_ar_over_90_as_of(day)
    UNION ALL
    SELECT k, 'DAILY', n, gross_charges_90d_cents, v, 'DAYS'
      FROM kpi_dnfb_as_of(day),
           LATERAL (VALUES ('dnfb_days', dnfb_cents, dnfb_days),
                           ('fbns_days', fbns_cents, fbns_days),
                           ('dnsp_days', dnsp_cents, dnsp_days)) x (k, n, v)
    UNION ALL
    SELECT 'stage_dollars.' || stage, 'DAILY', cents, items, cents::numeric, 'CENTS'
      FROM kpi_stage_dollars_as_of(day)
$$;
COMMENT ON FUNCTION kpi_values(date) IS 'Every KPI of one UTC day, as the kpis topic carries it: kpi, time_window (DAILY or ROLLING_30D), numerator, denominator, value, unit (RATIO, DAYS, CENTS). Days KPIs: value = numerator / (denominator / 90). CENTS KPIs: numerator = value = cents, denominator = items.';

CREATE OR REPLACE FUNCTION kpi_event_day() RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT max(d) FROM (
        SELECT max((posted_at AT TIME ZONE 'UTC')::date) FROM ledger_entries
        UNION ALL SELECT max((built_at AT TIME ZONE 'UTC')::date) FROM claim_build_history
        UNION ALL SELECT max(denied_on) FROM denials
        UNION ALL SELECT max((reported_at AT TIME ZONE 'UTC')::date) FROM claim_status_events
        UNION ALL SELECT max((coded_at AT TIME ZONE 'UTC')::date) FROM encounters_coded
        UNION ALL SELECT max((requested_at AT TIME ZONE 'UTC')::date) FROM coding_review
    ) days (d)
$$;
COMMENT ON FUNCTION kpi_event_day() IS 'The latest UTC event day in the data (ledger, claims, denials, acknowledgements, coding): "today" in event time.';

-- OFFSET 0 keeps the latest day a value computed once, not an expression repeated in every row.
CREATE OR REPLACE VIEW kpi_latest AS
SELECT d.day, v.* FROM (SELECT kpi_event_day() AS day OFFSET 0) d, LATERAL kpi_values(d.day) v;
COMMENT ON VIEW kpi_latest IS 'Every KPI for the latest event-time day (kpi_event_day()), as published on the kpis topic.';
COMMENT ON COLUMN kpi_latest.day IS 'Latest UTC event day.';
COMMENT ON COLUMN kpi_latest.kpi IS 'KPI name (README, A/R and KPIs).';
COMMENT ON COLUMN kpi_latest.time_window IS 'DAILY or ROLLING_30D.';
COMMENT ON COLUMN kpi_latest.numerator IS 'Count or cents above the line.';
COMMENT ON COLUMN kpi_latest.denominator IS 'Count or cents below the line.';
COMMENT ON COLUMN kpi_latest.value IS 'The KPI (NULL when the denominator is 0).';
COMMENT ON COLUMN kpi_latest.unit IS 'RATIO, DAYS or CENTS.';
