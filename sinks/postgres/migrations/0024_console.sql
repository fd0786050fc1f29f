-- The browser console (infra/console): its users, sessions, login throttle and audit. The console
-- reads the pipeline's tables and views and writes only these; its actions are events on Kafka.

CREATE TABLE console_users (
    username       text PRIMARY KEY CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    role           text        NOT NULL CHECK (role IN ('coder', 'biller', 'denials', 'ops',
                                                        'analyst', 'admin')),
    password_hash  text        NOT NULL,
    active         boolean     NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    password_set_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE console_users IS 'People who log in to the console, with one role each (see docs/console.md).';
COMMENT ON COLUMN console_users.username IS 'Login name (lower case).';
COMMENT ON COLUMN console_users.role IS 'coder, biller, denials (denials specialist), ops, analyst or admin: what the user may see and do.';
COMMENT ON COLUMN console_users.password_hash IS 'argon2id hash (PHC string); never the password.';
COMMENT ON COLUMN console_users.active IS 'False: the user can no longer log in.';
COMMENT ON COLUMN console_users.created_at IS 'When the user was created.';
COMMENT ON COLUMN console_users.password_set_at IS 'When the password was last set.';

CREATE TABLE console_sessions (
    session_hash   text PRIMARY KEY,
    username       text        NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
    csrf_token     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_seen_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at     timestamptz NOT NULL
);
CREATE INDEX console_sessions_user_idx ON console_sessions (username);
COMMENT ON COLUMN console_sessions.session_hash IS 'SHA-256 (hex) of the session cookie''s token.';
COMMENT ON COLUMN console_sessions.username IS 'Who is logged in.';
COMMENT ON COLUMN console_sessions.csrf_token IS 'The token every form of this session must send back.';
COMMENT ON COLUMN console_sessions.created_at IS 'When the user logged in.';
COMMENT ON COLUMN console_sessions.last_seen_at IS 'The session''s latest request.';
COMMENT ON COLUMN console_sessions.expires_at IS 'After this the session is no longer accepted.';
COMMENT ON TABLE console_sessions IS 'Logged-in sessions. The cookie holds a random id; only its SHA-256 is stored, so a copy of this table opens no session.';

CREATE TABLE console_login_attempts (
    id             bigserial PRIMARY KEY,
    username       text        NOT NULL,
    client         text        NOT NULL,
    succeeded      boolean     NOT NULL,
    attempted_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX console_login_attempts_idx ON console_login_attempts (username, attempted_at);
CREATE INDEX console_login_attempts_client_idx ON console_login_attempts (client, attempted_at);
COMMENT ON COLUMN console_login_attempts.id IS 'Attempt number.';
COMMENT ON COLUMN console_login_attempts.username IS 'The user name typed (may not exist).';
COMMENT ON COLUMN console_login_attempts.client IS 'Client address the attempt came from.';
COMMENT ON COLUMN console_login_attempts.succeeded IS 'Whether the password was right (and the user not locked out).';
COMMENT ON COLUMN console_login_attempts.attempted_at IS 'When.';
COMMENT ON TABLE console_login_attempts IS 'Login attempts, for throttling: too many failures for a user name or a client address in a window lock them out for a while.';

CREATE TABLE console_audit (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    username       text        NOT NULL,
    role           text        NOT NULL,
    action         text        NOT NULL,
    target         text,
    event_id       text,
    outcome        text        NOT NULL DEFAULT 'ok'
);
CREATE INDEX console_audit_at_idx ON console_audit (at);
CREATE INDEX console_audit_user_idx ON console_audit (username, at);
COMMENT ON TABLE console_audit IS 'Who did what, when, in the console: every action (with the id of the event it published) and every view of an account. Append only.';
COMMENT ON COLUMN console_audit.id IS 'Order of the audit rows.';
COMMENT ON COLUMN console_audit.at IS 'When it happened.';
COMMENT ON COLUMN console_audit.username IS 'Who did it.';
COMMENT ON COLUMN console_audit.role IS 'Their role at the time.';
COMMENT ON COLUMN console_audit.outcome IS 'ok, published, undelivered (the broker did not confirm), refused, forbidden or not_found.';
COMMENT ON COLUMN console_audit.action IS 'e.g. login, view_account, coding_decision, appeal_filed, payment, scrub_rule_accept, denied.';
COMMENT ON COLUMN console_audit.target IS 'What the action was about: an account, encounter, denial or rule id, or a page.';
COMMENT ON COLUMN console_audit.event_id IS 'Id of the event published on Kafka, when the action published one.';

-- The console's own role: reads the pipeline, writes only its tables. NOLOGIN until the security
-- work (issue 12) gives it a password; meanwhile the console connects with the pipeline's DSN.
-- Roles belong to the cluster: another database's migration may create it at the same moment.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rcm_console') THEN
        CREATE ROLE rcm_console NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO rcm_console', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO rcm_console;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO rcm_console;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO rcm_console;
GRANT INSERT, UPDATE, DELETE ON console_users, console_sessions, console_login_attempts TO rcm_console;
GRANT INSERT ON console_audit TO rcm_console;
GRANT USAGE ON SEQUENCE console_login_attempts_id_seq, console_audit_id_seq TO rcm_console;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO rcm_console;
