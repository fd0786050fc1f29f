-- Least privilege for the commands that only read (issue 12): `rcm report`, `rcm demo`'s summary and
-- reconciliation, the drain watchers' sink offsets (infra/pipeline.py). rcm_report reads every table,
-- view and function of schema public and writes nothing: unlike rcm_console it cannot write the
-- console's own tables (users, sessions, audit), and unlike rcm_analyst it reads identified rows
-- (each account's balance, for the reconciliation). Created without LOGIN when missing (an existing
-- deployment gives it a password itself); `rcm up` gives the local cluster's role LOGIN and a password.
-- Roles belong to the cluster: another database's migration may create it at the same moment.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rcm_report') THEN
        CREATE ROLE rcm_report NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO rcm_report', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO rcm_report;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO rcm_report;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO rcm_report;
-- Tables and views later migrations and the views files create (as the owner) are readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO rcm_report;
