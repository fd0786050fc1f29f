-- Non-blocking scrub findings on a claim (it still goes out), e.g. CODE_SET_STALE when the service
-- date is past the newest loaded ICD-10-CM release.
ALTER TABLE claims ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]'::jsonb;
COMMENT ON COLUMN claims.warnings IS 'Non-blocking scrub findings [{edit, message, line}]: the claim is not held for them.';
