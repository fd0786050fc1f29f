-- Coders' decisions (coding-decisions): an encounter released from coding review arrives as an
-- EncounterCoded with `coded_by`. It leaves the review queue, and the decision is compared with
-- the automatic coder's suggestions.
ALTER TABLE encounters_coded ADD COLUMN decision_id text;
ALTER TABLE encounters_coded ADD COLUMN coder_id text;
ALTER TABLE encounters_coded ADD COLUMN decided_at timestamptz;
ALTER TABLE encounters_coded ADD COLUMN suggested_codes text[];
CREATE INDEX coding_review_encounter_idx ON coding_review (encounter_id);
COMMENT ON TABLE encounters_coded IS 'Coded encounters: by the automatic coder (decision_id null) or released from coding review by a coder''s decision.';
COMMENT ON COLUMN encounters_coded.decision_id IS 'CodingDecision that released the encounter; null when coded automatically.';
COMMENT ON COLUMN encounters_coded.coder_id IS 'Staff id of the coder who decided; null when coded automatically.';
COMMENT ON COLUMN encounters_coded.decided_at IS 'When the coder decided; null when coded automatically.';
COMMENT ON COLUMN encounters_coded.suggested_codes IS 'Codes the automatic coder had suggested before the decision; null when coded automatically.';

-- An encounter leaves the queue once it is coded, whichever of the two rows the sink wrote first.
CREATE OR REPLACE VIEW coding_review_queue AS
SELECT r.review_id, r.encounter_id, r.account_id, r.payer_id, r.encounter_class,
       r.total_charge_cents, r.reasons, r.suggestions, r.requested_at
FROM coding_review r
WHERE r.status = 'open'
  AND NOT EXISTS (SELECT 1 FROM encounters_coded e WHERE e.encounter_id = r.encounter_id)
ORDER BY r.total_charge_cents DESC, r.requested_at, r.review_id;
COMMENT ON VIEW coding_review_queue IS 'Open coding reviews (not yet released by a decision), the most money waiting first.';

CREATE VIEW coding_decisions AS
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

CREATE VIEW coding_kpis AS
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
