-- The de-identified analytics schema (issue 12): what rcm_analyst may read. The schema, the role and
-- the pseudonym key are made by migration 0025; docs/security.md lists every view and column.
-- <kind>_key = hex(HMAC-SHA256(key, '<kind>:' || id)): stable, joinable across views, not
-- reversible without the key.
CREATE OR REPLACE VIEW analytics.encounters AS
SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('encounter:' || e.encounter_id, 'UTF8'))), 'hex') AS encounter_key,
       encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('account:' || e.account_id, 'UTF8'))), 'hex') AS account_key,
       e.payer_id, e.plan_type, e.encounter_class,
       CASE WHEN e.patient_age > 89 THEN '90+' ELSE e.patient_age::text END AS age_group,
       e.patient_sex, e.service_start, e.service_end,
       ARRAY(SELECT d->>'code' FROM jsonb_array_elements(e.diagnoses) d
              ORDER BY (d->>'sequence')::int) AS diagnosis_codes,
       ARRAY(SELECT p->>'procedure_code' FROM jsonb_array_elements(e.procedures) p
              ORDER BY (p->>'line')::int) AS procedure_codes,
       e.total_charge_cents, e.coded_at
  FROM encounters_coded e CROSS JOIN analytics_private.pseudonym_key k;
COMMENT ON VIEW analytics.encounters IS 'Each coding of an encounter (automatic or a coder''s release): codes without the evidence text, age grouped above 89.';

CREATE OR REPLACE VIEW analytics.claims AS
SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('claim:' || c.claim_id, 'UTF8'))), 'hex') AS claim_key,
       encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('encounter:' || c.encounter_id, 'UTF8'))), 'hex') AS encounter_key,
       encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('account:' || c.account_id, 'UTF8'))), 'hex') AS account_key,
       c.payer_id, c.plan_type, c.claim_type, c.status, c.total_charge_cents,
       jsonb_array_length(c.edits) AS edit_count, jsonb_array_length(c.lines) AS line_count,
       c.diagnosis_codes, c.service_start, c.service_end, c.built_at
  FROM claims c CROSS JOIN analytics_private.pseudonym_key k;
COMMENT ON VIEW analytics.claims IS 'Each claim as last built: status, charge, codes and service dates; edit messages left out.';

CREATE OR REPLACE VIEW analytics.denials AS
SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('claim:' || d.claim_id, 'UTF8'))), 'hex') AS claim_key,
       encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('account:' || d.account_id, 'UTF8'))), 'hex') AS account_key,
       d.payer_id, d.line, d.group_code, d.reason_code, d.category, d.preventable, d.amount_cents,
       d.denied_on, d.appeal_deadline, d.status
  FROM denials d CROSS JOIN analytics_private.pseudonym_key k;
COMMENT ON VIEW analytics.denials IS 'Each denied service line: CARC, category, amount at risk, appeal deadline, status.';

CREATE OR REPLACE VIEW analytics.ledger_entries AS
SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('account:' || l.account_id, 'UTF8'))), 'hex') AS account_key,
       l.kind, l.insurance_delta_cents, l.patient_delta_cents, l.payer_id, l.posted_at
  FROM ledger_entries l CROSS JOIN analytics_private.pseudonym_key k;
COMMENT ON VIEW analytics.ledger_entries IS 'Each ledger entry: kind and exact amounts, without its reference or reason text.';

CREATE OR REPLACE VIEW analytics.account_balances AS
SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('account:' || b.account_id, 'UTF8'))), 'hex') AS account_key,
       b.insurance_cents, b.patient_cents, b.total_cents, b.charges_cents, b.payments_cents,
       b.adjustments_cents, b.entries, b.updated_at
  FROM account_balances b CROSS JOIN analytics_private.pseudonym_key k;
COMMENT ON VIEW analytics.account_balances IS 'Each account''s committed balance, exact to the cent.';

GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO rcm_analyst;
