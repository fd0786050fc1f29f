-- KPIs as streams. Discharge times and every build of a claim are stored, so discharged-not-final-
-- billed (HFMA DNFB, FBNS, DNSP) and clean claim rate at first build can be measured; the dollars
-- waiting in each stage of the cycle are counted per event-time day; kpi_values(day) is the one SQL
-- definition of every KPI the `kpis` topic carries (the sink publishes it, `rcm kpis publish` too).
-- Event-time days are UTC dates of the events (posted_at, built_at, reported_at, denied_on, ...),
-- never the wall clock: a day's values only change when events of that day (or before) arrive.

CREATE TABLE encounter_discharges (
    event_id           text PRIMARY KEY,
    encounter_id       text        NOT NULL,
    account_id         text        NOT NULL,
    payer_id           text        NOT NULL,
    encounter_class    text        NOT NULL,
    service_end        date        NOT NULL,
    discharged_at      timestamptz,
    total_charge_cents bigint      NOT NULL,
    received_at        timestamptz NOT NULL,
    emitted_at         timestamptz NOT NULL,
    applied_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX encounter_discharges_encounter_idx ON encounter_discharges (encounter_id);
COMMENT ON TABLE encounter_discharges IS 'Every encounter received from hospital systems (topic encounters), with its discharge time: the start of discharged-not-final-billed time. Encounters the coding stage dead-lettered are here too but never count in DNFB (only encounters that reached coding do).';
COMMENT ON COLUMN encounter_discharges.event_id IS 'Id of the EncounterReceived event.';
COMMENT ON COLUMN encounter_discharges.encounter_id IS 'Encounter (visit) id.';
COMMENT ON COLUMN encounter_discharges.account_id IS 'Patient account of the encounter.';
COMMENT ON COLUMN encounter_discharges.payer_id IS 'Payer the encounter is billed to.';
COMMENT ON COLUMN encounter_discharges.encounter_class IS 'OFFICE, EMERGENCY, OUTPATIENT or INPATIENT.';
COMMENT ON COLUMN encounter_discharges.service_end IS 'Last date of service; the discharge date when discharged_at is NULL.';
COMMENT ON COLUMN encounter_discharges.discharged_at IS 'Discharge time (the HL7 A03 time), UTC; NULL when the source did not say.';
COMMENT ON COLUMN encounter_discharges.total_charge_cents IS 'Gross charges of the encounter (units x unit price), in cents.';
COMMENT ON COLUMN encounter_discharges.received_at IS 'Event time of the EncounterReceived.';
COMMENT ON COLUMN encounter_discharges.emitted_at IS 'When the hospital system emitted it.';
COMMENT ON COLUMN encounter_discharges.applied_at IS 'When the sink wrote this row.';

CREATE TABLE claim_builds (
    event_id           text PRIMARY KEY,
    claim_id           text        NOT NULL,
    encounter_id       text        NOT NULL,
    account_id         text        NOT NULL,
    payer_id           text        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('CLEAN', 'HELD')),
    total_charge_cents bigint      NOT NULL,
    edits              jsonb       NOT NULL DEFAULT '[]',
    service_end        date        NOT NULL,
    built_at           timestamptz NOT NULL,
    source_event_id    text        NOT NULL,
    applied_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX claim_builds_claim_idx ON claim_builds (claim_id, built_at);
CREATE INDEX claim_builds_encounter_idx ON claim_builds (encounter_id);
COMMENT ON TABLE claim_builds IS 'Every build of every claim (each ClaimBuilt event), where claims keeps one row per claim: the history clean claim rate at first build and the claim stages are measured from.';
COMMENT ON COLUMN claim_builds.event_id IS 'Id of the ClaimBuilt event (applied at most once).';
COMMENT ON COLUMN claim_builds.claim_id IS 'Claim built.';
COMMENT ON COLUMN claim_builds.encounter_id IS 'Encounter the claim bills.';
COMMENT ON COLUMN claim_builds.account_id IS 'Patient account.';
COMMENT ON COLUMN claim_builds.payer_id IS 'Payer the claim is sent to.';
COMMENT ON COLUMN claim_builds.status IS 'CLEAN or HELD as this build left the scrubber.';
COMMENT ON COLUMN claim_builds.total_charge_cents IS 'Gross charges of this build, in cents.';
COMMENT ON COLUMN claim_builds.edits IS 'Scrubber edits that fired on this build.';
COMMENT ON COLUMN claim_builds.service_end IS 'Last date of service.';
COMMENT ON COLUMN claim_builds.built_at IS 'When this build happened (event time).';
COMMENT ON COLUMN claim_builds.source_event_id IS 'Encounter event the build came from.';
COMMENT ON COLUMN claim_builds.applied_at IS 'When the sink wrote this row.';

-- Claims stored before this migration are their own first build.
INSERT INTO claim_builds (event_id, claim_id, encounter_id, account_id, payer_id, status,
                          total_charge_cents, edits, service_end, built_at, source_event_id)
SELECT source_event_id || ':claim', claim_id, encounter_id, account_id, payer_id, status,
       total_charge_cents, edits, service_end, built_at, source_event_id
  FROM claims
ON CONFLICT DO NOTHING;

CREATE VIEW claim_build_history AS
SELECT event_id, claim_id, encounter_id, account_id, payer_id, status, total_charge_cents,
       service_end, built_at
  FROM claim_builds
UNION ALL
SELECT c.source_event_id || ':claim', c.claim_id, c.encounter_id, c.account_id, c.payer_id,
       c.status, c.total_charge_cents, c.service_end, c.built_at
  FROM claims c WHERE NOT EXISTS (SELECT 1 FROM claim_builds b WHERE b.claim_id = c.claim_id);
COMMENT ON VIEW claim_build_history IS 'Every build of every claim: claim_builds, plus a claims row as its only build when claim_builds has none for it (rows written without build history).';
COMMENT ON COLUMN claim_build_history.event_id IS 'Id of the ClaimBuilt event.';
COMMENT ON COLUMN claim_build_history.status IS 'CLEAN or HELD at this build.';
COMMENT ON COLUMN claim_build_history.built_at IS 'When this build happened (event time).';

CREATE VIEW claim_first_builds AS
SELECT DISTINCT ON (claim_id) *
  FROM claim_build_history ORDER BY claim_id, built_at, event_id;
COMMENT ON VIEW claim_first_builds IS 'The first build of each claim: what the scrubber said before anyone touched the claim.';
COMMENT ON COLUMN claim_first_builds.status IS 'CLEAN or HELD at the first build (a claim held and then fixed stays HELD here).';
COMMENT ON COLUMN claim_first_builds.built_at IS 'When the claim was first built (event time).';

CREATE OR REPLACE VIEW kpi_clean_claim_rate AS
SELECT count(*) AS claims_built,
       count(*) FILTER (WHERE status = 'CLEAN') AS clean,
       round(count(*) FILTER (WHERE status = 'CLEAN')::numeric / nullif(count(*), 0), 4) AS rate
  FROM claim_first_builds;
COMMENT ON VIEW kpi_clean_claim_rate IS 'Clean claim rate (HFMA MAP Key "Clean Claim Rate"): claims that passed every scrubber edit at their FIRST build (no manual intervention) / claims built; a claim held and then fixed is not clean.';
COMMENT ON COLUMN kpi_clean_claim_rate.claims_built IS 'Claims built (each counted once, at its first build).';
COMMENT ON COLUMN kpi_clean_claim_rate.clean IS 'Claims CLEAN at their first build.';
COMMENT ON COLUMN kpi_clean_claim_rate.rate IS 'clean / claims_built.';

COMMENT ON VIEW kpi_denial_rate IS 'Denial rate, all time (HFMA MAP Key "Remittance Denial Rate"; the issue''s "initial denial rate"): by count, claims with at least one denial / claims with a remittance; by dollars, denied cents / total charge cents of the remitted claims. HFMA counts remittances; here each claim counts once.';

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
COMMENT ON COLUMN kpi_daily_claim_rates.claims_built IS 'Claims first built that day.';
COMMENT ON COLUMN kpi_daily_claim_rates.clean IS 'Claims first built that day that were CLEAN at that first build.';

-- Where each claim stands at the end of a day: the most advanced step with evidence on or before it.
CREATE FUNCTION claim_stage_as_of(as_of date)
RETURNS TABLE (claim_id text, encounter_id text, account_id text, payer_id text,
               total_charge_cents bigint, stage text)
LANGUAGE sql STABLE AS $$
    WITH latest AS (
        SELECT DISTINCT ON (claim_id) * FROM claim_build_history
         WHERE (built_at AT TIME ZONE 'UTC')::date <= as_of
         ORDER BY claim_id, built_at DESC, event_id DESC
    ), ack AS (
        SELECT DISTINCT ON (claim_id) claim_id, accepted FROM claim_status_events
         WHERE (reported_at AT TIME ZONE 'UTC')::date <= as_of
         ORDER BY claim_id, reported_at DESC, applied_at DESC, event_id DESC
    ), remitted AS (
        SELECT reference AS claim_id FROM ledger_entries
         WHERE (posted_at AT TIME ZONE 'UTC')::date <= as_of
        UNION
        SELECT claim_id FROM denials WHERE denied_on <= as_of
    ), sent AS (
        SELECT claim_id FROM x12_claims_sent WHERE (sent_at AT TIME ZONE 'UTC')::date <= as_of
    )
    SELECT l.claim_id, l.encounter_id, l.account_id, l.payer_id, l.total_charge_cents,
           CASE WHEN r.claim_id IS NOT NULL THEN 'REMITTED'
                WHEN a.accepted IS FALSE THEN 'REJECTED'
                WHEN a.accepted OR s.claim_id IS NOT NULL THEN 'SUBMITTED'
                WHEN l.status = 'HELD' THEN 'HELD'
                ELSE 'BUILT' END
      FROM latest l
      LEFT JOIN ack a ON a.claim_id = l.claim_id
      LEFT JOIN remitted r ON r.claim_id = l.claim_id
      LEFT JOIN sent s ON s.claim_id = l.claim_id
$$;
COMMENT ON FUNCTION claim_stage_as_of(date) IS 'Stage of every claim built on or before the date, from the evidence dated on or before it: REMITTED (a ledger entry or denial references it), REJECTED (its latest 277CA rejected it), SUBMITTED (in an 837 file, or its latest 277CA accepted it), HELD or BUILT (CLEAN) by its latest build.';

-- Encounters that reached coding (a review request or a coded encounter) and have no claim yet.
CREATE FUNCTION unbilled_encounters_as_of(as_of date)
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

CREATE FUNCTION kpi_dnfb_as_of(as_of date)
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

CREATE VIEW kpi_dnfb AS SELECT * FROM kpi_dnfb_as_of(current_date);
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

CREATE FUNCTION kpi_stage_dollars_as_of(as_of date)
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

CREATE VIEW kpi_stage_dollars AS SELECT * FROM kpi_stage_dollars_as_of(current_date);
COMMENT ON VIEW kpi_stage_dollars IS 'Dollars waiting in each stage today, one row per stage in cycle order: in_coding_review (open coding reviews), coded_not_claimed (coded, no claim built), claim_held (latest build HELD by the scrubber), built_not_submitted (CLEAN, not yet in an 837 or acknowledged), rejected_by_payer (latest 277CA rejected it), awaiting_adjudication (submitted, no remittance yet), denied_open (open denials, amount at risk), patient_responsibility (accounts whose patient part is positive). Use kpi_stage_dollars_as_of(date) for another day.';
COMMENT ON COLUMN kpi_stage_dollars.stage IS 'Stage name (see the view comment).';
COMMENT ON COLUMN kpi_stage_dollars.step IS 'Order of the stage in the cycle (1 = earliest).';
COMMENT ON COLUMN kpi_stage_dollars.items IS 'Encounters, claims (denied_open: denied claims) or accounts (patient_responsibility) in the stage.';
COMMENT ON COLUMN kpi_stage_dollars.cents IS 'Money waiting in the stage, in cents.';

-- Flow KPIs over the UTC days from_day..to_day (both included). A claim counts on the day of its
-- first build (clean rate, time to bill), of its first acknowledgement (first-pass acceptance), of
-- its first remittance (denial rates, first-pass resolution); money on the day it was posted.
-- Only events dated on or before to_day are read, so a past window never sees later events.
CREATE FUNCTION kpi_flow_window(from_day date, to_day date)
RETURNS TABLE (kpi text, numerator bigint, denominator bigint, value numeric, unit text)
LANGUAGE sql STABLE AS $$
    WITH fb AS (
        SELECT * FROM claim_first_builds
         WHERE (built_at AT TIME ZONE 'UTC')::date BETWEEN from_day AND to_day
    ), acks AS (
        SELECT * FROM (SELECT DISTINCT ON (claim_id) claim_id, accepted,
                              (reported_at AT TIME ZONE 'UTC')::date AS d
                         FROM claim_status_events
                        ORDER BY claim_id, reported_at, applied_at, event_id) f
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
COMMENT ON FUNCTION kpi_flow_window(date, date) IS 'Flow KPIs over the UTC days from_day..to_day: clean_claim_rate, first_pass_acceptance_rate, remittance_denial_rate (count and _dollars), first_pass_resolution_rate, net_collection_rate, time_to_bill_days; value = numerator / denominator (NULL when 0). Definitions: README, A/R and KPIs.';

-- Every KPI of one event-time day: flow KPIs for the day (DAILY) and the 30 days ending on it
-- (ROLLING_30D); balance KPIs at the end of the day (DAILY only: a balance has no 30-day sum).
CREATE FUNCTION kpi_values(day date)
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

CREATE FUNCTION kpi_event_day() RETURNS date
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
CREATE VIEW kpi_latest AS
SELECT d.day, v.* FROM (SELECT kpi_event_day() AS day OFFSET 0) d, LATERAL kpi_values(d.day) v;
COMMENT ON VIEW kpi_latest IS 'Every KPI for the latest event-time day (kpi_event_day()), as published on the kpis topic.';
COMMENT ON COLUMN kpi_latest.day IS 'Latest UTC event day.';
COMMENT ON COLUMN kpi_latest.kpi IS 'KPI name (README, A/R and KPIs).';
COMMENT ON COLUMN kpi_latest.time_window IS 'DAILY or ROLLING_30D.';
COMMENT ON COLUMN kpi_latest.numerator IS 'Count or cents above the line.';
COMMENT ON COLUMN kpi_latest.denominator IS 'Count or cents below the line.';
COMMENT ON COLUMN kpi_latest.value IS 'The KPI (NULL when the denominator is 0).';
COMMENT ON COLUMN kpi_latest.unit IS 'RATIO, DAYS or CENTS.';

CREATE TABLE kpi_published (
    topic        text        NOT NULL,
    key          text        NOT NULL,
    day          date        NOT NULL,
    fingerprint  text        NOT NULL,
    published_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (topic, key)
);
CREATE INDEX kpi_published_day_idx ON kpi_published (topic, day);
COMMENT ON TABLE kpi_published IS 'What the KPI publisher last put on kpis and ar-aging-snapshots, per record key: it republishes a key only when its value changed.';
COMMENT ON COLUMN kpi_published.topic IS 'kpis or ar-aging-snapshots.';
COMMENT ON COLUMN kpi_published.key IS 'Record key (kpi|window|day, or day|payer|responsibility|bucket).';
COMMENT ON COLUMN kpi_published.day IS 'Event-time day of the record.';
COMMENT ON COLUMN kpi_published.fingerprint IS 'The published value without its computed_at, to compare with the next one.';
COMMENT ON COLUMN kpi_published.published_at IS 'When the broker acknowledged it.';
