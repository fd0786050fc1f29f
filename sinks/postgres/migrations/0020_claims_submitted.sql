-- 837 in: claims the hospital's own billing system built and submitted enter as status SUBMITTED
-- (codes as billed, never scrubbed, never re-sent by the 837 writer). They keep the file's claim
-- frequency (institutional claims also use 0 and 2-5: interim bills, late charges).

ALTER TABLE claims DROP CONSTRAINT claims_status_check,
    ADD CONSTRAINT claims_status_check CHECK (status IN ('CLEAN', 'HELD', 'SUBMITTED')),
    DROP CONSTRAINT claims_frequency_code_check,
    ADD CONSTRAINT claims_frequency_code_check CHECK (frequency_code ~ '^[0-9A-Z]$');
ALTER TABLE claim_builds DROP CONSTRAINT claim_builds_status_check,
    ADD CONSTRAINT claim_builds_status_check CHECK (status IN ('CLEAN', 'HELD', 'SUBMITTED'));
COMMENT ON COLUMN claims.status IS 'CLEAN: passed every scrubber edit untouched. HELD: at least one edit stops it. SUBMITTED: built and sent by the hospital''s own billing system (X12 837 in), taken as billed.';
COMMENT ON COLUMN claims.frequency_code IS 'Claim frequency of the latest version (837 CLM05-3): 1 original, 7 replacement of a version the payer may hold (corrected claim), 8 void (the encounter was cancelled); a SUBMITTED claim keeps the file''s code (0, 2-5 for institutional interim and late-charge bills).';
COMMENT ON COLUMN claim_builds.status IS 'CLEAN or HELD as this build left the scrubber; SUBMITTED for a claim the hospital''s billing system sent (837 in).';

-- The scrubber's first-build KPIs (clean claim rate) measure only the claims the pipeline built.
CREATE OR REPLACE VIEW claim_first_builds AS
SELECT DISTINCT ON (claim_id) *
  FROM claim_build_history WHERE status <> 'SUBMITTED' ORDER BY claim_id, built_at, event_id;
COMMENT ON VIEW claim_first_builds IS 'The first build of each claim the pipeline built: what the scrubber said before anyone touched the claim (claims submitted by the hospital''s billing system, status SUBMITTED, are not scrubbed and not counted).';

-- A SUBMITTED claim is submitted from its first version on: never "built, not submitted".
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
                WHEN a.accepted OR s.claim_id IS NOT NULL OR l.status = 'SUBMITTED' THEN 'SUBMITTED'
                WHEN l.status = 'HELD' THEN 'HELD'
                ELSE 'BUILT' END
      FROM latest l
      LEFT JOIN ack a ON a.claim_id = l.claim_id
      LEFT JOIN remitted r ON r.claim_id = l.claim_id
      LEFT JOIN sent s ON s.claim_id = l.claim_id
$$;

-- The status history shows SUBMITTED (step 2) for each version the hospital's billing system sent.
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
    SELECT a.claim_id, CASE WHEN a.accepted THEN 'ACCEPTED' ELSE 'REJECTED' END, a.reported_at, 3,
           a.event_id
    FROM claim_status_events a
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
COMMENT ON VIEW claim_status_history IS 'Every status a claim went through, one row per event: CREATED or HELD (built), CORRECTED (a replacement version, frequency 7) or VOIDED (frequency 8), SUBMITTED (in an 837 file the pipeline wrote, or a claim the hospital''s billing system submitted: 837 in), ACCEPTED or REJECTED (277CA), PAID, PARTIALLY_PAID, DENIED or REVERSED (per remittance), SECONDARY_BILLED (what the primary left billed to the secondary payer), APPEALED (an appeal filed on one of its denials), CLOSED (every denial of the claim written off, directly or after an upheld appeal).';
COMMENT ON COLUMN claim_status_history.step IS 'Order of the step in a claim''s life (1 built or rebuilt, 2 submitted, 3 acknowledged, 4 adjudicated or billed to the secondary, 5 appealed, 6 closed): breaks ties between equal times.';
