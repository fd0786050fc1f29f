"""837 in, end to end: a hospital's own 837P and 837I claims through `rcm produce x12` become
claims as billed (status SUBMITTED, lines, units, charges, codes and pointers the file's), post
their charges once, and a matching 835 then gives the right balances, denials and claim statuses
in PostgreSQL. An ICD-9 claim in the same file is dead-lettered alone."""
from __future__ import annotations

import pytest

from infra import pipeline
from tests import x837_files as X
from tests.e2e.test_x12_in import PAID_ON, adj, produce_x12, rows
from tests.support import x12_generate as G
from tests.unit.test_x12_837_in import INST_CLAIM, PROF_CLAIMS

pytestmark = pytest.mark.e2e
ICD9_CLAIM = ["CLM*OLD-9*80***11:B:1*Y*A*Y*Y", "HI*BK:4019", "LX*1", "SV1*HC:99212*80*UN*1***1",
              "DTP*472*D8*20251103"]


def line(n, code, charge, paid, adjustments, units=1):
    return {"line": n, "procedure_code": code, "units": units, "charge_cents": charge,
            "paid_cents": paid, "adjustments": adjustments, "remarks": []}


def remit(claim_id, lines, status="1"):
    return {"claim_id": claim_id, "claim_status": status,
            "total_charge_cents": sum(ln["charge_cents"] for ln in lines),
            "total_paid_cents": sum(ln["paid_cents"] for ln in lines),
            "patient_responsibility_cents": sum(a["amount_cents"] for ln in lines
                                                for a in ln["adjustments"] if a["group_code"] == "PR"),
            "payer_claim_control_number": f"PCN-{claim_id}", "claim_adjustments": [],
            "lines": lines, "remarks": []}


def test_837_claims_then_their_835_give_balances_denials_and_statuses(run_settings, tmp_path):
    dsn, logs = run_settings.dsn, run_settings.home / "logs"
    claims = tmp_path / "hospital.837"
    claims.write_text(
        X.interchange([*X.header(), *X.subscriber(2, "COMM-ACME"), *PROF_CLAIMS, *ICD9_CLAIM],
                      "005010X222A1", 301, component=">")
        + X.interchange([*X.header(), *X.subscriber(2, "MEDICARE", filing="MA"), *INST_CLAIM],
                        "005010X223A2", 302, component=">"))
    check = tmp_path / "acme.835"
    check.write_text(G.x835(
        [remit("4000776", [line(1, "99213", 14500, 9000, [adj("CO", "45", 3500), adj("PR", "3", 2000)]),
                           line(2, "85025", 10000, 0, [adj("CO", "50", 10000)], units=2)]),
         remit("HAR123", [line(1, "00630", 61250, 50000, [adj("CO", "45", 11250)], units=95)])],
        payer_id="COMM-ACME", payer_name="ACME HEALTH PLAN", trace="EFT-837", paid_on=PAID_ON,
        control=11))
    processor = pipeline.rcm_service("process", run_settings, logs).start()
    sink = pipeline.rcm_service("sink", run_settings, logs).start()
    try:
        done = produce_x12(run_settings, claims)
        assert done.returncode == 1  # the ICD-9 claim
        assert "(HI): HI01-1 BK: an ICD-9-CM principal diagnosis" in done.stderr
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
        assert dict(rows(dsn, "select account_id, insurance_cents from account_balances")) == {
            "4000776": 24500, "HAR123": 61250, "24000006": 195000}
        done = produce_x12(run_settings, check, claims)  # the 837 again: nothing doubles
        assert done.returncode == 1, done.stderr
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
    finally:
        processor.stop()
        sink.stop()

    got = {c: (s, t, lines, dx, pcs) for c, s, t, lines, dx, pcs in rows(
        dsn, "select claim_id, status, total_charge_cents, lines, diagnosis_codes, pcs_codes "
             "from claims")}
    assert set(got) == {"4000776", "HAR123", "24000006"}
    assert {c: v[:2] for c, v in got.items()} == {
        "4000776": ("SUBMITTED", 24500), "HAR123": ("SUBMITTED", 61250),
        "24000006": ("SUBMITTED", 195000)}
    as_billed = {c: [(ln["line"], ln["procedure_code"], ln["modifiers"], ln["revenue_code"],
                      ln["units"], ln["charge_cents"], ln["service_date"], ln["diagnosis_pointers"])
                     for ln in v[2]] for c, v in got.items()}
    assert as_billed == {
        "4000776": [(1, "99213", ["25"], "", 1, 14500, "2025-11-03", [1, 2, 3]),
                    (2, "85025", [], "", 2, 10000, "2025-11-04", [2])],
        "HAR123": [(1, "00630", ["QZ", "P2"], "", 95, 61250, "2025-11-03", [1])],
        "24000006": [(1, "", [], "0120", 3, 120000, "2025-11-01", []),
                     (2, "99284", ["25"], "0450", 1, 75000, "2025-11-01", [])]}
    assert got["4000776"][3] == ["I10", "E11.9", "R07.89"]
    assert (got["24000006"][3], got["24000006"][4]) == (["J18.9", "E11.9", "I10"], ["0BJ08ZZ"])

    assert {a: (i, p) for a, i, p in rows(
        dsn, "select account_id, insurance_cents, patient_cents from account_balances")} == {
        "4000776": (10000, 2000),  # line 2 denied: open in insurance pending appeal
        "HAR123": (0, 0),
        "24000006": (195000, 0)}   # no remittance yet
    assert rows(dsn, "select count(*) from ledger_entries where kind = 'CHARGE'") == [(5,)]
    assert rows(dsn, "select claim_id, line, reason_code, amount_cents from denials") == [
        ("4000776", 2, "50", 10000)]
    assert dict(rows(dsn, "select claim_id, status from claim_current_status")) == {
        "4000776": "PARTIALLY_PAID", "HAR123": "PAID", "24000006": "SUBMITTED"}
    [(stage, topic, reason)] = rows(dsn, "select stage, source_topic, reason from dead_letters")
    assert (stage, topic) == ("x12_adapter", "claims-submitted") and "ICD-9" in reason
