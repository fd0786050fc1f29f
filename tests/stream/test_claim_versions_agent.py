"""Claim versions and secondary billing in faust's in-memory test context: one claim id through a
correction, a secondary claim from the primary remittance, and the corrected encounter's charges."""
from __future__ import annotations

from schemas import topics as T
from schemas.accounts import make_account_id
from tests import factories as F
from tests.stream.test_agents import CTX, collector, enc, feed, run  # noqa: F401 - the fixture
from tests.unit.test_x12_837 import coded, proc

ACCOUNT = make_account_id(4242)


def coded_for(n: int, source: str, **over) -> dict:
    rec = coded(n, account_id=ACCOUNT, secondary_payer_id="MEDICAID", **over)
    return {**rec, "event_id": f"{source}:coded", "source_event_id": source}


def primary_remittance(claim: dict, event: str) -> dict:
    total = claim["total_charge_cents"]
    line = {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": total,
            "paid_cents": total - 5000, "remarks": [],
            "adjustments": [F.adjustment("CO", "45", 3000), F.adjustment("PR", "2", 2000)]}
    return {**F.remittance(lines=[line]), "event_id": event, "claim_id": claim["claim_id"],
            "account_id": ACCOUNT, "payer_claim_control_number": "ICN-1"}


def test_a_correction_keeps_the_claim_id_and_a_primary_remittance_bills_the_secondary(collector):  # noqa: F811

    run(feed(T.ENCOUNTERS_CODED, [enc(coded_for(31, "s-1"), T.ENCOUNTERS_CODED)], collector, 2))
    [v1] = collector.on(T.CLAIMS)
    [state] = collector.on(T.CLAIM_STATE)
    assert (v1["version"], v1["frequency_code"], v1["secondary_payer_id"]) == (1, "1", "MEDICAID")
    assert state["claim_id"] == v1["claim_id"] and state["account_id"] == ACCOUNT
    key = next(k for name, k, _ in collector.sent if name == T.CLAIM_STATE.name)
    assert key == v1["claim_id"].encode()

    collector.sent.clear()
    run(feed(T.REMITTANCES, [enc(primary_remittance(v1, "rem-31"), T.REMITTANCES)], collector, 4))
    [sec] = [c for c in collector.on(T.CLAIMS)]
    assert (sec["claim_id"], sec["payer_sequence"], sec["payer_id"]) == (
        v1["claim_id"] + "-S", "SECONDARY", "MEDICAID")
    journals = collector.on(T.LEDGER_ENTRIES)
    transfer = [e for j in journals for e in j["entries"] if e["kind"] == "TRANSFER_TO_SECONDARY"]
    assert [(e["insurance_delta_cents"], e["patient_delta_cents"]) for e in transfer] == [(2000, -2000)]
    [state] = collector.on(T.CLAIM_STATE)
    assert (state["payer_claim_control_number"], state["secondary_billed_by"]) == ("ICN-1", "rem-31")

    collector.sent.clear()  # the same remittance again: the same records, no second transfer id
    run(feed(T.REMITTANCES, [enc(primary_remittance(v1, "rem-31"), T.REMITTANCES)], collector, 3))
    assert [c["event_id"] for c in collector.on(T.CLAIMS)] == [sec["event_id"]]

    collector.sent.clear()
    extra = [proc(1, modifiers=["25"]), proc(2, "CM100303", "36415", 2501, units=2, rev="0300"),
             proc(3, "CM100301", "80053", 18500, rev="0301")]
    run(feed(T.ENCOUNTERS_CODED, [enc(coded_for(31, "s-2", procedures=extra), T.ENCOUNTERS_CODED)],
             collector, 2))
    [v2] = collector.on(T.CLAIMS)
    assert (v2["claim_id"], v2["version"], v2["frequency_code"], v2["original_reference"]) == (
        v1["claim_id"], 2, "7", "ICN-1")


def test_a_corrected_encounter_posts_only_its_extra_line(collector):  # noqa: F811

    first = F.encounter(4243)
    run(feed(T.ENCOUNTERS, [enc(first, T.ENCOUNTERS)], collector, 3))
    charges = [e for j in collector.on(T.LEDGER_ENTRIES) for e in j["entries"]]
    assert [e["insurance_delta_cents"] for e in charges] == [14500]
    [state] = collector.on(T.ENCOUNTER_CHARGES)
    assert state["encounter_id"] == first["encounter_id"]

    collector.sent.clear()
    line2 = {"line": 2, "charge_code": "CM100303", "units": 1, "unit_price_cents": 2501,
             "service_date": F.DOS}
    fixed = {**first, "event_id": "enc-evt-4243-r2", "charges": [*first["charges"], line2]}
    run(feed(T.ENCOUNTERS, [enc(fixed, T.ENCOUNTERS)], collector, 3))
    charges = [e for j in collector.on(T.LEDGER_ENTRIES) for e in j["entries"]]
    assert [(e["entry_id"], e["insurance_delta_cents"]) for e in charges] == [
        ("enc-evt-4243-r2:charge:2", 2501)]
