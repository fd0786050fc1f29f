-- First-pass resolution: of the claims with a remittance, those the first remittance settled.
-- A remittance is one source event: the ledger entries referencing the claim id and the denials
-- of the claim carry the remittance event id as source_event_id.
CREATE VIEW kpi_first_pass_resolution AS
WITH remitted AS (
    SELECT c.claim_id,
           (SELECT count(DISTINCT s.source_event_id)
              FROM (SELECT l.source_event_id FROM ledger_entries l WHERE l.reference = c.claim_id
                    UNION ALL
                    SELECT d.source_event_id FROM denials d WHERE d.claim_id = c.claim_id) s)
               AS remittances,
           EXISTS (SELECT 1 FROM denials d WHERE d.claim_id = c.claim_id) AS denied,
           (SELECT coalesce(sum(l.insurance_delta_cents), 0) FROM ledger_entries l
             WHERE l.reference IN (c.claim_id, c.encounter_id)) AS insurance_open_cents
      FROM claims c
     WHERE EXISTS (SELECT 1 FROM ledger_entries l WHERE l.reference = c.claim_id)
        OR EXISTS (SELECT 1 FROM denials d WHERE d.claim_id = c.claim_id)
)
SELECT count(*) AS remitted_claims,
       count(*) FILTER (WHERE remittances = 1 AND NOT denied AND insurance_open_cents = 0)
           AS resolved_first_pass,
       round(count(*) FILTER (WHERE remittances = 1 AND NOT denied AND insurance_open_cents = 0)
             ::numeric / nullif(count(*), 0), 4) AS rate
  FROM remitted;
COMMENT ON VIEW kpi_first_pass_resolution IS 'First-pass resolution: claims settled by their first remittance (exactly one remittance, no denial, nothing left for insurance on the claim: its encounter''s charges plus the entries referencing the claim sum to 0) / claims with a remittance.';
COMMENT ON COLUMN kpi_first_pass_resolution.remitted_claims IS 'Claims with a remittance (a ledger entry referencing the claim, or a denial).';
COMMENT ON COLUMN kpi_first_pass_resolution.resolved_first_pass IS 'Remitted claims with one remittance, no denial and no insurance balance left.';
COMMENT ON COLUMN kpi_first_pass_resolution.rate IS 'resolved_first_pass / remitted_claims.';
