-- Denial root causes and the scrub rules proposed from them.

CREATE OR REPLACE VIEW scrub_rule_proposals AS
SELECT p.rule_id, coalesce(d.status, 'PROPOSED') AS status, p.payer_id, p.reason_code,
       p.procedure_code, p.category, p.preventable, p.denial_count, p.denied_cents, p.threshold,
       p.example_claim_ids, p.first_denied_on, p.last_denied_on,
       p.source_emitted_at AS proposed_at, d.decided_by, d.role, d.decided_at
FROM proposed_scrub_rules p
LEFT JOIN LATERAL (
    SELECT x.status, x.decided_by, x.role, x.decided_at FROM scrub_rule_decisions x
    WHERE x.rule_id = p.rule_id ORDER BY x.applied_at DESC, x.decided_at DESC LIMIT 1
) d ON true
ORDER BY (d.status IS NOT NULL), p.denied_cents DESC, p.rule_id;
COMMENT ON VIEW scrub_rule_proposals IS 'Proposed scrub rules with their status: PROPOSED (waiting for a person), ACTIVE (accepted: holds matching claims) or REJECTED; undecided first, the most money first.';
COMMENT ON COLUMN scrub_rule_proposals.rule_id IS 'payer_id/reason_code/procedure_code (what `rcm rules accept` takes).';
COMMENT ON COLUMN scrub_rule_proposals.status IS 'PROPOSED, ACTIVE or REJECTED (the latest decision the processor applied).';
COMMENT ON COLUMN scrub_rule_proposals.payer_id IS 'Payer that denied.';
COMMENT ON COLUMN scrub_rule_proposals.reason_code IS 'CARC, leading zeros removed.';
COMMENT ON COLUMN scrub_rule_proposals.procedure_code IS 'Procedure code of the denied lines.';
COMMENT ON COLUMN scrub_rule_proposals.category IS 'Denial category of the CARC.';
COMMENT ON COLUMN scrub_rule_proposals.preventable IS 'True when a check before submission could have stopped such denials.';
COMMENT ON COLUMN scrub_rule_proposals.denial_count IS 'Distinct denied lines counted at the proposal (denial_patterns has the count today).';
COMMENT ON COLUMN scrub_rule_proposals.denied_cents IS 'Money those denials refused, in cents.';
COMMENT ON COLUMN scrub_rule_proposals.threshold IS 'Threshold in force at the proposal.';
COMMENT ON COLUMN scrub_rule_proposals.example_claim_ids IS 'Claims of the first denials (see denial_root_causes for each).';
COMMENT ON COLUMN scrub_rule_proposals.first_denied_on IS 'Earliest denial date among the counted denials.';
COMMENT ON COLUMN scrub_rule_proposals.last_denied_on IS 'Latest denial date among the counted denials.';
COMMENT ON COLUMN scrub_rule_proposals.proposed_at IS 'When the remittance that reached the threshold was emitted.';
COMMENT ON COLUMN scrub_rule_proposals.decided_by IS 'Staff id of the person who decided; null while PROPOSED.';
COMMENT ON COLUMN scrub_rule_proposals.role IS 'Their role; null while PROPOSED.';
COMMENT ON COLUMN scrub_rule_proposals.decided_at IS 'When they decided; null while PROPOSED.';

CREATE OR REPLACE VIEW denial_root_causes AS
SELECT d.denial_id, d.claim_id, d.account_id, d.payer_id, d.line, d.group_code, d.reason_code,
       d.category, d.preventable, d.amount_cents, d.denied_on, d.status AS denial_status,
       coalesce(dp.procedure_code, l.value->>'procedure_code') AS denied_procedure_code,
       CASE WHEN l.value IS NOT NULL THEN
           ARRAY(SELECT jsonb_array_elements_text(l.value->'modifiers')) END AS denied_modifiers,
       (l.value->>'charge_cents')::bigint AS denied_line_charge_cents,
       coalesce(dp.rule_id, CASE WHEN coalesce(btrim(l.value->>'procedure_code'), '') <> '' THEN
           btrim(d.payer_id) || '/' || coalesce(nullif(ltrim(btrim(d.reason_code), '0'), ''), '0')
           || '/' || btrim(l.value->>'procedure_code') END) AS rule_id,
       r.status AS rule_status,
       c.status AS claim_status, c.edits AS claim_edits, c.warnings AS claim_warnings,
       c.claim_type, c.built_at AS claim_built_at, c.diagnosis_codes,
       CASE WHEN c.claim_id IS NOT NULL THEN
           ARRAY(SELECT x->>'procedure_code' FROM jsonb_array_elements(c.lines) x
                 ORDER BY (x->>'line')::int) END AS procedure_codes,
       c.pcs_codes, c.drg, c.drg_mdc,
       e.diagnoses AS coded_diagnoses,
       (SELECT min((x->>'confidence')::real) FROM jsonb_array_elements(e.diagnoses) x) AS lowest_confidence,
       CASE WHEN e.event_id IS NULL THEN NULL WHEN e.decision_id IS NULL THEN 'AUTO' ELSE 'CODER' END AS coded_by,
       e.coder_id, e.decision_id, e.suggested_codes, e.coded_at
FROM denials d
LEFT JOIN denial_procedures dp ON dp.denial_id = d.denial_id
LEFT JOIN claims c ON c.claim_id = d.claim_id
LEFT JOIN LATERAL (
    SELECT x.value FROM jsonb_array_elements(c.lines) x WHERE (x.value->>'line')::int = d.line LIMIT 1
) l ON true
LEFT JOIN LATERAL (
    SELECT x.event_id, x.diagnoses, x.decision_id, x.coder_id, x.suggested_codes, x.coded_at
    FROM encounters_coded x WHERE x.encounter_id = c.encounter_id
    ORDER BY x.coded_at DESC, x.event_id DESC LIMIT 1
) e ON true
LEFT JOIN scrub_rule_proposals r
       ON r.rule_id = coalesce(dp.rule_id, btrim(d.payer_id) || '/'
                      || coalesce(nullif(ltrim(btrim(d.reason_code), '0'), ''), '0')
                      || '/' || btrim(l.value->>'procedure_code'));
COMMENT ON VIEW denial_root_causes IS 'Each denial with the decisions behind its claim: how the scrubber judged the claim (status, edits, warnings), the codes on it (diagnoses with confidence, procedures, PCS, DRG), whether a coder decided them or they were coded automatically, and the denied line''s procedure and pattern (rule id).';
COMMENT ON COLUMN denial_root_causes.denial_id IS 'Id of the denial (denials.denial_id).';
COMMENT ON COLUMN denial_root_causes.claim_id IS 'Claim that was denied.';
COMMENT ON COLUMN denial_root_causes.account_id IS 'Patient account of the claim.';
COMMENT ON COLUMN denial_root_causes.payer_id IS 'Payer that denied.';
COMMENT ON COLUMN denial_root_causes.line IS 'Service line denied, or NULL for a claim-level denial.';
COMMENT ON COLUMN denial_root_causes.group_code IS 'Adjustment group: CO, PI or OA.';
COMMENT ON COLUMN denial_root_causes.reason_code IS 'CARC the payer gave (as sent).';
COMMENT ON COLUMN denial_root_causes.category IS 'Denial category of the CARC.';
COMMENT ON COLUMN denial_root_causes.preventable IS 'True when a front-end, documentation or coding check could have stopped it before submission.';
COMMENT ON COLUMN denial_root_causes.amount_cents IS 'Money at risk, in cents.';
COMMENT ON COLUMN denial_root_causes.denied_on IS 'Date of the remittance that denied.';
COMMENT ON COLUMN denial_root_causes.denial_status IS 'Work status of the denial (denials.status).';
COMMENT ON COLUMN denial_root_causes.denied_procedure_code IS 'CPT/HCPCS of the denied line: as the remittance gave it (denial_procedures), else as billed on the claim''s line of that number; NULL for a claim-level denial.';
COMMENT ON COLUMN denial_root_causes.denied_modifiers IS 'Modifiers of the denied line as billed.';
COMMENT ON COLUMN denial_root_causes.denied_line_charge_cents IS 'Charge of the denied line as billed, in cents.';
COMMENT ON COLUMN denial_root_causes.rule_id IS 'The denial''s pattern, payer_id/reason_code/procedure_code (the id of the scrub rule it may become); NULL without a denied procedure.';
COMMENT ON COLUMN denial_root_causes.rule_status IS 'PROPOSED, ACTIVE or REJECTED when the pattern was proposed as a scrub rule; NULL otherwise.';
COMMENT ON COLUMN denial_root_causes.claim_status IS 'How the scrubber judged the claim: CLEAN (passed every edit, so the scrubber did not catch the cause) or HELD; NULL when the claim is not in claims.';
COMMENT ON COLUMN denial_root_causes.claim_edits IS 'Scrubber edits that fired on the claim: [{edit, message, line}] (empty when CLEAN).';
COMMENT ON COLUMN denial_root_causes.claim_warnings IS 'Non-blocking scrubber findings on the claim: [{edit, message, line}].';
COMMENT ON COLUMN denial_root_causes.claim_type IS 'PROFESSIONAL (837P) or INSTITUTIONAL (837I).';
COMMENT ON COLUMN denial_root_causes.claim_built_at IS 'When the claim was built (event time).';
COMMENT ON COLUMN denial_root_causes.diagnosis_codes IS 'ICD-10-CM codes on the claim, in pointer order.';
COMMENT ON COLUMN denial_root_causes.procedure_codes IS 'Procedure codes of every claim line, in line order.';
COMMENT ON COLUMN denial_root_causes.pcs_codes IS 'ICD-10-PCS codes on the claim (inpatient).';
COMMENT ON COLUMN denial_root_causes.drg IS 'MS-DRG of the claim, when inpatient.';
COMMENT ON COLUMN denial_root_causes.drg_mdc IS 'Major diagnostic category of the DRG.';
COMMENT ON COLUMN denial_root_causes.coded_diagnoses IS 'Diagnoses as coded: [{sequence, code, confidence, evidence}] (confidence 0..1 from the automatic coder; a coder''s decision keeps it at 1).';
COMMENT ON COLUMN denial_root_causes.lowest_confidence IS 'The lowest diagnosis confidence on the coded encounter.';
COMMENT ON COLUMN denial_root_causes.coded_by IS 'AUTO (coded without a person), CODER (released from coding review by a coder''s decision), NULL when the coded encounter is not stored.';
COMMENT ON COLUMN denial_root_causes.coder_id IS 'Staff id of the coder who decided; NULL when AUTO.';
COMMENT ON COLUMN denial_root_causes.decision_id IS 'CodingDecision that released the encounter; NULL when AUTO.';
COMMENT ON COLUMN denial_root_causes.suggested_codes IS 'Codes the automatic coder had suggested before the coder decided; NULL when AUTO.';
COMMENT ON COLUMN denial_root_causes.coded_at IS 'When the encounter was coded (event time).';

CREATE OR REPLACE VIEW denial_patterns AS
SELECT rc.payer_id, coalesce(nullif(ltrim(btrim(rc.reason_code), '0'), ''), '0') AS reason_code,
       rc.denied_procedure_code AS procedure_code, rc.rule_id, min(rc.category) AS category,
       bool_and(rc.preventable) AS preventable,
       count(*) AS denials, count(DISTINCT rc.claim_id) AS claims,
       sum(rc.amount_cents) AS denied_cents,
       count(*) FILTER (WHERE rc.denial_status = 'open') AS open_denials,
       coalesce(sum(rc.amount_cents) FILTER (WHERE rc.denial_status = 'open'), 0) AS open_cents,
       count(*) FILTER (WHERE rc.claim_status = 'CLEAN') AS passed_scrubber,
       min(rc.denied_on) AS first_denied_on, max(rc.denied_on) AS latest_denied_on,
       min(rc.rule_status) AS rule_status
FROM denial_root_causes rc
GROUP BY 1, 2, 3, 4
ORDER BY sum(rc.amount_cents) DESC, 1, 2, 3;
COMMENT ON VIEW denial_patterns IS 'Denials grouped by pattern (payer + CARC + denied procedure; claim-level denials have no procedure), the most money first: a work queue for fixing causes rather than single denials.';
COMMENT ON COLUMN denial_patterns.payer_id IS 'Payer that denied.';
COMMENT ON COLUMN denial_patterns.reason_code IS 'CARC, leading zeros removed.';
COMMENT ON COLUMN denial_patterns.procedure_code IS 'Procedure of the denied lines; NULL for claim-level denials.';
COMMENT ON COLUMN denial_patterns.rule_id IS 'payer_id/reason_code/procedure_code, the id of the scrub rule the pattern may become; NULL without a procedure.';
COMMENT ON COLUMN denial_patterns.category IS 'Denial category of the CARC.';
COMMENT ON COLUMN denial_patterns.preventable IS 'True when a check before submission could have stopped these denials.';
COMMENT ON COLUMN denial_patterns.denials IS 'Denials of the pattern.';
COMMENT ON COLUMN denial_patterns.claims IS 'Distinct claims they hit.';
COMMENT ON COLUMN denial_patterns.denied_cents IS 'Money denied, in cents.';
COMMENT ON COLUMN denial_patterns.open_denials IS 'Denials still open (denials.status = open).';
COMMENT ON COLUMN denial_patterns.open_cents IS 'Money still open, in cents.';
COMMENT ON COLUMN denial_patterns.passed_scrubber IS 'Denials whose claim the scrubber passed CLEAN: causes the scrubber does not check yet.';
COMMENT ON COLUMN denial_patterns.first_denied_on IS 'Earliest denial date.';
COMMENT ON COLUMN denial_patterns.latest_denied_on IS 'Latest denial date.';
COMMENT ON COLUMN denial_patterns.rule_status IS 'PROPOSED, ACTIVE or REJECTED once the pattern was proposed as a scrub rule; NULL before.';
