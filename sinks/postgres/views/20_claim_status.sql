-- Where each claim stands: its builds, acknowledgements, status history and stage on a day.

CREATE OR REPLACE VIEW claim_transitions AS
SELECT claim_id, CASE frequency_code WHEN '7' THEN 'CORRECTED' ELSE 'VOIDED' END AS status,
       built_at AS at, source_event_id, version
FROM claim_versions
WHERE frequency_code IN ('7', '8')
UNION ALL
SELECT primary_claim_id, 'SECONDARY_BILLED', built_at, source_event_id, version
FROM claim_versions
WHERE payer_sequence = 'SECONDARY' AND primary_claim_id IS NOT NULL;
COMMENT ON VIEW claim_transitions IS 'Claim life transitions that are not a new claim, for the status history: CORRECTED (a replacement version, frequency 7), VOIDED (frequency 8), SECONDARY_BILLED (the primary claim''s remaining balance billed to the secondary payer, on the primary claim id).';
COMMENT ON COLUMN claim_transitions.claim_id IS 'The claim the transition happened to (the primary claim for SECONDARY_BILLED).';
COMMENT ON COLUMN claim_transitions.status IS 'CORRECTED, VOIDED or SECONDARY_BILLED.';
COMMENT ON COLUMN claim_transitions.at IS 'Event time of the build that made the transition.';
COMMENT ON COLUMN claim_transitions.source_event_id IS 'The event the transition comes from (coded encounter, or primary remittance).';
COMMENT ON COLUMN claim_transitions.version IS 'Version of the claim built (the secondary claim''s version for SECONDARY_BILLED).';

-- The scrubber's first-build KPIs (clean claim rate) measure only the claims the pipeline built.
CREATE OR REPLACE VIEW claim_first_builds AS
SELECT DISTINCT ON (claim_id) event_id, claim_id, encounter_id, account_id, payer_id, status,
       total_charge_cents, service_end, built_at
  FROM claim_versions WHERE status <> 'SUBMITTED' ORDER BY claim_id, version;
COMMENT ON VIEW claim_first_builds IS 'The first build of each claim the pipeline built: what the scrubber said before anyone touched the claim (claims submitted by the hospital''s billing system, status SUBMITTED, are not scrubbed and not counted).';
COMMENT ON COLUMN claim_first_builds.event_id IS 'Id of the ClaimBuilt event of the first build.';
COMMENT ON COLUMN claim_first_builds.status IS 'CLEAN or HELD at the first build (a claim held and then fixed stays HELD here).';
COMMENT ON COLUMN claim_first_builds.built_at IS 'When the claim was first built (event time).';

-- A set result applies to each claim version the pipeline sent in that set. A claim the 999 named
-- itself (CTX*CLM01) has its own claim_status_events row under the id the set result would give
-- it (<set event id>:<claim id>): that row stands, with its errors, and the set adds none.
CREATE OR REPLACE VIEW x12_set_acknowledged_claims AS
SELECT a.event_id || ':' || s.claim_id AS event_id, s.claim_id, s.version, a.accepted,
       a.reported_at, a.applied_at, a.event_id AS set_event_id, f.file_name
  FROM x12_set_acknowledgements a
  JOIN x12_files f
    ON f.sender_id = a.submitter_id AND f.receiver_id = a.receiver_id
   AND f.gs06 = CASE WHEN a.group_control_number ~ '^[0-9]{1,18}$'
                     THEN a.group_control_number::bigint END
   AND f.st02 = CASE WHEN a.set_control_number ~ '^[0-9]{1,18}$'
                     THEN a.set_control_number::bigint END
  JOIN x12_claims_sent s ON s.file_name = f.file_name
 WHERE NOT EXISTS (SELECT 1 FROM claim_status_events e
                    WHERE e.event_id = a.event_id || ':' || s.claim_id);
COMMENT ON VIEW x12_set_acknowledged_claims IS 'Each claim a 999 accepted or rejected with its whole 837 set: the set named by x12_set_acknowledgements (sender, receiver, GS06, ST02) matched to the 837 file the pipeline wrote (x12_files) and the claims it carried (x12_claims_sent). A claim the 999 named itself (claim_status_events) is not repeated. A set the pipeline did not send matches no file and gives no claim.';
COMMENT ON COLUMN x12_set_acknowledged_claims.event_id IS '<set event id>:<claim id>.';
COMMENT ON COLUMN x12_set_acknowledged_claims.version IS 'The claim version the file carried.';
COMMENT ON COLUMN x12_set_acknowledged_claims.set_event_id IS 'The x12_set_acknowledgements row.';
COMMENT ON COLUMN x12_set_acknowledged_claims.file_name IS 'The 837 file (x12_files) whose set it is.';

-- Every status report of a claim: its own claim_status_events rows, and the 999 results of the
-- sets that carried it. The one source of the views below.
CREATE OR REPLACE VIEW claim_status_reported AS
SELECT claim_id, accepted, transaction, reported_at, applied_at, event_id FROM claim_status_events
UNION ALL
SELECT claim_id, accepted, '999', reported_at, applied_at, event_id FROM x12_set_acknowledged_claims;
COMMENT ON VIEW claim_status_reported IS 'Every status report of a claim: claim_status_events (277CA, 277, a 999 naming the claim) and, for each claim of an 837 set a 999 accepted or rejected as a whole, that result (x12_set_acknowledged_claims, transaction 999).';

-- The first front-end acknowledgement of each claim: what first_pass_acceptance_rate counts
-- (kpi_flow_window), including the claims of a rejected 837 set.
CREATE OR REPLACE VIEW claim_first_acknowledgements AS
SELECT DISTINCT ON (claim_id) claim_id, accepted, transaction, reported_at, event_id
  FROM claim_status_reported
 WHERE transaction = '277CA' OR (transaction = '999' AND NOT accepted)
 ORDER BY claim_id, reported_at, applied_at, event_id;
COMMENT ON VIEW claim_first_acknowledgements IS 'Per claim, the front-end acknowledgement that decides first-pass acceptance: its first 277CA, or an earlier 999 that rejected the 837 set carrying it, whether the 999 named the claim or rejected the set as a whole (277 responses and 999 acceptances do not decide).';
COMMENT ON COLUMN claim_first_acknowledgements.accepted IS 'True when that acknowledgement accepted the claim.';
COMMENT ON COLUMN claim_first_acknowledgements.transaction IS '277CA or 999.';
COMMENT ON COLUMN claim_first_acknowledgements.reported_at IS 'Its status date: the day the claim counts in first_pass_acceptance_rate.';
COMMENT ON COLUMN claim_first_acknowledgements.event_id IS 'The claim_status_events row, or <set event id>:<claim id> for a set''s result.';

CREATE OR REPLACE VIEW claim_status_reports AS
SELECT claim_id,
       CASE transaction
            WHEN '277CA' THEN CASE WHEN accepted THEN 'ACCEPTED' ELSE 'REJECTED' END
            WHEN '999' THEN CASE WHEN accepted THEN 'SET_ACCEPTED' ELSE 'SET_REJECTED' END
            ELSE CASE WHEN accepted THEN 'STATUS_ACCEPTED' ELSE 'STATUS_REJECTED' END
       END AS status,
       reported_at AS at, event_id, transaction
  FROM claim_status_reported;
COMMENT ON VIEW claim_status_reports IS 'Each claim status report as a claim status: ACCEPTED or REJECTED (277CA acknowledgement), SET_ACCEPTED or SET_REJECTED (999: the 837 set that carried the claim, named in the 999 or accepted or rejected as a whole), STATUS_ACCEPTED or STATUS_REJECTED (277 claim status response: the payer holds the claim, or does not: not found, returned).';
COMMENT ON COLUMN claim_status_reports.status IS 'The status the report gives the claim (see the view''s comment).';
COMMENT ON COLUMN claim_status_reports.at IS 'Status date (reported_at).';
COMMENT ON COLUMN claim_status_reports.event_id IS 'The claim_status_events row.';
COMMENT ON COLUMN claim_status_reports.transaction IS '277CA, 277 or 999.';

-- Every step of every claim's life, from the one claim history (claim_versions), the 837 files
-- sent, the acknowledgements (claim_status_reports), remittances and denials. Claims the
-- hospital's billing system submitted (837 in, status SUBMITTED) start at SUBMITTED.
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
COMMENT ON COLUMN claim_status_history.at IS 'When the status began (event time; the 837 file time for SUBMITTED).';
COMMENT ON COLUMN claim_status_history.step IS 'Order of the step in a claim''s life (1 built or rebuilt, 2 submitted, 3 acknowledged or status reported, 4 adjudicated or billed to the secondary, 5 appealed, 6 closed): breaks ties between equal times.';
COMMENT ON COLUMN claim_status_history.source_event_id IS 'The event (or 837 file) the status comes from.';

CREATE OR REPLACE VIEW claim_current_status AS
SELECT DISTINCT ON (claim_id) claim_id, status, at AS since
FROM claim_status_history
ORDER BY claim_id, at DESC, step DESC, source_event_id DESC;
COMMENT ON VIEW claim_current_status IS 'Each claim''s status now: the latest row of claim_status_history.';
COMMENT ON COLUMN claim_current_status.since IS 'When the claim entered this status.';

-- The latest version built by the end of the day, and the latest evidence about it.
CREATE OR REPLACE FUNCTION claim_stage_as_of(as_of date)
RETURNS TABLE (claim_id text, encounter_id text, account_id text, payer_id text,
               total_charge_cents bigint, stage text)
LANGUAGE sql STABLE AS $$
    WITH latest AS (
        SELECT DISTINCT ON (claim_id) * FROM claim_versions
         WHERE (built_at AT TIME ZONE 'UTC')::date <= as_of
         ORDER BY claim_id, version DESC
    ), ack AS (
        SELECT DISTINCT ON (claim_id) claim_id, accepted FROM claim_status_reported
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
COMMENT ON FUNCTION claim_stage_as_of(date) IS 'Stage of every claim built on or before the date, from the evidence dated on or before it: REMITTED (a ledger entry or denial references it), REJECTED (its latest front-end acknowledgement, a 277CA or a 999 naming it or its 837 set, rejected it), SUBMITTED (in an 837 file, submitted by the hospital''s billing system, or its latest 277CA/999 accepted it), HELD or BUILT (CLEAN) by its latest build. 277 claim status responses do not change the stage.';
