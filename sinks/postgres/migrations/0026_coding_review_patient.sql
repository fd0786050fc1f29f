-- The coder needs the patient's age and sex to check a code's age and sex edits, and the date of
-- service to check the ICD-10-CM release in force (issue 11): CodingReviewRequested carries them
-- now (optional fields); reviews requested before keep NULL.
ALTER TABLE coding_review
    ADD COLUMN patient_age     integer,
    ADD COLUMN patient_sex     text,
    ADD COLUMN date_of_service date;
COMMENT ON COLUMN coding_review.patient_age IS 'Age in whole years on the first date of service (NULL on reviews requested before it was carried).';
COMMENT ON COLUMN coding_review.patient_sex IS 'F, M or U (unknown); NULL on reviews requested before it was carried.';
COMMENT ON COLUMN coding_review.date_of_service IS 'The date whose ICD-10-CM release codes the encounter: a stay''s last day, else its first (NULL on reviews requested before it was carried).';
