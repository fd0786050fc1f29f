-- Denial appeals and deadlines: the lifecycle steps the appeal stage accepted (denial-lifecycle),
-- the deadline alerts it fired (denial-deadline-approaching, denial-expired), denial write-offs in
-- the ledger, the denial's status following its steps, and claims that were APPEALED or CLOSED.

CREATE TABLE denial_events (
    event_id           text PRIMARY KEY,
    denial_id          text        NOT NULL,
    claim_id           text        NOT NULL,
    account_id         text        NOT NULL,
    version            integer     NOT NULL,
    action             text        NOT NULL,
    status             text        NOT NULL,
    amount_cents       bigint      NOT NULL,
    open_cents         bigint      NOT NULL,
    occurred_at        timestamptz NOT NULL,
    reference          text,
    reason_code        text,
    source_emitted_at  timestamptz NOT NULL,
    applied_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX denial_events_denial_idx ON denial_events (denial_id, version);
CREATE INDEX denial_events_claim_idx ON denial_events (claim_id);
COMMENT ON TABLE denial_events IS 'Each step of a denial''s appeal lifecycle the pipeline accepted: appeal actions from the billing system, and expiry of the appeal window.';
COMMENT ON COLUMN denial_events.event_id IS 'Id of the appeal event (or denial id + '':EXPIRED''); applied at most once.';
COMMENT ON COLUMN denial_events.denial_id IS 'Denial the step works (denials.denial_id).';
COMMENT ON COLUMN denial_events.claim_id IS 'Claim of the denial.';
COMMENT ON COLUMN denial_events.account_id IS 'Patient account of the claim.';
COMMENT ON COLUMN denial_events.version IS 'Order of the step within its denial: 1, 2, ...';
COMMENT ON COLUMN denial_events.action IS 'FILED (appeal sent), OVERTURNED or UPHELD (the payer''s answer), WRITTEN_OFF (the hospital gave up the amount), EXPIRED (the appeal deadline passed with no appeal).';
COMMENT ON COLUMN denial_events.status IS 'The denial''s status after the step: OPEN (after a partial write-off), APPEALED, OVERTURNED, UPHELD, WRITTEN_OFF or EXPIRED.';
COMMENT ON COLUMN denial_events.amount_cents IS 'Amount written off by a WRITTEN_OFF step, in cents; 0 for other steps.';
COMMENT ON COLUMN denial_events.open_cents IS 'Denied amount still open in insurance after the step, in cents.';
COMMENT ON COLUMN denial_events.occurred_at IS 'Event time of the step (the billing system''s time; for EXPIRED, the event-time clock when it fired).';
COMMENT ON COLUMN denial_events.reference IS 'The payer''s or billing system''s appeal or case number.';
COMMENT ON COLUMN denial_events.reason_code IS 'The billing system''s coded reason for the step.';
COMMENT ON COLUMN denial_events.source_emitted_at IS 'When the billing system emitted the event.';
COMMENT ON COLUMN denial_events.applied_at IS 'When the sink wrote this row.';

CREATE TABLE denial_deadline_alerts (
    alert_id           text PRIMARY KEY,
    kind               text        NOT NULL CHECK (kind IN ('APPROACHING', 'EXPIRED')),
    denial_id          text        NOT NULL,
    claim_id           text        NOT NULL,
    account_id         text        NOT NULL,
    payer_id           text        NOT NULL,
    owner_queue        text        NOT NULL,
    open_cents         bigint      NOT NULL,
    appeal_deadline    date        NOT NULL,
    clock_at           timestamptz NOT NULL,
    source_emitted_at  timestamptz NOT NULL,
    applied_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX denial_deadline_alerts_denial_idx ON denial_deadline_alerts (denial_id);
COMMENT ON TABLE denial_deadline_alerts IS 'Deadline alerts, at most one per denial and kind: APPROACHING (the appeal deadline is within RCM_APPEAL_WARNING_DAYS and no appeal was filed), EXPIRED (it passed with no appeal).';
COMMENT ON COLUMN denial_deadline_alerts.alert_id IS 'Denial id + '':APPROACHING'' or '':EXPIRED''.';
COMMENT ON COLUMN denial_deadline_alerts.kind IS 'APPROACHING or EXPIRED.';
COMMENT ON COLUMN denial_deadline_alerts.denial_id IS 'Denial the alert is about.';
COMMENT ON COLUMN denial_deadline_alerts.claim_id IS 'Claim of the denial.';
COMMENT ON COLUMN denial_deadline_alerts.account_id IS 'Patient account of the claim.';
COMMENT ON COLUMN denial_deadline_alerts.payer_id IS 'Payer that denied.';
COMMENT ON COLUMN denial_deadline_alerts.owner_queue IS 'Team that works the denial.';
COMMENT ON COLUMN denial_deadline_alerts.open_cents IS 'Denied amount still open when the alert fired, in cents.';
COMMENT ON COLUMN denial_deadline_alerts.appeal_deadline IS 'Last day to appeal.';
COMMENT ON COLUMN denial_deadline_alerts.clock_at IS 'Event time (the partition''s clock) when the alert fired.';
COMMENT ON COLUMN denial_deadline_alerts.source_emitted_at IS 'When the record that moved the clock was emitted.';
COMMENT ON COLUMN denial_deadline_alerts.applied_at IS 'When the sink wrote this row.';

-- The status follows the latest accepted step (the sink sets it after each batch).
ALTER TABLE denials ADD COLUMN written_off_cents bigint NOT NULL DEFAULT 0;
ALTER TABLE denials ADD CONSTRAINT denials_status_check
    CHECK (status IN ('open', 'appealed', 'overturned', 'upheld', 'written_off', 'expired'));
COMMENT ON COLUMN denials.status IS 'Appeal lifecycle: open, appealed (appeal filed), overturned or upheld (the payer''s answer), written_off (nothing left open), expired (deadline passed with no appeal). The latest step in denial_events.';
COMMENT ON COLUMN denials.written_off_cents IS 'Part of the denied amount written off so far, in cents (amount_cents - written_off_cents is still open).';
CREATE INDEX denials_work_idx ON denials (owner_queue, appeal_deadline)
    WHERE status IN ('open', 'appealed', 'upheld', 'expired');

-- Write-offs are ledger entries and count as adjustments in account_balances.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check CHECK (kind IN (
    'CHARGE', 'PAYER_PAYMENT', 'CONTRACTUAL_ADJUSTMENT', 'TRANSFER_TO_PATIENT', 'OTHER_ADJUSTMENT',
    'PATIENT_PAYMENT', 'PATIENT_REFUND', 'DENIAL_WRITE_OFF'));
COMMENT ON COLUMN ledger_entries.kind IS 'CHARGE, PAYER_PAYMENT, CONTRACTUAL_ADJUSTMENT, TRANSFER_TO_PATIENT, OTHER_ADJUSTMENT, PATIENT_PAYMENT, PATIENT_REFUND or DENIAL_WRITE_OFF (a denied amount the hospital gave up).';
COMMENT ON COLUMN account_balances.adjustments_cents IS 'Contractual, other and denial write-off adjustments, in cents (positive = written down). Transfers to the patient are not adjustments.';

DROP VIEW denial_queue_summary;
DROP VIEW denial_work_queue;

CREATE VIEW denial_work_queue AS
SELECT d.owner_queue, d.denial_id, d.claim_id, d.account_id, d.payer_id, d.line, d.category,
       d.reason_code, d.preventable, d.amount_cents, d.denied_on, d.appeal_deadline,
       d.appeal_deadline - current_date AS days_left, d.remarks, d.status,
       d.amount_cents - d.written_off_cents AS open_cents
FROM denials d
WHERE d.status IN ('open', 'appealed', 'upheld', 'expired')
ORDER BY d.owner_queue, d.appeal_deadline, d.amount_cents DESC, d.denial_id;
COMMENT ON VIEW denial_work_queue IS 'Denials someone must still work, per owner queue, the nearest appeal deadline first (then the most money): open (appeal or write off), appealed (follow up with the payer), upheld or expired (write off or escalate). Overturned and written-off denials are done.';
COMMENT ON COLUMN denial_work_queue.days_left IS 'Days until the appeal deadline (negative: the window has closed).';
COMMENT ON COLUMN denial_work_queue.status IS 'open, appealed, upheld or expired (see denials.status).';
COMMENT ON COLUMN denial_work_queue.open_cents IS 'Denied amount not written off, in cents.';

CREATE VIEW denial_queue_summary AS
SELECT d.owner_queue,
       count(*) FILTER (WHERE d.status = 'open') AS open_denials,
       coalesce(sum(d.amount_cents - d.written_off_cents) FILTER (WHERE d.status = 'open'), 0)
           AS open_cents,
       count(*) FILTER (WHERE d.status = 'open'
                          AND d.appeal_deadline - current_date BETWEEN 0 AND 7) AS due_within_7_days,
       count(*) FILTER (WHERE d.status IN ('open', 'expired')
                          AND d.appeal_deadline < current_date) AS past_deadline,
       count(*) FILTER (WHERE d.status = 'open' AND d.preventable) AS preventable,
       count(*) FILTER (WHERE d.status = 'appealed') AS appealed,
       count(*) FILTER (WHERE d.status IN ('upheld', 'expired')) AS to_write_off,
       sum(d.amount_cents - d.written_off_cents) AS work_cents
FROM denials d
WHERE d.status IN ('open', 'appealed', 'upheld', 'expired')
GROUP BY d.owner_queue
ORDER BY sum(d.amount_cents - d.written_off_cents) DESC, d.owner_queue;
COMMENT ON VIEW denial_queue_summary IS 'Per owner queue: open denials and their money, how many are due within 7 days or past their appeal deadline, how many were preventable; appeals awaiting the payer; upheld or expired denials to write off; all the money still being worked.';
COMMENT ON COLUMN denial_queue_summary.open_denials IS 'Denials with status open (no appeal filed yet).';
COMMENT ON COLUMN denial_queue_summary.open_cents IS 'Money at risk in open denials, in cents.';
COMMENT ON COLUMN denial_queue_summary.due_within_7_days IS 'Open denials whose appeal deadline is within 7 days.';
COMMENT ON COLUMN denial_queue_summary.past_deadline IS 'Open or expired denials past their appeal deadline.';
COMMENT ON COLUMN denial_queue_summary.preventable IS 'Open denials a front-end, documentation or coding check could have stopped.';
COMMENT ON COLUMN denial_queue_summary.appealed IS 'Denials with an appeal filed, awaiting the payer''s answer.';
COMMENT ON COLUMN denial_queue_summary.to_write_off IS 'Upheld or expired denials: write off or escalate.';
COMMENT ON COLUMN denial_queue_summary.work_cents IS 'Denied money not written off across every worked status, in cents.';

DROP VIEW claim_current_status;
DROP VIEW claim_status_history;

CREATE VIEW claim_status_history AS
WITH remits AS (
    SELECT e.reference AS claim_id, e.source_event_id,
           min(e.posted_at) AS at,
           -sum(e.insurance_delta_cents) FILTER (WHERE e.kind = 'PAYER_PAYMENT') AS paid_cents,
           bool_or(e.reason = 'REVERSAL') AS reversal
    FROM ledger_entries e
    JOIN claims c ON c.claim_id = e.reference
    WHERE e.kind IN ('PAYER_PAYMENT', 'CONTRACTUAL_ADJUSTMENT', 'TRANSFER_TO_PATIENT',
                     'OTHER_ADJUSTMENT')
    GROUP BY e.reference, e.source_event_id
), denied AS (
    SELECT source_event_id, sum(amount_cents) AS denied_cents, min(denied_on) AS denied_on
    FROM denials GROUP BY source_event_id
), events AS (
    SELECT c.claim_id, CASE WHEN c.status = 'HELD' THEN 'HELD' ELSE 'CREATED' END AS status,
           c.built_at AS at, 1 AS step, c.source_event_id AS source_event_id
    FROM claims c
    UNION ALL
    SELECT s.claim_id, 'SUBMITTED', s.sent_at, 2, s.file_name FROM x12_claims_sent s
    UNION ALL
    SELECT a.claim_id, CASE WHEN a.accepted THEN 'ACCEPTED' ELSE 'REJECTED' END, a.reported_at, 3,
           a.event_id
    FROM claim_status_events a
    UNION ALL
    SELECT r.claim_id,
           CASE WHEN r.reversal THEN 'REVERSED'
                WHEN coalesce(d.denied_cents, 0) > 0 AND coalesce(r.paid_cents, 0) = 0 THEN 'DENIED'
                WHEN coalesce(d.denied_cents, 0) > 0 THEN 'PARTIALLY_PAID'
                ELSE 'PAID' END,
           r.at, 4, r.source_event_id
    FROM remits r LEFT JOIN denied d USING (source_event_id)
    UNION ALL  -- a remittance whose only effect is a denial posts no ledger entry
    SELECT dn.claim_id, 'DENIED', min(dn.denied_on)::timestamptz, 4, dn.source_event_id
    FROM denials dn
    WHERE NOT EXISTS (SELECT 1 FROM remits r WHERE r.source_event_id = dn.source_event_id)
    GROUP BY dn.claim_id, dn.source_event_id
    UNION ALL
    SELECT e.claim_id, 'APPEALED', e.occurred_at, 5, e.event_id
    FROM denial_events e WHERE e.action = 'FILED'
    UNION ALL  -- closed when its last denial is written off (directly, or after an upheld appeal)
    SELECT * FROM (
        SELECT DISTINCT ON (e.claim_id) e.claim_id, 'CLOSED', e.occurred_at, 6, e.event_id
        FROM denial_events e
        WHERE e.action = 'WRITTEN_OFF' AND e.open_cents = 0
          AND NOT EXISTS (SELECT 1 FROM denials o
                          WHERE o.claim_id = e.claim_id AND o.status <> 'written_off')
        ORDER BY e.claim_id, e.occurred_at DESC, e.event_id DESC) closed
)
SELECT claim_id, status, at, step, source_event_id FROM events;
COMMENT ON VIEW claim_status_history IS 'Every status a claim went through, one row per event: CREATED or HELD (built), SUBMITTED (in an 837 file), ACCEPTED or REJECTED (277CA), PAID, PARTIALLY_PAID, DENIED or REVERSED (per remittance), APPEALED (an appeal filed on one of its denials), CLOSED (every denial of the claim written off, directly or after an upheld appeal).';
COMMENT ON COLUMN claim_status_history.at IS 'When the status began (event time; the 837 file time for SUBMITTED).';
COMMENT ON COLUMN claim_status_history.step IS 'Order of the step in a claim''s life (1 built, 2 submitted, 3 acknowledged, 4 adjudicated, 5 appealed, 6 closed): breaks ties between equal times.';
COMMENT ON COLUMN claim_status_history.source_event_id IS 'The event (or 837 file) the status comes from.';

CREATE VIEW claim_current_status AS
SELECT DISTINCT ON (claim_id) claim_id, status, at AS since
FROM claim_status_history
ORDER BY claim_id, at DESC, step DESC, source_event_id DESC;
COMMENT ON VIEW claim_current_status IS 'Each claim''s status now: the latest row of claim_status_history.';
COMMENT ON COLUMN claim_current_status.since IS 'When the claim entered this status.';
