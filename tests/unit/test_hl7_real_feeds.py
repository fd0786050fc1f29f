"""HL7 v2 as hospitals send it (issue 9): messages written by hand from the HL7 v2.3-v2.8 chapters
(2 control, 3 ADT, 6 financial management), with the variations real feeds have. Each test checks
the ids, dates, codes and amounts that come out against the message that went in."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from producers.hl7.cli import read
from producers.hl7.parse import MessageError, visit_events
from schemas import codec
from schemas import topics as T
from tests.support.hl7_compose import segment

NOW = datetime(2026, 3, 3, tzinfo=UTC)


def msg(*segments: str) -> str:
    return "\r".join(segments) + "\r"


def events(message: str) -> list[dict]:
    out = visit_events(message, NOW)
    for ev in out:
        codec.encode(T.VISIT_EVENTS.value_schema, ev)  # fits the contract
    return out


def one(message: str) -> dict:
    [ev] = events(message)
    return ev


# An Epic-style v2.3 admit: MSH-4 empty (MSH-3 names the sender), no PID-18 (the account is the
# visit number PV1-19), a local attending id, a SNOMED CT diagnosis, the payer only in IN1-2/IN1-4
# with a plan type of the hospital's own, and a Z-segment.
ADMIT_V23 = msg(
    "MSH|^~\\&|EPICADT||RCM|RCM|202503041015||ADT^A01|100234|P|2.3",
    "EVN|A01|202503041012",
    "PID|1||E123456^^^EPI^MR||DOE^JANE||19600215|F",
    "PV1|1|I|3W^301^B^MAINHOSP||||1122334^SMITH^JOHN^^^DR|||MED||||7|||||4000776|||||||||||||||||"
    "||||||||202503040930",
    "ZPV|1|LOCAL STUFF^^L",
    "IN1|1|BCBS01^BLUE CROSS PPO||BLUE CROSS BLUE SHIELD|||||||||||PPO-GOLD",
    "DG1|1|SCT|38341003^Hypertensive disorder^SCT||20250304|A",
)


def test_a_v23_admit_with_local_ids_a_snomed_diagnosis_and_no_pid18_is_accepted_as_sent():
    ev = one(ADMIT_V23)
    assert (ev["event_id"], ev["kind"], ev["source"]) == (
        "hl7v2:EPICADT:100234", "ADMIT", "hl7v2 ADT^A01")
    assert (ev["account_id"], ev["visit_number"]) == ("4000776", "4000776")
    assert ev["provider_npi"] == "1122334"  # the hospital's id; the 837 asks the directory
    assert (ev["facility_id"], ev["encounter_class"]) == ("MAINHOSP", "INPATIENT")
    assert ev["occurred_at"] == datetime(2025, 3, 4, 10, 12, tzinfo=UTC)
    assert (ev["service_start"], ev["patient_age"], ev["patient_sex"]) == (date(2025, 3, 4), 65, "F")
    assert (ev["payer_id"], ev["plan_type"]) == ("BCBS01", "COMMERCIAL")
    assert ev["diagnoses"] == [
        {"sequence": 1, "text": "Hypertensive disorder [SNOMED CT 38341003]", "code": None}]


@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n"])
def test_segment_endings_and_a_bom_do_not_change_the_event(ending):
    expected = one(ADMIT_V23)
    assert one(ADMIT_V23.replace("\r", ending)) == expected
    assert one("\ufeff" + ADMIT_V23.replace("\r", ending)) == expected
    assert one(("\ufeff" + ADMIT_V23).encode("utf-8")) == expected


@pytest.mark.parametrize("encoding", ["|^~\\&", "|^~\\&#", "#*~\\&", "!@%$?"])
def test_encoding_characters_are_read_from_msh1_and_msh2(encoding):
    sep, comp, rep, esc, sub = encoding[:5]
    swap = str.maketrans({"|": sep, "^": comp, "~": rep, "\\": esc, "&": sub})
    msh, *rest = ADMIT_V23.split("\r")
    fields = msh.split("|")[2:]  # after MSH-1 and MSH-2
    text = "\r".join([sep.join(["MSH" + sep + encoding[1:], *(f.translate(swap) for f in fields)]),
                      *(seg.translate(swap) for seg in rest)])
    assert ("|" in text) == (sep == "|") and text.startswith("MSH" + encoding)
    assert one(text) == one(ADMIT_V23)


@pytest.mark.parametrize("version, msh9", [("2.3", "ADT^A01"), ("2.4", "ADT^A01"),
                                           ("2.5.1", "ADT^A01^ADT_A01"), ("2.6", "ADT^A01^ADT_A01"),
                                           ("2.7", "ADT^A01^ADT_A01"), ("2.8", "ADT^A01^ADT_A01")])
def test_versions_23_to_28_read_the_same(version, msh9):
    text = ADMIT_V23.replace("|ADT^A01|100234|P|2.3", f"|{msh9}|100234|P|{version}")
    assert one(text) | {"source": None} == one(ADMIT_V23) | {"source": None}


def test_a_v22_message_type_without_trigger_takes_it_from_evn1():
    assert one(ADMIT_V23.replace("|ADT^A01|", "|ADT|"))["kind"] == "ADMIT"


@pytest.mark.parametrize("account", ["4000776", "24000006", "9999999999", "HAR123", "0012-A/7"])
def test_account_numbers_are_the_hospitals_own_strings(account):
    text = ADMIT_V23.replace("||19600215|F", f"||19600215|F||||||||||{account}^^^EPI^AN")
    ev = one(text)
    assert (ev["account_id"], ev["visit_number"]) == (account, "4000776")
    no_pv1_19 = one(text.replace("|4000776|", "||"))
    assert (no_pv1_19["account_id"], no_pv1_19["visit_number"]) == (account, account)


@pytest.mark.parametrize("pv1_7, expected", [
    ("PROV001^JONES^ANN", "PROV001"),
    ("1122334", "1122334"),
    ("PROV001^JONES^ANN~1234567893^JONES^ANN^^^^^^NPI", "1234567893"),  # v2.3: authority NPI
    ("88776^JONES^ANN^^^^^^LOCAL~1245319599^JONES^ANN^^^^^^^^^^NPI", "1245319599"),  # XCN-13
    ("55501^JONES~1234567893^JONES", "1234567893"),  # shaped like an NPI (its check digit holds)
    ("", None),
])
def test_the_attending_provider_is_kept_as_sent_preferring_an_npi_among_repetitions(pv1_7, expected):
    text = ADMIT_V23.replace("1122334^SMITH^JOHN^^^DR", pv1_7)
    assert one(text)["provider_npi"] == expected


@pytest.mark.parametrize("dg1_3, dg1_4, text, code", [
    ("I10^Essential hypertension^I10", "", "Essential hypertension", "I10"),
    ("E11.9^^ICD10", "Type 2 diabetes", "Type 2 diabetes", "E11.9"),
    ("E11.9", "Type 2 diabetes", "Type 2 diabetes", "E11.9"),  # no system: an ICD-10-CM shape
    ("401.9^Hypertension NOS^I9", "", "Hypertension NOS [ICD-9-CM 401.9]", None),
    ("250.00^^I9C", "Diabetes", "Diabetes [ICD-9-CM 250.00]", None),
    ("401.9^Hypertension^I9^I10^Essential hypertension^I10", "", "Hypertension", "I10"),
    ("44054006^^2.16.840.1.113883.6.96", "Diabetes mellitus type 2",
     "Diabetes mellitus type 2 [SNOMED CT 44054006]", None),
    ("38341003", "Hypertension", "Hypertension [code 38341003, no system]", None),
    ("38341003^^SCT", "", "[SNOMED CT 38341003]", None),
    ("K35^^99LOCAL", "Appendicitis", "Appendicitis [99LOCAL K35]", None),
])
def test_a_diagnosis_in_another_system_keeps_its_words_for_the_coder_with_the_code_noted(
        dg1_3, dg1_4, text, code):
    ev = one(ADMIT_V23.replace("DG1|1|SCT|38341003^Hypertensive disorder^SCT||", f"DG1|1||{dg1_3}|{dg1_4}|"))
    assert ev["diagnoses"] == [{"sequence": 1, "text": text, "code": code}]


def test_diagnoses_sharing_a_priority_keep_the_order_sent_and_priority_zero_goes_last():
    text = ADMIT_V23.replace("DG1|1|SCT|38341003^Hypertensive disorder^SCT||20250304|A", msg(
        "DG1|1||R07.9^^I10|Chest pain|||||||||||0",
        "DG1|2||I10^^I10|Hypertension|||||||||||2",
        "DG1|3||E11.9^^I10|Diabetes|||||||||||1",
        "DG1|4||J18.9^^I10|Pneumonia|||||||||||1").rstrip("\r"))
    assert [(d["sequence"], d["code"]) for d in one(text)["diagnoses"]] == [
        (1, "E11.9"), (2, "J18.9"), (3, "I10"), (4, "R07.9")]


def test_pr1_in_cpt_or_snomed_is_left_to_the_charge_lines_and_icd10pcs_is_kept():
    text = ADMIT_V23 + msg("PR1|1|C4|44970^Laparoscopic appendectomy^C4||20250304",
                           "PR1|2|SCT|80146002^Appendectomy^SCT||20250304",
                           "PR1|3||99213||20250304",
                           "PR1|4|I10P|0DTJ4ZZ^Resection of appendix^I10P||20250304",
                           "PR1|5||0DJ08ZZ||20250304")
    assert one(text)["procedures_pcs"] == [{"sequence": 4, "code": "0DTJ4ZZ"},
                                           {"sequence": 5, "code": "0DJ08ZZ"}]


def test_insurance_payer_from_in1_3_else_in1_2_else_in1_4_and_unknown_plan_types_fall_back():
    def payer(in1s: str) -> tuple:
        ev = one(ADMIT_V23.replace("IN1|1|BCBS01^BLUE CROSS PPO||BLUE CROSS BLUE SHIELD|||||||||||PPO-GOLD",
                                   in1s))
        return ev["payer_id"], ev["plan_type"]

    assert payer("IN1|1|X|MEDICARE|||||||||||||ZZ") == ("MEDICARE", "MEDICARE")  # ZZ: not ours
    assert payer("IN1|1|||ACME MUTUAL|||||||||||MD") == ("ACME MUTUAL", "MEDICAID")
    assert payer("IN1|2||COMM-BLUE\rIN1|1||||||||||||||") == ("COMM-BLUE", "COMMERCIAL")
    assert payer("IN1|1||||||||||||||") == (None, None)  # no payer named: unknown, not refused


def test_an_unknown_patient_class_leaves_the_class_unknown():
    for cls in ("U", "N", "C", "Z"):
        assert one(ADMIT_V23.replace("|1|I|3W", f"|1|{cls}|3W"))["encounter_class"] is None


# Chapter 6: DFT^P03 with no PV1 (the account is known), no FT1-2; DFT^P11 with FINANCIAL groups.
DFT_P03 = msg(
    "MSH|^~\\&|CHG||RCM|RCM|20250305080000||DFT^P03|CH-77|P|2.4",
    "EVN|P03|20250305075900",
    "PID|1||E123456^^^EPI^MR||DOE^JANE||19600215|F||||||||||HAR123",
    "FT1|1||B77|20250304||CG|CM100113^Office visit^LOCAL|||1|145.00",
    "FT1|2||B77|20250304||CG|CM300100^Lab panel^LOCAL|||3|59.97&USD|19.99",
)


def test_a_dft_without_pv1_or_transaction_ids_posts_to_the_account_with_stable_ids():
    ev = one(DFT_P03)
    assert (ev["kind"], ev["account_id"], ev["visit_number"]) == ("CHARGES", "HAR123", "HAR123")
    assert ev["charges"] == [
        {"transaction_id": "CH-77-1", "charge_code": "CM100113", "units": 1,
         "unit_price_cents": 14500, "service_date": date(2025, 3, 4), "source_code": None},
        # a local code the charge master lacks: kept as sent for coding review
        {"transaction_id": "CH-77-2", "charge_code": "", "units": 3,
         "unit_price_cents": 1999, "service_date": date(2025, 3, 4),
         "source_code": {"system": "LOCAL", "code": "CM300100", "text": "Lab panel"}}]
    assert one(DFT_P03)["charges"] == ev["charges"]  # the same message re-sent: the same ids


DFT_P11 = msg(
    "MSH|^~\\&|CHG|MAINHOSP|RCM|RCM|20250305080000||DFT^P11^DFT_P11|CH-78|P|2.6",
    "EVN||20250305075900",
    "PID|1||E123456^^^EPI^MR||DOE^JANE||19600215|F||||||||||24000006",
    "PV1|1|O|CLIN^^^MAINHOSP||||PROV001^JONES^ANN|||||||||||OFFICE|V-88",
    "DG1|1||I10^^I10|Essential hypertension",
    "FT1|1|T-1||20250304||CG|CM100113|||1|145.00",
    "PR1|1|C4|99213^Office visit^C4||20250304",
    "DG1|1||Z00.00^^I10|Annual exam",
    "FT1|2|T-2||20250304||CG|CM300100|||2|40.00",
    "IN1|1||COMM-ACME",
)


def test_dft_p11_keeps_visit_level_diagnoses_and_reads_every_ft1():
    ev = one(DFT_P11)
    assert (ev["kind"], ev["source"], ev["account_id"], ev["visit_number"]) == (
        "CHARGES", "hl7v2 DFT^P11", "24000006", "V-88")
    assert [(c["transaction_id"], c["units"], c["unit_price_cents"]) for c in ev["charges"]] == [
        ("T-1", 1, 14500), ("T-2", 2, 2000)]
    assert ev["diagnoses"] == [{"sequence": 1, "text": "Essential hypertension", "code": "I10"}]
    assert (ev["encounter_class"], ev["provider_npi"], ev["payer_id"]) == ("OFFICE", "PROV001", None)


@pytest.mark.parametrize("trigger, kind", [
    ("ADT^A02", "UPDATE"), ("ADT^A05", "REGISTER"), ("ADT^A06", "UPDATE"), ("ADT^A07", "UPDATE"),
    ("ADT^A13", "CANCEL_DISCHARGE"), ("BAR^P01", "REGISTER"), ("BAR^P05", "UPDATE"),
    ("BAR^P06", "UPDATE"), ("BAR^P12", "UPDATE")])
def test_message_types_billing_needs_become_visit_events(trigger, kind):
    ev = one(ADMIT_V23.replace("ADT^A01", trigger).replace("EVN|A01", f"EVN|{trigger[-3:]}"))
    assert (ev["kind"], ev["source"], ev["account_id"]) == (kind, f"hl7v2 {trigger}", "4000776")


@pytest.mark.parametrize("trigger", ["ADT^A28", "ADT^A31", "ADT^A09", "ADT^A14", "ADT^A40",
                                     "ADT^A47", "ADT^A60", "BAR^P02"])
def test_events_with_nothing_to_bill_are_accepted_and_ignored(trigger):
    person = msg(f"MSH|^~\\&|MPI|MAINHOSP|RCM|RCM|20250305||{trigger}^ADT_A05|P-1|P|2.5",
                 f"EVN|{trigger[-3:]}|20250305", "PID|1||E123456^^^EPI^MR||DOE^JANE||19600215|F",
                 "PV1|1|N")
    assert events(person) == []


def test_a_bar_p01_with_two_visits_gives_one_event_per_visit():
    bar = msg(
        "MSH|^~\\&|PATACCT|MAINHOSP|RCM|RCM|20250305||BAR^P01^BAR_P01|B-1|P|2.5",
        "EVN|P01|20250305",
        "PID|1||E123456^^^EPI^MR||DOE^JANE||19600215|F||||||||||24000006",
        segment("PV1", {1: "1", 2: "O", 3: "CLIN^^^MAINHOSP", 7: "PROV001", 18: "CLINIC", 19: "V-1",
                        44: "20250301"}),
        "DG1|1||I10^^I10|Hypertension",
        "IN1|1||MEDICARE",
        segment("PV1", {1: "1", 2: "R", 3: "PT^^^MAINHOSP", 7: "PROV002", 19: "V-2", 44: "20250302"}),
        "DG1|1||M54.50^^I10|Low back pain")
    first, second = events(bar)
    assert [(e["event_id"], e["visit_number"], e["account_id"]) for e in (first, second)] == [
        ("hl7v2:MAINHOSP:B-1:1", "V-1", "24000006"), ("hl7v2:MAINHOSP:B-1:2", "V-2", "24000006")]
    assert (first["encounter_class"], first["provider_npi"], first["payer_id"]) == (
        "OFFICE", "PROV001", "MEDICARE")
    assert (second["encounter_class"], second["provider_npi"], second["payer_id"]) == (
        "OUTPATIENT", "PROV002", None)
    assert [d["code"] for d in first["diagnoses"]] == ["I10"]
    assert [d["code"] for d in second["diagnoses"]] == ["M54.50"]
    assert (first["service_start"], second["service_start"]) == (date(2025, 3, 1), date(2025, 3, 2))


def test_a_bar_without_pv1_registers_the_account_as_its_visit():
    ev = one(msg("MSH|^~\\&|PATACCT|MAINHOSP|RCM|RCM|20250305||BAR^P01|B-2|P|2.3",
                 "EVN|P01|20250305", "PID|1||E1^^^EPI^MR||DOE^JANE||19600215|F||||||||||HAR9"))
    assert (ev["kind"], ev["account_id"], ev["visit_number"]) == ("REGISTER", "HAR9", "HAR9")


def test_a_batch_file_of_several_versions_reads_every_message(tmp_path):
    batch = ("\ufeffFHS|^~\\&|EPIC|MAINHOSP\r\nBHS|^~\\&|EPIC|MAINHOSP\r\n"
             + ADMIT_V23.replace("\r", "\r\n") + DFT_P03.replace("\r", "\r\n")
             + DFT_P11.replace("\r", "\r\n") + "BTS|3\r\nFTS|1\r\n")
    path = tmp_path / "batch.hl7"
    path.write_bytes(batch.encode())
    result = read([str(path)], NOW)
    assert (result.dead, result.errors, result.ignored) == ([], [], 0)
    assert [(e["event_id"], e["account_id"]) for e in result.events] == [
        ("hl7v2:EPICADT:100234", "4000776"), ("hl7v2:CHG:CH-77", "HAR123"),
        ("hl7v2:MAINHOSP:CH-78", "24000006")]


@pytest.mark.parametrize("change, segment, reason", [
    (lambda m: m.split("\rPV1")[0], "PV1", "segment missing (required in ADT^A01"),  # truncated
    (lambda m: m.replace("|202503040930", "|202502300930"), "PV1-44", "not an HL7 date"),  # Feb 30
    (lambda m: m.replace("EVN|A01|202503041012", "EVN|A01|20251304"), "EVN-2", "not an HL7 date"),
    (lambda m: m.replace("|4000776|", "||"), "PID-18", "neither a patient account number"),
])
def test_files_that_are_truly_broken_are_still_refused_with_the_true_reason(change, segment, reason):
    with pytest.raises(MessageError) as exc:
        visit_events(change(ADMIT_V23), NOW)
    assert (exc.value.ack, exc.value.segment) == ("AE", segment)
    assert reason in exc.value.reason
