-- Revenue-cycle KPIs, on event time: kpi_values(day) is the one definition of every KPI. The kpis
-- topic (sinks/postgres/kpi_publish.py), `rcm report` (infra/kpis.py) and kpi_latest read it;
-- sinks/postgres/kpi_catalog.py names each after its HFMA MAP Key and says how it differs.
-- Event-time days are UTC dates of the events (posted_at, built_at, reported_at, denied_on, ...),
-- never the wall clock. Rates are rounded to 4 places, days to 1.

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
       AND NOT EXISTS (SELECT 1 FROM claim_versions b
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

-- Flow KPIs over a range of days: each claim counts on the day of its first build, first
-- acknowledgement or first remittance; money on the day it was posted.
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
COMMENT ON FUNCTION kpi_flow_window(date, date) IS 'Flow KPIs over the UTC days from_day..to_day: clean_claim_rate, first_pass_acceptance_rate (from claim_first_acknowledgements), remittance_denial_rate (count and _dollars), first_pass_resolution_rate, net_collection_rate, time_to_bill_days; value = numerator / denominator (NULL when 0). Definitions: docs/kpis.md.';

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
        UNION ALL SELECT max((built_at AT TIME ZONE 'UTC')::date) FROM claim_versions
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
COMMENT ON COLUMN kpi_latest.kpi IS 'KPI name (docs/kpis.md, sinks/postgres/kpi_catalog.py).';
COMMENT ON COLUMN kpi_latest.time_window IS 'DAILY or ROLLING_30D.';
COMMENT ON COLUMN kpi_latest.numerator IS 'Count or cents above the line.';
COMMENT ON COLUMN kpi_latest.denominator IS 'Count or cents below the line.';
COMMENT ON COLUMN kpi_latest.value IS 'The KPI (NULL when the denominator is 0).';
COMMENT ON COLUMN kpi_latest.unit IS 'RATIO, DAYS or CENTS.';
