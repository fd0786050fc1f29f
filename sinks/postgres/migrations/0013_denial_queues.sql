-- Denial work queues: each denial has an owner queue (the team that works its category first),
-- and the queues are views ordered by what to work first.
ALTER TABLE denials ADD COLUMN owner_queue text NOT NULL DEFAULT 'BILLING';
CREATE INDEX denials_open_queue_idx ON denials (owner_queue, appeal_deadline) WHERE status = 'open';
COMMENT ON COLUMN denials.owner_queue IS 'Team that works the denial: REGISTRATION, UTILIZATION_MANAGEMENT, CODING, BILLING or PATIENT_FINANCIAL_SERVICES (from the category).';

CREATE VIEW denial_work_queue AS
SELECT d.owner_queue, d.denial_id, d.claim_id, d.account_id, d.payer_id, d.line, d.category,
       d.reason_code, d.preventable, d.amount_cents, d.denied_on, d.appeal_deadline,
       d.appeal_deadline - current_date AS days_left, d.remarks
FROM denials d
WHERE d.status = 'open'
ORDER BY d.owner_queue, d.appeal_deadline, d.amount_cents DESC, d.denial_id;
COMMENT ON VIEW denial_work_queue IS 'Open denials per owner queue, the nearest appeal deadline first (then the most money).';
COMMENT ON COLUMN denial_work_queue.days_left IS 'Days until the appeal deadline (negative: the window has closed).';

CREATE VIEW denial_queue_summary AS
SELECT d.owner_queue,
       count(*) AS open_denials,
       sum(d.amount_cents) AS open_cents,
       count(*) FILTER (WHERE d.appeal_deadline - current_date BETWEEN 0 AND 7) AS due_within_7_days,
       count(*) FILTER (WHERE d.appeal_deadline < current_date) AS past_deadline,
       count(*) FILTER (WHERE d.preventable) AS preventable
FROM denials d
WHERE d.status = 'open'
GROUP BY d.owner_queue
ORDER BY sum(d.amount_cents) DESC, d.owner_queue;
COMMENT ON VIEW denial_queue_summary IS 'Per owner queue: open denials, money at risk, how many are due within 7 days or past their appeal deadline, how many were preventable.';
COMMENT ON COLUMN denial_queue_summary.open_cents IS 'Money at risk in the queue, in cents.';
