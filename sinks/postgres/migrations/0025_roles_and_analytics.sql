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

-- The analytics views themselves are in sinks/postgres/views/60_analytics.sql (re-applied on every
-- migrate), with the analyst's grant on them.
