-- X12 837 out (sinks/x12): interchange control numbers, the files written and the claims sent.
-- Control numbers are allocated in their own committed transaction (a crash leaves a gap, never a
-- reuse); a file's record, its claims and the sink's offsets commit together.

CREATE TABLE x12_control_numbers (
    sender_id   text   NOT NULL,
    receiver_id text   NOT NULL,
    last_isa13  bigint NOT NULL CHECK (last_isa13 BETWEEN 1 AND 999999999),
    last_gs06   bigint NOT NULL CHECK (last_gs06 BETWEEN 1 AND 999999999),
    last_st02   bigint NOT NULL CHECK (last_st02 BETWEEN 1 AND 999999999),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (sender_id, receiver_id)
);
COMMENT ON TABLE x12_control_numbers IS 'Last X12 control numbers issued per sender and receiver; the next file takes the next ones, so none is ever reused.';
COMMENT ON COLUMN x12_control_numbers.sender_id IS 'Interchange sender id (ISA06, GS02).';
COMMENT ON COLUMN x12_control_numbers.receiver_id IS 'Interchange receiver id (ISA08, GS03).';
COMMENT ON COLUMN x12_control_numbers.last_isa13 IS 'Last interchange control number issued (ISA13 / IEA02).';
COMMENT ON COLUMN x12_control_numbers.last_gs06 IS 'Last functional group control number issued (GS06 / GE02).';
COMMENT ON COLUMN x12_control_numbers.last_st02 IS 'Last transaction set control number issued (ST02 / SE02).';
COMMENT ON COLUMN x12_control_numbers.updated_at IS 'When the last numbers were issued.';

CREATE TABLE x12_files (
    file_name          text    PRIMARY KEY,
    claim_type         text    NOT NULL CHECK (claim_type IN ('PROFESSIONAL', 'INSTITUTIONAL')),
    version            text    NOT NULL,
    sender_id          text    NOT NULL,
    receiver_id        text    NOT NULL,
    isa13              bigint  NOT NULL,
    gs06               bigint  NOT NULL,
    st02               bigint  NOT NULL,
    claim_ids          text[]  NOT NULL,
    claim_count        integer NOT NULL CHECK (claim_count > 0),
    total_charge_cents bigint  NOT NULL,
    written_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (sender_id, receiver_id, isa13)
);
COMMENT ON TABLE x12_files IS '837 files the X12 sink wrote to its outbox, one row per file.';
COMMENT ON COLUMN x12_files.file_name IS 'File name in the outbox (RCM_X12_OUTBOX).';
COMMENT ON COLUMN x12_files.claim_type IS 'PROFESSIONAL (837P) or INSTITUTIONAL (837I).';
COMMENT ON COLUMN x12_files.version IS 'Implementation guide (GS08): 005010X222A1 or 005010X223A2.';
COMMENT ON COLUMN x12_files.sender_id IS 'Interchange sender id (ISA06).';
COMMENT ON COLUMN x12_files.receiver_id IS 'Interchange receiver id (ISA08).';
COMMENT ON COLUMN x12_files.isa13 IS 'Interchange control number of the file.';
COMMENT ON COLUMN x12_files.gs06 IS 'Functional group control number of the file.';
COMMENT ON COLUMN x12_files.st02 IS 'Transaction set control number of the file.';
COMMENT ON COLUMN x12_files.claim_ids IS 'Claims in the file (CLM01), in file order.';
COMMENT ON COLUMN x12_files.claim_count IS 'Number of claims in the file.';
COMMENT ON COLUMN x12_files.total_charge_cents IS 'Sum of the claims'' total charges, in cents.';
COMMENT ON COLUMN x12_files.written_at IS 'When the file record was committed.';

CREATE TABLE x12_claims_sent (
    claim_id           text   PRIMARY KEY,
    file_name          text   NOT NULL REFERENCES x12_files (file_name),
    account_id         text   NOT NULL,
    claim_type         text   NOT NULL,
    total_charge_cents bigint NOT NULL,
    sent_at            timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX x12_claims_sent_file ON x12_claims_sent (file_name);
COMMENT ON TABLE x12_claims_sent IS 'Each claim the X12 sink put in an 837 file: a redelivered claim is never sent twice.';
COMMENT ON COLUMN x12_claims_sent.claim_id IS 'Claim id (CLM01, the patient control number).';
COMMENT ON COLUMN x12_claims_sent.file_name IS 'The 837 file that carried the claim.';
COMMENT ON COLUMN x12_claims_sent.account_id IS 'Patient account of the claim.';
COMMENT ON COLUMN x12_claims_sent.claim_type IS 'PROFESSIONAL or INSTITUTIONAL.';
COMMENT ON COLUMN x12_claims_sent.total_charge_cents IS 'Total charge of the claim, in cents.';
COMMENT ON COLUMN x12_claims_sent.sent_at IS 'When the file record was committed.';
