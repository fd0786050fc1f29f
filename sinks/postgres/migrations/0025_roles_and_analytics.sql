-- Least privilege (issue 12): the sink's role writes the pipeline tables and cannot change their
-- definition; rcm_analyst reads only the de-identified `analytics` schema. The roles are created
-- here without LOGIN when missing (an existing deployment gives them passwords itself); `rcm up`
-- gives the local cluster's roles LOGIN and their passwords.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rcm_sink') THEN
        CREATE ROLE rcm_sink NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rcm_analyst') THEN
        CREATE ROLE rcm_analyst NOLOGIN;
    END IF;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO rcm_sink;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO rcm_sink;
-- Tables later migrations create (as this role) get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO rcm_sink;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO rcm_sink;

-- The pseudonym key: 32 random bytes made here, once, never leaving the database. It is kept as
-- the two HMAC-SHA256 pads (key XOR 0x36.., key XOR 0x5c..), so each view computes
-- HMAC-SHA256(key, 'account:' || id) with the built-in sha256(). Only the owner can read it: the
-- analytics views, which the owner owns, read it with the owner's rights; rcm_analyst cannot.
CREATE SCHEMA analytics_private;
REVOKE ALL ON SCHEMA analytics_private FROM PUBLIC;
COMMENT ON SCHEMA analytics_private IS 'The analytics pseudonym key; the owner role only.';

CREATE TABLE analytics_private.pseudonym_key (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    inner_pad  bytea       NOT NULL,
    outer_pad  bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE analytics_private.pseudonym_key IS 'The HMAC-SHA256 key of the analytics pseudonyms, as its inner and outer pads (64 bytes each).';
COMMENT ON COLUMN analytics_private.pseudonym_key.one IS 'Always true: the table holds one key.';
COMMENT ON COLUMN analytics_private.pseudonym_key.inner_pad IS 'The key (zero-padded to 64 bytes) XOR 0x36 in every byte.';
COMMENT ON COLUMN analytics_private.pseudonym_key.outer_pad IS 'The key (zero-padded to 64 bytes) XOR 0x5c in every byte.';
COMMENT ON COLUMN analytics_private.pseudonym_key.created_at IS 'When the key was generated.';

DO $$
DECLARE
    -- gen_random_uuid() draws from the server's strong random source; two give 244 random bits.
    k bytea := sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'))
               || '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    ipad bytea := k;
    opad bytea := k;
BEGIN
    FOR i IN 0..63 LOOP
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);   -- 0x36
        opad := set_byte(opad, i, get_byte(k, i) # 92);   -- 0x5c
    END LOOP;
    INSERT INTO analytics_private.pseudonym_key (inner_pad, outer_pad) VALUES (ipad, opad);
END $$;

CREATE SCHEMA analytics;
REVOKE ALL ON SCHEMA analytics FROM PUBLIC;
GRANT USAGE ON SCHEMA analytics TO rcm_analyst;
COMMENT ON SCHEMA analytics IS 'De-identified views for analysts (role rcm_analyst): keyed pseudonyms instead of identifiers, service dates kept, no free text, ages over 89 as 90+, counts and money exact.';

-- <kind>_key = hex(HMAC-SHA256(key, '<kind>:' || id)): stable, joinable across views, not
-- reversible without the key.
CREATE VIEW analytics.encounters AS
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

CREATE VIEW analytics.claims AS
SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('claim:' || c.claim_id, 'UTF8'))), 'hex') AS claim_key,
       encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('encounter:' || c.encounter_id, 'UTF8'))), 'hex') AS encounter_key,
       encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('account:' || c.account_id, 'UTF8'))), 'hex') AS account_key,
       c.payer_id, c.plan_type, c.claim_type, c.status, c.total_charge_cents,
       jsonb_array_length(c.edits) AS edit_count, jsonb_array_length(c.lines) AS line_count,
       c.diagnosis_codes, c.service_start, c.service_end, c.built_at
  FROM claims c CROSS JOIN analytics_private.pseudonym_key k;
COMMENT ON VIEW analytics.claims IS 'Each claim as last built: status, charge, codes and service dates; edit messages left out.';

CREATE VIEW analytics.denials AS
SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('claim:' || d.claim_id, 'UTF8'))), 'hex') AS claim_key,
       encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('account:' || d.account_id, 'UTF8'))), 'hex') AS account_key,
       d.payer_id, d.line, d.group_code, d.reason_code, d.category, d.preventable, d.amount_cents,
       d.denied_on, d.appeal_deadline, d.status
  FROM denials d CROSS JOIN analytics_private.pseudonym_key k;
COMMENT ON VIEW analytics.denials IS 'Each denied service line: CARC, category, amount at risk, appeal deadline, status.';

CREATE VIEW analytics.ledger_entries AS
SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('account:' || l.account_id, 'UTF8'))), 'hex') AS account_key,
       l.kind, l.insurance_delta_cents, l.patient_delta_cents, l.payer_id, l.posted_at
  FROM ledger_entries l CROSS JOIN analytics_private.pseudonym_key k;
COMMENT ON VIEW analytics.ledger_entries IS 'Each ledger entry: kind and exact amounts, without its reference or reason text.';

CREATE VIEW analytics.account_balances AS
SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to('account:' || b.account_id, 'UTF8'))), 'hex') AS account_key,
       b.insurance_cents, b.patient_cents, b.total_cents, b.charges_cents, b.payments_cents,
       b.adjustments_cents, b.entries, b.updated_at
  FROM account_balances b CROSS JOIN analytics_private.pseudonym_key k;
COMMENT ON VIEW analytics.account_balances IS 'Each account''s committed balance, exact to the cent.';

GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO rcm_analyst;
