"""FT1 charge lines the charge master lacks (issue 9): DFTs written by hand from HL7 v2 chapter 6.
A line is known by its FT1-7 transaction code, or by the CPT/HCPCS code of FT1-25 (or of FT1-7
itself, FT1-7.3 C4) when exactly one charge-master item bills it; any other line keeps its code and
words as sent for coding review, at the price sent. Each test compares ids, codes and amounts with
the message."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from producers.hl7.parse import MessageError, visit_events
from schemas import codec
from schemas import topics as T
from tests.support.hl7_compose import segment

NOW = datetime(2026, 3, 3, tzinfo=UTC)
DOS = date(2025, 3, 4)
PID = "PID|1||E123456^^^EPI^MR||DOE^JANE||19600215|F||||||||||HAR123"
PV1 = "PV1|1|O|CLIN^^^MAINHOSP||||PROV001^JONES^ANN|||||||||||OFFICE|V-88|||||||||||||||||||||||||20250304"


def ft1(n: int, code: str = "", qty: str = "1", extended: str = "", unit: str = "",
        description: str = "", procedure: str = "", modifiers: str = "") -> str:
    return segment("FT1", {1: str(n), 2: f"T-{n}", 4: "20250304", 6: "CG", 7: code,
                           8: description, 10: qty, 11: extended, 12: unit, 25: procedure,
                           26: modifiers})


def msg(*segments: str) -> str:
    return "\r".join(segments) + "\r"


def dft(*ft1s: str, control: str = "CH-90") -> str:
    return msg(f"MSH|^~\\&|CHG|MAINHOSP|RCM|RCM|20250305080000||DFT^P03|{control}|P|2.5",
               "EVN|P03|20250305075900", PID, PV1, *ft1s)


def charges(message: str) -> list[dict]:
    [ev] = visit_events(message, NOW)
    codec.encode(T.VISIT_EVENTS.value_schema, ev)  # fits the contract
    return ev["charges"]


def line(txn, code, units, cents, src=None) -> dict:
    return {"transaction_id": txn, "charge_code": code, "units": units, "unit_price_cents": cents,
            "service_date": DOS, "source_code": src}


def test_lines_the_charge_master_has_by_ft1_7_or_by_one_cpt_item_take_its_code():
    got = charges(dft(
        ft1(1, "CM100113^Office visit^99CHG", unit="145.00"),
        ft1(2, "LAB4471^CMP^99LOCAL", qty="2", extended="370.00", procedure="80053^^C4"),
        ft1(3, "XR73030^Shoulder 2v^99LOCAL", unit="275.00", procedure="73030^^C4", modifiers="RT"),
        ft1(4, "85025^CBC^C4", unit="95.00"),
        ft1(5, "CM100303"),  # no amounts: the charge master's price
    ))
    assert got == [line("T-1", "CM100113", 1, 14500), line("T-2", "CM100301", 2, 18500),
                   line("T-3", "CM100402", 1, 27500), line("T-4", "CM100302", 1, 9500),
                   line("T-5", "CM100303", 1, 2500)]


def test_lines_the_charge_master_lacks_keep_code_and_words_as_sent_at_the_price_sent():
    got = charges(dft(
        ft1(1, "LAB4471^Strep screen^99LOCAL", unit="31.50", description="Rapid strep antigen"),
        ft1(2, "XR73030^Shoulder^99LOCAL", unit="275.00", procedure="73030^Shoulder film^C4"),
        ft1(3, "RX0042", qty="3", extended="12.30", procedure="J1100^^HCPCS"),
        ft1(4, "", unit="40.00", description="Flu shot"),
        ft1(5, "99392^Preventive visit^C4", unit="210.00"),
        ft1(6, "LAB9", unit="18.00"),
    ))
    assert got == [
        line("T-1", "", 1, 3150, {"system": "99LOCAL", "code": "LAB4471", "text": "Rapid strep antigen"}),
        # 73030 without a modifier: two items (right, left) at the same price, so a coder decides
        line("T-2", "", 1, 27500, {"system": "C4", "code": "73030", "text": "Shoulder"}),
        line("T-3", "", 3, 410, {"system": "HCPCS", "code": "J1100", "text": None}),
        line("T-4", "", 1, 4000, {"system": "", "code": None, "text": "Flu shot"}),
        line("T-5", "", 1, 21000, {"system": "C4", "code": "99392", "text": "Preventive visit"}),
        line("T-6", "", 1, 1800, {"system": "", "code": "LAB9", "text": None})]


def test_a_procedure_code_in_another_system_is_not_looked_up_as_cpt():
    [got] = charges(dft(ft1(1, "OR77^Appendectomy^99LOCAL", unit="900.00",
                            procedure="0DTJ4ZZ^^I10P")))
    assert got == line("T-1", "", 1, 90000, {"system": "99LOCAL", "code": "OR77",
                                             "text": "Appendectomy"})


@pytest.mark.parametrize("ft1_segment, where, reason", [
    (ft1(1, "", unit="10.00"), "FT1[1]-7", "neither a description (FT1-8) nor a procedure code"),
    (ft1(1, "LAB9^Strep screen^99LOCAL"), "FT1[1]-11",
     "neither an extended (FT1-11) nor a unit (FT1-12) amount, and the charge master lacks"),
    (ft1(1, "LAB9", unit="0.00"), "FT1[1]-12", "must be positive"),
    (ft1(1, "", unit="10.00", procedure="99392^^C4", qty="1.5"), "FT1[1]-10", "whole number"),
])
def test_a_line_without_code_words_or_price_is_refused_naming_the_field(ft1_segment, where, reason):
    with pytest.raises(MessageError) as exc:
        visit_events(dft(ft1_segment), NOW)
    assert (exc.value.ack, exc.value.segment) == ("AE", where)
    assert reason in exc.value.reason


def test_a_deployments_own_charge_master_decides_what_is_known(cm):
    own = {"LAB4471": replace(cm["CM100301"], charge_code="LAB4471")}
    [ev] = visit_events(dft(ft1(1, "LAB4471^CMP^99LOCAL", unit="185.00")), NOW, own)
    assert ev["charges"] == [line("T-1", "LAB4471", 1, 18500)]


def test_a_dft_with_a_local_code_goes_to_coding_review_and_a_decision_bills_it_to_the_cent(coder, cm):
    """HL7 -> visit assembly -> coding review naming the line -> a coder's charge code -> the
    billed line at the message's units and price."""
    from processors.coding.decisions import on_decision, on_encounter
    from processors.coding.rules import code_encounter, validate_encounter
    from processors.state import CODING_PENDING, VISITS_PENDING
    from processors.visits.rules import assemble
    from tests.support.stores import DictStore

    admit = msg("MSH|^~\\&|ADT|MAINHOSP|RCM|RCM|20250304090000||ADT^A04|A-1|P|2.5",
                "EVN|A04|20250304090000", PID, PV1, "IN1|1||COMM-ACME",
                "DG1|1||I10^Essential hypertension^I10")
    charge = dft(ft1(1, "CM100113", unit="145.00"),
                 ft1(2, "LAB4471^Strep screen^99LOCAL", qty="2", unit="31.50",
                     description="Rapid strep antigen"))
    discharge = admit.replace("ADT^A04|A-1", "ADT^A03|A-3").replace("EVN|A04", "EVN|A03") \
        .replace("|20250304\r", "|20250304|20250304\r")
    store, encounters = DictStore(VISITS_PENDING), []
    for message in (admit, charge, discharge):
        for ev in visit_events(message, NOW):
            encounters += assemble(ev, store).of(T.ENCOUNTERS)
    [enc] = encounters
    assert (enc["account_id"], enc["encounter_id"]) == ("HAR123", "V-88")
    assert validate_encounter(enc, cm, coder) == []
    kind, review = code_encounter(enc, cm, coder, 0.80)
    assert kind == "review"
    assert review["reasons"] == [
        ("charge line 2: 99LOCAL LAB4471 'Rapid strep antigen' is not in the charge master: give "
         "the line a charge-master or CPT/HCPCS code")]
    assert review["total_charge_cents"] == 14500 + 2 * 3150

    decisions = DictStore(CODING_PENDING)
    on_encounter(enc, kind, review, decisions, coder, cm)
    dec = {"event_id": "dec-hl7", "encounter_id": "V-88", "account_id": "HAR123",
           "coder_id": "CODER-07", "decided_at": NOW, "emitted_at": NOW,
           "diagnoses": [{"sequence": 1, "code": "I10"}],
           "procedures": [{"line": 2, "procedure_code": "87880", "modifiers": [],
                           "charge_code": "CM100304"}]}
    [(topic, rec)] = on_decision(dec, decisions, coder, cm).records
    assert topic is T.ENCOUNTERS_CODED
    assert [(p["line"], p["charge_code"], p["procedure_code"], p["revenue_code"], p["units"],
             p["charge_cents"]) for p in rec["procedures"]] == [
        (1, "CM100113", "99213", "0510", 1, 14500), (2, "CM100304", "87880", "0307", 2, 6300)]
