-- A claim's life as one status at a time, derived from the events the sinks stored: built (created
-- or held), sent in an 837 (submitted), acknowledged by a 277CA (accepted or rejected), and each
-- remittance (paid, partially paid, denied, reversed). Appeals and closing come with the appeal
-- lifecycle events.
CREATE INDEX ledger_entries_reference_idx ON ledger_entries (reference);

CREATE VIEW claim_status_history AS
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
    SELECT c.claim_id, CASE WHEN c.status = 'HELD' THEN 'HELD' ELSE 'CREATED' END AS status,
           c.built_at AS at, 1 AS step, c.source_event_id AS source_event_id
    FROM claims c
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
)
SELECT claim_id, status, at, step, source_event_id FROM events;
COMMENT ON VIEW claim_status_history IS 'Every status a claim went through, one row per event: CREATED or HELD (built), SUBMITTED (in an 837 file), ACCEPTED or REJECTED (277CA), PAID, PARTIALLY_PAID, DENIED or REVERSED (per remittance).';
COMMENT ON COLUMN claim_status_history.at IS 'When the status began (event time; the 837 file time for SUBMITTED).';
COMMENT ON COLUMN claim_status_history.step IS 'Order of the step in a claim''s life (1 built, 2 submitted, 3 acknowledged, 4 adjudicated): breaks ties between equal times.';
COMMENT ON COLUMN claim_status_history.source_event_id IS 'The event (or 837 file) the status comes from.';

CREATE VIEW claim_current_status AS
SELECT DISTINCT ON (claim_id) claim_id, status, at AS since
FROM claim_status_history
ORDER BY claim_id, at DESC, step DESC, source_event_id DESC;
COMMENT ON VIEW claim_current_status IS 'Each claim''s status now: the latest row of claim_status_history.';
COMMENT ON COLUMN claim_current_status.since IS 'When the claim entered this status.';
