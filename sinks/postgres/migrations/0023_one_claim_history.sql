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

-- One claim history. claim_builds (0017) and claim_versions (0018) both kept every build of every
-- claim, one row per ClaimBuilt; claim_versions keeps them all now, with the build fields only
-- claim_builds had (encounter, scrubber edits, last date of service), and claim_builds goes.
ALTER TABLE claim_versions
    ADD COLUMN encounter_id text,
    ADD COLUMN edits        jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN service_end  date;
UPDATE claim_versions v
   SET encounter_id = b.encounter_id, edits = b.edits, service_end = b.service_end
  FROM claim_builds b WHERE b.event_id = v.event_id;
-- Builds of claims that have no version yet (built before 0018): each becomes a version, numbered
-- in build order.
INSERT INTO claim_versions (version_id, claim_id, version, frequency_code, payer_sequence,
                            account_id, payer_id, status, total_charge_cents, built_at, event_id,
                            source_event_id, encounter_id, edits, service_end)
SELECT b.claim_id || ':v' || n, b.claim_id, n, '1', 'PRIMARY', b.account_id, b.payer_id, b.status,
       b.total_charge_cents, b.built_at, b.event_id, b.source_event_id, b.encounter_id, b.edits,
       b.service_end
  FROM (SELECT *, row_number() OVER (PARTITION BY claim_id ORDER BY built_at, event_id) AS n
          FROM claim_builds) b
 WHERE NOT EXISTS (SELECT 1 FROM claim_versions v WHERE v.claim_id = b.claim_id);
-- A claim with no build at all (a row written without build history) is its own first version.
INSERT INTO claim_versions (version_id, claim_id, version, frequency_code, payer_sequence,
                            primary_claim_id, account_id, payer_id, status, total_charge_cents,
                            original_reference, built_at, event_id, source_event_id,
                            encounter_id, edits, service_end)
SELECT c.claim_id || ':v' || c.version, c.claim_id, c.version, c.frequency_code, c.payer_sequence,
       c.primary_claim_id, c.account_id, c.payer_id, c.status, c.total_charge_cents,
       c.original_reference, c.built_at, c.source_event_id || ':claim', c.source_event_id,
       c.encounter_id, c.edits, c.service_end
  FROM claims c
 WHERE NOT EXISTS (SELECT 1 FROM claim_versions v WHERE v.claim_id = c.claim_id);
UPDATE claim_versions v SET encounter_id = c.encounter_id, service_end = c.service_end
  FROM claims c WHERE v.encounter_id IS NULL AND c.claim_id = v.claim_id;
ALTER TABLE claim_versions ALTER COLUMN encounter_id SET NOT NULL,
                           ALTER COLUMN service_end SET NOT NULL,
                           ADD UNIQUE (event_id);
CREATE INDEX claim_versions_built_idx ON claim_versions (claim_id, built_at);
CREATE INDEX claim_versions_encounter_idx ON claim_versions (encounter_id);
DROP TABLE claim_builds;

COMMENT ON TABLE claim_versions IS 'Every build of every claim, one row per claim id and version (a redelivered build adds nothing): the one claim history. claims keeps the latest version of each claim; the KPIs (first build, stage on a day) and the status history read this table.';
COMMENT ON COLUMN claim_versions.status IS 'CLEAN or HELD as this version left the scrubber; SUBMITTED for a claim the hospital''s billing system sent (837 in).';
COMMENT ON COLUMN claim_versions.encounter_id IS 'Encounter the claim bills.';
COMMENT ON COLUMN claim_versions.edits IS 'Scrubber edits that fired on this version.';
COMMENT ON COLUMN claim_versions.service_end IS 'Last date of service.';
