-- Views and functions leave the numbered migrations: from here on each has exactly one definition,
-- in sinks/postgres/views/*.sql, applied after the migrations on every migrate (sinks/postgres/
-- migrate.py). Drop every view and function 0001-0022 created, so that the views files create them
-- afresh on an old database as on a new one; those files also leave out the ones retired here.
DROP VIEW IF EXISTS denials_by_deadline, held_claims, coding_review_queue, coding_decisions,
    coding_kpis, ar_aging, ar_aging_by_activity, ar_aging_summary, kpi_first_pass_acceptance,
    kpi_denial_rate, kpi_net_collection_rate, kpi_days_in_ar, kpi_ar_over_90, kpi_time_to_bill,
    kpi_first_pass_resolution, denial_work_queue, denial_queue_summary, claim_current_status,
    scrub_rule_proposals, denial_root_causes, denial_patterns, claim_build_history,
    kpi_clean_claim_rate, kpi_daily_claim_rates, kpi_dnfb, kpi_stage_dollars, kpi_latest,
    claim_transitions, claim_first_builds, first_pass_acceptance, claim_status_history,
    x12_set_acknowledged_claims, claim_status_reported, claim_first_acknowledgements,
    claim_status_reports CASCADE;
DROP FUNCTION IF EXISTS ar_bucket, ar_aging_as_of, ar_aging_by_activity_as_of,
    ar_aging_summary_as_of, kpi_days_in_ar_as_of, kpi_ar_over_90_as_of, unbilled_encounters_as_of,
    kpi_dnfb_as_of, kpi_stage_dollars_as_of, kpi_values, kpi_event_day, kpi_flow_window,
    claim_stage_as_of CASCADE;
