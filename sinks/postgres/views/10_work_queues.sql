-- Work queues: what billers, coders and denial staff work on next.

-- Views billing staff work from. Ordered so the top row is the one to work first.
CREATE OR REPLACE VIEW denials_by_deadline AS
SELECT d.denial_id, d.claim_id, d.account_id, d.payer_id, d.line, d.group_code, d.reason_code,
       d.category, d.preventable, d.amount_cents, d.denied_on, d.appeal_deadline,
       d.appeal_deadline - current_date AS days_left, d.remarks
FROM denials d
WHERE d.status = 'open'
ORDER BY d.appeal_deadline, d.amount_cents DESC, d.denial_id;
COMMENT ON VIEW denials_by_deadline IS 'Open denials, the nearest appeal deadline first (then the most money).';
COMMENT ON COLUMN denials_by_deadline.days_left IS 'Days until the appeal deadline (negative: the window has closed).';

CREATE OR REPLACE VIEW held_claims AS
SELECT c.claim_id, c.account_id, c.encounter_id, c.payer_id, c.claim_type, c.total_charge_cents,
       c.edits, jsonb_array_length(c.edits) AS edit_count, c.built_at,
       current_date - c.service_end AS days_since_service
FROM claims c
WHERE c.status = 'HELD'
ORDER BY c.total_charge_cents DESC, c.built_at, c.claim_id;
COMMENT ON VIEW held_claims IS 'Claims the scrubber held, the most money first, with the edits to fix.';
COMMENT ON COLUMN held_claims.edit_count IS 'Number of scrubber edits that fired.';
COMMENT ON COLUMN held_claims.days_since_service IS 'Days since the last date of service (billing lag).';

-- An encounter leaves the queue once it is coded, whichever of the two rows the sink wrote first.
CREATE OR REPLACE VIEW coding_review_queue AS
SELECT r.review_id, r.encounter_id, r.account_id, r.payer_id, r.encounter_class,
       r.total_charge_cents, r.reasons, r.suggestions, r.requested_at
FROM coding_review r
WHERE r.status = 'open'
  AND NOT EXISTS (SELECT 1 FROM encounters_coded e WHERE e.encounter_id = r.encounter_id)
ORDER BY r.total_charge_cents DESC, r.requested_at, r.review_id;
COMMENT ON VIEW coding_review_queue IS 'Open coding reviews (not yet released by a decision), the most money waiting first.';

CREATE OR REPLACE VIEW coding_decisions AS
SELECT e.decision_id, e.encounter_id, e.account_id, e.coder_id, e.decided_at, e.coded_at,
       e.suggested_codes, c.codes AS chosen_codes,
       cardinality(ARRAY(SELECT unnest(c.codes) INTERSECT SELECT unnest(e.suggested_codes))) AS kept,
       cardinality(ARRAY(SELECT unnest(c.codes) EXCEPT SELECT unnest(e.suggested_codes))) AS added,
       cardinality(ARRAY(SELECT unnest(e.suggested_codes) EXCEPT SELECT unnest(c.codes))) AS dropped
FROM encounters_coded e
CROSS JOIN LATERAL (
    SELECT ARRAY(SELECT d->>'code' FROM jsonb_array_elements(e.diagnoses) d) AS codes
) c
WHERE e.decision_id IS NOT NULL;
COMMENT ON VIEW coding_decisions IS 'Encounters a coder released, with the chosen codes against the automatic suggestions (sets of codes).';
COMMENT ON COLUMN coding_decisions.kept IS 'Codes both suggested and chosen.';
COMMENT ON COLUMN coding_decisions.added IS 'Codes the coder chose that were not suggested.';
COMMENT ON COLUMN coding_decisions.dropped IS 'Suggested codes the coder did not choose.';

CREATE OR REPLACE VIEW coding_kpis AS
WITH reached AS (
    SELECT encounter_id FROM encounters_coded UNION SELECT encounter_id FROM coding_review
), totals AS (
    SELECT (SELECT count(*) FROM reached) AS encounters,
           (SELECT count(DISTINCT encounter_id) FROM encounters_coded WHERE decision_id IS NULL)
               AS auto_coded,
           (SELECT count(*) FROM coding_review_queue) AS in_review,
           (SELECT count(*) FROM coding_decisions) AS released,
           (SELECT count(*) FROM coding_decisions WHERE added = 0 AND dropped = 0) AS exact,
           (SELECT coalesce(sum(kept), 0) FROM coding_decisions) AS kept,
           (SELECT coalesce(sum(kept + added + dropped), 0) FROM coding_decisions) AS compared
)
SELECT encounters, auto_coded, in_review, released,
       round(auto_coded::numeric / nullif(encounters, 0), 4) AS auto_code_rate,
       round(exact::numeric / nullif(released, 0), 4) AS decision_exact_agreement,
       round(kept::numeric / nullif(compared, 0), 4) AS code_agreement
FROM totals;
COMMENT ON VIEW coding_kpis IS 'Coding at a glance: how many encounters coded themselves, how many wait for a coder, and how often coders agree with the suggestions.';
COMMENT ON COLUMN coding_kpis.encounters IS 'Encounters that reached coding (coded or sent to review).';
COMMENT ON COLUMN coding_kpis.auto_coded IS 'Encounters coded with no person involved.';
COMMENT ON COLUMN coding_kpis.in_review IS 'Encounters waiting in the coding review queue.';
COMMENT ON COLUMN coding_kpis.released IS 'Encounters released by a coder''s decision.';
COMMENT ON COLUMN coding_kpis.auto_code_rate IS 'auto_coded / encounters.';
COMMENT ON COLUMN coding_kpis.decision_exact_agreement IS 'Share of decisions whose set of codes equals the suggestions.';
COMMENT ON COLUMN coding_kpis.code_agreement IS 'Pooled over decisions: codes kept / codes kept, added or dropped (Jaccard).';

CREATE OR REPLACE VIEW denial_work_queue AS
SELECT d.owner_queue, d.denial_id, d.claim_id, d.account_id, d.payer_id, d.line, d.category,
       d.reason_code, d.preventable, d.amount_cents, d.denied_on, d.appeal_deadline,
       d.appeal_deadline - current_date AS days_left, d.remarks, d.status,
       d.amount_cents - d.written_off_cents AS open_cents
FROM denials d
WHERE d.status IN ('open', 'appealed', 'upheld', 'expired')
ORDER BY d.owner_queue, d.appeal_deadline, d.amount_cents DESC, d.denial_id;
COMMENT ON VIEW denial_work_queue IS 'Denials someone must still work, per owner queue, the nearest appeal deadline first (then the most money): open (appeal or write off), appealed (follow up with the payer), upheld or expired (write off or escalate). Overturned and written-off denials are done.';
COMMENT ON COLUMN denial_work_queue.days_left IS 'Days until the appeal deadline (negative: the window has closed).';
COMMENT ON COLUMN denial_work_queue.status IS 'open, appealed, upheld or expired (see denials.status).';
COMMENT ON COLUMN denial_work_queue.open_cents IS 'Denied amount not written off, in cents.';

CREATE OR REPLACE VIEW denial_queue_summary AS
SELECT d.owner_queue,
       count(*) FILTER (WHERE d.status = 'open') AS open_denials,
       coalesce(sum(d.amount_cents - d.written_off_cents) FILTER (WHERE d.status = 'open'), 0)
           AS open_cents,
       count(*) FILTER (WHERE d.status = 'open'
                          AND d.appeal_deadline - current_date BETWEEN 0 AND 7) AS due_within_7_days,
       count(*) FILTER (WHERE d.status IN ('open', 'expired')
                          AND d.appeal_deadline < current_date) AS past_deadline,
       count(*) FILTER (WHERE d.status = 'open' AND d.preventable) AS preventable,
       count(*) FILTER (WHERE d.status = 'appealed') AS appealed,
       count(*) FILTER (WHERE d.status IN ('upheld', 'expired')) AS to_write_off,
       sum(d.amount_cents - d.written_off_cents) AS work_cents
FROM denials d
WHERE d.status IN ('open', 'appealed', 'upheld', 'expired')
GROUP BY d.owner_queue
ORDER BY sum(d.amount_cents - d.written_off_cents) DESC, d.owner_queue;
COMMENT ON VIEW denial_queue_summary IS 'Per owner queue: open denials and their money, how many are due within 7 days or past their appeal deadline, how many were preventable; appeals awaiting the payer; upheld or expired denials to write off; all the money still being worked.';
COMMENT ON COLUMN denial_queue_summary.open_cents IS 'Money at risk in open denials, in cents.';
COMMENT ON COLUMN denial_queue_summary.open_denials IS 'Denials with status open (no appeal filed yet).';
COMMENT ON COLUMN denial_queue_summary.due_within_7_days IS 'Open denials whose appeal deadline is within 7 days.';
COMMENT ON COLUMN denial_queue_summary.past_deadline IS 'Open or expired denials past their appeal deadline.';
COMMENT ON COLUMN denial_queue_summary.preventable IS 'Open denials a front-end, documentation or coding check could have stopped.';
COMMENT ON COLUMN denial_queue_summary.appealed IS 'Denials with an appeal filed, awaiting the payer''s answer.';
COMMENT ON COLUMN denial_queue_summary.to_write_off IS 'Upheld or expired denials: write off or escalate.';
COMMENT ON COLUMN denial_queue_summary.work_cents IS 'Denied money not written off across every worked status, in cents.';
