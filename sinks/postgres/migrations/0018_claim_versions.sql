-- Corrected and secondary claims. A claim keeps its claim id for its whole life: a re-coded or
-- re-sent encounter builds the next version (frequency 7, replacement), a cancelled one voids it
-- (frequency 8); a primary remittance that leaves patient responsibility on an account with a
-- secondary payer bills the secondary (claim id + '-S', payer_sequence SECONDARY).

ALTER TABLE claims
    ADD COLUMN frequency_code     text NOT NULL DEFAULT '1' CHECK (frequency_code IN ('1', '7', '8')),
    ADD COLUMN version            int  NOT NULL DEFAULT 1,
    ADD COLUMN original_reference text,
    ADD COLUMN payer_sequence     text NOT NULL DEFAULT 'PRIMARY'
                                  CHECK (payer_sequence IN ('PRIMARY', 'SECONDARY')),
    ADD COLUMN primary_claim_id   text,
    ADD COLUMN secondary_payer_id text,
    ADD COLUMN other_payer        jsonb;
COMMENT ON TABLE claims IS 'Claims built from coded encounters and scrubbed, one row per claim id holding its latest version (claim_versions has every build): CLEAN ones can be submitted, HELD ones wait for a biller (see edits).';
COMMENT ON COLUMN claims.frequency_code IS 'Claim frequency of the latest version (837 CLM05-3): 1 original, 7 replacement of a version the payer may hold (corrected claim), 8 void (the encounter was cancelled).';
COMMENT ON COLUMN claims.version IS 'Latest version of the claim: 1 for the first build, +1 for each build with different content.';
COMMENT ON COLUMN claims.original_reference IS 'For frequency 7 or 8: the payer claim control number (835 CLP07) of the claim replaced or voided (837 REF*F8); null when no remittance had named it.';
COMMENT ON COLUMN claims.payer_sequence IS 'PRIMARY, or SECONDARY for a claim billed to the account''s secondary payer after the primary paid (837 SBR01 S).';
COMMENT ON COLUMN claims.primary_claim_id IS 'For a SECONDARY claim: the primary claim whose remittance left the balance it bills.';
COMMENT ON COLUMN claims.secondary_payer_id IS 'For a PRIMARY claim: the account''s secondary payer from the encounter, if any.';
COMMENT ON COLUMN claims.other_payer IS 'For a SECONDARY claim: the primary''s adjudication sent in the 837 COB loops: {payer_id, plan_type, claim_id, payer_claim_control_number, adjudicated_on, paid_cents, patient_responsibility_cents, adjustments: [{group_code, reason_code, amount_cents}]}.';
CREATE INDEX claims_primary_idx ON claims (primary_claim_id) WHERE primary_claim_id IS NOT NULL;

CREATE TABLE claim_versions (
    version_id         text PRIMARY KEY,
    claim_id           text        NOT NULL,
    version            int         NOT NULL,
    frequency_code     text        NOT NULL,
    payer_sequence     text        NOT NULL,
    primary_claim_id   text,
    account_id         text        NOT NULL,
    payer_id           text        NOT NULL,
    status             text        NOT NULL,
    total_charge_cents bigint      NOT NULL,
    original_reference text,
    built_at           timestamptz NOT NULL,
    event_id           text        NOT NULL,
    source_event_id    text        NOT NULL,
    applied_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (claim_id, version)
);
COMMENT ON TABLE claim_versions IS 'Every build of every claim, one row per claim id and version (a redelivered build adds nothing).';
COMMENT ON COLUMN claim_versions.version_id IS 'claim_id || '':v'' || version.';
COMMENT ON COLUMN claim_versions.claim_id IS 'Claim id (the same for every version of the claim).';
COMMENT ON COLUMN claim_versions.version IS '1 for the first build, +1 for each build with different content.';
COMMENT ON COLUMN claim_versions.frequency_code IS '1 original, 7 replacement (corrected claim), 8 void.';
COMMENT ON COLUMN claim_versions.payer_sequence IS 'PRIMARY or SECONDARY.';
COMMENT ON COLUMN claim_versions.primary_claim_id IS 'For a SECONDARY claim: the primary claim it follows.';
COMMENT ON COLUMN claim_versions.account_id IS 'Patient account of the claim.';
COMMENT ON COLUMN claim_versions.payer_id IS 'Payer the version bills.';
COMMENT ON COLUMN claim_versions.status IS 'CLEAN or HELD as built.';
COMMENT ON COLUMN claim_versions.total_charge_cents IS 'Total charge of this version, in cents.';
COMMENT ON COLUMN claim_versions.original_reference IS 'Payer claim control number a 7 or 8 refers to (837 REF*F8), when known.';
COMMENT ON COLUMN claim_versions.built_at IS 'Event time of the build (the coded encounter, or the primary remittance for a secondary claim).';
COMMENT ON COLUMN claim_versions.event_id IS 'Id of the ClaimBuilt event.';
COMMENT ON COLUMN claim_versions.source_event_id IS 'The event the build came from (coded encounter, or primary remittance).';
COMMENT ON COLUMN claim_versions.applied_at IS 'When the sink wrote this row.';

CREATE VIEW claim_transitions AS
SELECT claim_id, CASE frequency_code WHEN '7' THEN 'CORRECTED' ELSE 'VOIDED' END AS status,
       built_at AS at, source_event_id, version
FROM claim_versions
WHERE frequency_code IN ('7', '8')
UNION ALL
SELECT primary_claim_id, 'SECONDARY_BILLED', built_at, source_event_id, version
FROM claim_versions
WHERE payer_sequence = 'SECONDARY' AND primary_claim_id IS NOT NULL;
COMMENT ON VIEW claim_transitions IS 'Claim life transitions that are not a new claim, for the status history: CORRECTED (a replacement version, frequency 7), VOIDED (frequency 8), SECONDARY_BILLED (the primary claim''s remaining balance billed to the secondary payer, on the primary claim id).';
COMMENT ON COLUMN claim_transitions.claim_id IS 'The claim the transition happened to (the primary claim for SECONDARY_BILLED).';
COMMENT ON COLUMN claim_transitions.status IS 'CORRECTED, VOIDED or SECONDARY_BILLED.';
COMMENT ON COLUMN claim_transitions.at IS 'Event time of the build that made the transition.';
COMMENT ON COLUMN claim_transitions.source_event_id IS 'The event the transition comes from (coded encounter, or primary remittance).';
COMMENT ON COLUMN claim_transitions.version IS 'Version of the claim built (the secondary claim''s version for SECONDARY_BILLED).';

-- The 837 writer sends each version of a claim once (a corrected claim goes out again).
ALTER TABLE x12_claims_sent ADD COLUMN version int NOT NULL DEFAULT 1;
ALTER TABLE x12_claims_sent DROP CONSTRAINT x12_claims_sent_pkey,
    ADD PRIMARY KEY (claim_id, version);
COMMENT ON TABLE x12_claims_sent IS 'Each claim version the X12 sink put in an 837 file: a redelivered version is never sent twice.';
COMMENT ON COLUMN x12_claims_sent.version IS 'Version of the claim sent (claims.version).';

-- TRANSFER_TO_SECONDARY: the amount billed to the secondary payer moves from the patient part
-- back to insurance. (DENIAL_WRITE_OFF is the appeals change's kind: listed so either migration
-- order leaves both allowed.)
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check,
    ADD CONSTRAINT ledger_entries_kind_check CHECK (kind IN ('CHARGE', 'PAYER_PAYMENT',
        'CONTRACTUAL_ADJUSTMENT', 'TRANSFER_TO_PATIENT', 'OTHER_ADJUSTMENT', 'PATIENT_PAYMENT',
        'PATIENT_REFUND', 'TRANSFER_TO_SECONDARY', 'DENIAL_WRITE_OFF'));
COMMENT ON COLUMN ledger_entries.kind IS 'CHARGE (a negative CHARGE, reason CORRECTED, takes off a line a corrected or cancelled encounter no longer bills), PAYER_PAYMENT, CONTRACTUAL_ADJUSTMENT, TRANSFER_TO_PATIENT, TRANSFER_TO_SECONDARY (patient responsibility billed to the secondary payer, back to insurance), OTHER_ADJUSTMENT, PATIENT_PAYMENT or PATIENT_REFUND.';
