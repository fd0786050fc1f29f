"""HL7 v2 over MLLP end to end: `rcm listen mllp`, `rcm process` and `rcm sink` on a real broker and
database. Visits arrive as ADT/DFT messages, are acknowledged (AA/AE/AR), assembled into
encounters, coded, charged and billed; refused messages and events become dead letters."""
from __future__ import annotations

import socket
import time
from datetime import UTC, date, datetime

import hl7
import pytest

from infra import pipeline, report
from producers.hl7.mllp import Deframer, frame
from producers.publish import publish
from schemas import codec
from schemas import topics as T
from schemas.accounts import make_account_id
from schemas.envelope import Outgoing
from tests.support import hl7_compose as compose

pytestmark = pytest.mark.e2e
DOS = date(2025, 11, 3)
AT = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


def visit(n: int, cls: str, charge_code: str, cents: int, text: str) -> dict:
    return {"encounter_id": f"V{n}", "account_id": make_account_id(9000 + n), "patient_age": 58,
            "patient_sex": "F", "payer_id": "COMM-ACME", "plan_type": "COMMERCIAL",
            "provider_npi": "1234567893", "facility_id": "FAC01", "encounter_class": cls,
            "service_start": DOS, "service_end": DOS, "procedures_pcs": [], "discharge_status": None,
            "diagnoses": [{"sequence": 1, "text": text, "code": None}],
            "charges": [{"line": 1, "charge_code": charge_code, "units": 1,
                         "unit_price_cents": cents, "service_date": DOS}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(port: int, listener, timeout: float = 60.0) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            if not listener.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"listener did not start:\n{listener.tail()}") from None
            time.sleep(0.2)


def exchange(sock: socket.socket, messages: list[str]) -> list[str]:
    """Send each message and wait for its ACK; return MSA-1 of each."""
    codes, deframer = [], Deframer()
    for m in messages:
        sock.sendall(frame(m.encode()))
        acks: list[bytes] = []
        while not acks:
            data = sock.recv(65536)
            assert data, "the listener closed the connection"
            acks = deframer.feed(data)
        codes.append(hl7.parse(acks[0].decode()).extract_field("MSA", 1, 1))
    return codes


def message(*segments: str, end: str = "\r") -> str:
    return end.join(segments) + end


def real_feed() -> list[str]:
    """Two visits as hospital feeds send them (issue 9), written from the HL7 v2 chapters: no
    PID-18 (the visit number is the account), a local attending id, MSH-4 empty, the payer in
    IN1-2 with a plan type of the hospital's own, an ICD-9 diagnosis with its ICD-10-CM alternate,
    a BAR^P01, a DFT^P11 without FT1-2 behind a BOM, LF segment ends; then a SNOMED-only diagnosis
    whose DFT^P03 has no PV1, and a person update (A28) with nothing to bill."""
    pid = "PID|1||E77^^^EPI^MR||DOE^JANE||19670215|F"
    pv1 = "PV1|1|O|CLIN^^^FAC01||||PROV001^JONES^ANN|||||||||||OFFICE|4000776|||||||||||||||||||||||||20251103"
    real = [
        message("MSH|^~\\&|EPICADT||RCM|RCM|20251103090000||BAR^P01|R1|P|2.3", "EVN|P01|20251103090000",
                   pid, pv1, "DG1|1||401.9^Hypertension^I9^I10^Essential hypertension^I10",
                   "IN1|1|COMM-ACME^ACME PPO||ACME HEALTH PLAN|||||||||||PPO-GOLD"),
        "\ufeff" + message("MSH|^~\\&|EPICADT||RCM|RCM|20251103100000||DFT^P11^DFT_P11|R2|P|2.6",
                               "EVN||20251103100000", pid, pv1,
                               "FT1|1||B1|20251103||CG|CM100113^Office visit|||1|145.00", end="\n"),
        message("MSH|^~\\&|EPICADT||RCM|RCM|20251103170000||ADT^A03|R3|P|2.3", "EVN|A03|20251103170000",
                   pid, pv1 + "|20251103"),
    ]
    pid77 = pid + "||||||||||HAR77"
    pv1_77 = pv1.replace("|4000776|", "||")
    snomed = [
        message("MSH|^~\\&|EPICADT|GENHOSP|RCM|RCM|20251103090000||ADT^A04|S1|P|2.5", "EVN|A04",
                   pid77, pv1_77, "IN1|1||COMM-ACME", "DG1|1||38341003^Hypertensive disorder^SCT"),
        message("MSH|^~\\&|CHG|GENHOSP|RCM|RCM|20251103100000||DFT^P03|S2|P|2.4", "EVN|P03",
                   pid77, "FT1|1||B1|20251103||CG|CM100113|||1|145.00"),
        message("MSH|^~\\&|EPICADT|GENHOSP|RCM|RCM|20251103170000||ADT^A03|S3|P|2.5", "EVN|A03",
                   pid77, pv1_77 + "|20251103"),
        message("MSH|^~\\&|MPI|GENHOSP|RCM|RCM|20251103||ADT^A28^ADT_A05|P1|P|2.5", "EVN|A28",
                   pid77, "PV1|1|N"),
    ]
    return real + snomed


def test_visits_over_mllp_become_claims_charges_and_dead_letters(run_settings):
    office = visit(1, "OFFICE", "CM100113", 14500, "essential hypertension")
    er = visit(2, "EMERGENCY", "CM100203", 68000, "essential hypertension")
    cancelled = visit(3, "OFFICE", "CM100113", 14500, "essential hypertension")
    bad_account = compose.adt(visit(4, "OFFICE", "CM100113", 14500, "x"), "REGISTER", "M-BAD", AT)
    good_id = make_account_id(9004)
    bad_account = bad_account.replace(good_id, "8" * 51)
    late = dict(office, charges=[{"line": 9, "charge_code": "CM100113", "units": 1,
                                  "unit_price_cents": 14500, "service_date": DOS}])
    messages = [
        compose.adt(office, "REGISTER", "M1", AT),
        compose.dft(office, "M2", AT),
        compose.dft(office, "M2", AT),                   # re-sent: same control id
        compose.adt(office, "DISCHARGE", "M3", AT),      # final: charged and discharged
        compose.dft(er, "M4", AT),                       # charges before the registration
        compose.adt(er, "REGISTER", "M5", AT),
        compose.adt(er, "DISCHARGE", "M6", AT),
        compose.adt(cancelled, "REGISTER", "M7", AT),
        compose.adt(cancelled, "CANCEL", "M8", AT),
        compose.dft(cancelled, "M9", AT),                # after the cancel: dead letter
        compose.dft(late, "M10", AT, prefix="L"),        # after billing: a corrected claim
        *real_feed(),                                    # 7 messages as hospitals send them
        bad_account,                                     # AE
        "MSH|^~\\&|ADT1|GENHOSP|RCM|RCM|20251103||ORU^R01|M11|P|2.5\rEVN|R01\r",  # AR
    ]
    logs = run_settings.home / "logs"
    port = free_port()
    listener = pipeline.rcm_service("listen", run_settings, logs, "mllp", "--port", str(port)).start()
    processor = pipeline.rcm_service("process", run_settings, logs).start()
    sink = pipeline.rcm_service("sink", run_settings, logs).start()
    try:
        with connect(port, listener) as sock:
            codes = exchange(sock, messages)
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
        assert listener.stop() == 0
    finally:
        listener.stop()
        processor.stop()
        sink.stop()

    assert codes == ["AA"] * 18 + ["AE", "AR"]
    dsn = run_settings.dsn
    # the late charge re-sends V1: its claim is version 2, a replacement, held for the repeated
    # line (the same code twice on one day), and the ledger adds only the new line
    assert report.query(dsn, "select encounter_id, status, total_charge_cents, diagnosis_codes, "
                             "version, frequency_code from claims order by 1") == [
        ("4000776", "CLEAN", 14500, ["I10"], 1, "1"),
        ("V1", "HELD", 29000, ["I10"], 2, "7"), ("V2", "CLEAN", 68000, ["I10"], 1, "1")]
    assert report.query(dsn, "select account_id, payer_id, lines->0->>'procedure_code' from claims "
                             "where encounter_id = '4000776'") == [("4000776", "COMM-ACME", "99213")]
    assert report.query(dsn, "select account_id, sum(insurance_delta_cents)::bigint from "
                             "ledger_entries where kind = 'CHARGE' group by 1 order by 1") == [
        ("4000776", 14500), (make_account_id(9001), 29000), (make_account_id(9002), 68000),
        ("HAR77", 14500)]
    # the SNOMED-coded statement goes to a coder with its code noted, instead of being refused
    [(encounter, reasons)] = report.query(dsn, "select encounter_id, reasons from coding_review")
    assert encounter == "HAR77" and "Hypertensive disorder [SNOMED CT 38341003]" in reasons[0]
    dead = report.query(dsn, "select stage, error, reason from dead_letters order by reason")
    assert sorted((s, e) for s, e, _ in dead) == [
        ("assemble_visits", "INVALID"), ("hl7_adapter", "INVALID"), ("hl7_adapter", "MALFORMED")]
    reasons = " | ".join(r for _, _, r in dead)
    assert "the visit was cancelled (A11)" in reasons
    assert "PID-18: account id is longer than 50 characters (ACK AE)" in reasons
    assert "MSH-9: unsupported message type ORU^R01" in reasons
    log = (logs / "listen.log").read_text()
    assert make_account_id(9001) not in log and "essential" not in log  # counts only, no PHI
    assert "AA 18, AE 1, AR 1, ignored 1" in log


def test_a_visit_half_assembled_survives_a_processor_crash(run_settings):
    office = visit(5, "OFFICE", "CM100113", 14500, "essential hypertension")
    logs = run_settings.home / "logs"
    port = free_port()
    listener = pipeline.rcm_service("listen", run_settings, logs, "mllp", "--port", str(port)).start()
    processor = pipeline.rcm_service("process", run_settings, logs).start()
    sink = pipeline.rcm_service("sink", run_settings, logs).start()
    try:
        with connect(port, listener) as sock:
            assert exchange(sock, [compose.adt(office, "REGISTER", "K1", AT),
                                   compose.dft(office, "K2", AT)]) == ["AA", "AA"]
            pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
            assert report.query(run_settings.dsn, "select count(*) from claims") == [(0,)]
            processor.kill()  # SIGKILL: the visit's state must come back from visits-pending
            processor = pipeline.rcm_service("process", run_settings, logs).start()
            assert exchange(sock, [compose.adt(office, "DISCHARGE", "K3", AT)]) == ["AA"]
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
    finally:
        listener.stop()
        processor.stop()
        sink.stop()
    assert report.query(run_settings.dsn, "select encounter_id, status, total_charge_cents "
                                          "from claims") == [("V5", "CLEAN", 14500)]
    assert report.query(run_settings.dsn, "select count(*) from dead_letters") == [(0,)]


def test_a_dft_with_a_local_charge_code_is_reviewed_then_billed_to_the_cent(run_settings):
    """Issue 9: an FT1 whose transaction code the charge master lacks (a local lab code with its
    description in FT1-8) reaches coding review naming the line; the coder's decision gives it a
    charge code and the claim and the balance are the message's amounts to the cent."""
    pid = "PID|1||E88^^^EPI^MR||DOE^JOHN||19700101|M||||||||||HAR88"
    pv1 = "PV1|1|O|CLIN^^^FAC01||||PROV001^JONES^ANN|||||||||||OFFICE|V88|||||||||||||||||||||||||20251103"
    messages = [
        message("MSH|^~\\&|EPICADT|GENHOSP|RCM|RCM|20251103090000||ADT^A04|L1|P|2.5", "EVN|A04",
                pid, pv1, "IN1|1||COMM-ACME", "DG1|1||I10^Essential hypertension^I10"),
        message("MSH|^~\\&|CHG|GENHOSP|RCM|RCM|20251103100000||DFT^P03|L2|P|2.5", "EVN|P03", pid, pv1,
                "FT1|1|C-1||20251103||CG|CM100113^Office visit|||1|145.00",
                "FT1|2|C-2||20251103||CG|LAB4471^Strep screen^99LOCAL|Rapid strep antigen||2|63.00|31.50"),
        message("MSH|^~\\&|EPICADT|GENHOSP|RCM|RCM|20251103170000||ADT^A03|L3|P|2.5", "EVN|A03",
                pid, pv1 + "|20251103"),
    ]
    logs = run_settings.home / "logs"
    port = free_port()
    listener = pipeline.rcm_service("listen", run_settings, logs, "mllp", "--port", str(port)).start()
    processor = pipeline.rcm_service("process", run_settings, logs).start()
    sink = pipeline.rcm_service("sink", run_settings, logs).start()
    dsn = run_settings.dsn
    try:
        with connect(port, listener) as sock:
            assert exchange(sock, messages) == ["AA", "AA", "AA"]
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
        [(encounter, total, reasons)] = report.query(
            dsn, "select encounter_id, total_charge_cents, reasons from coding_review")
        assert (encounter, total) == ("V88", 14500 + 2 * 3150)
        assert ("charge line 2: 99LOCAL LAB4471 'Rapid strep antigen' is not in the charge master: "
                "give the line a charge-master or CPT/HCPCS code") in reasons
        assert report.query(dsn, "select count(*) from claims") == [(0,)]
        assert report.query(dsn, "select count(*) from dead_letters") == [(0,)]
        dec = {"event_id": "dec-hl7-local", "encounter_id": "V88", "account_id": "HAR88",
               "coder_id": "CODER-07", "decided_at": AT, "emitted_at": AT,
               "diagnoses": [{"sequence": 1, "code": "I10"}],
               "procedures": [{"line": 2, "procedure_code": "87880", "modifiers": [],
                               "charge_code": "CM100304"}]}
        publish([Outgoing(T.CODING_DECISIONS, codec.key_of(T.CODING_DECISIONS, dec),
                          codec.encode(T.CODING_DECISIONS.value_schema, dec))], run_settings,
                service="console")
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
    finally:
        listener.stop()
        processor.stop()
        sink.stop()

    [(payer, total, lines, codes)] = report.query(
        dsn, "select payer_id, total_charge_cents, lines, diagnosis_codes from claims")
    assert (payer, total, codes) == ("COMM-ACME", 14500 + 6300, ["I10"])
    assert [(ln["procedure_code"], ln["units"], ln["charge_cents"]) for ln in lines] == [
        ("99213", 1, 14500), ("87880", 2, 6300)]
    assert report.query(dsn, "select charges_cents, total_cents from account_balances "
                             "where account_id = 'HAR88'") == [(20800, 20800)]
    assert report.query(dsn, "select count(*) from coding_review_queue") == [(0,)]
