-- Tables the PostgreSQL sink fills from the pipeline's output topics.
-- Money is integer cents (bigint). Times are timestamptz (UTC on the wire).
-- Every row that comes from an event keeps the source event id and its emit time, so an analyst can
-- trace it back and measure latency (applied_at - source_emitted_at).

CREATE TABLE claims (
    claim_id           text PRIMARY KEY,
    account_id         text        NOT NULL,
    encounter_id       text        NOT NULL,
    payer_id           text        NOT NULL,
    plan_type          text        NOT NULL,
    claim_type         text        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('CLEAN', 'HELD')),
    total_charge_cents bigint      NOT NULL,
    edits              jsonb       NOT NULL DEFAULT '[]',
    lines              jsonb       NOT NULL DEFAULT '[]',
    diagnosis_codes    text[]      NOT NULL DEFAULT '{}',
    service_start      date        NOT NULL,
    service_end        date        NOT NULL,
    built_at           timestamptz NOT NULL,
    source_event_id    text        NOT NULL,
    source_emitted_at  timestamptz NOT NULL,
    applied_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX claims_account_idx ON claims (account_id);
CREATE INDEX claims_held_idx ON claims (built_at) WHERE status = 'HELD';
COMMENT ON TABLE claims IS 'Claims built from coded encounters and scrubbed: CLEAN ones can be submitted, HELD ones wait for a biller (see edits).';
COMMENT ON COLUMN claims.claim_id IS 'Claim id the pipeline assigned (CLM- + encounter id); payers echo it on remittances.';
COMMENT ON COLUMN claims.account_id IS 'Patient account the claim bills.';
COMMENT ON COLUMN claims.encounter_id IS 'Encounter the claim was built from.';
COMMENT ON COLUMN claims.payer_id IS 'Payer the claim is sent to.';
COMMENT ON COLUMN claims.plan_type IS 'MEDICARE, MEDICAID, COMMERCIAL or SELF_PAY.';
COMMENT ON COLUMN claims.claim_type IS 'PROFESSIONAL (837P) or INSTITUTIONAL (837I).';
COMMENT ON COLUMN claims.status IS 'CLEAN: passed every scrubber edit untouched. HELD: at least one edit stops it.';
COMMENT ON COLUMN claims.total_charge_cents IS 'Sum of line charges, in cents.';
COMMENT ON COLUMN claims.edits IS 'Scrubber edits that fired: [{edit, message, line}] (empty when CLEAN).';
COMMENT ON COLUMN claims.lines IS 'Service lines: [{line, procedure_code, modifiers, revenue_code, units, charge_cents, service_date, diagnosis_pointers}].';
COMMENT ON COLUMN claims.diagnosis_codes IS 'ICD-10-CM codes in claim order (line diagnosis pointers index this list from 1).';
COMMENT ON COLUMN claims.service_start IS 'First date of service.';
COMMENT ON COLUMN claims.service_end IS 'Last date of service.';
COMMENT ON COLUMN claims.built_at IS 'When the claim was built (event time).';
COMMENT ON COLUMN claims.source_event_id IS 'Id of the encounter event the claim was built from.';
COMMENT ON COLUMN claims.source_emitted_at IS 'When the hospital system emitted the source encounter.';
COMMENT ON COLUMN claims.applied_at IS 'When the sink wrote this row.';

CREATE TABLE coding_review (
    review_id          text PRIMARY KEY,
    encounter_id       text        NOT NULL,
    account_id         text        NOT NULL,
    payer_id           text        NOT NULL,
    encounter_class    text        NOT NULL,
    total_charge_cents bigint      NOT NULL,
    reasons            text[]      NOT NULL DEFAULT '{}',
    suggestions        jsonb       NOT NULL DEFAULT '[]',
    status             text        NOT NULL DEFAULT 'open',
    requested_at       timestamptz NOT NULL,
    source_event_id    text        NOT NULL,
    source_emitted_at  timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX coding_review_open_idx ON coding_review (total_charge_cents DESC) WHERE status = 'open';
COMMENT ON TABLE coding_review IS 'Work queue: encounters the automatic coder could not code with confidence; a coder must review them.';
COMMENT ON COLUMN coding_review.review_id IS 'Id of the CodingReviewRequested event.';
COMMENT ON COLUMN coding_review.encounter_id IS 'Encounter to review.';
COMMENT ON COLUMN coding_review.account_id IS 'Patient account of the encounter.';
COMMENT ON COLUMN coding_review.payer_id IS 'Payer the encounter will be billed to.';
COMMENT ON COLUMN coding_review.encounter_class IS 'OFFICE, EMERGENCY, OUTPATIENT or INPATIENT.';
COMMENT ON COLUMN coding_review.total_charge_cents IS 'Charges waiting on this review, in cents (money that cannot be billed yet).';
COMMENT ON COLUMN coding_review.reasons IS 'Why the coder stopped, one sentence each.';
COMMENT ON COLUMN coding_review.suggestions IS 'Best guesses per diagnosis statement: [{sequence, text, code, confidence}].';
COMMENT ON COLUMN coding_review.status IS 'open until a coder works it (closing is done by the coding team''s tools).';
COMMENT ON COLUMN coding_review.requested_at IS 'When review was requested (event time).';
COMMENT ON COLUMN coding_review.source_event_id IS 'Id of the encounter event that needs review.';
COMMENT ON COLUMN coding_review.source_emitted_at IS 'When the hospital system emitted the encounter.';
COMMENT ON COLUMN coding_review.created_at IS 'When the sink wrote this row.';

CREATE TABLE encounters_coded (
    event_id           text PRIMARY KEY,
    encounter_id       text        NOT NULL,
    account_id         text        NOT NULL,
    payer_id           text        NOT NULL,
    plan_type          text        NOT NULL,
    encounter_class    text        NOT NULL,
    patient_age        integer     NOT NULL,
    patient_sex        text        NOT NULL,
    service_start      date        NOT NULL,
    service_end        date        NOT NULL,
    diagnoses          jsonb       NOT NULL DEFAULT '[]',
    procedures         jsonb       NOT NULL DEFAULT '[]',
    total_charge_cents bigint      NOT NULL,
    coded_at           timestamptz NOT NULL,
    source_event_id    text        NOT NULL,
    source_emitted_at  timestamptz NOT NULL,
    applied_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX encounters_coded_encounter_idx ON encounters_coded (encounter_id);
CREATE INDEX encounters_coded_account_idx ON encounters_coded (account_id);
COMMENT ON TABLE encounters_coded IS 'Encounters the automatic coder coded with confidence, with the codes it assigned.';
COMMENT ON COLUMN encounters_coded.event_id IS 'Id of the EncounterCoded event.';
COMMENT ON COLUMN encounters_coded.encounter_id IS 'Encounter that was coded.';
COMMENT ON COLUMN encounters_coded.account_id IS 'Patient account of the encounter.';
COMMENT ON COLUMN encounters_coded.payer_id IS 'Payer the encounter is billed to.';
COMMENT ON COLUMN encounters_coded.plan_type IS 'MEDICARE, MEDICAID, COMMERCIAL or SELF_PAY.';
COMMENT ON COLUMN encounters_coded.encounter_class IS 'OFFICE, EMERGENCY, OUTPATIENT or INPATIENT.';
COMMENT ON COLUMN encounters_coded.patient_age IS 'Age in years on the date of service.';
COMMENT ON COLUMN encounters_coded.patient_sex IS 'F, M or U (unknown).';
COMMENT ON COLUMN encounters_coded.service_start IS 'First date of service.';
COMMENT ON COLUMN encounters_coded.service_end IS 'Last date of service.';
COMMENT ON COLUMN encounters_coded.diagnoses IS 'ICD-10-CM codes assigned: [{sequence, code, confidence, evidence}].';
COMMENT ON COLUMN encounters_coded.procedures IS 'Charge lines with procedure codes: [{line, charge_code, procedure_code, modifiers, revenue_code, units, charge_cents, service_date}].';
COMMENT ON COLUMN encounters_coded.total_charge_cents IS 'Sum of procedure charge_cents, in cents.';
COMMENT ON COLUMN encounters_coded.coded_at IS 'When the encounter was coded (event time).';
COMMENT ON COLUMN encounters_coded.source_event_id IS 'Id of the encounter event that was coded.';
COMMENT ON COLUMN encounters_coded.source_emitted_at IS 'When the hospital system emitted the encounter.';
COMMENT ON COLUMN encounters_coded.applied_at IS 'When the sink wrote this row.';

CREATE TABLE denials (
    denial_id          text PRIMARY KEY,
    remittance_id      text        NOT NULL,
    claim_id           text        NOT NULL,
    account_id         text        NOT NULL,
    payer_id           text        NOT NULL,
    line               integer,
    group_code         text        NOT NULL,
    reason_code        text        NOT NULL,
    category           text        NOT NULL,
    preventable        boolean     NOT NULL,
    amount_cents       bigint      NOT NULL,
    denied_on          date        NOT NULL,
    appeal_deadline    date        NOT NULL,
    remarks            text[]      NOT NULL DEFAULT '{}',
    status             text        NOT NULL DEFAULT 'open',
    source_event_id    text        NOT NULL,
    source_emitted_at  timestamptz NOT NULL,
    applied_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX denials_open_deadline_idx ON denials (appeal_deadline) WHERE status = 'open';
CREATE INDEX denials_claim_idx ON denials (claim_id);
CREATE INDEX denials_account_idx ON denials (account_id);
COMMENT ON TABLE denials IS 'Work queue: money payers refused, by reason, with the date by which an appeal must be filed.';
COMMENT ON COLUMN denials.denial_id IS 'Id of the DenialFlagged event (remittance event id, line, adjustment position).';
COMMENT ON COLUMN denials.remittance_id IS 'Remittance (835 claim payment) that carried the denial.';
COMMENT ON COLUMN denials.claim_id IS 'Claim that was denied (in part or in full).';
COMMENT ON COLUMN denials.account_id IS 'Patient account of the claim.';
COMMENT ON COLUMN denials.payer_id IS 'Payer that denied.';
COMMENT ON COLUMN denials.line IS 'Service line denied, or NULL when the denial is at claim level.';
COMMENT ON COLUMN denials.group_code IS 'Adjustment group: CO (contractual obligation), PI (payer initiated) or OA (other).';
COMMENT ON COLUMN denials.reason_code IS 'Claim adjustment reason code (CARC) the payer gave.';
COMMENT ON COLUMN denials.category IS 'What has to be fixed: ELIGIBILITY, AUTHORIZATION, CODING, MEDICAL_NECESSITY, TIMELY_FILING, DUPLICATE, MISSING_INFORMATION, BUNDLING, NON_COVERED or OTHER.';
COMMENT ON COLUMN denials.preventable IS 'True when a front-end, documentation or coding check could have stopped it before submission.';
COMMENT ON COLUMN denials.amount_cents IS 'Amount at risk, in cents; it stays open in the insurance balance until appealed or written off.';
COMMENT ON COLUMN denials.denied_on IS 'Date of the remittance that denied it.';
COMMENT ON COLUMN denials.appeal_deadline IS 'Last day to appeal: denied_on plus the payer''s appeal window.';
COMMENT ON COLUMN denials.remarks IS 'Remark codes (RARC) from the line and the claim.';
COMMENT ON COLUMN denials.status IS 'open until worked (closing is done by the denial team''s tools).';
COMMENT ON COLUMN denials.source_event_id IS 'Id of the remittance event.';
COMMENT ON COLUMN denials.source_emitted_at IS 'When the payer feed emitted the remittance.';
COMMENT ON COLUMN denials.applied_at IS 'When the sink wrote this row.';

CREATE TABLE ledger_entries (
    entry_id              text PRIMARY KEY,
    account_id            text        NOT NULL,
    kind                  text        NOT NULL CHECK (kind IN ('CHARGE', 'PAYER_PAYMENT',
                              'CONTRACTUAL_ADJUSTMENT', 'TRANSFER_TO_PATIENT', 'OTHER_ADJUSTMENT',
                              'PATIENT_PAYMENT', 'PATIENT_REFUND')),
    insurance_delta_cents bigint      NOT NULL,
    patient_delta_cents   bigint      NOT NULL,
    posted_at             timestamptz NOT NULL,
    reference             text        NOT NULL,
    payer_id              text,
    reason                text,
    source_event_id       text        NOT NULL,
    source_emitted_at     timestamptz NOT NULL,
    applied_at            timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, posted_at);
COMMENT ON TABLE ledger_entries IS 'Every signed entry posted to a patient account; balances are the sums of these rows.';
COMMENT ON COLUMN ledger_entries.entry_id IS 'Deterministic entry id (source event id + position), applied at most once.';
COMMENT ON COLUMN ledger_entries.account_id IS 'Patient account.';
COMMENT ON COLUMN ledger_entries.kind IS 'CHARGE, PAYER_PAYMENT, CONTRACTUAL_ADJUSTMENT, TRANSFER_TO_PATIENT, OTHER_ADJUSTMENT, PATIENT_PAYMENT or PATIENT_REFUND.';
COMMENT ON COLUMN ledger_entries.insurance_delta_cents IS 'Change to what insurance owes, in cents (positive raises it).';
COMMENT ON COLUMN ledger_entries.patient_delta_cents IS 'Change to what the patient owes, in cents (positive raises it).';
COMMENT ON COLUMN ledger_entries.posted_at IS 'Event time of the source (service, remittance or payment time).';
COMMENT ON COLUMN ledger_entries.reference IS 'Encounter, claim or payment id the entry comes from.';
COMMENT ON COLUMN ledger_entries.payer_id IS 'Payer involved, when there is one.';
COMMENT ON COLUMN ledger_entries.reason IS 'Adjustment group and reason code, e.g. CO-45; NULL for charges and payments.';
COMMENT ON COLUMN ledger_entries.source_event_id IS 'Id of the encounter, remittance or payment event.';
COMMENT ON COLUMN ledger_entries.source_emitted_at IS 'When the hospital system or payer feed emitted the source event.';
COMMENT ON COLUMN ledger_entries.applied_at IS 'When the sink wrote this row.';

CREATE TABLE account_balances (
    account_id        text PRIMARY KEY,
    insurance_cents   bigint      NOT NULL DEFAULT 0,
    patient_cents     bigint      NOT NULL DEFAULT 0,
    total_cents       bigint      NOT NULL DEFAULT 0,
    charges_cents     bigint      NOT NULL DEFAULT 0,
    payments_cents    bigint      NOT NULL DEFAULT 0,
    adjustments_cents bigint      NOT NULL DEFAULT 0,
    entries           bigint      NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT account_balances_total_is_sum CHECK (total_cents = insurance_cents + patient_cents)
);
COMMENT ON TABLE account_balances IS 'Balance per patient account, kept in the same transaction as the ledger entries it sums.';
COMMENT ON COLUMN account_balances.account_id IS 'Patient account.';
COMMENT ON COLUMN account_balances.insurance_cents IS 'What insurance still owes, in cents (includes denied amounts pending appeal).';
COMMENT ON COLUMN account_balances.patient_cents IS 'What the patient owes, in cents.';
COMMENT ON COLUMN account_balances.total_cents IS 'insurance_cents + patient_cents.';
COMMENT ON COLUMN account_balances.charges_cents IS 'Sum of CHARGE entries, in cents.';
COMMENT ON COLUMN account_balances.payments_cents IS 'Payer and patient payments net of patient refunds, in cents (positive = money received).';
COMMENT ON COLUMN account_balances.adjustments_cents IS 'Contractual and other adjustments, in cents (positive = written down). Transfers to the patient are not adjustments.';
COMMENT ON COLUMN account_balances.entries IS 'Number of ledger entries applied to the account.';
COMMENT ON COLUMN account_balances.updated_at IS 'When the sink last changed this balance.';

CREATE TABLE dead_letters (
    event_id          text PRIMARY KEY,
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    stage             text        NOT NULL,
    error             text        NOT NULL,
    reason            text        NOT NULL,
    payload           bytea       NOT NULL,
    key               bytea,
    dead_lettered_at  timestamptz NOT NULL,
    applied_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX dead_letters_topic_idx ON dead_letters (source_topic, dead_lettered_at);
COMMENT ON TABLE dead_letters IS 'Records a stage could not process, with the reason and the original bytes so they can be fixed and replayed.';
COMMENT ON COLUMN dead_letters.event_id IS 'source_topic:partition:offset:stage, the same on every redelivery.';
COMMENT ON COLUMN dead_letters.source_topic IS 'Topic the bad record was read from.';
COMMENT ON COLUMN dead_letters.source_partition IS 'Partition the bad record was read from.';
COMMENT ON COLUMN dead_letters.source_offset IS 'Offset of the bad record.';
COMMENT ON COLUMN dead_letters.stage IS 'Stage that rejected it (coding, ledger, sink, ...).';
COMMENT ON COLUMN dead_letters.error IS 'MALFORMED (bytes do not decode), UNKNOWN_SCHEMA or INVALID (decodes but breaks a rule).';
COMMENT ON COLUMN dead_letters.reason IS 'Why it was rejected, in a sentence.';
COMMENT ON COLUMN dead_letters.payload IS 'The original record value, byte for byte (may hold patient data: restrict access).';
COMMENT ON COLUMN dead_letters.key IS 'The original record key.';
COMMENT ON COLUMN dead_letters.dead_lettered_at IS 'When the stage rejected it.';
COMMENT ON COLUMN dead_letters.applied_at IS 'When the sink wrote this row.';

CREATE TABLE sink_offsets (
    consumer_group text   NOT NULL,
    topic          text   NOT NULL,
    partition      integer NOT NULL,
    next_offset    bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer_group, topic, partition)
);
COMMENT ON TABLE sink_offsets IS 'Where the sink resumes: written in the same transaction as the rows it read, so a crash never loses or doubles an effect.';
COMMENT ON COLUMN sink_offsets.consumer_group IS 'Kafka consumer group of the sink.';
COMMENT ON COLUMN sink_offsets.topic IS 'Topic read.';
COMMENT ON COLUMN sink_offsets.partition IS 'Partition read.';
COMMENT ON COLUMN sink_offsets.next_offset IS 'Offset of the next record to read (last applied + 1).';
COMMENT ON COLUMN sink_offsets.updated_at IS 'When the sink last moved this offset.';
