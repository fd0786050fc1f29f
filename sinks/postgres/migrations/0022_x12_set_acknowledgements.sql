-- 999 results for a whole 837 set (issue 9): a 999 accepts or rejects each transaction set it
-- answers, naming a claim only where an error sits inside one (CTX*CLM01). The set's result is
-- stored here, named by the 837's control numbers, and joined to the claims the pipeline's 837
-- writer recorded sending in that set (x12_files, x12_claims_sent), so first-pass acceptance, the
-- claim status history and a claim's stage see every claim of a rejected set.

ALTER TABLE claim_status_events
    ADD COLUMN submitter_id         text,
    ADD COLUMN group_control_number text,
    ADD COLUMN set_control_number   text;
COMMENT ON COLUMN claim_status_events.submitter_id IS '999: who sent the 837 answered (999 GS03, else ISA08).';
COMMENT ON COLUMN claim_status_events.group_control_number IS '999 AK102: GS06 of the 837 answered.';
COMMENT ON COLUMN claim_status_events.set_control_number IS '999 AK202: ST02 of the 837 set that carried the claim.';

CREATE TABLE x12_set_acknowledgements (
    event_id             text PRIMARY KEY,
    submitter_id         text        NOT NULL,
    receiver_id          text        NOT NULL,
    group_control_number text        NOT NULL,
    set_control_number   text        NOT NULL,
    accepted             boolean     NOT NULL,
    categories           text[]      NOT NULL,
    statuses             jsonb       NOT NULL,
    reported_at          timestamptz NOT NULL,
    emitted_at           timestamptz NOT NULL,
    applied_at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX x12_set_acknowledgements_set_idx
    ON x12_set_acknowledgements (submitter_id, receiver_id, group_control_number, set_control_number);
COMMENT ON TABLE x12_set_acknowledgements IS '999 results for whole 837 transaction sets (ClaimStatusReported with an empty claim id), one row per set per 999: accepted (IK501 A or E) or rejected (M, R, W, X). x12_set_acknowledged_claims gives each claim the set carried.';
COMMENT ON COLUMN x12_set_acknowledgements.event_id IS 'x999:<ISA06>:<ISA13>:<ST02>:<AK102>:<AK202> of the 999: a re-sent 999 adds no row.';
COMMENT ON COLUMN x12_set_acknowledgements.submitter_id IS 'Who sent the 837 (999 GS03, else ISA08): x12_files.sender_id for the pipeline''s own 837s.';
COMMENT ON COLUMN x12_set_acknowledgements.receiver_id IS 'Who answered (999 GS02, else ISA06): x12_files.receiver_id.';
COMMENT ON COLUMN x12_set_acknowledgements.group_control_number IS '999 AK102: the 837''s GS06, as sent.';
COMMENT ON COLUMN x12_set_acknowledgements.set_control_number IS '999 AK202: the 837''s ST02, as sent.';
COMMENT ON COLUMN x12_set_acknowledgements.accepted IS 'True when the set was accepted (IK501 A, or E with errors).';
COMMENT ON COLUMN x12_set_acknowledgements.categories IS 'IK501 code of each status.';
COMMENT ON COLUMN x12_set_acknowledgements.statuses IS 'The set''s errors: category IK501, code IK304:<segment error> or IK403:<element error> (IK5 when none).';
COMMENT ON COLUMN x12_set_acknowledgements.reported_at IS 'The 999''s date (GS04), UTC.';
COMMENT ON COLUMN x12_set_acknowledgements.emitted_at IS 'When the adapter published it.';
COMMENT ON COLUMN x12_set_acknowledgements.applied_at IS 'When the sink wrote this row.';

-- A set result applies to each claim version the pipeline sent in that set. A claim the 999 named
-- itself (CTX*CLM01) has its own claim_status_events row under the id the set result would give
-- it (<set event id>:<claim id>): that row stands, with its errors, and the set adds none.
CREATE VIEW x12_set_acknowledged_claims AS
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
CREATE VIEW claim_status_reported AS
SELECT claim_id, accepted, transaction, reported_at, applied_at, event_id FROM claim_status_events
UNION ALL
SELECT claim_id, accepted, '999', reported_at, applied_at, event_id FROM x12_set_acknowledged_claims;
COMMENT ON VIEW claim_status_reported IS 'Every status report of a claim: claim_status_events (277CA, 277, a 999 naming the claim) and, for each claim of an 837 set a 999 accepted or rejected as a whole, that result (x12_set_acknowledged_claims, transaction 999).';

-- Redefined from 0021 over claim_status_reported: the same definition, now also seeing the
-- claims of a rejected set. Still the one definition first_pass_acceptance and kpi_flow_window read.
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

-- Redefined from 0021: the acknowledgement read from claim_status_reported (the rest unchanged).
CREATE OR REPLACE FUNCTION claim_stage_as_of(as_of date)
RETURNS TABLE (claim_id text, encounter_id text, account_id text, payer_id text,
               total_charge_cents bigint, stage text)
LANGUAGE sql STABLE AS $$
    WITH latest AS (
        SELECT DISTINCT ON (claim_id) * FROM claim_build_history
         WHERE (built_at AT TIME ZONE 'UTC')::date <= as_of
         ORDER BY claim_id, built_at DESC, event_id DESC
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
