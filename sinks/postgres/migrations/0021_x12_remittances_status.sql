-- X12 in, stored as faithfully as it is read (issue 9, root causes 14 and 16): every remittance
-- (835 claim payment, or a remittance from FHIR or the synthetic hospital) and its service lines
-- with modifiers, revenue codes, units, allowed amounts and dates; the 277 / 999 fields of claim
-- status events; and acknowledgement views that tell a 277CA from a 277 response and a 999.

CREATE TABLE remittances (
    event_id                     text PRIMARY KEY,
    remittance_id                text        NOT NULL,
    claim_id                     text        NOT NULL,
    account_id                   text        NOT NULL,
    payer_id                     text        NOT NULL,
    payer_name                   text,
    payer_claim_control_number   text        NOT NULL,
    trace_number                 text        NOT NULL,
    claim_status                 text        NOT NULL,
    total_charge_cents           bigint      NOT NULL,
    total_paid_cents             bigint      NOT NULL,
    patient_responsibility_cents bigint      NOT NULL,
    allowed_cents                bigint,
    check_amount_cents           bigint,
    claim_filing_indicator       text,
    facility_type_code           text,
    claim_frequency_code         text,
    drg_code                     text,
    statement_start              date,
    statement_end                date,
    received_on                  date,
    claim_adjustments            jsonb       NOT NULL,
    remarks                      text[]      NOT NULL,
    amounts                      jsonb       NOT NULL,
    adjudication                 jsonb       NOT NULL,
    provider_adjustments         jsonb       NOT NULL,
    line_count                   integer     NOT NULL,
    paid_at                      timestamptz NOT NULL,
    emitted_at                   timestamptz NOT NULL,
    applied_at                   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX remittances_claim_idx ON remittances (claim_id, paid_at);
CREATE INDEX remittances_remittance_idx ON remittances (remittance_id);
COMMENT ON TABLE remittances IS 'Every claim payment the pipeline posted (topic remittances: 835 CLP loops matched to their account, FHIR ExplanationOfBenefit, synthetic payers), as the payer sent it: one row per claim per remittance.';
COMMENT ON COLUMN remittances.event_id IS 'Id of the RemittanceReceived event (835: x835:TRN03:TRN02:n), so a re-sent check adds no row.';
COMMENT ON COLUMN remittances.remittance_id IS 'The check or EFT (835: TRN03:TRN02); several claims share it.';
COMMENT ON COLUMN remittances.claim_id IS 'Claim paid (835 CLP01, the CLM01 the claim was sent with).';
COMMENT ON COLUMN remittances.account_id IS 'Patient account of the claim (filled by the processor''s claim match).';
COMMENT ON COLUMN remittances.payer_id IS 'Payer (835 N1*PR N104, else REF*2U, else N102).';
COMMENT ON COLUMN remittances.payer_name IS 'Payer name (835 N1*PR N102), when given.';
COMMENT ON COLUMN remittances.payer_claim_control_number IS 'Payer''s claim number (835 CLP07).';
COMMENT ON COLUMN remittances.trace_number IS 'Check or EFT trace number (835 TRN02).';
COMMENT ON COLUMN remittances.claim_status IS 'CLP02: 1/2/3 processed as primary/secondary/tertiary, 4 denied, 22 reversal of an earlier payment.';
COMMENT ON COLUMN remittances.total_charge_cents IS 'CLP03 claim charge, in cents (negative in a reversal).';
COMMENT ON COLUMN remittances.total_paid_cents IS 'CLP04 claim payment, in cents (negative in a reversal).';
COMMENT ON COLUMN remittances.patient_responsibility_cents IS 'CLP05 patient responsibility, in cents.';
COMMENT ON COLUMN remittances.allowed_cents IS 'Sum of the lines'' allowed amounts (AMT*B6), in cents, when every line has one; NULL otherwise.';
COMMENT ON COLUMN remittances.check_amount_cents IS 'BPR02: the whole check or EFT this claim payment is part of, in cents.';
COMMENT ON COLUMN remittances.claim_filing_indicator IS 'CLP06: MA/MB Medicare, MC Medicaid, 12-16 PPO/POS/EPO/indemnity/HMO, CI commercial, ...';
COMMENT ON COLUMN remittances.facility_type_code IS 'CLP08: place of service, or the type of bill''s first two digits.';
COMMENT ON COLUMN remittances.claim_frequency_code IS 'CLP09: 1 original, 7 replacement, 8 void.';
COMMENT ON COLUMN remittances.drg_code IS 'CLP11 DRG the payer applied.';
COMMENT ON COLUMN remittances.statement_start IS 'DTM*232: claim statement period start.';
COMMENT ON COLUMN remittances.statement_end IS 'DTM*233: claim statement period end.';
COMMENT ON COLUMN remittances.received_on IS 'DTM*050: when the payer received the claim.';
COMMENT ON COLUMN remittances.claim_adjustments IS 'Claim-level CAS: [{group_code, reason_code, amount_cents}], in file order.';
COMMENT ON COLUMN remittances.remarks IS 'Claim-level remark codes (MOA/MIA RARCs).';
COMMENT ON COLUMN remittances.amounts IS 'Claim AMT segments: [{qualifier, amount_cents}] (AU coverage, D8 discount, F5 patient paid, I interest, ...), in file order.';
COMMENT ON COLUMN remittances.adjudication IS 'MIA (inpatient) and MOA (outpatient) elements other than remarks: [{element, amount_cents, value}]; amounts in cents, days and rates as decimal text.';
COMMENT ON COLUMN remittances.provider_adjustments IS 'The check''s PLB adjustments [{provider_id, fiscal_period_end, reason_code, reference, amount_cents}], on the first claim of the check only.';
COMMENT ON COLUMN remittances.line_count IS 'Service lines paid (rows in remittance_lines).';
COMMENT ON COLUMN remittances.paid_at IS 'Remittance date (835 BPR16, else DTM*405, else GS04), UTC.';
COMMENT ON COLUMN remittances.emitted_at IS 'When the adapter or payer feed published it.';
COMMENT ON COLUMN remittances.applied_at IS 'When the sink wrote this row.';

CREATE TABLE remittance_lines (
    line_id                 text PRIMARY KEY,
    event_id                text        NOT NULL,
    position                integer     NOT NULL CHECK (position > 0),
    claim_id                text        NOT NULL,
    line                    integer     NOT NULL,
    line_control_number     text,
    procedure_qualifier     text,
    procedure_code          text        NOT NULL,
    modifiers               text[]      NOT NULL,
    revenue_code            text,
    original_procedure_code text,
    original_modifiers      text[]      NOT NULL,
    units                   integer     NOT NULL,
    units_paid              numeric,
    units_billed            numeric,
    charge_cents            bigint      NOT NULL,
    paid_cents              bigint      NOT NULL,
    allowed_cents           bigint,
    service_start           date,
    service_end             date,
    adjustments             jsonb       NOT NULL,
    remarks                 text[]      NOT NULL,
    amounts                 jsonb       NOT NULL,
    applied_at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (event_id, position)
);
CREATE INDEX remittance_lines_claim_idx ON remittance_lines (claim_id);
COMMENT ON TABLE remittance_lines IS 'Each service line of a remittance (835 SVC loop) as the payer adjudicated it: procedure and modifiers, revenue code, units, charge, payment, allowed amount, dates, adjustments and remarks.';
COMMENT ON COLUMN remittance_lines.line_id IS 'The remittance event id and the line''s position: <event_id>:<position>.';
COMMENT ON COLUMN remittance_lines.event_id IS 'The remittance (remittances.event_id).';
COMMENT ON COLUMN remittance_lines.position IS 'Position of the line in the claim payment, from 1, in file order.';
COMMENT ON COLUMN remittance_lines.claim_id IS 'Claim paid (CLP01).';
COMMENT ON COLUMN remittance_lines.line IS 'Claim line the payment is for: REF*6R when it is a line number, else the position.';
COMMENT ON COLUMN remittance_lines.line_control_number IS 'REF*6R line item control number, verbatim (an opaque id).';
COMMENT ON COLUMN remittance_lines.procedure_qualifier IS 'SVC01-1: HC (HCPCS/CPT), NU (revenue code), AD, ER, HP, IV, N4, WK.';
COMMENT ON COLUMN remittance_lines.procedure_code IS 'SVC01-2: the procedure the payer adjudicated.';
COMMENT ON COLUMN remittance_lines.modifiers IS 'SVC01-3 to SVC01-6, in order.';
COMMENT ON COLUMN remittance_lines.revenue_code IS 'SVC04 revenue code (institutional).';
COMMENT ON COLUMN remittance_lines.original_procedure_code IS 'SVC06-2: the procedure as billed, when the payer adjudicated another.';
COMMENT ON COLUMN remittance_lines.original_modifiers IS 'SVC06-3 to SVC06-6.';
COMMENT ON COLUMN remittance_lines.units IS 'Billed units rounded up to a whole number, at least 1 (what the ledger and denials use).';
COMMENT ON COLUMN remittance_lines.units_paid IS 'SVC05 units paid, exact decimal (1 when the 835 omits it).';
COMMENT ON COLUMN remittance_lines.units_billed IS 'SVC07 original units when the payer changed them, else units_paid; exact decimal.';
COMMENT ON COLUMN remittance_lines.charge_cents IS 'SVC02 line charge, in cents.';
COMMENT ON COLUMN remittance_lines.paid_cents IS 'SVC03 line payment, in cents.';
COMMENT ON COLUMN remittance_lines.allowed_cents IS 'AMT*B6 allowed amount, in cents, when given.';
COMMENT ON COLUMN remittance_lines.service_start IS 'DTM*472 or DTM*150 service date.';
COMMENT ON COLUMN remittance_lines.service_end IS 'DTM*472 or DTM*151 service date.';
COMMENT ON COLUMN remittance_lines.adjustments IS 'Line CAS: [{group_code, reason_code, amount_cents}], in file order.';
COMMENT ON COLUMN remittance_lines.remarks IS 'Line remark codes (LQ*HE).';
COMMENT ON COLUMN remittance_lines.amounts IS 'Line AMT segments: [{qualifier, amount_cents}] (B6 included), in file order.';
COMMENT ON COLUMN remittance_lines.applied_at IS 'When the sink wrote this row.';

-- Claim status events: which transaction reported them, and what a 277 response adds.
ALTER TABLE claim_status_events
    ADD COLUMN transaction      text NOT NULL DEFAULT '277CA'
        CHECK (transaction IN ('277CA', '277', '999')),
    ADD COLUMN paid_cents       bigint,
    ADD COLUMN adjudicated_on   date,
    ADD COLUMN remitted_on      date,
    ADD COLUMN remittance_trace text;
COMMENT ON TABLE claim_status_events IS 'Claim status reports, one row per claim per report: a 277CA acknowledgement (accepted into adjudication or rejected), a 277 claim status response (the payer holds the claim or not), or a 999 (the 837 set carrying the claim accepted or rejected).';
COMMENT ON COLUMN claim_status_events.claim_id IS 'Claim id (CLM01): 277CA TRN02, 277 REF*EJ (else TRN02), 999 CTX*CLM01.';
COMMENT ON COLUMN claim_status_events.accepted IS '277CA: accepted for adjudication (A0, A1, A2, A5, and none rejecting) or rejected (A3, A4, A6, A7, A8). 277: the payer holds the claim (A0-A2, A5, P*, F*, R*) or not (A3, A4, A6-A8, D0). 999: the set was accepted (IK501 A or E) or rejected (M, R, W, X).';
COMMENT ON COLUMN claim_status_events.categories IS 'Status category codes of every status, in file order (277CA/277 STC01-1; 999: the set''s IK501).';
COMMENT ON COLUMN claim_status_events.statuses IS 'Every status: category, code and entity, in file order (999: code IK304:<segment error> or IK403:<element error>).';
COMMENT ON COLUMN claim_status_events.transaction IS 'What reported it: 277CA (005010X214 claim acknowledgement), 277 (005010X212 claim status response) or 999 (005010X231 implementation acknowledgement). Rows written before 0021 are 277CA.';
COMMENT ON COLUMN claim_status_events.paid_cents IS '277 STC05 claim payment amount, in cents.';
COMMENT ON COLUMN claim_status_events.adjudicated_on IS '277 STC06 adjudication finalized date.';
COMMENT ON COLUMN claim_status_events.remitted_on IS '277 STC08 remittance date.';
COMMENT ON COLUMN claim_status_events.remittance_trace IS '277 STC09 check or EFT trace number.';

-- The front-end acknowledgement that decides first-pass acceptance, per claim: the first 277CA,
-- or an earlier 999 rejecting the 837 set that carried the claim. A 999 accepting a set (A, or E
-- with errors) does not decide (the 277CA that follows does); a 277 response is the payer's
-- adjudication status, never a front-end acknowledgement. One definition, read by the
-- first_pass_acceptance view and by kpi_flow_window (first_pass_acceptance_rate).
CREATE VIEW claim_first_acknowledgements AS
SELECT DISTINCT ON (claim_id) claim_id, accepted, transaction, reported_at, event_id
  FROM claim_status_events
 WHERE transaction = '277CA' OR (transaction = '999' AND NOT accepted)
 ORDER BY claim_id, reported_at, applied_at, event_id;
COMMENT ON VIEW claim_first_acknowledgements IS 'Per claim, the front-end acknowledgement that decides first-pass acceptance: its first 277CA, or an earlier 999 that rejected the 837 set carrying it (277 responses and 999 acceptances do not decide).';
COMMENT ON COLUMN claim_first_acknowledgements.accepted IS 'True when that acknowledgement accepted the claim.';
COMMENT ON COLUMN claim_first_acknowledgements.transaction IS '277CA or 999.';
COMMENT ON COLUMN claim_first_acknowledgements.reported_at IS 'Its status date: the day the claim counts in first_pass_acceptance_rate.';
COMMENT ON COLUMN claim_first_acknowledgements.event_id IS 'The claim_status_events row.';

CREATE OR REPLACE VIEW first_pass_acceptance AS
SELECT count(*) AS claims,
       count(*) FILTER (WHERE accepted) AS accepted_first_pass,
       count(*) FILTER (WHERE NOT accepted) AS rejected_first_pass,
       round(count(*) FILTER (WHERE accepted)::numeric / nullif(count(*), 0), 4) AS rate
FROM claim_first_acknowledgements;
COMMENT ON VIEW first_pass_acceptance IS 'First-pass acceptance: share of acknowledged claims whose first front-end acknowledgement (claim_first_acknowledgements: the first 277CA, or an earlier 999 rejecting its 837 set) accepted them.';
COMMENT ON VIEW kpi_first_pass_acceptance IS 'First-pass acceptance (277CA, and 999 set rejections): acknowledged claims whose first front-end acknowledgement accepted them / acknowledged claims (same as first_pass_acceptance).';

-- What each status report says in a claim's history, by the transaction that reported it.
CREATE VIEW claim_status_reports AS
SELECT claim_id,
       CASE transaction
            WHEN '277CA' THEN CASE WHEN accepted THEN 'ACCEPTED' ELSE 'REJECTED' END
            WHEN '999' THEN CASE WHEN accepted THEN 'SET_ACCEPTED' ELSE 'SET_REJECTED' END
            ELSE CASE WHEN accepted THEN 'STATUS_ACCEPTED' ELSE 'STATUS_REJECTED' END
       END AS status,
       reported_at AS at, event_id, transaction
  FROM claim_status_events;
COMMENT ON VIEW claim_status_reports IS 'Each claim status event as a claim status: ACCEPTED or REJECTED (277CA acknowledgement), SET_ACCEPTED or SET_REJECTED (999: the 837 set that carried the claim), STATUS_ACCEPTED or STATUS_REJECTED (277 claim status response: the payer holds the claim, or does not: not found, returned).';
COMMENT ON COLUMN claim_status_reports.status IS 'The status the report gives the claim (see the view''s comment).';
COMMENT ON COLUMN claim_status_reports.at IS 'Status date (reported_at).';
COMMENT ON COLUMN claim_status_reports.event_id IS 'The claim_status_events row.';
COMMENT ON COLUMN claim_status_reports.transaction IS '277CA, 277 or 999.';

-- Redefined from 0019 with the acknowledgement step read from claim_status_reports. It also
-- carries 0020's rules for claims the hospital's billing system submitted (837 in, status
-- SUBMITTED), so neither migration loses the other's whichever lands first.
CREATE OR REPLACE VIEW claim_status_history AS
WITH remits AS (
    SELECT e.reference AS claim_id, e.source_event_id,
           min(e.posted_at) AS at,
           -sum(e.insurance_delta_cents) FILTER (WHERE e.kind = 'PAYER_PAYMENT') AS paid_cents,
           bool_or(e.reason = 'REVERSAL') AS reversal
    FROM ledger_entries e
    JOIN claims c ON c.claim_id = e.reference
    WHERE e.kind IN ('PAYER_PAYMENT', 'CONTRACTUAL_ADJUSTMENT', 'TRANSFER_TO_PATIENT',
                     'OTHER_ADJUSTMENT')
    GROUP BY e.reference, e.source_event_id
), denied AS (
    SELECT source_event_id, sum(amount_cents) AS denied_cents, min(denied_on) AS denied_on
    FROM denials GROUP BY source_event_id
), events AS (
    SELECT v.claim_id, CASE WHEN v.status = 'HELD' THEN 'HELD' ELSE 'CREATED' END AS status,
           v.built_at AS at, 1 AS step, v.source_event_id AS source_event_id
    FROM claim_versions v  -- every original build (a held claim rebuilt clean shows both)
    WHERE v.frequency_code = '1' AND v.status <> 'SUBMITTED'
    UNION ALL  -- a claim the hospital's billing system submitted (837 in), each version it sent
    SELECT v.claim_id, 'SUBMITTED', v.built_at, 2, v.source_event_id
    FROM claim_versions v WHERE v.status = 'SUBMITTED'
    UNION ALL
    SELECT s.claim_id, 'SUBMITTED', s.sent_at, 2, s.file_name FROM x12_claims_sent s
    UNION ALL
    SELECT a.claim_id, a.status, a.at, 3, a.event_id FROM claim_status_reports a
    UNION ALL
    SELECT r.claim_id,
           CASE WHEN r.reversal THEN 'REVERSED'
                WHEN coalesce(d.denied_cents, 0) > 0 AND coalesce(r.paid_cents, 0) = 0 THEN 'DENIED'
                WHEN coalesce(d.denied_cents, 0) > 0 THEN 'PARTIALLY_PAID'
                ELSE 'PAID' END,
           r.at, 4, r.source_event_id
    FROM remits r LEFT JOIN denied d USING (source_event_id)
    UNION ALL  -- a remittance whose only effect is a denial posts no ledger entry
    SELECT dn.claim_id, 'DENIED', min(dn.denied_on)::timestamptz, 4, dn.source_event_id
    FROM denials dn
    WHERE NOT EXISTS (SELECT 1 FROM remits r WHERE r.source_event_id = dn.source_event_id)
    GROUP BY dn.claim_id, dn.source_event_id
    UNION ALL
    SELECT e.claim_id, 'APPEALED', e.occurred_at, 5, e.event_id
    FROM denial_events e WHERE e.action = 'FILED'
    UNION ALL  -- a corrected (7) or voided (8) version, and the balance billed to the secondary payer
    SELECT t.claim_id, t.status, t.at, CASE WHEN t.status = 'SECONDARY_BILLED' THEN 4 ELSE 1 END,
           t.source_event_id || ':v' || t.version
    FROM claim_transitions t
    UNION ALL  -- closed when its last denial is written off (directly, or after an upheld appeal)
    SELECT * FROM (
        SELECT DISTINCT ON (e.claim_id) e.claim_id, 'CLOSED', e.occurred_at, 6, e.event_id
        FROM denial_events e
        WHERE e.action = 'WRITTEN_OFF' AND e.open_cents = 0
          AND NOT EXISTS (SELECT 1 FROM denials o
                          WHERE o.claim_id = e.claim_id AND o.status <> 'written_off')
        ORDER BY e.claim_id, e.occurred_at DESC, e.event_id DESC) closed
)
SELECT claim_id, status, at, step, source_event_id FROM events;
COMMENT ON VIEW claim_status_history IS 'Every status a claim went through, one row per event: CREATED or HELD (built), CORRECTED (a replacement version, frequency 7) or VOIDED (frequency 8), SUBMITTED (in an 837 file the pipeline wrote, or a claim the hospital''s billing system submitted: 837 in), ACCEPTED or REJECTED (277CA), SET_ACCEPTED or SET_REJECTED (999), STATUS_ACCEPTED or STATUS_REJECTED (277 claim status response), PAID, PARTIALLY_PAID, DENIED or REVERSED (per remittance), SECONDARY_BILLED (what the primary left billed to the secondary payer), APPEALED (an appeal filed on one of its denials), CLOSED (every denial of the claim written off, directly or after an upheld appeal).';
COMMENT ON COLUMN claim_status_history.step IS 'Order of the step in a claim''s life (1 built or rebuilt, 2 submitted, 3 acknowledged or status reported, 4 adjudicated or billed to the secondary, 5 appealed, 6 closed): breaks ties between equal times.';

-- A claim's stage follows its latest front-end acknowledgement (277CA, or a 999 on its 837 set);
-- a 277 response (the payer's adjudication status) never makes it REJECTED. Carries 0020's
-- SUBMITTED rule (837 in) as claim_status_history does.
CREATE OR REPLACE FUNCTION claim_stage_as_of(as_of date)
RETURNS TABLE (claim_id text, encounter_id text, account_id text, payer_id text,
               total_charge_cents bigint, stage text)
LANGUAGE sql STABLE AS $$
    WITH latest AS (
        SELECT DISTINCT ON (claim_id) * FROM claim_build_history
         WHERE (built_at AT TIME ZONE 'UTC')::date <= as_of
         ORDER BY claim_id, built_at DESC, event_id DESC
    ), ack AS (
        SELECT DISTINCT ON (claim_id) claim_id, accepted FROM claim_status_events
         WHERE (reported_at AT TIME ZONE 'UTC')::date <= as_of AND transaction IN ('277CA', '999')
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
                WHEN a.accepted OR s.claim_id IS NOT NULL OR l.status = 'SUBMITTED' THEN 'SUBMITTED'
                WHEN l.status = 'HELD' THEN 'HELD'
                ELSE 'BUILT' END
      FROM latest l
      LEFT JOIN ack a ON a.claim_id = l.claim_id
      LEFT JOIN remitted r ON r.claim_id = l.claim_id
      LEFT JOIN sent s ON s.claim_id = l.claim_id
$$;
COMMENT ON FUNCTION claim_stage_as_of(date) IS 'Stage of every claim built on or before the date, from the evidence dated on or before it: REMITTED (a ledger entry or denial references it), REJECTED (its latest front-end acknowledgement, a 277CA or a 999, rejected it), SUBMITTED (in an 837 file, submitted by the hospital''s billing system, or its latest 277CA/999 accepted it), HELD or BUILT (CLEAN) by its latest build. 277 claim status responses do not change the stage.';

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
