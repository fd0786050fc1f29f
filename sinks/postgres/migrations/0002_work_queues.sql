-- Views billing staff work from. Ordered so the top row is the one to work first.

CREATE VIEW denials_by_deadline AS
SELECT d.denial_id, d.claim_id, d.account_id, d.payer_id, d.line, d.group_code, d.reason_code,
       d.category, d.preventable, d.amount_cents, d.denied_on, d.appeal_deadline,
       d.appeal_deadline - current_date AS days_left, d.remarks
FROM denials d
WHERE d.status = 'open'
ORDER BY d.appeal_deadline, d.amount_cents DESC, d.denial_id;
COMMENT ON VIEW denials_by_deadline IS 'Open denials, the nearest appeal deadline first (then the most money).';
COMMENT ON COLUMN denials_by_deadline.days_left IS 'Days until the appeal deadline (negative: the window has closed).';

CREATE VIEW held_claims AS
SELECT c.claim_id, c.account_id, c.encounter_id, c.payer_id, c.claim_type, c.total_charge_cents,
       c.edits, jsonb_array_length(c.edits) AS edit_count, c.built_at,
       current_date - c.service_end AS days_since_service
FROM claims c
WHERE c.status = 'HELD'
ORDER BY c.total_charge_cents DESC, c.built_at, c.claim_id;
COMMENT ON VIEW held_claims IS 'Claims the scrubber held, the most money first, with the edits to fix.';
COMMENT ON COLUMN held_claims.edit_count IS 'Number of scrubber edits that fired.';
COMMENT ON COLUMN held_claims.days_since_service IS 'Days since the last date of service (billing lag).';

CREATE VIEW coding_review_queue AS
SELECT r.review_id, r.encounter_id, r.account_id, r.payer_id, r.encounter_class,
       r.total_charge_cents, r.reasons, r.suggestions, r.requested_at
FROM coding_review r
WHERE r.status = 'open'
ORDER BY r.total_charge_cents DESC, r.requested_at, r.review_id;
COMMENT ON VIEW coding_review_queue IS 'Open coding reviews, the most money waiting first.';
