-- Grants on views, re-applied after every views file: a migration drops the views and the views files
-- create them again, which loses grants made on the old ones. The roles come from migrations 0024
-- (rcm_console), 0025 (rcm_sink, rcm_analyst) and 0027 (rcm_report); docs/security.md has what each may do.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO rcm_console;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO rcm_console;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO rcm_sink;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO rcm_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO rcm_report;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO rcm_report;
