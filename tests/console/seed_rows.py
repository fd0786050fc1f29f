"""Rows as the sink writes them, for the console's HTTP tests (the console itself never writes
these tables; the browser tests get theirs from the real pipeline)."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from schemas.accounts import make_account_id

ACCOUNT = make_account_id(7001)
NOW = datetime.now(UTC)
DEADLINE = date.today() + timedelta(days=20)


def seed(db) -> None:
    db.execute("""insert into coding_review (review_id, encounter_id, account_id, payer_id,
                      encounter_class, total_charge_cents, reasons, suggestions, requested_at,
                      source_event_id, source_emitted_at, patient_age, patient_sex, date_of_service)
                  values ('rev-1', 'E7001', %s, 'MEDICARE', 'OFFICE', 14500,
                          array['dx 1: no code fits ''feeling off'''], %s, %s, 'enc-7001', %s,
                          58, 'F', current_date)""",
               (ACCOUNT, json.dumps([
                   {"sequence": 1, "text": "feeling off", "code": None, "confidence": 0.2, "also": []},
                   {"sequence": 2, "text": "essential hypertension", "code": "I10",
                    "confidence": 0.97, "also": []}]), NOW, NOW))
    db.execute("""insert into claims (claim_id, account_id, encounter_id, payer_id, plan_type,
                      claim_type, status, total_charge_cents, edits, lines, diagnosis_codes,
                      service_start, service_end, built_at, source_event_id, source_emitted_at)
                  values ('CLM-7001', %s, 'E7000', 'AETNA', 'COMMERCIAL', 'PROFESSIONAL', 'HELD',
                          20000, %s, %s, array['J02.9'], %s, %s, %s, 'enc-7000', %s)""",
               (ACCOUNT, json.dumps([{"edit": "MISSING_AUTH", "message": "no prior authorization"}]),
                json.dumps([{"line": 1, "procedure_code": "99213", "units": 1,
                             "charge_cents": 20000}]), date.today(), date.today(), NOW, NOW))
    db.execute("""insert into encounters_coded (event_id, encounter_id, account_id, payer_id,
                      plan_type, encounter_class, patient_age, patient_sex, service_start,
                      service_end, diagnoses, procedures, total_charge_cents, coded_at,
                      source_event_id, source_emitted_at)
                  values ('enc-7000:coded', 'E7000', %s, 'AETNA', 'COMMERCIAL', 'OFFICE', 34, 'M',
                          current_date, current_date, '[]', '[]', 20000, %s, 'enc-7000', %s)""",
               (ACCOUNT, NOW, NOW))
    db.execute("""insert into denials (denial_id, remittance_id, claim_id, account_id, payer_id,
                      line, group_code, reason_code, category, preventable, amount_cents,
                      denied_on, appeal_deadline, source_event_id, source_emitted_at, owner_queue)
                  values ('DEN-7001', 'REM-1', 'CLM-7001', %s, 'AETNA', 1, 'CO', '197',
                          'AUTHORIZATION', true, 12000, %s, %s, 'rem-1', %s,
                          'UTILIZATION_MANAGEMENT')""", (ACCOUNT, date.today(), DEADLINE, NOW))
    db.execute("""insert into ledger_entries (entry_id, account_id, kind, insurance_delta_cents,
                      patient_delta_cents, posted_at, reference, source_event_id, source_emitted_at)
                  values ('le-1', %s, 'CHARGE', 20000, 0, %s, 'CLM-7001', 'enc-7000', %s),
                         ('le-2', %s, 'TRANSFER_TO_PATIENT', -3000, 3000, %s, 'CLM-7001', 'rem-1', %s)
               """, (ACCOUNT, NOW, NOW, ACCOUNT, NOW, NOW))
    db.execute("""insert into account_balances (account_id, insurance_cents, patient_cents,
                      total_cents, charges_cents, entries) values (%s, 17000, 3000, 20000, 20000, 2)""",
               (ACCOUNT,))
    db.execute("""insert into proposed_scrub_rules (rule_id, payer_id, reason_code, procedure_code,
                      category, preventable, denial_count, denied_cents, threshold,
                      example_denial_ids, example_claim_ids, first_denied_on, last_denied_on,
                      event_id, source_emitted_at)
                  values ('AETNA/197/99213', 'AETNA', '197', '99213', 'AUTHORIZATION', true, 5,
                          60000, 5, array['DEN-7001'], array['CLM-7001'], %s, %s,
                          'AETNA/197/99213:proposed', %s)""", (date.today(), date.today(), NOW))
