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
from producers.hl7 import compose
from producers.hl7.mllp import Deframer, frame
from schemas.accounts import make_account_id

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
        bad_account,                                     # AE
        "MSH|^~\\&|ADT1|GENHOSP|RCM|RCM|20251103||ADT^A02|M11|P|2.5\rEVN|A02\r",  # AR
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

    assert codes == ["AA"] * 11 + ["AE", "AR"]
    dsn = run_settings.dsn
    # the late charge re-sends V1: its claim is version 2, a replacement, held for the repeated
    # line (the same code twice on one day), and the ledger adds only the new line
    assert report.query(dsn, "select encounter_id, status, total_charge_cents, diagnosis_codes, "
                             "version, frequency_code from claims order by 1") == [
        ("V1", "HELD", 29000, ["I10"], 2, "7"), ("V2", "CLEAN", 68000, ["I10"], 1, "1")]
    assert report.query(dsn, "select account_id, sum(insurance_delta_cents)::bigint from "
                             "ledger_entries where kind = 'CHARGE' group by 1 order by 1") == [
        (make_account_id(9001), 29000), (make_account_id(9002), 68000)]
    dead = report.query(dsn, "select stage, error, reason from dead_letters order by reason")
    assert sorted((s, e) for s, e, _ in dead) == [
        ("assemble_visits", "INVALID"), ("hl7_adapter", "INVALID"), ("hl7_adapter", "MALFORMED")]
    reasons = " | ".join(r for _, _, r in dead)
    assert "the visit was cancelled (A11)" in reasons
    assert "PID-18: account id is longer than 50 characters (ACK AE)" in reasons
    assert "MSH-9: unsupported message type ADT^A02" in reasons
    log = (logs / "listen.log").read_text()
    assert make_account_id(9001) not in log and "essential" not in log  # counts only, no PHI
    assert "AA 11, AE 1, AR 1" in log


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
