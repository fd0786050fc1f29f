-- One claim status history: the claim transitions of corrected and secondary claims (0018's
-- claim_transitions: CORRECTED, VOIDED, SECONDARY_BILLED) join the statuses 0015 derives, so a
-- corrected claim is a transition of the same claim, not a new claim; builds come from
-- claim_versions (claims keeps only the latest version, whose time is not the claim's creation).
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
    WHERE v.frequency_code = '1'
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
COMMENT ON VIEW claim_status_history IS 'Every status a claim went through, one row per event: CREATED or HELD (built), CORRECTED (a replacement version, frequency 7) or VOIDED (frequency 8), SUBMITTED (in an 837 file), ACCEPTED or REJECTED (277CA), PAID, PARTIALLY_PAID, DENIED or REVERSED (per remittance), SECONDARY_BILLED (what the primary left billed to the secondary payer), APPEALED (an appeal filed on one of its denials), CLOSED (every denial of the claim written off, directly or after an upheld appeal).';
COMMENT ON COLUMN claim_status_history.step IS 'Order of the step in a claim''s life (1 built or rebuilt, 2 submitted, 3 acknowledged, 4 adjudicated or billed to the secondary, 5 appealed, 6 closed): breaks ties between equal times.';
