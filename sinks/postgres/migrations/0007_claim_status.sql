-- Claim acknowledgements (claim-status, from X12 277CA): accepted into adjudication or rejected,
-- and the first-pass acceptance rate they make measurable.
CREATE TABLE claim_status_events (
    event_id                   text PRIMARY KEY,
    claim_id                   text        NOT NULL,
    payer_id                   text        NOT NULL,
    accepted                   boolean     NOT NULL,
    categories                 text[]      NOT NULL,
    statuses                   jsonb       NOT NULL,
    total_charge_cents         bigint,
    payer_claim_control_number text,
    service_start              date,
    service_end                date,
    reported_at                timestamptz NOT NULL,
    emitted_at                 timestamptz NOT NULL,
    applied_at                 timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX claim_status_events_claim_idx ON claim_status_events (claim_id, reported_at);
COMMENT ON TABLE claim_status_events IS 'Claim acknowledgements (X12 277CA claim status): one row per claim per acknowledgement, accepted into adjudication or rejected.';
COMMENT ON COLUMN claim_status_events.event_id IS 'Stable id from the file''s control numbers and the claim, so a re-sent file adds no row.';
COMMENT ON COLUMN claim_status_events.claim_id IS 'Claim id the pipeline sent (CLM01), echoed back in TRN02.';
COMMENT ON COLUMN claim_status_events.payer_id IS 'Payer or clearinghouse that acknowledged the claim (information source).';
COMMENT ON COLUMN claim_status_events.accepted IS 'True when accepted for adjudication (categories A0, A1, A2, A5 and none rejecting); false when rejected (A3, A4, A6, A7, A8) or no acceptance was stated.';
COMMENT ON COLUMN claim_status_events.categories IS 'Claim status category codes of every status composite, in file order.';
COMMENT ON COLUMN claim_status_events.statuses IS 'Every status composite: category, status code and entity, in file order.';
COMMENT ON COLUMN claim_status_events.total_charge_cents IS 'Total claim charge the acknowledgement echoes (STC04), in cents.';
COMMENT ON COLUMN claim_status_events.payer_claim_control_number IS 'Payer''s claim number (REF*1K), when assigned.';
COMMENT ON COLUMN claim_status_events.service_start IS 'First service date of the claim (DTP*472).';
COMMENT ON COLUMN claim_status_events.service_end IS 'Last service date of the claim (DTP*472).';
COMMENT ON COLUMN claim_status_events.reported_at IS 'Status effective date (STC02), else the file date, UTC.';
COMMENT ON COLUMN claim_status_events.emitted_at IS 'When the adapter published the acknowledgement.';
COMMENT ON COLUMN claim_status_events.applied_at IS 'When the sink wrote this row.';

-- A claim's first acknowledgement decides whether it passed first time; later ones (after a
-- correction and resubmission) do not change that.
CREATE VIEW first_pass_acceptance AS
WITH firsts AS (
    SELECT DISTINCT ON (claim_id) claim_id, accepted
    FROM claim_status_events
    ORDER BY claim_id, reported_at, applied_at, event_id
)
SELECT count(*) AS claims,
       count(*) FILTER (WHERE accepted) AS accepted_first_pass,
       count(*) FILTER (WHERE NOT accepted) AS rejected_first_pass,
       round(count(*) FILTER (WHERE accepted)::numeric / nullif(count(*), 0), 4) AS rate
FROM firsts;
COMMENT ON VIEW first_pass_acceptance IS 'First-pass acceptance: share of acknowledged claims whose first acknowledgement (277CA) accepted them.';
COMMENT ON COLUMN first_pass_acceptance.claims IS 'Claims with at least one acknowledgement.';
COMMENT ON COLUMN first_pass_acceptance.accepted_first_pass IS 'Claims whose first acknowledgement accepted them.';
COMMENT ON COLUMN first_pass_acceptance.rejected_first_pass IS 'Claims whose first acknowledgement rejected them.';
COMMENT ON COLUMN first_pass_acceptance.rate IS 'accepted_first_pass / claims.';
